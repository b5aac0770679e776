"""Dashboards: a region's overview with drill-down to institution, window and staff member, and a
staff member's own page (我的评价). Everything is read from the daily rollups."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.accounts.access import Actor, actor_for_user, staff_home, within_region
from haoping.directory.models import (
    Department,
    Institution,
    Platform,
    Region,
    RegionPolicy,
    ServiceItem,
    Staff,
    Window,
)
from haoping.directory.selectors import policy_for_region, region_contains
from haoping.evaluations.models import LEVEL_LABELS, Evaluation
from haoping.feedback.selectors import comment_summary
from haoping.indicators.counting import RATES
from haoping.indicators.models import DailyCount
from haoping.indicators.selectors import (
    Named,
    child_regions_breakdown,
    hot_problems,
    indicator_report,
    key_target_text,
    object_breakdown,
    object_overview,
    problem_examples,
    rank_score,
    ranked_objects,
    ranking,
    ranking_median,
    region_overview,
    staff_comments,
)
from haoping.lib.numbers import whole_number
from haoping.pads.selectors import hall_summary
from haoping.rectification.selectors import cases_visible, overdue_q


def _manager(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None or actor.region is None:
        raise Http404(_("page not found"))
    return actor


def _period(request: HttpRequest) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """The chosen period (default: this month so far) and the previous period of the same length."""
    today = timezone.localdate()
    try:
        first = dt.date.fromisoformat(request.GET.get("from") or today.replace(day=1).isoformat())
        last = dt.date.fromisoformat(request.GET.get("to") or today.isoformat())
    except ValueError:
        first, last = today.replace(day=1), today
    if last < first:
        first, last = last, first
    if (last - first).days > 3660:
        first = last - dt.timedelta(days=3660)
    span = last - first + dt.timedelta(days=1)
    return first, last, first - span, first - dt.timedelta(days=1)


def _channel(request: HttpRequest) -> str | None:
    """One channel chosen on screen, or None for all of them."""
    value = request.GET.get("channel") or ""
    return value if value in Evaluation.Channel.values else None


def _query(first: dt.date, last: dt.date, channel: str | None) -> str:
    """The period (and channel) as a query string, for links that keep them."""
    return f"from={first}&to={last}" + (f"&channel={channel}" if channel else "")


def _cards(report: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "value": report["rates"][key], "previous": previous["rates"][key]}
        for key, label in RATES
    ]


def _table(
    breakdown: dict[int, dict[str, Any]], names: dict[int, Any], link: Callable[[Any], str] | None = None
) -> list[dict[str, Any]]:
    rows = [
        {"object": names[pk], "link": link(names[pk]) if link else "", **row}
        for pk, row in breakdown.items()
        if pk in names
    ]
    return sorted(rows, key=lambda r: (-r["counts"]["total"], str(r["object"])))


def _trend(request: HttpRequest) -> str:
    return "week" if request.GET.get("trend") == "week" else "day"


# R1: good (4–5) green, middle (3) amber, bad (1–2) red, as the rates read them.
LEVEL_COLORS = {5: "#2e8b57", 4: "#6fbf73", 3: "#e0a526", 2: "#e8705f", 1: "#c8161d"}


def _charts(data: dict[str, Any], trend: str, query: str) -> dict[str, Any]:
    """The context of `indicators/_charts.html`: the trend, levels and channels, for ECharts and as tables."""
    lines = data["days"]
    chart = {
        "days": [str(d["day"]) for d in lines],
        "total": [d["counts"]["total"] for d in lines],
        "good_rate": [
            round(d["rates"]["good_rate"] * 100, 1) if d["rates"]["good_rate"] is not None else None for d in lines
        ],
        "levels": [
            {"name": str(LEVEL_LABELS[n]), "value": data["whole"]["levels"][n - 1], "color": LEVEL_COLORS[n]}
            for n in range(5, 0, -1)
        ],
        "channels": [
            {
                "name": str(Evaluation.Channel(c["channel"]).label) if c["channel"] else str(_("default rating")),
                "value": c["counts"]["total"],
            }
            for c in data["channels"]
        ],
    }
    return {
        "chart": chart,
        "days": lines,
        "levels": chart["levels"],
        "channels": chart["channels"],
        # The level chart counts active ratings only (a timed-out default has no level chosen);
        # the channel chart every rating, the defaults as a channel of their own.
        "base": data["whole"]["counts"],
        "trend": trend,
        "trends": [("day", _("By day")), ("week", _("By week"))],
        "trend_label": _("Weekly trend") if trend == "week" else _("Daily trend"),
        "trend_query": query,
    }


def _most_bad(breakdown: dict[int, dict[str, Any]], model: Any, kind: str, period: str) -> list[dict[str, Any]]:
    """The ten objects with the most valid bad reviews, linked to their pages."""
    names = {o.pk: o for o in model.objects.filter(pk__in=list(breakdown))}
    rows = _table(breakdown, names, functools.partial(_object_link, kind, period))
    return sorted(rows, key=lambda r: -r["counts"]["valid_bad"])[:10]


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    assert actor.region is not None
    code = request.GET.get("region") or actor.region.code
    region = Region.objects.filter(code=code).first()
    if region is None or not region_contains(actor.region, region):
        raise Http404(_("region not found"))
    first, last, prev_first, prev_last = _period(request)
    channel = _channel(request)
    query = _query(first, last, channel)
    period = f"?{query}"
    trend = _trend(request)
    data = region_overview(region=region, first=first, last=last, trend=trend, channel=channel)
    previous = indicator_report(
        kind=DailyCount.Kind.REGION, object_id=None, first=prev_first, last=prev_last, within=region, channel=channel
    )
    read = functools.partial(object_breakdown, first=first, last=last, within=region, channel=channel)
    institutions = read(kind=DailyCount.Kind.INSTITUTION)
    departments = read(kind=DailyCount.Kind.DEPARTMENT)
    items = read(kind=DailyCount.Kind.ITEM)
    bad_departments = _most_bad(departments, Department, "department", period)
    bad_items = _most_bad(items, ServiceItem, "item", period)
    overdue = cases_visible(actor).filter(within_region(region)).filter(overdue_q(timezone.now())).count()
    context = {
        "actor": actor,
        "region": region,
        "parent": region.parent if region.parent and region_contains(actor.region, region.parent) else None,
        "first": first,
        "with_channel": True,
        "last": last,
        "cards": _cards(data["whole"], previous),
        "whole": data["whole"],
        **_charts(data, trend, f"region={region.code}&{query}"),
        "children": child_regions_breakdown(region=region, first=first, last=last, channel=channel),
        "channel": channel,
        "period_query": query,
        "institutions": _table(
            institutions,
            {i.pk: i for i in Institution.objects.filter(pk__in=list(institutions))},
            lambda hall: reverse("indicators-institution", args=[hall.code]) + period,
        ),
        "region_keep": [("region", region.code), ("trend", trend)],
        "bad_departments": bad_departments,
        "bad_items": bad_items,
        "overdue": overdue,
        # R18: social comments beside the ratings.
        "comments": comment_summary(region=region, first=first, last=last),
        "title": _("Overview of %(region)s") % {"region": region.name},
    }
    return render(request, "indicators/overview.html", context)


@login_required
def institution(request: HttpRequest, code: str) -> HttpResponse:
    actor = _manager(request)
    assert actor.region is not None
    hall = Institution.objects.select_related("region").filter(code=code).first()
    if hall is None or not region_contains(actor.region, hall.region):
        raise Http404(_("institution not found"))
    first, last, prev_first, prev_last = _period(request)
    channel = _channel(request)
    query = _query(first, last, channel)
    within = actor.region
    trend = _trend(request)
    data = object_overview(
        kind="institution", object_id=hall.pk, first=first, last=last, within=within, trend=trend, channel=channel
    )
    previous = indicator_report(
        kind="institution", object_id=hall.pk, first=prev_first, last=prev_last, within=within, channel=channel
    )
    read = functools.partial(object_breakdown, first=first, last=last, within=within, channel=channel)
    windows = {w.pk: w for w in Window.objects.filter(institution=hall)}
    staff = {s.pk: s for s in Staff.objects.filter(institution=hall)}
    context = {
        "actor": actor,
        "hall": hall,
        "first": first,
        "with_channel": True,
        "last": last,
        "channel": channel,
        "period_query": query,
        "keep": [("trend", trend)],
        "cards": _cards(data["whole"], previous),
        "counts": data["whole"]["counts"],
        **_charts(data, trend, query),
        "windows": _table(
            read(kind="window", object_ids=list(windows)),
            windows,
            functools.partial(_object_link, "window", f"?{query}"),
        ),
        "staff": _table(read(kind="staff", object_ids=list(staff)), staff, functools.partial(_staff_link, f"?{query}")),
        "title": hall.name,
        # R11: the hall as a whole (中心总体), its own object, never part of the figures above.
        "hall_overall": hall_summary(institution=hall, first=first, last=last),
    }
    return render(request, "indicators/institution.html", context)


def _object_link(kind: str, period: str, obj: Any) -> str:
    return reverse("indicators-object", args=[kind, obj.code]) + period


def _staff_link(period: str, member: Staff) -> str:
    return reverse("indicators-staff", args=[member.staff_no]) + period


def _in_line(actor_region: Region, region: Region | None) -> bool:
    """The region is the manager's, below it, or above it (an upper-level item or platform served here)."""
    return region is not None and (region_contains(actor_region, region) or region_contains(region, actor_region))


