"""Writes to the working-day calendar: seeding from the holiday library, and administrators' rulings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any

import chinese_calendar
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from haoping.errors import Invalid
from haoping.workdays.models import CalendarDay

FIRST_SEEDED_YEAR = 2020
MAKE_UP_WORKDAY = gettext_noop("make-up workday")
# The names chinesecalendar gives holidays. Rows store them in English; listing them here lets
# makemessages offer them for translation, and the admin shows them translated.
HOLIDAY_NAMES = [
    gettext_noop("New Year's Day"),
    gettext_noop("Spring Festival"),
    gettext_noop("Tomb-sweeping Day"),
    gettext_noop("Labour Day"),
    gettext_noop("Dragon Boat Festival"),
    gettext_noop("National Day"),
    gettext_noop("Mid-autumn Festival"),
    gettext_noop("Anti-Fascist 70th Day"),
]
_SEEDED_FIELDS = ["is_workday", "name", "confirmed", "source"]


def library_years() -> range:
    """The years for which the installed chinesecalendar knows the State Council's arrangement."""
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def default_seed_years() -> range:
    """2020 through the year after the library's last one, so that next year's deadlines already work."""
    return range(FIRST_SEEDED_YEAR, library_years().stop + 1)


def _library_day(day: dt.date) -> dict[str, Any]:
    is_workday = chinese_calendar.is_workday(day)
    _on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
    if is_workday:
        # 调休: the library names a make-up Saturday/Sunday after the holiday it pays for; we call it what it is.
        name = MAKE_UP_WORKDAY if day.weekday() >= 5 else ""
    else:
        name = holiday_name or ""
    return {"is_workday": is_workday, "name": name, "confirmed": True, "source": CalendarDay.Source.LIBRARY}


def _fallback_day(day: dt.date) -> dict[str, Any]:
    return {"is_workday": day.weekday() < 5, "name": "", "confirmed": False, "source": CalendarDay.Source.FALLBACK}


def calendar_seed_into(model: Any, *, years: Iterable[int]) -> int:
    """Seed `model` (CalendarDay, or a migration's historical CalendarDay) for `years`; return the days written.

    A year the library covers gets its days (replacing earlier fallback rows); any other year gets the
    weekends-only fallback, which never replaces a library row. Administrators' rows are never touched.
    Rows that already say the same are not rewritten, so running it again writes nothing.
    Runs inside the caller's transaction (a migration's, or `calendar_seed`'s).
    """
    supported = library_years()
    years = sorted(set(years))
    wanted: dict[dt.date, dict[str, Any]] = {}
    for year in years:
        if not 1900 <= year <= 2100:  # catches typos such as 226 before they write a year of rows
            raise Invalid("invalid", _("years: %(year)d is not between 1900 and 2100") % {"year": year}, field="years")
        day = dt.date(year, 1, 1)
        while day.year == year:
            wanted[day] = _library_day(day) if year in supported else _fallback_day(day)
            day += dt.timedelta(days=1)
    if not wanted:
        return 0

    year_ranges = reduce(or_, (Q(day__range=(dt.date(y, 1, 1), dt.date(y, 12, 31))) for y in years))
    # Locked so that an administrator's edit made meanwhile is not overwritten with the library's answer.
    existing = {row.day: row for row in model.objects.select_for_update().filter(year_ranges)}
    now = timezone.now()
    to_create = []
    to_update = []
    for day, values in wanted.items():
        row = existing.get(day)
        if row is None:
            to_create.append(model(day=day, **values))
            continue
        if row.source == CalendarDay.Source.ADMIN:
            continue  # an administrator's ruling wins over every source
        if values["source"] == CalendarDay.Source.FALLBACK and row.source != CalendarDay.Source.FALLBACK:
            continue  # a guess never replaces the published arrangement
        if all(getattr(row, field) == values[field] for field in _SEEDED_FIELDS):
            continue
        for field, value in values.items():
            setattr(row, field, value)
        row.updated_at = now
        to_update.append(row)
    # ignore_conflicts: a day an administrator added meanwhile keeps the administrator's answer.
    model.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
    model.objects.bulk_update(to_update, [*_SEEDED_FIELDS, "updated_at"], batch_size=500)
    return len(to_create) + len(to_update)


@transaction.atomic
def calendar_seed(*, years: Iterable[int]) -> int:
    """Seed the calendar for `years` from the holiday library or the fallback; return how many days were written."""
    return calendar_seed_into(CalendarDay, years=years)


@transaction.atomic
def calendar_day_set(*, day: dt.date, is_workday: bool, name: str) -> CalendarDay:
    """An administrator's ruling on one day: confirmed, and never overwritten by seeding."""
    calendar_day = CalendarDay.objects.select_for_update().filter(day=day).first()
    creating = calendar_day is None
    if calendar_day is None:
        calendar_day = CalendarDay(day=day)
    calendar_day.is_workday = is_workday
    calendar_day.name = name.strip()
    calendar_day.confirmed = True
    calendar_day.source = CalendarDay.Source.ADMIN
    calendar_day.full_clean(validate_unique=creating)
    if creating:
        calendar_day.save()
    else:
        calendar_day.save(update_fields=[*_SEEDED_FIELDS, "updated_at"])
    return calendar_day
