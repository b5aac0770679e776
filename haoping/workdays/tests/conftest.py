"""A calendar whose facts do not move: 2026 from the library, 2027 from the weekends-only fallback."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from haoping.workdays import services
from haoping.workdays.models import CalendarDay
from haoping.workdays.services import calendar_seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A Shanghai wall-clock moment, built without the code under test."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def library_through_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    # chinesecalendar 1.11.0 ends at 2026; pinning that keeps these tests' meaning after an upgrade.
    monkeypatch.setattr(services, "library_years", lambda: range(2004, 2027))


@pytest.fixture
def calendar(db: Any, library_through_2026: None) -> None:
    CalendarDay.objects.all().delete()
    calendar_seed(years=[2026, 2027])
