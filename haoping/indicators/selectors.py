"""Reads of the indicators: sums of the rollups, never the raw evaluations.

A period is read from the monthly rows for its whole months and from the daily rows for the days
at either end; a trend by day or week reads the daily rows. A region subtree is resolved to its
region ids first, so every read filters the rollups by their own key.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import within_region
from haoping.directory.models import Region, RegionPolicy
from haoping.directory.selectors import policy_for_region
from haoping.evaluations.models import Evaluation
from haoping.indicators.counting import (
    COUNTS,
    FIELDS,
    LOWER_IS_BETTER,
    annex_a_rates,
    counted,
    valid_bad,
    with_valid_bad,
)
from haoping.indicators.models import DailyCount, MonthlyCount
from haoping.indicators.services import ALL_CHANNELS, KIND_FIELDS, day_bounds, month_end, tune_plans
from haoping.lib.masking import redact_text
from haoping.rectification.models import BadReviewCase

# The rows of each channel, rather than the all-channels rows.
PER_CHANNEL = "per-channel"
# Above this many named objects, they are picked out of the grouped rows rather than in SQL.
OBJECT_IDS_IN_SQL = 200

Fn = TypeVar("Fn", bound=Callable[..., Any])


def analytic(fn: Fn) -> Fn:
    """Run a read in a transaction with plans made for its actual values (`services.tune_plans`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            tune_plans()
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Split:
    """A period as its whole calendar months and the day ranges left over at either end."""

    months: tuple[dt.date, dt.date] | None
    days: tuple[tuple[dt.date, dt.date], ...]


def period_split(first: dt.date, last: dt.date) -> Split:
    start = first if first.day == 1 else month_end(first) + dt.timedelta(days=1)
    stop = month_end(last) + dt.timedelta(days=1) if month_end(last) == last else last.replace(day=1)
    if start >= stop:
        return Split(None, ((first, last),))
    days = []
    if first < start:
        days.append((first, start - dt.timedelta(days=1)))
    if stop <= last:
        days.append((stop, last))
    return Split((start, (stop - dt.timedelta(days=1)).replace(day=1)), tuple(days))


def subtree_ids(region: Region) -> list[int]:
    return list(Region.objects.filter(within_region(region, field="")).values_list("id", flat=True))


def _rows(
    model: type[DailyCount] | type[MonthlyCount],
    kind: str,
    ranges: tuple[tuple[dt.date, dt.date], ...],
    *,
    region_ids: list[int] | None,
    channel: str | None,
    object_ids: list[int] | None,
) -> QuerySet[Any]:
    date = "day" if model is DailyCount else "month"
    in_ranges = Q()
    for low, high in ranges:
        in_ranges |= Q(**{f"{date}__gte": low, f"{date}__lte": high})
    rows = model.objects.filter(in_ranges, kind=kind)
    if channel == PER_CHANNEL:
        rows = rows.exclude(channel=ALL_CHANNELS)
    else:
        rows = rows.filter(channel=ALL_CHANNELS if channel is None else channel)
    if region_ids is not None:
        rows = rows.filter(region_id__in=region_ids)
    if object_ids is not None and len(object_ids) <= OBJECT_IDS_IN_SQL:
        rows = rows.filter(object_id__in=object_ids)
    return rows


def _grouped(
    kind: str,
    first: dt.date,
    last: dt.date,
    *,
    within: Region | None,
    channel: str | None = None,
    object_ids: list[int] | None = None,
    by: tuple[str, ...] = (),
) -> dict[tuple[Any, ...], list[int]]:
    """Sums of the rollup fields (in `FIELDS` order) per group, from the monthly rows where whole
    months allow."""
    split = Split(None, ((first, last),)) if "day" in by else period_split(first, last)
    parts: list[tuple[Any, tuple[tuple[dt.date, dt.date], ...]]] = []
    if split.months is not None:
        parts.append((MonthlyCount, (split.months,)))
    if split.days:
        parts.append((DailyCount, split.days))
    region_ids = subtree_ids(within) if within is not None else None
    # A long list of objects is picked out of the rows grouped by object (see `OBJECT_IDS_IN_SQL`).
    wanted = set(object_ids) if object_ids is not None and len(object_ids) > OBJECT_IDS_IN_SQL else None
    assert wanted is None or "object_id" in by
    sums = {f"s_{n}": Sum(n) for n in FIELDS}
    found: dict[tuple[Any, ...], list[int]] = {}
    for model, ranges in parts:
        rows = _rows(model, kind, ranges, region_ids=region_ids, channel=channel, object_ids=object_ids)
        if by:
            grouped = _tuples(rows.values(*by).annotate(**sums).order_by(), by)
        else:
            whole = rows.aggregate(**sums)
            grouped = [((), [int(whole[f"s_{n}"] or 0) for n in FIELDS])]
        at = by.index("object_id") if wanted is not None else 0
        for key, values in grouped:
            if wanted is not None and key[at] not in wanted:
                continue
            if key in found:
                _add(found[key], values)
            else:
                found[key] = values
    return found


def _tuples(grouped: QuerySet[Any], by: tuple[str, ...]) -> list[tuple[tuple[Any, ...], list[int]]]:
    """The rows of a grouped query as (key, sums), read with a plain cursor: thousands of rows of
    fourteen sums are the whole cost of a ranking once the SQL is fast, and Django's row building
    would be most of it."""
    sql, params = grouped.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(by)
    return [(tuple(row[:width]), list(row[width:])) for row in rows]


def _summary(values: list[int]) -> dict[str, Any]:
    """Counts, rates and levels from sums in `FIELDS` order."""
    counts = with_valid_bad(dict(zip(COUNTS, values, strict=False)))
    return {"counts": counts, "rates": annex_a_rates(counts), "levels": values[len(COUNTS) :]}


def _lines(grouped: dict[tuple[Any, ...], list[int]], by: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**dict(zip(by, key, strict=True)), **_summary(grouped[key])} for key in sorted(grouped)]


