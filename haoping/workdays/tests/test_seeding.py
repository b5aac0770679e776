"""Seeding: library years confirmed, other years weekends-only and unconfirmed, administrators' rows kept."""

from __future__ import annotations

import datetime as dt
import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from haoping.errors import Invalid
from haoping.workdays import services
from haoping.workdays.models import CalendarDay
from haoping.workdays.services import calendar_day_set, calendar_seed

D = dt.date
LIBRARY, FALLBACK, ADMIN = CalendarDay.Source.LIBRARY, CalendarDay.Source.FALLBACK, CalendarDay.Source.ADMIN


def row(day: dt.date) -> tuple[bool, str, bool, str]:
    r = CalendarDay.objects.get(day=day)
    return r.is_workday, r.name, r.confirmed, r.source


@pytest.fixture
def empty(db: Any, library_through_2026: None) -> None:
    CalendarDay.objects.all().delete()


def test_the_migration_seeds_2020_through_the_year_after_the_library(db: Any) -> None:
    # Run the data migration's own function (a transactional test elsewhere may have emptied the table).
    from django.apps import apps

    seed = importlib.import_module("haoping.workdays.migrations.0002_seed_calendar").seed
    CalendarDay.objects.all().delete()
    seed(apps, None)
    # chinesecalendar==1.11.0 (requirements.txt) covers through 2026, so 2027 is the fallback.
    assert CalendarDay.objects.count() == 2922  # 2020–2027: 8 years, two of them leap
    assert CalendarDay.objects.filter(day__year=2020).count() == 366
    assert set(CalendarDay.objects.filter(day__year__lte=2026).values_list("source", flat=True)) == {LIBRARY}
    assert set(CalendarDay.objects.filter(day__year=2027).values_list("source", "confirmed")) == {(FALLBACK, False)}


@pytest.mark.parametrize(
    ("year", "days", "workdays", "source", "confirmed"),
    [
        # 261 weekdays − 19 weekday holidays (元旦 2, 春节 6, 清明 1, 劳动节 3, 端午 1, 中秋 1, 国庆 5) + 6 调休 days
        (2026, 365, 248, LIBRARY, True),
        (2024, 366, 251, LIBRARY, True),  # 262 weekdays − 19 weekday holidays + 8 调休 days
        (2030, 365, 261, FALLBACK, False),  # starts on a Tuesday: 52 weeks and one weekday
        (2028, 366, 260, FALLBACK, False),  # starts on a Saturday: 52 weeks, a Saturday and a Sunday
    ],
)
def test_seed_a_year(empty: None, year: int, days: int, workdays: int, source: str, confirmed: bool) -> None:
    assert calendar_seed(years=[year]) == days
    rows = CalendarDay.objects.filter(day__year=year)
    assert rows.count() == days
    assert rows.filter(is_workday=True).count() == workdays
    assert set(rows.values_list("source", "confirmed")) == {(source, confirmed)}
    assert CalendarDay.objects.count() == days


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 10, 1), (False, "National Day", True, LIBRARY)),  # Thursday, a holiday
        (D(2026, 10, 7), (False, "National Day", True, LIBRARY)),
        (D(2026, 10, 10), (True, "make-up workday", True, LIBRARY)),  # Saturday worked for National Day
        (D(2026, 10, 11), (False, "", True, LIBRARY)),  # an ordinary Sunday
        (D(2026, 10, 12), (True, "", True, LIBRARY)),
        (D(2026, 9, 20), (True, "make-up workday", True, LIBRARY)),  # a Sunday worked for National Day
        (D(2026, 9, 25), (False, "Mid-autumn Festival", True, LIBRARY)),  # Friday
        (D(2026, 1, 4), (True, "make-up workday", True, LIBRARY)),  # Sunday after New Year's Day
        (D(2026, 2, 23), (False, "Spring Festival", True, LIBRARY)),  # the 9th day of the Spring Festival
        (D(2027, 1, 1), (True, "", False, FALLBACK)),  # a Friday; its holiday is not published yet
        (D(2027, 1, 2), (False, "", False, FALLBACK)),
    ],
)
def test_seeded_days(empty: None, day: dt.date, expected: tuple[bool, str, bool, str]) -> None:
    calendar_seed(years=[2026, 2027])
    assert row(day) == expected


