"""A key learns nothing outside its region's subtree: what lies there answers as what does not exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from haoping.records.models import ServiceRecord


def same_answer(a: Any, b: Any, a_name: str, b_name: str) -> None:
    """Equal status and body once each names its own input."""
    assert a.status_code == b.status_code, (a.content, b.content)
    assert _named(a.content.decode(), a_name) == _named(b.content.decode(), b_name)


def _named(body: str, name: str) -> Any:
    # Whole names only: a case id such as 4 must not be replaced inside a status such as 404.
    return json.loads(re.sub(rf"(?<![0-9A-Za-z-]){re.escape(name)}(?![0-9A-Za-z-])", "<name>", body))


def test_a_record_number_of_another_region_is_not_revealed_as_registered(
    world: dict[str, Any], record_payload: Any
) -> None:
    theirs = record_payload(
        record_no="QH-0001", institution_code="H-QH", window_code="W-QH-01", staff_no="S-QH", item_code="ITEM-QH"
    )
    assert world["other_api"].post("/records", theirs).status_code == 201
    res = world["api"].post("/records", record_payload(record_no="QH-0001"))
    assert res.status_code == 422, res.content
    body = res.json()
    assert body["field"] == "record_no" and body["error"] == "invalid"
    assert "已登记" not in body["detail"] and "QH" not in body["detail"] and "registered" not in body["detail"]
    assert ServiceRecord.objects.get(record_no="QH-0001").region == world["other"]
    # A request that fails on anything else answers the same, whether or not its number is taken.
    taken = world["api"].post("/records", record_payload(record_no="QH-0001", item_code="NOPE"))
    free = world["api"].post("/records", record_payload(record_no="FREE-0001", item_code="NOPE"))
    same_answer(taken, free, "QH-0001", "FREE-0001")


def test_a_number_of_the_keys_own_region_is_a_duplicate(world: dict[str, Any], record_payload: Any) -> None:
    assert world["api"].post("/records", record_payload(record_no="XW-1")).status_code == 201
    res = world["api"].post("/records", record_payload(record_no="XW-1"))
    assert res.status_code == 409 and res.json()["error"] == "duplicate"
    # The city above sees it too: a duplicate for the city's key as well.
    city = world["city_api"].post("/records", record_payload(record_no="XW-1"))
    assert city.status_code == 409


@pytest.mark.parametrize(
    ("field", "theirs", "unknown"),
    [
        ("institution_code", {"institution_code": "H-QH", "window_code": None, "staff_no": None}, "H-NONE"),
        ("platform_code", {"platform_code": "P-QH", "institution_code": None, "window_code": None}, "P-NONE"),
        ("window_code", {"window_code": "W-QH-01"}, "W-NONE"),
        ("staff_no", {"staff_no": "S-QH"}, "S-NONE"),
        ("item_code", {"item_code": "ITEM-QH"}, "ITEM-NONE"),
    ],
)
def test_a_directory_code_of_another_region_answers_as_an_unknown_code(
    world: dict[str, Any], record_payload: Any, field: str, theirs: dict[str, Any], unknown: str
) -> None:
    from haoping.directory.models import Platform

    Platform.objects.create(code="P-QH", name="秦淮区网上办事大厅", kind="web", region=world["other"])
    foreign = world["api"].post("/records", record_payload(**theirs))
    missing = world["api"].post("/records", record_payload(**{**theirs, field: unknown}))
    assert foreign.status_code == 422 and foreign.json()["field"] == field, foreign.content
    same_answer(foreign, missing, str(theirs[field]), unknown)


def test_a_visits_window_of_another_region_answers_as_an_unknown_code(
    world: dict[str, Any], record_payload: Any
) -> None:
    body = record_payload(completed_at=None, on_the_spot=False, mode="mixed")
    assert world["api"].post("/records", body).status_code == 201
    at = body["accepted_at"]
    foreign = world["api"].post(f"/records/{body['record_no']}/visits", {"window_code": "W-QH-01", "at": at})
    missing = world["api"].post(f"/records/{body['record_no']}/visits", {"window_code": "W-NONE", "at": at})
    same_answer(foreign, missing, "W-QH-01", "W-NONE")


@pytest.mark.parametrize("object_kind", ["region", "department", "institution", "window", "item", "staff"])
def test_indicators_of_another_region_answer_as_unknown(world: dict[str, Any], object_kind: str) -> None:
    theirs = {
        "region": "320104",
        "department": "D-OTHER",
        "institution": "H-QH",
        "window": "W-QH-01",
        "item": "ITEM-QH",
        "staff": "S-QH",
    }[object_kind]
    period = "from=2026-01-01&to=2026-01-31"
    foreign = world["api"].get(f"/indicators?object={object_kind}&code={theirs}&{period}")
    missing = world["api"].get(f"/indicators?object={object_kind}&code=NONE-1&{period}")
    assert foreign.status_code == 404
    same_answer(foreign, missing, theirs, "NONE-1")


def test_records_and_cases_of_another_region_answer_as_nonexistent(world: dict[str, Any], record_payload: Any) -> None:
    theirs = record_payload(
        record_no="QH-0002",
        institution_code="H-QH",
        window_code="W-QH-01",
        staff_no="S-QH",
        item_code="ITEM-QH",
    )
    other = world["other_api"]
    assert other.post("/records", theirs).status_code == 201
    rated = other.post("/evaluations", {"record_no": "QH-0002", "level": 1, "channel": "pc", "reasons": ["attitude"]})
    assert rated.status_code == 201, rated.content
    case_id = other.get("/cases").json()[0]["id"]
    api = world["api"]
    same_answer(api.get("/records/QH-0002"), api.get("/records/NONE-2"), "QH-0002", "NONE-2")
    same_answer(api.get(f"/cases/{case_id}"), api.get("/cases/987654321"), str(case_id), "987654321")
    done = {"completed_at": theirs["completed_at"]}
    same_answer(
        api.post("/records/QH-0002/complete", done), api.post("/records/NONE-2/complete", done), "QH-0002", "NONE-2"
    )
    rate = {"level": 5, "channel": "pc"}
    same_answer(
        api.post("/evaluations", {"record_no": "QH-0002", **rate}),
        api.post("/evaluations", {"record_no": "NONE-2", **rate}),
        "QH-0002",
        "NONE-2",
    )
    assert api.get("/cases?record_no=QH-0002").json() == []


def test_a_bundle_number_of_another_region_is_not_revealed(world: dict[str, Any], record_payload: Any) -> None:
    qh = {"institution_code": "H-QH", "window_code": "W-QH-01", "staff_no": "S-QH", "item_code": "ITEM-QH"}
    theirs = record_payload(record_no="QH-B1", bundle={"kind": "theme", "bundle_no": "B-QH"}, **qh)
    assert world["other_api"].post("/records", theirs).status_code == 201
    # Not "a theme bundle" nor "another region": the field, and that the number cannot be used.
    res = world["api"].post("/records", record_payload(bundle={"kind": "batch", "bundle_no": "B-QH"}))
    assert res.status_code == 422 and res.json()["field"] == "bundle.bundle_no", res.content
    assert "B-QH" not in res.json()["detail"] and "theme" not in res.json()["detail"]
    rate = {"level": 5, "channel": "pc"}
    api = world["api"]
    same_answer(
        api.post("/evaluations", {"bundle_no": "B-QH", **rate}),
        api.post("/evaluations", {"bundle_no": "B-NONE", **rate}),
        "B-QH",
        "B-NONE",
    )