def _add(into: list[int], values: list[int]) -> None:
    for i, value in enumerate(values):
        into[i] += value


def _total(lines: list[dict[str, Any]]) -> dict[str, Any]:
    values = [0] * len(FIELDS)
    for line in lines:
        _add(values, [line["counts"][n] for n in COUNTS] + line["levels"])
    return _summary(values)


@analytic
def indicator_counts(
    *,
    kind: str,
    object_id: int | None,
    first: dt.date,
    last: dt.date,
    within: Region | None,
    channel: str | None = None,
) -> dict[str, int]:
    """The Annex A counts of one object over a period, within a region's subtree.

    For a region the object is its subtree: every region-level row under it.
    """
    if kind == DailyCount.Kind.REGION:
        assert within is not None
        object_ids = None
    else:
        assert object_id is not None
        object_ids = [object_id]
    grouped = _grouped(kind, first, last, within=within, channel=channel, object_ids=object_ids)
    return _summary(grouped.get((), [0] * len(FIELDS)))["counts"]


def indicator_report(**query: Any) -> dict[str, Any]:
    counts = indicator_counts(**query)
    return {"counts": counts, "rates": annex_a_rates(counts)}


def _weeks(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Daily lines folded into weeks (Monday to Sunday), each named by its Monday."""
    weeks: dict[dt.date, list[dict[str, Any]]] = {}
    for line in days:
        weeks.setdefault(line["day"] - dt.timedelta(days=line["day"].weekday()), []).append(line)
    return [{"day": monday, **_total(lines)} for monday, lines in sorted(weeks.items())]


@analytic
def object_overview(
    *,
    kind: str,
    object_id: int | None,
    first: dt.date,
    last: dt.date,
    within: Region | None,
    trend: str = "day",
    channel: str | None = None,
) -> dict[str, Any]:
    """What an object's dashboard shows: totals, the trend (by day, or by week), channels, levels.

    For a region the object is its subtree, as in `indicator_counts`; with a channel, everything
    is of that channel only.
    """
    object_ids = None if object_id is None else [object_id]
    assert (kind == DailyCount.Kind.REGION) == (object_ids is None)
    read = functools.partial(_grouped, kind, first, last, within=within, object_ids=object_ids)
    days = _lines(read(channel=channel, by=("day",)), ("day",))
    channels = _lines(read(channel=PER_CHANNEL, by=("channel",)), ("channel",))
    return {
        "whole": _total(days),
        "days": _weeks(days) if trend == "week" else days,
        "channels": [line for line in channels if channel is None or line["channel"] == channel],
    }


def region_overview(
    *, region: Region, first: dt.date, last: dt.date, trend: str = "day", channel: str | None = None
) -> dict[str, Any]:
    return object_overview(
        kind=DailyCount.Kind.REGION,
        object_id=None,
        first=first,
        last=last,
        within=region,
        trend=trend,
        channel=channel,
    )


@analytic
def object_breakdown(
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    within: Region | None,
    object_ids: list[int] | None = None,
    channel: str | None = None,
) -> dict[int, dict[str, Any]]:
    """Counts and rates per object of a kind (institutions of a region, windows of a hall...)."""
    grouped = _grouped(kind, first, last, within=within, object_ids=object_ids, channel=channel, by=("object_id",))
    return {line["object_id"]: line for line in _lines(grouped, ("object_id",))}


@analytic
def monthly_breakdown(
    *, kind: str, first_month: dt.date, last_month: dt.date, within: Region, object_ids: list[int] | None = None
) -> dict[int | None, dict[dt.date, dict[str, Any]]]:
    """Counts and rates per calendar month from `first_month` to `last_month` (first days), per
    object of a kind, or for a region's whole subtree (key None) — the monthly rows only."""
    assert first_month.day == 1 and last_month.day == 1
    if object_ids == []:
        return {}
    by: tuple[str, ...] = ("month",) if kind == DailyCount.Kind.REGION else ("object_id", "month")
    grouped = _grouped(kind, first_month, month_end(last_month), within=within, object_ids=object_ids, by=by)
    result: dict[int | None, dict[dt.date, dict[str, Any]]] = {}
    for key, values in grouped.items():
        pk = None if kind == DailyCount.Kind.REGION else key[0]
        result.setdefault(pk, {})[key[-1]] = _summary(values)
    return result


@analytic
def child_regions_breakdown(
    *, region: Region, first: dt.date, last: dt.date, channel: str | None = None
) -> list[dict[str, Any]]:
    """One line per child region (its whole subtree), for drilling down."""
    children = list(region.children.order_by("code"))
    paths = dict(Region.objects.filter(within_region(region, field="")).values_list("id", "path"))
    grouped = _grouped(DailyCount.Kind.REGION, first, last, within=region, channel=channel, by=("region_id",))
    result = []
    for child in children:
        values = [0] * len(FIELDS)
        for (region_id,), sums in grouped.items():
            if paths.get(region_id, "").startswith(child.path):
                _add(values, sums)
        summary = _summary(values)
        result.append({"region": child, "counts": summary["counts"], "rates": summary["rates"]})
    return result


class Named(NamedTuple):
    """What a ranking shows of an object: its key, its code (a staff member's number) and its name."""

    pk: int
    code: str
    label: str

    def __str__(self) -> str:
        return self.label


def ranked_objects(kind: str, region: Region) -> dict[int, Named]:
    """The objects of a kind that a region's rankings take in: those of its subtree, and for service
    items also those of the levels above it, which are served there too. Read as plain values: a
    province ranks thousands of them."""
    from haoping.directory.models import Department, Institution, ServiceItem, Staff

    if kind == "staff":
        staff = Staff.objects.filter(within_region(region, field="institution__region"))
        return {pk: Named(pk, no, f"{name}（{no}）") for pk, no, name in staff.values_list("pk", "staff_no", "name")}
    objects: QuerySet[Any]
    if kind == "item":
        objects = ServiceItem.objects.all()
    elif kind == "department":
        objects = Department.objects.filter(within_region(region))
    else:
        assert kind == "institution"
        objects = Institution.objects.filter(within_region(region))
    return {pk: Named(pk, code, name) for pk, code, name in objects.values_list("pk", "code", "name")}


@dataclass
class Ranked:
    object: Any
    counts: dict[str, int]
    rates: dict[str, float | None]
    rank: int
    watch: bool


def rank_score(rate: float) -> float:
    """A rate as rankings compare it: in percent to the one decimal the pages show, so that two
    objects shown with the same rate share a rank and a rate shown at a threshold reaches it."""
    return round(rate * 100, 1)


def competition_ranks(scores: Sequence[float]) -> list[int]:
    """Standard competition ranking ("1224") of scores sorted best first: equal scores share the
    rank, and the next score's rank counts everyone above it."""
    ranks: list[int] = []
    for i, score in enumerate(scores):
        ranks.append(ranks[-1] if i and score == scores[i - 1] else i + 1)
    return ranks


def ranking_median(scores: Sequence[float]) -> float | None:
    return statistics.median(scores) if scores else None


def key_targets(scores: Sequence[float], *, lowest: int, threshold: float | None) -> list[bool]:
    """R20: which objects of a ranking (scores best first, rank_score) are key targets (重点评测对象).

    Under a threshold (percent): those below it. Otherwise the lowest `lowest` by rank among those
    strictly below the median, counting ties as one rank, so that two objects with the same score
    are both key targets or neither. Never an object that ties the best or reaches the threshold:
    a ranking where everyone scores the same has no key target.
    """
    ranks = competition_ranks(scores)
    if threshold is not None:
        return [rank > 1 and score < threshold for score, rank in zip(scores, ranks, strict=True)]
    median = ranking_median(scores)
    below = sorted(score for score in scores if median is not None and score < median)
    flagged = []
    for score, rank in zip(scores, ranks, strict=True):
        # From the bottom: 1 + how many below the median score lower than this one.
        from_bottom = bisect.bisect_left(below, score) + 1
        flagged.append(rank > 1 and median is not None and score < median and from_bottom <= lowest)
    return flagged


def key_target_policy(region: Region) -> tuple[str, int, float | None]:
    """R20: the key-target rule of a region's policy: the rule, how many of the lowest, and the
    threshold in percent (None unless the rule is a threshold)."""
    policy = policy_for_region(region)
    below = policy.key_targets == RegionPolicy.KeyTargets.BELOW_THRESHOLD
    threshold = float(policy.key_targets_threshold) if below and policy.key_targets_threshold is not None else None
    return policy.key_targets, policy.key_targets_lowest, threshold


def key_target_text(rule: str, lowest: int, threshold: float | None, median: float | None, rate_label: str) -> str:
    """R20: which rule made the list of key targets, in words."""
    if rule == RegionPolicy.KeyTargets.BELOW_THRESHOLD:
        if threshold is None:
            return _("No threshold is set, so there is no key target.")
        return _("Key targets: %(rate)s under %(threshold)s%%; the best of the ranking never is one.") % {
            "rate": rate_label,
            "threshold": f"{threshold:g}",
        }
    if lowest == 0:
        return _("No key target is asked for (the lowest 0).")
    if median is None:
        return _("Key targets: the lowest %(n)d, strictly below the median of the ranking.") % {"n": lowest}
    return _(
        "Key targets: the lowest %(n)d by %(rate)s among those strictly below the median (%(median).1f%%); "
        "objects tied with one of them are key targets too."
    ) % {"n": lowest, "rate": rate_label, "median": median}


def ranking_order(
    rows: list[dict[str, Any]], rate: str, threshold: float | None
) -> tuple[list[dict[str, Any]], list[float], float | None]:
    """R20: rows best first by `rate`, their scores (rank_score) and the threshold on that scale.

    Scores grow with merit: a rate where lower is better (未评率) counts negated, and its threshold
    with it, so that the lowest come first and those above the threshold are the key targets."""
    sign = -1 if rate in LOWER_IS_BETTER else 1
    ordered = sorted(rows, key=lambda r: (-sign * (r["rates"][rate] or 0), -r["counts"]["total"], r["object_id"]))
    scores = [sign * rank_score(r["rates"][rate] or 0) for r in ordered]
    return ordered, scores, None if threshold is None else sign * threshold


def ranking(
    *,
    kind: str,
    names: dict[int, Any],
    first: dt.date,
    last: dt.date,
    within: Region,
    rate: str,
    min_sample: int,
    lowest: int,
    threshold: float | None,
    channel: str | None = None,
) -> tuple[list[Ranked], list[Any]]:
    """R20: objects ranked by a rate, best first, among those with at least `min_sample` ratings
    (so that two ratings do not top a ranking); ties share a rank. The key targets (key_targets)
    are those under `threshold` (percent) when one is given, else the `lowest` below the median.
    Objects with too few ratings are returned apart."""
    rows = object_breakdown(kind=kind, first=first, last=last, within=within, object_ids=list(names), channel=channel)
    eligible = [r for pk, r in rows.items() if r["counts"]["total"] >= min_sample and r["rates"][rate] is not None]
    eligible, scores, threshold = ranking_order(eligible, rate, threshold)
    ranks = competition_ranks(scores)
    watch = key_targets(scores, lowest=lowest, threshold=threshold)
    ranked = [
        Ranked(object=names[r["object_id"]], counts=r["counts"], rates=r["rates"], rank=rank, watch=flag)
        for r, rank, flag in zip(eligible, ranks, watch, strict=True)
    ]
    small = [names[pk] for pk, r in rows.items() if r["counts"]["total"] < min_sample]
    return ranked, small


def hot_problems(
    *, kind: str, first: dt.date, last: dt.date, within: Region, top: int = 10, words: int = 10
) -> list[dict[str, Any]]:
    """堵点难点 (R20): the `top` items or departments with the most valid bad reviews, most first,
    each with its counts, rates and most frequent words (reason tags by their labels)."""
    from haoping.directory.models import Department, ServiceItem
    from haoping.evaluations.rules import REASON
    from haoping.evaluations.selectors import option_labels

    model: Any = Department if kind == DailyCount.Kind.DEPARTMENT else ServiceItem
    breakdown = object_breakdown(kind=kind, first=first, last=last, within=within)
    worst = sorted(
        (row for row in breakdown.values() if row["counts"]["valid_bad"]),
        key=lambda row: (-row["counts"]["valid_bad"], row["object_id"]),
    )[:top]
    ids = [row["object_id"] for row in worst]
    names = {o.pk: o for o in model.objects.filter(pk__in=ids)}
    terms = problem_terms(kind=kind, object_ids=ids, first=first, last=last, within=within, top=words)
    reasons = {f"#{code}": label for code, label in option_labels(REASON).items()}
    return [
        {
            **row,
            "object": names.get(row["object_id"]),
            "terms": [(reasons.get(term, term), n) for term, n in terms[row["object_id"]]],
        }
        for row in worst
    ]


@analytic
def problem_terms(
    *, kind: str, object_ids: list[int], first: dt.date, last: dt.date, within: Region, top: int = 10
) -> dict[int, list[tuple[str, int]]]:
    """The most frequent words of the bad reviews of each object (堵点难点)."""
    from haoping.indicators.models import ProblemTerm

    rows = (
        ProblemTerm.objects.filter(kind=kind, object_id__in=object_ids, day__gte=first, day__lte=last)
        .filter(region_id__in=subtree_ids(within))
        .values("object_id", "term")
        .annotate(n=Sum("count"))
        .order_by("object_id", "-n", "term")
    )
    result: dict[int, list[tuple[str, int]]] = {pk: [] for pk in object_ids}
    for row in rows:
        if len(result[row["object_id"]]) < top:
            result[row["object_id"]].append((row["term"], int(row["n"])))
    return result


class Example(NamedTuple):
    text: str
    case_id: int | None


@analytic
def problem_examples(
    *, kind: str, object_ids: list[int], first: dt.date, last: dt.date, within: Region, per: int = 3
) -> dict[int, list[Example]]:
    """The latest comments of each object's valid bad reviews, `per` at most, numbers removed (R10),
    each with the case that answers it. A batch or theme rating (one receipt) is one example."""
    field = KIND_FIELDS[DailyCount.Kind(kind)]
    start, end = day_bounds(first, last)
    rows = valid_bad(
        Evaluation.objects.filter(region_id__in=subtree_ids(within), rated_at__gte=start, rated_at__lt=end)
    ).filter(**{f"{field}__in": object_ids})
    once = rows.annotate(dup=Window(RowNumber(), partition_by=[F(field), F("receipt")], order_by="pk")).filter(dup=1)
    case = BadReviewCase.objects.filter(region_id=OuterRef("region_id"), receipt=OuterRef("receipt")).values("pk")
    latest = (
        rows.filter(pk__in=once.values("pk"))
        .exclude(comment="")
        .annotate(n=Window(RowNumber(), partition_by=[F(field)], order_by=[F("rated_at").desc(), F("pk").desc()]))
        .filter(n__lte=per)
        .annotate(case_id=Subquery(case[:1]))
        .order_by(field, "n")
        .values_list(field, "comment", "case_id")
    )
    found: dict[int, list[Example]] = {pk: [] for pk in object_ids}
    for pk, comment, case_id in latest:
        found[pk].append(Example(redact_text(comment), case_id))
    return found


@analytic
def staff_comments(*, staff_id: int, first: dt.date, last: dt.date, most: int = 30) -> list[dict[str, Any]]:
    """A staff member's latest rating comments: what was said, never who said it (R10); numbers
    typed into a comment are removed."""
    start, end = day_bounds(first, last)
    recent = (
        counted(Evaluation.objects.filter(staff_id=staff_id, source=Evaluation.Source.ACTIVE))
        .filter(rated_at__gte=start, rated_at__lt=end)
        .exclude(comment="")
        .order_by("-rated_at")
        .values_list("rated_at", "level", "item__name", "comment")[:most]
    )
    return [
        {"day": timezone.localtime(rated_at).date(), "level": level, "item": item, "text": redact_text(comment)}
        for rated_at, level, item, comment in recent
    ]