def test_seeding_again_writes_nothing(empty: None) -> None:
    assert calendar_seed(years=[2026, 2027]) == 730
    before = list(CalendarDay.objects.values_list("day", "is_workday", "name", "confirmed", "source", "updated_at"))
    assert calendar_seed(years=[2026, 2027]) == 0
    assert list(CalendarDay.objects.values_list("day", "is_workday", "name", "confirmed", "source", "updated_at")) == (
        before
    )


def test_seeding_is_bulk(empty: None, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(8):
        calendar_seed(years=[2026, 2027])


def test_administrators_rows_are_kept(empty: None) -> None:
    calendar_seed(years=[2026, 2027])
    calendar_day_set(day=D(2026, 10, 8), is_workday=False, name="台风停工")
    calendar_day_set(day=D(2027, 1, 1), is_workday=False, name="New Year's Day")
    CalendarDay.objects.filter(day=D(2027, 1, 1)).delete()
    calendar_day_set(day=D(2027, 1, 1), is_workday=False, name="New Year's Day")  # also when added afresh
    assert calendar_seed(years=[2026, 2027]) == 0
    assert row(D(2026, 10, 8)) == (False, "台风停工", True, ADMIN)
    assert row(D(2027, 1, 1)) == (False, "New Year's Day", True, ADMIN)


def test_library_replaces_the_fallback_when_it_learns_a_year(empty: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "library_years", lambda: range(2004, 2026))  # before the 2026 release
    calendar_seed(years=[2026])
    assert row(D(2026, 10, 1)) == (True, "", False, FALLBACK)
    calendar_day_set(day=D(2026, 10, 2), is_workday=True, name="")  # an administrator's guess meanwhile

    monkeypatch.setattr(services, "library_years", lambda: range(2004, 2027))
    assert calendar_seed(years=[2026]) == 364  # every day but the administrator's
    assert row(D(2026, 10, 1)) == (False, "National Day", True, LIBRARY)
    assert row(D(2026, 10, 2)) == (True, "", True, ADMIN)
    assert not CalendarDay.objects.filter(source=FALLBACK).exists()


def test_the_fallback_never_replaces_the_library(empty: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calendar_seed(years=[2026])
    monkeypatch.setattr(services, "library_years", lambda: range(2004, 2026))
    assert calendar_seed(years=[2026]) == 0
    assert row(D(2026, 10, 1)) == (False, "National Day", True, LIBRARY)


def test_a_library_row_edited_outside_the_admin_is_put_back(empty: None) -> None:
    calendar_seed(years=[2026])
    CalendarDay.objects.filter(day=D(2026, 10, 1)).update(is_workday=True, name="")
    assert calendar_seed(years=[2026]) == 1
    assert row(D(2026, 10, 1)) == (False, "National Day", True, LIBRARY)


def test_a_year_out_of_range_is_refused(empty: None) -> None:
    with pytest.raises(Invalid):
        calendar_seed(years=[226])
    with pytest.raises(CommandError, match="226"):
        call_command("seed_calendar", "--years", "2026", "226")
    assert not CalendarDay.objects.exists()


def test_command_seeds_the_given_years(empty: None) -> None:
    out = StringIO()
    call_command("seed_calendar", "--years", "2026", "2030", stdout=out)
    assert "730" in out.getvalue()
    assert CalendarDay.objects.filter(day__year=2030, source=FALLBACK).count() == 365
    out = StringIO()
    call_command("seed_calendar", "--years", "2026", stdout=out)
    assert "0" in out.getvalue() and "730" not in out.getvalue()


def test_command_defaults_to_2020_through_the_year_after_the_library(empty: None) -> None:
    out = StringIO()
    call_command("seed_calendar", stdout=out)
    assert "2922" in out.getvalue()  # 2020–2027, two leap years
    assert CalendarDay.objects.filter(day__year__lt=2020).count() == 0
    assert CalendarDay.objects.filter(day__year=2027, source=FALLBACK).count() == 365
    assert CalendarDay.objects.filter(day__year=2028).count() == 0
