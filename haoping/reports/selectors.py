"""Reads for the monthly reports: what a report says, section by section, and which reports a
manager may see.

The indicator sections come from the daily rollups through the indicator selectors only; the
rectification section counts the month's cases, never who rated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.accounts.access import Actor, within_region
from haoping.directory.models import Department, Institution, Region
from haoping.errors import NotFound
from haoping.indicators.counting import RATES
from haoping.indicators.models import DailyCount
from haoping.indicators.selectors import (
    Ranked,
    child_regions_breakdown,
    hot_problems,
    indicator_report,
    key_target_policy,
    key_target_text,
    object_breakdown,
    ranked_objects,
    ranking,
)
from haoping.indicators.selectors import region_overview as indicators_region_overview
from haoping.indicators.services import day_bounds, month_end, month_of
from haoping.lib.points import points_between
from haoping.rectification.models import BadReviewCase
from haoping.rectification.selectors import overdue_q
from haoping.reports.models import MonthlyReport

COUNT_LABELS = [
    ("total", gettext_lazy("Ratings")),
    ("active", gettext_lazy("Active")),
    ("defaults", gettext_lazy("Default (not rated in time)")),
    ("active_good", gettext_lazy("Active good")),
    ("bad", gettext_lazy("Bad")),
    ("invalid_bad", gettext_lazy("Not adopted")),
    ("valid_bad", gettext_lazy("Valid bad")),
    ("replied", gettext_lazy("Answered")),
    ("rectified", gettext_lazy("Rectified after revisit")),
    ("satisfied", gettext_lazy("Satisfied")),
]
# How many words of each hot problem the report shows.
PROBLEM_WORDS = 5
HOT_PROBLEMS = 10


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month that `month` falls in."""
    first = month_of(month)
    return first, month_end(first)


def month_label(month: dt.date) -> str:
    return _("%(year)d-%(month)02d") % {"year": month.year, "month": month.month}


def report_title(region: Region, month: dt.date) -> str:
    return _("%(region)s good/bad review report for %(month)s") % {
        "region": region.name,
        "month": month_label(month),
    }


@dataclass
class Line:
    """One object's counts and rates in a table of the report."""

    name: str
    counts: dict[str, int]
    rates: dict[str, float | None]


@dataclass
class SummaryLine:
    """A rate or a count of the region, this month and the month before."""

    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    is_rate: bool

    @property
    def change(self) -> float | int | None:
        """Percentage points for a rate, the difference for a count; None without both months."""
        if self.value is None or self.previous is None:
            return None
        if self.is_rate:
            return points_between(self.value, self.previous)
        return self.value - self.previous


@dataclass
class Problem:
    """An item or a department where valid bad reviews concentrate, with its most frequent words."""

    kind: str
    kind_label: str
    name: str
    valid_bad: int
    total: int
    terms: list[tuple[str, int]]


@dataclass
class CaseLine:
    """The bad-review cases opened in the month, for one unit or all together, as they stand now."""

    name: str
    opened: int
    replied: int
    rectified: int
    closed: int
    invalid: int
    overdue: int
    hours_to_reply: float | None


@dataclass
class Ranking:
    kind: str
    label: str
    ranked: list[Ranked]
    too_small: int


@dataclass
class MonthlyContent:
    """Everything a monthly report says; the Excel and the PDF are two renderings of it."""

    region: Region
    first: dt.date
    last: dt.date
    title: str = ""
    summary: list[SummaryLine] = field(default_factory=list)
    # The written summary (haoping.reports.summary), once every section is computed.
    written: list[str] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    children: list[Line] = field(default_factory=list)
    institutions: list[Line] = field(default_factory=list)
    departments: list[Line] = field(default_factory=list)
    rankings: list[Ranking] = field(default_factory=list)
    min_sample: int = 0
    lowest: int = 0
    key_rule: str = ""
    problems: list[Problem] = field(default_factory=list)
    cases: list[CaseLine] = field(default_factory=list)

    @property
    def watch(self) -> list[tuple[Ranking, Ranked]]:
        """重点评测对象 (R20): the key targets of every ranking."""
        return [(r, entry) for r in self.rankings for entry in r.ranked if entry.watch]


def region_section(content: MonthlyContent) -> None:
    """The six rates and the counts of the region, against the previous month, and the daily trend."""
    region, first, last = content.region, content.first, content.last
    previous_first, previous_last = month_bounds(first - dt.timedelta(days=1))
    now = indicators_region_overview(region=region, first=first, last=last)
    before = indicator_report(
        kind=DailyCount.Kind.REGION, object_id=None, first=previous_first, last=previous_last, within=region
    )
    whole = now["whole"]
    content.summary = [
        SummaryLine(key, str(label), whole["rates"][key], before["rates"][key], is_rate=True) for key, label in RATES
    ] + [
        SummaryLine(key, str(label), whole["counts"][key], before["counts"][key], is_rate=False)
        for key, label in COUNT_LABELS
    ]
    content.days = [
        {
            "day": row["day"],
            "total": row["counts"]["total"],
            "valid_bad": row["counts"]["valid_bad"],
            "good_rate": row["rates"]["good_rate"],
        }
        for row in now["days"]
    ]


def children_section(content: MonthlyContent) -> None:
    """Each child region (with its whole subtree), most ratings first; none for a region without any."""
    rows = child_regions_breakdown(region=content.region, first=content.first, last=content.last)
    lines = [Line(row["region"].name, row["counts"], row["rates"]) for row in rows]
    content.children = sorted(lines, key=lambda line: (-line.counts["total"], line.name))


