"""Reads of the indicators: sums of the daily rollups, never the raw evaluations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from haoping.directory.models import Region
from haoping.indicators.counting import COUNTS, LEVELS, annex_a_rates, with_valid_bad
from haoping.indicators.models import DailyCount
from haoping.indicators.services import ALL_CHANNELS


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
    rows = DailyCount.objects.filter(kind=kind, day__gte=first, day__lte=last)
    if kind == DailyCount.Kind.REGION:
        assert within is not None
        rows = rows.filter(region__path__startswith=within.path)
    else:
        assert object_id is not None
        rows = rows.filter(object_id=object_id)
        if within is not None:
            rows = rows.filter(region__path__startswith=within.path)
    rows = rows.filter(channel=ALL_CHANNELS if channel is None else channel)
    sums: dict[str, Any] = rows.aggregate(**{name: Sum(name) for name in COUNTS})
    return with_valid_bad({name: int(sums[name] or 0) for name in COUNTS})


def indicator_report(**query: Any) -> dict[str, Any]:
    counts = indicator_counts(**query)
    return {"counts": counts, "rates": annex_a_rates(counts)}


def _period_rows(
    kind: str, first: dt.date, last: dt.date, within: Region | None, *, by_channel: bool = False
) -> QuerySet[DailyCount]:
    """Rows of all channels together, or (`by_channel`) the rows of each channel."""
    rows = DailyCount.objects.filter(kind=kind, day__gte=first, day__lte=last)
    rows = rows.exclude(channel=ALL_CHANNELS) if by_channel else rows.filter(channel=ALL_CHANNELS)
    if within is not None:
        rows = rows.filter(region__path__startswith=within.path)
    return rows


def _sums(rows: QuerySet[DailyCount], *group: str) -> list[dict[str, Any]]:
    fields = (*COUNTS, *LEVELS)
    sums = {f"s_{n}": Sum(n) for n in fields}
    # No grouping is one line for the whole set (`.values()` without fields would group by every column).
    grouped = [rows.aggregate(**sums)] if not group else rows.values(*group).annotate(**sums).order_by(*group)
    result = []
    for row in grouped:
        counts = with_valid_bad({n: int(row[f"s_{n}"] or 0) for n in COUNTS})
        levels = [int(row[f"s_{n}"] or 0) for n in LEVELS]
        result.append(
            {**{g: row[g] for g in group}, "counts": counts, "rates": annex_a_rates(counts), "levels": levels}
        )
    return result


def region_overview(*, region: Region, first: dt.date, last: dt.date) -> dict[str, Any]:
    """What a region's dashboard shows, all from the rollups: totals, daily trend, channels, levels."""
    rows = _period_rows(DailyCount.Kind.REGION, first, last, region)
    return {
        "whole": _sums(rows)[0],
        "days": _sums(rows, "day"),
        "channels": _sums(_period_rows(DailyCount.Kind.REGION, first, last, region, by_channel=True), "channel"),
    }


def object_breakdown(
    *, kind: str, first: dt.date, last: dt.date, within: Region | None, object_ids: list[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Counts and rates per object of a kind (institutions of a region, windows of a hall...)."""
    rows = _period_rows(kind, first, last, within)
    if object_ids is not None:
        rows = rows.filter(object_id__in=object_ids)
    return {row["object_id"]: row for row in _sums(rows, "object_id")}


def child_regions_breakdown(*, region: Region, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """One line per child region (its whole subtree), for drilling down."""
    result = []
    for child in region.children.order_by("code"):
        counts = indicator_counts(kind=DailyCount.Kind.REGION, object_id=None, first=first, last=last, within=child)
        result.append({"region": child, "counts": counts, "rates": annex_a_rates(counts)})
    return result


@dataclass
class Ranked:
    object: Any
    counts: dict[str, int]
    rates: dict[str, float | None]
    rank: int
    watch: bool


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
) -> tuple[list[Ranked], list[Any]]:
    """R20: objects ranked by a rate, best first, among those with at least `min_sample` ratings
    (so that two ratings do not top a ranking); the key targets (重点评测对象) are the `lowest`
    ones and any under `threshold`. Objects with too few ratings are returned apart."""
    rows = object_breakdown(kind=kind, first=first, last=last, within=within, object_ids=list(names))
    eligible = [r for pk, r in rows.items() if r["counts"]["total"] >= min_sample and r["rates"][rate] is not None]
    eligible.sort(key=lambda r: (-(r["rates"][rate] or 0), -r["counts"]["total"], r["object_id"]))
    bottom = {r["object_id"] for r in eligible[-lowest:]} if lowest else set()
    ranked = [
        Ranked(
            object=names[r["object_id"]],
            counts=r["counts"],
            rates=r["rates"],
            rank=i + 1,
            watch=r["object_id"] in bottom or (threshold is not None and (r["rates"][rate] or 0) < threshold),
        )
        for i, r in enumerate(eligible)
    ]
    small = [names[pk] for pk, r in rows.items() if r["counts"]["total"] < min_sample]
    return ranked, small


def problem_terms(
    *, kind: str, object_ids: list[int], first: dt.date, last: dt.date, within: Region, top: int = 10
) -> dict[int, list[tuple[str, int]]]:
    """The most frequent words of the bad reviews of each object (堵点难点)."""
    from haoping.indicators.models import ProblemTerm

    rows = (
        ProblemTerm.objects.filter(kind=kind, object_id__in=object_ids, day__gte=first, day__lte=last)
        .filter(region__path__startswith=within.path)
        .values("object_id", "term")
        .annotate(n=Sum("count"))
        .order_by("object_id", "-n", "term")
    )
    result: dict[int, list[tuple[str, int]]] = {pk: [] for pk in object_ids}
    for row in rows:
        if len(result[row["object_id"]]) < top:
            result[row["object_id"]].append((row["term"], int(row["n"])))
    return result
