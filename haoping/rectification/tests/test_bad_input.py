"""Hostile and careless input on the case API: always a 4xx naming the field, never a 500, and the
case untouched."""

from __future__ import annotations

from typing import Any

import pytest

from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act, bad_case, to_handling, to_replied


@pytest.fixture
def handling(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    case.refresh_from_db()
    return case


def unchanged(case: BadReviewCase, events: int) -> None:
    fresh = BadReviewCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.events.count()) == (case.state, events)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode"}, "action"),
        ({"action": "uphold_appeal"}, "action"),  # only a decided appeal takes this path
        ({"action": None}, "action"),
        ({}, "action"),
        ({"action": "request_extension", "days": "5", "reason": "需协调"}, "days"),
        ({"action": "request_extension", "days": 2.5, "reason": "需协调"}, "days"),
        ({"action": "request_extension", "days": True, "reason": "需协调"}, "days"),
        ({"action": "request_extension", "days": -1, "reason": "需协调"}, "days"),
        ({"action": "request_extension", "days": 10**12, "reason": "需协调"}, "days"),
        ({"action": "request_extension", "reason": "需协调"}, "days"),
        ({"action": "rectify", "description": "x" * 2001}, "description"),
        ({"action": "rectify", "note": "x" * 2001}, "note"),
        ({"action": "rectify", "description": "   "}, "description"),
        ({"action": "rectify", "description": "a\x00b"}, "description"),
        ({"action": "rectify", "description": 42}, "description"),
        ({"action": "classify", "category": "urgent"}, "category"),
        ({"action": "classify"}, "category"),
        ({"action": "dispatch", "unit": "NO-SUCH-UNIT"}, "unit"),
        ({"action": "dispatch", "unit": ""}, "unit"),
        ({"action": "dispatch", "unit": ["D-TAX"]}, "unit"),
        ({"action": "dispatch"}, "unit"),
        ({"action": "dispatch", "unit": "D-MKT"}, "unit"),  # already there
        ({"action": "rectify", "description": "ok", "surprise": 1}, "surprise"),
        ({"action": "classify", "category": "complex", "units": "D-TAX"}, "units"),
    ],
)
def test_bad_action_input_is_422_naming_the_field(
    world: dict[str, Any], handling: BadReviewCase, body: dict[str, Any], field: str
) -> None:
    events = handling.events.count()
    res = world["api"].post(f"/cases/{handling.pk}/actions", body)
    assert res.status_code == 422, res.json()
    assert res.json()["field"] == field, res.json()
    assert res.json()["detail"]
    unchanged(handling, events)


def test_a_note_of_exactly_2000_characters_is_fine(world: dict[str, Any], handling: BadReviewCase) -> None:
    assert act(world["api"], handling.pk, "rectify", description="x" * 2000).status_code == 200


@pytest.mark.parametrize("satisfied", ["yes", "true", 1, None])
def test_satisfied_must_be_true_or_false(
    world: dict[str, Any], record_payload: Any, clock: Clock, satisfied: Any
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_replied(api, case.pk)
    events = case.events.count()
    res = act(api, case.pk, "revisit", satisfied=satisfied)
    assert res.status_code == 422 and res.json()["field"] == "satisfied"
    assert BadReviewCase.objects.get(pk=case.pk).state == "replied"
    assert BadReviewCase.objects.get(pk=case.pk).events.count() == events


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/cases/999999/actions", {"action": "contact", "note": "x"}, 404),
        ("/cases/abc/actions", {"action": "contact", "note": "x"}, 404),
        ("/cases/999999/appeal", {"reasons": "x"}, 404),
        ("/appeals/999999/decide", {"upheld": True}, 404),
    ],
)
def test_unknown_ids_are_404(world: dict[str, Any], path: str, body: dict[str, Any], status: int) -> None:
    res = world["api"].post(path, body)
    assert res.status_code == status


def test_bad_appeal_and_decision_input_is_422(world: dict[str, Any], handling: BadReviewCase) -> None:
    api = world["api"]
    assert api.post(f"/cases/{handling.pk}/appeal", {}).json()["field"] == "reasons"
    assert api.post(f"/cases/{handling.pk}/appeal", {"reasons": "x" * 2001}).status_code == 422
    assert api.post(f"/cases/{handling.pk}/appeal", {"reasons": "  "}).json()["field"] == "reasons"
    appeal_id = api.post(f"/cases/{handling.pk}/appeal", {"reasons": "系统故障"}).json()["id"]
    for body in ({"upheld": "yes"}, {"upheld": 1}, {}, {"upheld": True, "note": "x" * 2001}):
        res = api.post(f"/appeals/{appeal_id}/decide", body)
        assert res.status_code == 422, (body, res.json())
    assert api.get(f"/cases/{handling.pk}").json()["appeals"][0]["state"] == "pending"


def test_bad_list_filters_are_422(world: dict[str, Any], handling: BadReviewCase) -> None:
    api = world["api"]
    assert api.get("/cases?state=lost").status_code == 422
    assert api.get("/cases?limit=0").status_code == 422
    assert api.get("/cases?limit=501").status_code == 422
    assert api.get("/cases?offset=-1").status_code == 422
    assert [c["id"] for c in api.get("/cases?state=handling&limit=1").json()] == [handling.pk]
