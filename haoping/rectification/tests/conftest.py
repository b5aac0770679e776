"""Fixtures for the bad-review tests: a calendar whose facts do not move, and a clock we set."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from haoping.rectification.tests.support import at
from haoping.workdays import services as workdays
from haoping.workdays.models import CalendarDay


class Clock:
    """What `timezone.now()` answers while a test runs."""

    def __init__(self, moment: dt.datetime) -> None:
        self.now = moment

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def calendar(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """2026 from the holiday library, 2027 from the weekends-only fallback (unconfirmed).

    chinesecalendar 1.11.0 ends at 2026; pinning that keeps these tests' meaning after an upgrade.
    """
    monkeypatch.setattr(workdays, "library_years", lambda: range(2004, 2027))
    CalendarDay.objects.all().delete()
    workdays.calendar_seed(years=[2026, 2027])


@pytest.fixture
def clock(calendar: None, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Tuesday 2026-09-29 10:00 in Shanghai, the day before the National Day holiday; tests move it."""
    fixed = Clock(at(2026, 9, 29, 10))
    monkeypatch.setattr(timezone, "now", lambda: fixed.now)
    return fixed