def _lines(kind: str, names: dict[int, Any], region: Region, first: dt.date, last: dt.date) -> list[Line]:
    breakdown = object_breakdown(kind=kind, first=first, last=last, within=region, object_ids=list(names))
    lines = [Line(str(names[pk]), row["counts"], row["rates"]) for pk, row in breakdown.items()]
    return sorted(lines, key=lambda line: (-line.counts["total"], line.name))


def institutions_section(content: MonthlyContent) -> None:
    names = {i.pk: i for i in Institution.objects.filter(within_region(content.region))}
    content.institutions = _lines(DailyCount.Kind.INSTITUTION, names, content.region, content.first, content.last)


def departments_section(content: MonthlyContent) -> None:
    names = {d.pk: d for d in Department.objects.filter(within_region(content.region))}
    content.departments = _lines(DailyCount.Kind.DEPARTMENT, names, content.region, content.first, content.last)


def rankings_section(content: MonthlyContent, *, min_sample: int) -> None:
    """R20: institutions and staff members by good rate, among those with enough ratings; the key
    targets of the month by the region's policy."""
    subjects = [("institution", _("Institutions")), ("staff", _("Staff members"))]
    rule, lowest, threshold = key_target_policy(content.region)
    content.min_sample, content.lowest = min_sample, lowest
    content.key_rule = key_target_text(rule, lowest, threshold, None, str(dict(RATES)["good_rate"]))
    content.rankings = []
    for kind, label in subjects:
        ranked, small = ranking(
            kind=kind,
            names=ranked_objects(kind, content.region),
            first=content.first,
            last=content.last,
            within=content.region,
            rate="good_rate",
            min_sample=min_sample,
            lowest=lowest,
            threshold=threshold,
        )
        content.rankings.append(Ranking(kind, str(label), ranked, len(small)))


def problems_section(content: MonthlyContent) -> None:
    """堵点难点 (R20): the items and departments with the most valid bad reviews, and their words."""
    content.problems = []
    for kind, label in ((DailyCount.Kind.ITEM, _("Service item")), (DailyCount.Kind.DEPARTMENT, _("Department"))):
        worst = hot_problems(
            kind=kind,
            first=content.first,
            last=content.last,
            within=content.region,
            top=HOT_PROBLEMS,
            words=PROBLEM_WORDS,
        )
        content.problems += [
            Problem(
                kind=kind,
                kind_label=str(label),
                name=str(row["object"] or ""),
                valid_bad=row["counts"]["valid_bad"],
                total=row["counts"]["total"],
                terms=row["terms"],
            )
            for row in worst
        ]


def _case_figures(now: dt.datetime) -> dict[str, Any]:
    """Counts of a set of cases; overdue means overdue at some point, including now."""
    to_reply = ExpressionWrapper(F("replied_at") - F("opened_at"), output_field=DurationField())
    return {
        "opened": Count("id"),
        "replied": Count("id", filter=Q(replied_at__isnull=False)),
        "rectified": Count("id", filter=Q(rectified_at__isnull=False)),
        "closed": Count("id", filter=Q(state=BadReviewCase.State.CLOSED)),
        "invalid": Count("id", filter=Q(invalid=True)),
        "overdue": Count("id", filter=Q(was_overdue=True) | overdue_q(now)),
        "to_reply": Avg(to_reply, filter=Q(replied_at__isnull=False)),
    }


def _case_line(name: str, row: dict[str, Any]) -> CaseLine:
    to_reply: dt.timedelta | None = row["to_reply"]
    return CaseLine(
        name=name,
        opened=row["opened"],
        replied=row["replied"],
        rectified=row["rectified"],
        closed=row["closed"],
        invalid=row["invalid"],
        overdue=row["overdue"],
        hours_to_reply=round(to_reply.total_seconds() / 3600, 1) if to_reply is not None else None,
    )


def cases_section(content: MonthlyContent, *, now: dt.datetime) -> None:
    """The cases opened in the month in the region's subtree, all units first, then each unit."""
    start, end = day_bounds(content.first, content.last)
    cases = BadReviewCase.objects.filter(within_region(content.region), opened_at__gte=start, opened_at__lt=end)
    figures = _case_figures(now)
    lines = [_case_line(_("All units"), cases.aggregate(**figures))]
    rows: list[dict[str, Any]] = [dict(row) for row in cases.values("unit_id").annotate(**figures)]
    rows.sort(key=lambda row: (-row["opened"], row["unit_id"]))
    units = {d.pk: d.name for d in Department.objects.filter(pk__in=[r["unit_id"] for r in rows])}
    lines += [_case_line(units[row["unit_id"]], row) for row in rows]
    content.cases = lines


def reports_visible(actor: Actor) -> QuerySet[MonthlyReport]:
    """A manager's region's reports, without their files; nobody else sees any."""
    if not actor.has("manager") or actor.region is None:
        return MonthlyReport.objects.none()
    return (
        MonthlyReport.objects.filter(within_region(actor.region))
        .select_related("region", "requested_by")
        .defer("xlsx", "pdf")
    )


def report_get(*, actor: Actor, report_id: int, with_files: bool = False) -> MonthlyReport:
    """A report the actor may see; anything else is 404, so that its existence does not leak."""
    reports = reports_visible(actor)
    if with_files:
        reports = reports.defer(None)
    report = reports.filter(pk=report_id).first()
    if report is None:
        raise NotFound("not_found", _("report %(id)s not found") % {"id": report_id})
    return report
