"""A period is read from the monthly rows for its whole months and the daily rows at either end;
whatever the period, the sums are those of the daily rows alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haoping.indicators import selectors
from haoping.indicators.counting import COUNTS, LEVELS
from haoping.indicators.models import DailyCount, MonthlyCount
from haoping.indicators.selectors import Split, indicator_counts, object_breakdown, period_split, region_overview
from haoping.indicators.services import months_between, months_refresh

D = dt.date
FIELDS = (*COUNTS, *LEVELS)


@pytest.mark.parametrize(
    ("first", "last", "split"),
    [
        (D(2026, 1, 1), D(2026, 12, 31), Split((D(2026, 1, 1), D(2026, 12, 1)), ())),
        (D(2026, 1, 15), D(2026, 3, 10), Split((D(2026, 2, 1), D(2026, 2, 1)), ((D(2026, 1, 15), D(2026, 1, 31)), (D(2026, 3, 1), D(2026, 3, 10))))),  # noqa: E501
        (D(2026, 1, 15), D(2026, 1, 31), Split(None, ((D(2026, 1, 15), D(2026, 1, 31)),))),
        (D(2026, 2, 1), D(2026, 2, 28), Split((D(2026, 2, 1), D(2026, 2, 1)), ())),
        # 2024 is a leap year: 1–28 February is not the whole month.
        (D(2024, 2, 1), D(2024, 2, 28), Split(None, ((D(2024, 2, 1), D(2024, 2, 28)),))),
        (D(2025, 12, 31), D(2026, 1, 1), Split(None, ((D(2025, 12, 31), D(2026, 1, 1)),))),
        (D(2025, 11, 30), D(2026, 2, 1), Split((D(2025, 12, 1), D(2026, 1, 1)), ((D(2025, 11, 30), D(2025, 11, 30)), (D(2026, 2, 1), D(2026, 2, 1))))),  # noqa: E501
        (D(2026, 5, 7), D(2026, 5, 7), Split(None, ((D(2026, 5, 7), D(2026, 5, 7)),))),
    ],
)  # fmt: skip
def test_a_period_splits_into_whole_months_and_the_days_around_them(first: D, last: D, split: Split) -> None:
    assert period_split(first, last) == split


START = D(2025, 11, 20)
SPAN = 130  # days: into March 2026, across a year's end and a short February

rollup_rows = st.lists(
    st.tuples(
        st.integers(0, SPAN - 1),  # day
        st.sampled_from(["district", "other"]),
        st.sampled_from(["region", "institution"]),
        st.integers(1, 3),  # object
        st.sampled_from(["*", "pad"]),
        st.lists(st.integers(0, 50), min_size=len(FIELDS), max_size=len(FIELDS)),
    ),
    min_size=1,
    max_size=40,
)
periods = st.tuples(st.integers(0, SPAN - 1), st.integers(0, SPAN - 1)).map(sorted)


def store(world: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
    DailyCount.objects.all().delete()
    MonthlyCount.objects.all().delete()
    keyed: dict[tuple[Any, ...], list[int]] = {}
    for offset, where, kind, object_id, channel, values in rows:
        region = world["district"] if where == "district" else world["other"]
        object_id = region.pk if kind == "region" else object_id
        keyed[(region.pk, START + dt.timedelta(days=offset), kind, object_id, channel)] = values
    DailyCount.objects.bulk_create(
        DailyCount(region_id=r, day=d, kind=k, object_id=o, channel=c, **dict(zip(FIELDS, v, strict=True)))
        for (r, d, k, o, c), v in keyed.items()
    )
    months_refresh(months=months_between(START, START + dt.timedelta(days=SPAN)))


def daily_sums(first: D, last: D, **match: Any) -> dict[str, int]:
    rows = DailyCount.objects.filter(day__gte=first, day__lte=last, **match).values_list(*COUNTS)
    return {name: sum(row[i] for row in rows) for i, name in enumerate(COUNTS)}


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(rows=rollup_rows, period=periods)
def test_reads_over_any_period_equal_the_sums_of_the_daily_rows(
    world: dict[str, Any], rows: list[tuple[Any, ...]], period: list[int]
) -> None:
    store(world, rows)
    first, last = (START + dt.timedelta(days=n) for n in period)
    city, district = world["city"], world["district"]
    for within, regions in ((city, [district.pk, world["other"].pk]), (district, [district.pk])):
        for channel in (None, "pad"):
            got = indicator_counts(
                kind="region", object_id=None, first=first, last=last, within=within, channel=channel
            )
            want = daily_sums(first, last, kind="region", region_id__in=regions, channel=channel or "*")
            assert {n: got[n] for n in COUNTS} == want
    for object_id in (1, 2, 3):
        got = indicator_counts(kind="institution", object_id=object_id, first=first, last=last, within=None)
        assert {n: got[n] for n in COUNTS} == daily_sums(
            first, last, kind="institution", object_id=object_id, channel="*"
        )
    # Few named objects are picked in SQL, many out of the grouped rows: the same lines either way.
    few = object_breakdown(kind="institution", first=first, last=last, within=city, object_ids=[1, 2, 3])
    many = object_breakdown(
        kind="institution",
        first=first,
        last=last,
        within=city,
        object_ids=list(range(1, selectors.OBJECT_IDS_IN_SQL + 5)),
    )
    assert few == many
    assert set(few) == set(
        DailyCount.objects.filter(kind="institution", channel="*", day__gte=first, day__lte=last).values_list(
            "object_id", flat=True
        )
    )
    overview = region_overview(region=city, first=first, last=last)
    want = daily_sums(first, last, kind="region", channel="*")
    assert {n: overview["whole"]["counts"][n] for n in COUNTS} == want
    assert (
        sum(line["counts"]["total"] for line in overview["channels"])
        == daily_sums(first, last, kind="region", channel="pad")["total"]
    )


def test_a_weekly_trend_folds_the_days_into_weeks_from_monday(world: dict[str, Any]) -> None:
    # 2026-01-01 is a Thursday: its week began on Monday 2025-12-29.
    rows = [(42 + n, "district", "region", 1, "*", [n + 1] * len(FIELDS)) for n in range(6)]
    store(world, rows)
    first, last = D(2026, 1, 1), D(2026, 1, 6)
    weeks = region_overview(region=world["city"], first=first, last=last, trend="week")["days"]
    assert [(w["day"], w["counts"]["total"]) for w in weeks] == [
        (D(2025, 12, 29), 1 + 2 + 3 + 4),
        (D(2026, 1, 5), 5 + 6),
    ]