OBJECT_KINDS: dict[str, tuple[Any, Any, Callable[[Any], Region | None], bool]] = {
    # kind: (model, title, home region, whether upper-level objects count within the manager's region)
    "department": (Department, gettext_lazy("Department"), lambda o: o.region, False),
    "window": (Window, gettext_lazy("Window"), lambda o: o.institution.region, False),
    "platform": (Platform, gettext_lazy("Platform"), lambda o: o.region, True),
    "item": (ServiceItem, gettext_lazy("Service item"), lambda o: o.department.region if o.department else None, True),
}


@login_required
def object_page(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    """A department, window, platform or service item: its rates, trend, levels and channels, and
    what it is made of (a department's items and staff, a window's staff)."""
    actor = _manager(request)
    assert actor.region is not None
    if kind not in OBJECT_KINDS:
        raise Http404(_("page not found"))
    model, label, home_of, upper = OBJECT_KINDS[kind]
    obj = model.objects.filter(code=code).first()
    home = home_of(obj) if obj is not None else None
    if home is None or not (_in_line(actor.region, home) if upper else region_contains(actor.region, home)):
        raise Http404(_("%(kind)s not found") % {"kind": label})
    first, last, prev_first, prev_last = _period(request)
    channel = _channel(request)
    query = _query(first, last, channel)
    period = f"?{query}"
    within = actor.region
    trend = _trend(request)
    data = object_overview(
        kind=kind, object_id=obj.pk, first=first, last=last, within=within, trend=trend, channel=channel
    )
    previous = indicator_report(
        kind=kind, object_id=obj.pk, first=prev_first, last=prev_last, within=within, channel=channel
    )
    parts: list[tuple[str, str, list[dict[str, Any]]]] = []

    def part(title: str, heading: str, part_kind: str, names: dict[int, Any], link: Callable[[Any], str]) -> None:
        rows = object_breakdown(
            kind=part_kind, first=first, last=last, within=within, object_ids=list(names), channel=channel
        )
        parts.append((title, heading, _table(rows, names, link)))

    staff_link = functools.partial(_staff_link, period)
    if kind == "department":
        items = {i.pk: i for i in ServiceItem.objects.filter(department=obj)}
        part(_("By service item"), _("Service item"), "item", items, functools.partial(_object_link, "item", period))
        part(_("By staff member"), _("Staff member"), "staff", {m.pk: m for m in obj.staff.all()}, staff_link)
    elif kind == "window":
        part(_("By staff member"), _("Staff member"), "staff", {m.pk: m for m in obj.staff.all()}, staff_link)
    up: tuple[str, str] | None = None
    if kind == "window":
        up = (reverse("indicators-institution", args=[obj.institution.code]) + period, obj.institution.name)
    elif region_contains(actor.region, home):
        up = (reverse("indicators-overview") + f"{period}&region={home.code}", home.name)
    context = {
        "actor": actor,
        "object": obj,
        "kind_label": label,
        "up": up,
        "first": first,
        "with_channel": True,
        "last": last,
        "cards": _cards(data["whole"], previous),
        "counts": data["whole"]["counts"],
        **_charts(data, trend, query),
        "keep": [("trend", trend)],
        "channel": channel,
        "period_query": query,
        "parts": parts,
        "title": obj.name,
    }
    return render(request, "indicators/object.html", context)


def _staff_page(request: HttpRequest, actor: Actor, member: Staff, *, own: bool) -> HttpResponse:
    first, last, prev_first, prev_last = _period(request)
    # R10: a staff member's own figures by one channel on one day could point to who rated them.
    channel = None if own else _channel(request)
    report = indicator_report(kind="staff", object_id=member.pk, first=first, last=last, within=None, channel=channel)
    previous = indicator_report(
        kind="staff", object_id=member.pk, first=prev_first, last=prev_last, within=None, channel=channel
    )
    comments = staff_comments(staff_id=member.pk, first=first, last=last)
    context = {
        "actor": actor,
        "member": member,
        "own": own,
        "first": first,
        "with_channel": not own,
        "channel": channel,
        "last": last,
        "cards": _cards(report, previous),
        "counts": report["counts"],
        "comments": comments,
        "title": _("My ratings") if own else member.name,
    }
    return render(request, "indicators/staff.html", context)


@login_required
def staff_member(request: HttpRequest, staff_no: str) -> HttpResponse:
    actor = _manager(request)
    assert actor.region is not None
    member = Staff.objects.select_related("institution__region", "department__region").filter(staff_no=staff_no).first()
    home = staff_home(member) if member is not None else None
    if member is None or home is None or not region_contains(actor.region, home):
        raise Http404(_("staff member not found"))
    return _staff_page(request, actor, member, own=False)


@login_required
def my_ratings(request: HttpRequest) -> HttpResponse:
    """我的评价: a staff member's own figures and comments."""
    actor = actor_for_user(request.user)
    if actor is None or actor.staff_id is None:
        raise Http404(_("page not found"))
    member = Staff.objects.get(pk=actor.staff_id)
    return _staff_page(request, actor, member, own=True)


RANK_KINDS = {
    "institution": gettext_lazy("Institutions"),
    "department": gettext_lazy("Departments"),
    "item": gettext_lazy("Service items"),
    "staff": gettext_lazy("Staff members"),
}


@login_required
def rankings(request: HttpRequest) -> HttpResponse:
    """R20: a ranking by a chosen rate, and the key targets of the period."""
    actor = _manager(request)
    assert actor.region is not None
    region = actor.region
    first, last, _prev_first, _prev_last = _period(request)
    channel = _channel(request)
    kind = request.GET.get("by") or "institution"
    kind = kind if kind in RANK_KINDS else "institution"
    rate = request.GET.get("rate") or "good_rate"
    rate = rate if rate in dict(RATES) else "good_rate"
    min_sample = _int(request.GET.get("min"), settings.HAOPING_RANKING_MIN_SAMPLE)
    rule, lowest, threshold, from_policy = _key_target_rule(request, region)
    label = RANK_KINDS[kind]
    names = ranked_objects(kind, region)
    ranked, small = ranking(
        kind=kind,
        names=names,
        first=first,
        last=last,
        within=region,
        rate=rate,
        min_sample=min_sample,
        lowest=lowest,
        threshold=threshold,
        channel=channel,
    )
    context = {
        "actor": actor,
        "title": _("Rankings"),
        "first": first,
        "with_channel": True,
        "last": last,
        "kinds": list(RANK_KINDS.items()),
        "kind": kind,
        "kind_label": label,
        "rates": RATES,
        "rate": rate,
        "rate_label": dict(RATES)[rate],
        "min_sample": min_sample,
        "rules": RegionPolicy.KeyTargets.choices,
        "rule": rule,
        "lowest": lowest,
        "below": "" if threshold is None else f"{threshold:g}",
        "rule_text": key_target_text(
            rule,
            lowest,
            threshold,
            ranking_median([rank_score(r.rates[rate] or 0) for r in ranked]),
            str(dict(RATES)[rate]),
        ),
        "from_policy": from_policy,
        "ranked": ranked,
        "links": {r.object.pk: _rank_link(kind, r.object, f"?{_query(first, last, channel)}") for r in ranked},
        "channel": channel,
        "watch": [r for r in ranked if r.watch],
        "small": small,
    }
    return render(request, "indicators/rankings.html", context)


def _key_target_rule(request: HttpRequest, region: Region) -> tuple[str, int, float | None, bool]:
    """R20: the rule that makes the key targets: the region's policy, unless the page asks for
    another (`watch`, `lowest`, `below`). Returns the rule, how many of the lowest, the threshold
    in percent, and whether it is the policy's."""
    policy = policy_for_region(region)
    rules = RegionPolicy.KeyTargets
    params = request.GET
    below = params.get("below", "").strip()
    rule = params.get("watch") or (rules.BELOW_THRESHOLD if below else policy.key_targets)
    rule = rule if rule in rules.values else policy.key_targets
    lowest = _int(params.get("lowest"), policy.key_targets_lowest)
    threshold: float | None = float(below) if _number(below) and 0 <= float(below) <= 100 else None
    if threshold is None and policy.key_targets_threshold is not None:
        threshold = float(policy.key_targets_threshold)
    from_policy = (
        rule == policy.key_targets
        and lowest == policy.key_targets_lowest
        and (rule != rules.BELOW_THRESHOLD or threshold == policy.key_targets_threshold)
    )
    return rule, lowest, threshold if rule == rules.BELOW_THRESHOLD else None, from_policy


def _rank_link(kind: str, obj: Named, period: str) -> str:
    if kind == "institution":
        return reverse("indicators-institution", args=[obj.code]) + period
    if kind == "staff":
        return reverse("indicators-staff", args=[obj.code]) + period
    return _object_link(kind, period, obj)


def _int(value: str | None, default: int) -> int:
    number = whole_number(value)
    return number if number is not None and number <= 100_000 else default


def _number(value: str) -> bool:
    try:
        return 0 <= float(value) <= 100
    except ValueError:
        return False


@login_required
def problems(request: HttpRequest) -> HttpResponse:
    """堵点难点 (R20): where bad reviews concentrate, their most frequent words and a few examples."""
    actor = _manager(request)
    assert actor.region is not None
    region = actor.region
    first, last, _prev_first, _prev_last = _period(request)
    kind = "department" if request.GET.get("by") == "department" else "item"
    entries = hot_problems(kind=kind, first=first, last=last, within=region)
    ids = [entry["object_id"] for entry in entries]
    examples = problem_examples(kind=kind, object_ids=ids, first=first, last=last, within=region)
    for entry in entries:
        entry["examples"] = examples[entry["object_id"]]
    context = {
        "actor": actor,
        "title": _("Hot problems"),
        "first": first,
        "last": last,
        "kind": kind,
        "entries": entries,
    }
    return render(request, "indicators/problems.html", context)
