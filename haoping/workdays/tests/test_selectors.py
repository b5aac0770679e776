"""Deadline arithmetic on the 2026 calendar (library) and 2027 (weekends-only fallback).

The 2026 facts used, as published: 9/20 (Sun) and 10/10 (Sat) are worked; 9/25–27 中秋; 10/1–7 国庆;
2/14 (Sat) worked, 2/15–23 春节. 2027 is not published: 1/1 is a Friday, so the fallback works it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from haoping.workdays.models import CalendarDay
from haoping.workdays.selectors import (
    Due,
    add_days,
    add_hours,
    add_workdays,
    end_of_day,
    within_workdays,
    workdays_after,
)
from haoping.workdays.services import calendar_day_set
from haoping.workdays.tests.conftest import at

UTC = dt.UTC
D = dt.date
pytestmark = pytest.mark.django_db


def eod(year: int, month: int, day: int) -> dt.datetime:
    return at(year, month, day, 23, 59, 59)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 10, 13), dt.datetime(2026, 10, 13, 15, 59, 59, tzinfo=UTC)),  # UTC+8
        (D(2026, 12, 31), dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)),
    ],
)
def test_end_of_day(day: dt.date, expected: dt.datetime) -> None:
    assert end_of_day(day) == expected
    assert end_of_day(day).tzinfo is not None


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 9, 30, 10), 48, at(2026, 10, 2, 10)),  # clock hours run through the holiday
        (at(2026, 9, 30, 10), 0, at(2026, 9, 30, 10)),
        (at(2026, 12, 31, 20), 8, at(2027, 1, 1, 4)),  # into the unpublished year, still not provisional
        (dt.datetime(2026, 9, 30, 2, tzinfo=UTC), 24, at(2026, 10, 1, 10)),
    ],
)
def test_add_hours(calendar: None, start: dt.datetime, hours: int, expected: dt.datetime) -> None:
    assert add_hours(start, hours) == Due(at=expected, provisional=False)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at(2026, 9, 30, 10), 5, eod(2026, 10, 5)),
        (at(2026, 9, 30, 10), 0, eod(2026, 9, 30)),
        (at(2026, 12, 30, 10), 3, eod(2027, 1, 2)),
        (at(2026, 9, 30, 23, 59, 59), 1, eod(2026, 10, 1)),
        # 20:00 UTC on 9/30 is 04:00 on 10/1 in Shanghai: the local day counts.
        (dt.datetime(2026, 9, 30, 20, tzinfo=UTC), 1, eod(2026, 10, 2)),
    ],
)
def test_add_days(calendar: None, start: dt.datetime, days: int, expected: dt.datetime) -> None:
    assert add_days(start, days) == Due(at=expected, provisional=False)


@pytest.mark.parametrize(
    ("start", "days", "expected", "provisional"),
    [
        # 10/8 Thu, 10/9 Fri, 10/10 Sat (worked), 10/12 Mon, 10/13 Tue
        (at(2026, 9, 30, 10), 5, eod(2026, 10, 13), False),
        (at(2026, 9, 30, 10), 1, eod(2026, 10, 8), False),
        (at(2026, 9, 30, 10), 0, eod(2026, 9, 30), False),
        (at(2026, 10, 3, 9), 1, eod(2026, 10, 8), False),  # received during the holiday
        (at(2026, 10, 10, 8), 1, eod(2026, 10, 12), False),  # a worked Saturday is not counted as the start day
        (at(2026, 10, 8, 0, 0, 0), 1, eod(2026, 10, 9), False),  # the start day never counts, even at midnight
        (at(2026, 9, 24, 15), 2, eod(2026, 9, 29), False),  # 9/25–27 中秋: 9/28, 9/29
        (at(2026, 9, 18, 15), 1, eod(2026, 9, 20), False),  # Sunday 9/20 is worked
        (at(2026, 2, 13, 10), 2, eod(2026, 2, 24), False),  # 2/14 Sat worked, 2/15–23 春节, 2/24
        # 16:30 UTC on 10/9 is 00:30 on Saturday 10/10 in Shanghai: counting starts on Sunday 10/11.
        (dt.datetime(2026, 10, 9, 16, 30, tzinfo=UTC), 1, eod(2026, 10, 12), False),
        (at(2026, 12, 30, 10), 1, eod(2026, 12, 31), False),  # entirely within 2026
        (at(2026, 12, 30, 10), 2, eod(2027, 1, 1), True),  # 12/31, then 1/1 from the fallback
        (at(2026, 12, 31, 10), 2, eod(2027, 1, 4), True),  # 1/1 Fri, 1/4 Mon
        (at(2026, 12, 31, 10), 0, eod(2026, 12, 31), False),
    ],
)
def test_add_workdays(calendar: None, start: dt.datetime, days: int, expected: dt.datetime, provisional: bool) -> None:
    assert add_workdays(start, days) == Due(at=expected, provisional=provisional)


def test_add_workdays_uses_one_query(calendar: None, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        add_workdays(at(2026, 9, 30, 10), 5)


def test_add_workdays_reads_further_when_the_window_is_not_enough(calendar: None) -> None:
    # The first window for 1 day is 33 days; with October and November all rest days the answer lies beyond it.
    CalendarDay.objects.filter(day__range=(D(2026, 10, 1), D(2026, 11, 30))).update(is_workday=False)
    assert add_workdays(at(2026, 9, 30, 10), 1) == Due(at=eod(2026, 12, 1), provisional=False)


def test_days_missing_from_the_table_are_the_unconfirmed_fallback(calendar: None) -> None:
    CalendarDay.objects.filter(day__year=2027).delete()
    assert add_workdays(at(2026, 12, 31, 10), 2) == Due(at=eod(2027, 1, 4), provisional=True)
    assert workdays_after(at(2026, 12, 31, 10), at(2027, 1, 4, 9)) == 2


def test_days_of_a_library_year_missing_from_the_table_come_from_the_library(calendar: None) -> None:
    CalendarDay.objects.filter(day__year=2026).delete()
    # National Day and the make-up Saturday 10/10, as in the table.
    assert add_workdays(at(2026, 9, 30, 10), 5) == Due(at=eod(2026, 10, 13), provisional=False)


def test_administrators_rulings_change_deadlines(calendar: None) -> None:
    start = at(2026, 12, 31, 10)
    assert add_workdays(start, 2) == Due(at=eod(2027, 1, 4), provisional=True)

    calendar_day_set(day=D(2027, 1, 4), is_workday=False, name="New Year's Day")
    assert add_workdays(start, 2) == Due(at=eod(2027, 1, 5), provisional=True)  # 1/2, 1/3 still unconfirmed

    for day, is_workday in [(1, False), (2, False), (3, False), (5, True), (6, True)]:
        calendar_day_set(day=D(2027, 1, day), is_workday=is_workday, name="")
    # 1/1–1/4 off, 1/5 and 1/6 worked, all confirmed now
    assert add_workdays(start, 2) == Due(at=eod(2027, 1, 6), provisional=False)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (at(2026, 9, 30, 10), at(2026, 10, 13, 12), 5),
        (at(2026, 9, 30, 10), at(2026, 9, 30, 18), 0),  # same day
        (at(2026, 9, 30, 10), at(2026, 10, 7, 18), 0),  # only holidays
        (at(2026, 9, 30, 10), at(2026, 10, 9, 18), 2),
        (at(2026, 9, 30, 10), at(2026, 10, 11, 18), 3),  # 10/8, 10/9 and Saturday 10/10
        (at(2026, 10, 9, 10), at(2026, 9, 30, 10), 0),  # end before start
        (at(2026, 12, 31, 10), at(2027, 1, 4, 9), 2),  # 1/1 and 1/4 by the fallback
        (at(2026, 9, 30, 10), dt.datetime(2026, 10, 9, 16, 30, tzinfo=UTC), 3),  # 10/10 00:30 in Shanghai
    ],
)
def test_workdays_after(calendar: None, start: dt.datetime, end: dt.datetime, expected: int) -> None:
    assert workdays_after(start, end) == expected


@pytest.mark.parametrize(
    ("received", "filed", "days", "expected"),
    [
        # within 2 workdays of 9/30: 10/8 and 10/9
        (at(2026, 9, 30, 10), at(2026, 9, 30, 11), 2, True),
        (at(2026, 9, 30, 10), at(2026, 10, 5, 11), 2, True),
        (at(2026, 9, 30, 10), at(2026, 10, 9, 23, 59, 59), 2, True),
        (at(2026, 9, 30, 10), at(2026, 10, 10, 9), 2, False),
        (at(2026, 9, 30, 10), dt.datetime(2026, 10, 9, 16, 30, tzinfo=UTC), 2, False),  # 10/10 00:30 in Shanghai
        # Due Friday 10/16; Saturday 10/17 is a rest day yet already late.
        (at(2026, 10, 15, 10), at(2026, 10, 16, 18), 1, True),
        (at(2026, 10, 15, 10), at(2026, 10, 17, 9), 1, False),
        (at(2026, 10, 15, 10), at(2026, 10, 15, 18), 0, True),
        (at(2026, 10, 15, 10), at(2026, 10, 16, 9), 0, False),
        (at(2026, 10, 15, 10), at(2026, 10, 14, 9), 0, True),  # filed before it was received
    ],
)
def test_within_workdays(calendar: None, received: dt.datetime, filed: dt.datetime, days: int, expected: bool) -> None:
    assert within_workdays(received, filed, days) is expected


def test_a_rest_day_after_the_deadline_counts_no_workday_but_is_late(calendar: None) -> None:
    received, filed = at(2026, 10, 15, 10), at(2026, 10, 17, 9)
    assert workdays_after(received, filed) == 1
    assert not within_workdays(received, filed, 1)
    assert filed > add_workdays(received, 1).at


NAIVE = dt.datetime(2026, 9, 30, 10)
AWARE = at(2026, 9, 30, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_hours(NAIVE, 1),
        lambda: add_days(NAIVE, 1),
        lambda: add_workdays(NAIVE, 1),
        lambda: add_workdays(NAIVE, 0),
        lambda: workdays_after(NAIVE, AWARE),
        lambda: workdays_after(AWARE, NAIVE),
        lambda: within_workdays(NAIVE, AWARE, 2),
        lambda: within_workdays(AWARE, NAIVE, 2),
    ],
)
def test_naive_datetimes_are_refused(calendar: None, call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_hours(AWARE, -1),
        lambda: add_days(AWARE, -1),
        lambda: add_workdays(AWARE, -1),
        lambda: within_workdays(AWARE, AWARE, -1),
    ],
)
def test_negative_amounts_are_refused(calendar: None, call: Any) -> None:
    with pytest.raises(ValueError, match="negative"):
        call()
