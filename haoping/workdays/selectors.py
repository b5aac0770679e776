"""Deadline arithmetic on the working-day calendar.

"The day of" a moment is its date in settings.TIME_ZONE (Asia/Shanghai). The table wins; a day
missing from it is taken from the holiday library where the library covers its year, and
otherwise counts as the weekends-only fallback, unconfirmed, like fallback rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from django.utils import timezone

from haoping.workdays import services
from haoping.workdays.models import CalendarDay


@dataclass(frozen=True)
class Due:
    """A deadline. `provisional` when it rests on days whose arrangement has not been published yet."""

    at: dt.datetime
    provisional: bool


@dataclass(frozen=True)
class _Day:
    is_workday: bool
    confirmed: bool


def _local_date(moment: dt.datetime) -> dt.date:
    if timezone.is_naive(moment):
        raise ValueError("a timezone-aware datetime is required")
    # The default zone, not the request's active one: a deadline must not depend on who looks at it.
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _not_negative(amount: int, what: str) -> None:
    if amount < 0:
        raise ValueError(f"{what} must not be negative")


def _calendar(first: dt.date, last: dt.date) -> dict[dt.date, _Day]:
    """Every day from `first` to `last` inclusive, with the fallback filled in for missing ones; one query."""
    rows = {
        day: _Day(is_workday, confirmed)
        for day, is_workday, confirmed in CalendarDay.objects.filter(day__range=(first, last)).values_list(
            "day", "is_workday", "confirmed"
        )
    }
    days = {}
    day = first
    while day <= last:
        days[day] = rows.get(day) or _missing_day(day)
        day += dt.timedelta(days=1)
    return days


def _missing_day(day: dt.date) -> _Day:
    if day.year in services.library_years():
        return _Day(is_workday=chinese_calendar.is_workday(day), confirmed=True)
    return _Day(is_workday=day.weekday() < 5, confirmed=False)


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 local time on `day`."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=timezone.get_default_timezone())


def add_hours(start: dt.datetime, hours: int) -> Due:
    """Clock hours: holidays do not stop the clock."""
    _local_date(start)
    _not_negative(hours, "hours")
    return Due(at=start + dt.timedelta(hours=hours), provisional=False)


def add_days(start: dt.datetime, days: int) -> Due:
    """Natural days: the end of the day `days` days after the day of `start` (0: the end of that day)."""
    _not_negative(days, "days")
    return Due(at=end_of_day(_local_date(start) + dt.timedelta(days=days)), provisional=False)


def add_workdays(start: dt.datetime, days: int) -> Due:
    """The end of the `days`-th working day after the day of `start`, which itself never counts (0: its own end).

    Provisional if any day from the day after `start` to the due day is unconfirmed.
    """
    _not_negative(days, "days")
    start_day = _local_date(start)
    if days == 0:
        return Due(at=end_of_day(start_day), provisional=False)
    counted = 0
    provisional = False
    # A generous window, so that one query nearly always suffices; long holidays may need another.
    window = dt.timedelta(days=days * 3 + 30)
    first = start_day + dt.timedelta(days=1)
    while True:
        for day, info in _calendar(first, first + window).items():
            provisional = provisional or not info.confirmed
            if info.is_workday:
                counted += 1
                if counted == days:
                    return Due(at=end_of_day(day), provisional=provisional)
        first += window + dt.timedelta(days=1)


def _count_workdays(first: dt.date, last: dt.date) -> int:
    if last < first:
        return 0
    return sum(1 for info in _calendar(first, last).values() if info.is_workday)


def workdays_after(start: dt.datetime, end: dt.datetime) -> int:
    """How many working days lie after the day of `start`, up to and including the day of `end`.

    This counts days; for "done within N working days?" use `within_workdays`: a rest day right
    after the N-th working day still counts N here, but is past the deadline.
    """
    return _count_workdays(_local_date(start) + dt.timedelta(days=1), _local_date(end))


def workday_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """The hours from `start` to `end` that fall on working days (each working day counts its 24
    hours, rest days none); negative when `end` is before `start`. For "time left" in a step
    counted in working days."""
    if end < start:
        return -workday_hours_between(end, start)
    first, last = _local_date(start), _local_date(end)
    zone = timezone.get_default_timezone()
    total = dt.timedelta()
    for day, info in _calendar(first, last).items():
        if not info.is_workday:
            continue
        day_start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        day_end = day_start + dt.timedelta(days=1)
        overlap = min(end, day_end) - max(start, day_start)
        if overlap > dt.timedelta():
            total += overlap
    return total.total_seconds() / 3600


def within_workdays(start: dt.datetime, end: dt.datetime, days: int) -> bool:
    """Whether the day of `end` is no later than the day `add_workdays(start, days)` is due.

    E.g. "filed within 2 working days of receiving it": `within_workdays(received_at, filed_at, 2)`.
    Compared by day, so anything on the due day is in time. Equivalently: fewer than `days` working
    days lie strictly between the two days (and `end`'s day is not before `start`'s).
    """
    _not_negative(days, "days")
    start_day, end_day = _local_date(start), _local_date(end)
    if end_day <= start_day:
        return True
    return _count_workdays(start_day + dt.timedelta(days=1), end_day - dt.timedelta(days=1)) < days
