"""Administrators edit days in the admin; every save becomes a confirmed administrator's ruling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from haoping.workdays.models import CalendarDay
from haoping.workdays.selectors import Due, add_workdays
from haoping.workdays.tests.conftest import at

URL = "/admin/workdays/calendarday/"


@pytest.fixture
def admin_client(calendar: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("year=2026", 365),
        ("year=2027&source__exact=fallback", 365),
        ("year=2026&is_workday__exact=0", 117),  # 365 − 248 workdays
        ("year=2026&q=National", 7),  # 10/1–10/7; the worked 10/10 is named a make-up workday
        ("q=make-up", 6),
        ("confirmed__exact=0", 365),  # all of 2027
    ],
)
def test_changelist_filters_and_search(admin_client: Client, query: str, count: int) -> None:
    res = admin_client.get(f"{URL}?{query}")
    assert res.status_code == 200
    assert res.context["cl"].result_count == count


def test_changing_a_day_makes_it_a_confirmed_ruling(admin_client: Client) -> None:
    start = at(2026, 12, 31, 10)
    assert add_workdays(start, 2) == Due(at=at(2027, 1, 4, 23, 59, 59), provisional=True)
    day = CalendarDay.objects.get(day=dt.date(2027, 1, 4))
    assert (day.source, day.confirmed, day.is_workday) == ("fallback", False, True)
    assert admin_client.get(f"{URL}{day.pk}/change/").status_code == 200

    # is_workday left unchecked: a rest day. `source` and `confirmed` are not the form's to set.
    res = admin_client.post(
        f"{URL}{day.pk}/change/", {"name": "元旦调休", "source": "library", "confirmed": "", "_save": "1"}
    )
    assert res.status_code == 302, res.content.decode()
    day.refresh_from_db()
    assert (day.day, day.is_workday, day.name, day.source, day.confirmed) == (
        dt.date(2027, 1, 4),
        False,
        "元旦调休",
        "admin",
        True,
    )
    assert add_workdays(start, 2) == Due(at=at(2027, 1, 5, 23, 59, 59), provisional=True)


def test_the_day_itself_cannot_be_changed(admin_client: Client) -> None:
    day = CalendarDay.objects.get(day=dt.date(2027, 1, 4))
    res = admin_client.post(f"{URL}{day.pk}/change/", {"day": "2027-01-05", "is_workday": "on", "_save": "1"})
    assert res.status_code == 302
    assert CalendarDay.objects.get(pk=day.pk).day == dt.date(2027, 1, 4)
    assert CalendarDay.objects.get(day=dt.date(2027, 1, 5)).source == "fallback"


def test_adding_a_missing_day(admin_client: Client) -> None:
    assert admin_client.get(f"{URL}add/").status_code == 200
    res = admin_client.post(f"{URL}add/", {"day": "2028-01-03", "is_workday": "on", "name": "", "_save": "1"})
    assert res.status_code == 302, res.content.decode()
    day = CalendarDay.objects.get(day=dt.date(2028, 1, 3))
    assert (day.is_workday, day.source, day.confirmed) == (True, "admin", True)


def test_adding_an_existing_day_is_a_form_error(admin_client: Client) -> None:
    res = admin_client.post(f"{URL}add/", {"day": "2026-10-01", "is_workday": "on", "_save": "1"})
    assert res.status_code == 200
    assert res.context["adminform"].form.errors["day"]
    assert CalendarDay.objects.get(day=dt.date(2026, 10, 1)).source == "library"
