"""The rules' query builders pick, on stored rows, exactly what their rules decide row by row; the
sweep and the rating agree at the closing instant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from conftest import iso
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.selectors import SlotState, slot_state
from haoping.evaluations.services import defaults_record
from haoping.records.models import RatingSlot

TICK = dt.timedelta(microseconds=1)


def _slots(api: Any, record_payload: Any) -> list[RatingSlot]:
    now = timezone.now()
    for n, hours in enumerate((1, 50, 24 * 7 - 1, 24 * 7 + 1)):
        done = now - dt.timedelta(hours=hours)
        body = record_payload(
            record_no=f"Q{n}", accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done), mode="mixed"
        )
        assert api.post("/records", body).status_code == 201
        assert api.post(f"/records/Q{n}/visits", {"window_code": "W-XW-01", "at": iso(done)}).status_code == 201
    slots = list(RatingSlot.objects.order_by("pk"))
    assert len(slots) == 8
    return slots


def _picked(q: Q) -> set[int]:
    return set(RatingSlot.objects.filter(q).values_list("pk", flat=True))


def test_window_builders_pick_what_the_rules_decide(world: dict[str, Any], record_payload: Any) -> None:
    slots = _slots(world["api"], record_payload)
    instants = {
        t + d for s in slots for t in (s.opens_at, s.closes_at) if t is not None for d in (-TICK, 0 * TICK, TICK)
    }
    for at in sorted(instants):
        assert _picked(rules.window_open_q(at)) == {s.pk for s in slots if rules.window_open(s, at)}, at
        assert _picked(rules.window_closed_q(at)) == {s.pk for s in slots if rules.window_closed(s, at)}, at
    # Themes have no window of their own: neither open nor closed.
    assert not any(s.kind == RatingSlot.Kind.THEME for s in slots)


def test_level_builders_pick_what_the_rules_decide(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    for level in rules.LEVELS:
        assert api.post("/records", record_payload(record_no=f"L{level}")).status_code == 201
        body = {"record_no": f"L{level}", "level": level, "channel": "pad", "reasons": ["attitude"]}
        assert api.post("/evaluations", body).status_code == 201, level
    rows = list(Evaluation.objects.values_list("pk", "level"))
    assert sorted(level for _, level in rows) == list(rules.LEVELS)
    picked_bad = set(Evaluation.objects.filter(rules.bad_q()).values_list("pk", flat=True))
    picked_good = set(Evaluation.objects.filter(rules.good_q()).values_list("pk", flat=True))
    assert picked_bad == {pk for pk, level in rows if rules.is_bad(level)}
    assert picked_good == {pk for pk, level in rows if rules.is_good(level)}
    assert len(picked_bad) == 2 and len(picked_good) == 2


def test_r2_at_the_closing_instant_the_service_is_open_and_the_sweep_waits(
    world: dict[str, Any], record_payload: Any
) -> None:
    done = timezone.now() - dt.timedelta(days=6)
    body = record_payload(record_no="EDGE", accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done))
    assert world["api"].post("/records", body).status_code == 201
    slot = RatingSlot.objects.get(record__record_no="EDGE")
    closes = slot.closes_at
    assert closes is not None
    assert rules.window_open(slot, closes) and slot_state(slot, closes) == SlotState.OPEN
    # The sweep at that instant leaves the service to its rater...
    assert defaults_record(now=closes) == 0
    assert not Evaluation.objects.filter(slot=slot).exists()
    # ... and takes it a moment later, when the rule closes it.
    assert slot_state(slot, closes + TICK) == SlotState.CLOSED
    assert defaults_record(now=closes + TICK) == 1
    default = Evaluation.objects.get(slot=slot)
    assert (default.level, default.source, default.rated_at) == (rules.DEFAULT_LEVEL, "default", closes)


def test_r2_a_paper_form_dated_at_the_closing_instant_is_taken(world: dict[str, Any], record_payload: Any) -> None:
    done = timezone.now() - dt.timedelta(days=7, minutes=5)
    body = record_payload(record_no="PAPER", accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done))
    assert world["api"].post("/records", body).status_code == 201
    slot = RatingSlot.objects.get(record__record_no="PAPER")
    assert slot.closes_at is not None and slot.closes_at < timezone.now()
    body = {"record_no": "PAPER", "level": 4, "channel": "paper", "rated_at": iso(slot.closes_at)}
    res = world["api"].post("/evaluations", body)
    assert res.status_code == 201, res.json()
    assert Evaluation.objects.get(slot=slot).level == 4
    # A moment later it is past the window.
    body = {**body, "rated_at": iso(slot.closes_at + dt.timedelta(milliseconds=1))}
    assert world["api"].post("/evaluations", body).json()["error"] == "window_closed"
    assert defaults_record(now=timezone.now()) == 0
