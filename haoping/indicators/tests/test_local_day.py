"""The rebuild's local day: counted in SQL with the zone's fixed offset where it has one (SQLite),
by the zone's own rules where it changes offset, and the same day either way."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from conftest import iso
from haoping.indicators.models import DailyCount
from haoping.indicators.services import ALL_CHANNELS, _fixed_offset, rollups_rebuild


def test_a_zone_without_transitions_has_a_fixed_offset_and_one_with_dst_has_none() -> None:
    shanghai, new_york = zoneinfo.ZoneInfo("Asia/Shanghai"), zoneinfo.ZoneInfo("America/New_York")
    winter = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    assert _fixed_offset(shanghai, winter, winter + dt.timedelta(days=400)) == 8 * 3600
    assert _fixed_offset(new_york, winter, winter + dt.timedelta(days=30)) == -5 * 3600
    # Across the March change to daylight time the offset is not fixed: the zone's rules decide.
    assert _fixed_offset(new_york, winter, winter + dt.timedelta(days=90)) is None
    assert _fixed_offset(shanghai, None, None) is None


def _rate_at(world: dict[str, Any], record_payload: Any, no: str, rated_at: dt.datetime) -> None:
    """A paper form dated `rated_at`, keyed in a minute later (within its rating window: a form
    keyed in after the window's grace rates nothing, R2, R3)."""
    completed = rated_at - dt.timedelta(minutes=30)
    body = record_payload(record_no=no, accepted_at=iso(completed - dt.timedelta(hours=1)), completed_at=iso(completed))
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(timezone, "now", lambda: rated_at + dt.timedelta(minutes=1))
        assert world["api"].post("/records", body).status_code == 201
        rating = {"record_no": no, "level": 5, "channel": "paper", "rated_at": iso(rated_at)}
        assert world["api"].post("/evaluations", rating).status_code == 201


def _days() -> dict[dt.date, int]:
    rows = DailyCount.objects.filter(kind="region", channel=ALL_CHANNELS).values_list("day", "total")
    found: dict[dt.date, int] = {}
    for day, total in rows:
        found[day] = found.get(day, 0) + total
    return found


def test_the_rebuild_counts_each_rating_on_its_local_day_at_midnight(
    world: dict[str, Any], record_payload: Any
) -> None:
    tz = timezone.get_default_timezone()
    midnight = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=2), dt.time.min, tzinfo=tz)
    _rate_at(world, record_payload, "M-1", midnight - dt.timedelta(microseconds=1))
    _rate_at(world, record_payload, "M-2", midnight)
    _rate_at(world, record_payload, "M-3", midnight + dt.timedelta(hours=23, minutes=59, seconds=59))
    rollups_rebuild()
    assert _days() == {midnight.date() - dt.timedelta(days=1): 1, midnight.date(): 2}


def test_where_the_zone_changes_offset_the_rebuild_follows_its_rules(
    world: dict[str, Any], record_payload: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    tz = zoneinfo.ZoneInfo("America/New_York")
    # 00:30 local on each side of a change to daylight time (the UTC hour of local midnight moves).
    before = dt.datetime(2026, 3, 1, 0, 30, tzinfo=tz)
    after = dt.datetime(2026, 3, 20, 0, 30, tzinfo=tz)
    _rate_at(world, record_payload, "D-1", before)
    _rate_at(world, record_payload, "D-2", after)
    rollups_rebuild()
    assert _days() == {before.date(): 1, after.date(): 1}
