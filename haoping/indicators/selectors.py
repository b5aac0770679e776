"""Reads of the indicators: sums of the daily rollups, never the raw evaluations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Sum

from haoping.directory.models import Region
from haoping.indicators.counting import COUNTS, annex_a_rates, with_valid_bad
from haoping.indicators.models import DailyCount


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
    if channel is not None:
        rows = rows.filter(channel=channel)
    sums: dict[str, Any] = rows.aggregate(**{name: Sum(name) for name in COUNTS})
    return with_valid_bad({name: int(sums[name] or 0) for name in COUNTS})


def indicator_report(**query: Any) -> dict[str, Any]:
    counts = indicator_counts(**query)
    return {"counts": counts, "rates": annex_a_rates(counts)}
