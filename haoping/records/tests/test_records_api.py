"""The records API: registration, visits, completion, errors and region scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import iso
from haoping.records.models import Applicant, ServiceRecord


class RowAnswer:
    """One row of a batch answered as the single request answers: its status, and its error (or
    its result) as the body."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.status_code = row["status"]
        self.body = row["error"] if row.get("error") else {**row, "status": row["record_status"]}

    def json(self) -> dict[str, Any]:
        return self.body


@pytest.fixture(params=["single", "batch"])
def register(request: pytest.FixtureRequest) -> Any:
    """Register one record through `POST /records`, or as the only row of `POST /records/batch`:
    the rules of registration hold on both paths alike."""

    def post(api: Any, payload: dict[str, Any]) -> Any:
        if request.param == "single":
            return api.post("/records", payload)
        res = api.post("/records/batch", {"records": [payload]})
        assert res.status_code == 200, res.content
        (row,) = res.json()["results"]
        assert row["index"] == 0
        return RowAnswer(row)

    return post


def test_register_completed_record_returns_links(world: dict[str, Any], record_payload: Any, register: Any) -> None:
    res = register(world["api"], record_payload(record_no="OK1"))
    assert res.status_code == 201
    body = res.json()
    assert body["record_no"] == "OK1" and body["status"] == "completed"
    assert body["completion"]["evaluation_url"].startswith("http://127.0.0.1:8000/r/")
    assert body["completion"]["qr_url"].endswith("/qr.svg")
    qr = Client().get(body["completion"]["qr_url"].removeprefix("http://127.0.0.1:8000"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content


def test_register_in_progress_record_has_no_link_yet(world: dict[str, Any], record_payload: Any, register: Any) -> None:
    res = register(world["api"], record_payload(record_no="IP1", completed_at=None))
    assert res.status_code == 201 and res.json()["completion"] is None
    assert res.json()["status"] == "in_progress"


def test_duplicate_record_no_is_409_and_keeps_the_first(
    world: dict[str, Any], record_payload: Any, register: Any
) -> None:
    api = world["api"]
    assert register(api, record_payload(record_no="DUP", item_code="ITEM-001")).status_code == 201
    res = register(api, record_payload(record_no="DUP", item_code="ITEM-002"))
    assert res.status_code == 409 and res.json()["error"] == "duplicate" and "record_no" in res.json()["detail"]
    assert ServiceRecord.objects.get(record_no="DUP").item.code == "ITEM-001"


@pytest.mark.parametrize(
    "field,value",
    [
        ("item_code", "NOPE"),
        ("institution_code", "NOPE"),
        ("platform_code", "NOPE"),
        ("window_code", "NOPE"),
        ("staff_no", "NOPE"),
    ],
)
def test_unknown_codes_are_422_naming_the_field(
    world: dict[str, Any], record_payload: Any, register: Any, field: str, value: str
) -> None:
    res = register(world["api"], record_payload(**{field: value}))
    assert res.status_code == 422
    assert res.json()["error"] == "unknown_code" and res.json()["field"] == field and value in res.json()["detail"]
    assert ServiceRecord.objects.count() == 0


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"mode": "teleport"}, "mode"),
        ({"on_the_spot": "yes"}, "on_the_spot"),
        ({"accepted_at": "yesterday"}, "accepted_at"),
        ({"applicant": {"kind": "alien"}}, "applicant.kind"),
        ({"record_no": ""}, "record_no"),
        ({"record_no": "X" * 65}, "record_no"),
        ({"record_no": 12345}, "record_no"),
        ({"bundle": {"kind": "pile", "bundle_no": "B"}}, "bundle.kind"),
        ({"unexpected": 1}, "unexpected"),
        ({"applicant": {"kind": "person", "name": "张" * 101}}, "applicant.name"),
    ],
)
def test_bad_types_are_422_naming_the_field(
    world: dict[str, Any], record_payload: Any, register: Any, overrides: dict[str, Any], field: str
) -> None:
    res = register(world["api"], record_payload(**overrides))
    assert res.status_code == 422, res.json()
    assert res.json()["error"] == "invalid" and res.json()["field"] == field


def test_future_or_inverted_times_are_422(world: dict[str, Any], record_payload: Any, register: Any) -> None:
    api = world["api"]
    now = timezone.now()
    future = register(api, record_payload(accepted_at=iso(now + dt.timedelta(days=1)), completed_at=None))
    assert future.status_code == 422 and future.json()["field"] == "accepted_at"
    inverted = register(api, record_payload(accepted_at=iso(now), completed_at=iso(now - dt.timedelta(hours=1))))
    assert inverted.status_code == 422 and inverted.json()["field"] == "completed_at"


def test_malformed_json_is_4xx_not_500(world: dict[str, Any]) -> None:
    api = world["api"]
    res = api.http.post(
        "/api/v1/records", "{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.key}"
    )
    assert 400 <= res.status_code < 500
    assert "error" in res.json()


def test_missing_or_wrong_key_is_401(world: dict[str, Any], record_payload: Any) -> None:
    http = Client()
    assert http.post("/api/v1/records", record_payload(), content_type="application/json").status_code == 401
    res = http.post(
        "/api/v1/records", record_payload(), content_type="application/json", HTTP_AUTHORIZATION="Bearer hp_forged"
    )
    assert res.status_code == 401 and res.json()["error"] == "unauthorized"


def test_key_reaches_only_its_region(world: dict[str, Any], record_payload: Any, register: Any) -> None:
    api, other, city = world["api"], world["other_api"], world["city_api"]
    res = register(other, record_payload(record_no="X1"))
    assert res.status_code == 422 and res.json()["error"] == "unknown_code" and res.json()["field"] == "item_code"
    # Neither our hall with their item, nor their hall with our staff member, nor our item's department.
    theirs = {"item_code": "ITEM-QH", "window_code": None, "staff_no": None}
    res = register(other, record_payload(record_no="X2", **theirs))
    assert (
        res.status_code == 422 and res.json()["error"] == "unknown_code" and res.json()["field"] == "institution_code"
    )
    res = register(other, record_payload(record_no="X3", **{**theirs, "institution_code": "H-QH", "staff_no": "S001"}))
    assert res.status_code == 422 and res.json()["error"] == "unknown_code" and res.json()["field"] == "staff_no"
    res = register(api, record_payload(record_no="X4", staff_no="S-QH"))
    assert res.status_code == 422 and res.json()["error"] == "unknown_code" and res.json()["field"] == "staff_no"
    # A city-level item may be served in the district.
    city_item = {**theirs, "item_code": "ITEM-CITY", "institution_code": "H-QH"}
    assert register(other, record_payload(record_no="X5", **city_item)).status_code == 201
    assert not ServiceRecord.objects.filter(record_no__in=["X1", "X2", "X3", "X4"]).exists()
    assert api.post("/records", record_payload(record_no="MINE")).status_code == 201
    # Another district's key cannot see, visit, complete or rate it; the city's key can see it.
    assert other.get("/records/MINE").status_code == 404
    assert other.post("/records/MINE/visits", {"window_code": "W-QH-01", "at": iso(timezone.now())}).status_code == 404
    assert other.post("/records/MINE/complete", {"completed_at": iso(timezone.now())}).status_code == 404
    assert other.post("/evaluations", {"record_no": "MINE", "level": 5, "channel": "pad"}).status_code == 404
    assert city.get("/records/MINE").status_code == 200
    # A visit at a window outside the key's region is refused too, as one at an unknown window.
    api.post("/records", record_payload(record_no="MINE2", mode="mixed", on_the_spot=False, completed_at=None))
    res = api.post("/records/MINE2/visits", {"window_code": "W-QH-01", "at": iso(timezone.now())})
    assert res.status_code == 422 and res.json()["error"] == "unknown_code"


def test_window_must_belong_to_the_institution(world: dict[str, Any], record_payload: Any, register: Any) -> None:
    res = register(world["city_api"], record_payload(window_code="W-QH-01"))
    assert res.status_code == 422 and res.json()["field"] == "window_code"


def test_complete_twice_is_409(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    api.post("/records", record_payload(record_no="C1", completed_at=None))
    assert api.post("/records/C1/complete", {"completed_at": iso(timezone.now())}).status_code == 200
    assert api.post("/records/C1/complete", {"completed_at": iso(timezone.now())}).status_code == 409


def test_personal_data_is_encrypted_at_rest(world: dict[str, Any], record_payload: Any) -> None:
    from django.db import connection

    agent = {"kind": "person", "name": "代办员钱七", "phone": "13700007777", "id_number": "32010219850505777X"}
    world["api"].post("/records", record_payload(record_no="PII", agent=agent))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM records_applicant")
        dump = repr(cursor.fetchall())
    for clear in ("13812345678", "320102199001011234", "张三", "13700007777", "32010219850505777X", "钱七"):
        assert clear not in dump
    assert "sm4gcm1:" in dump
    stored = Applicant.objects.get(records__record_no="PII")
    assert stored.phone == "13812345678" and stored.id_number == "320102199001011234"
    assert (
        stored.phone_digest
        and stored.phone_digest != Applicant.objects.get(agent_records__record_no="PII").phone_digest
    )


def test_openapi_schema_is_served(world: dict[str, Any]) -> None:
    res = Client().get("/api/v1/openapi.json")
    assert res.status_code == 200
    assert "/api/v1/records" in res.json()["paths"] and "/api/v1/evaluations" in res.json()["paths"]
    assert Client().get("/api/docs").status_code in (301, 302)


def test_registration_query_count(
    world: dict[str, Any], record_payload: Any, django_assert_max_num_queries: Any
) -> None:
    world["api"].post("/records", record_payload())  # warms the key cache
    # The applicant, the record and its rating slot, in a savepoint (the insert finds a number taken); the
    # directory's rows come from the process's cache.
    with django_assert_max_num_queries(5):
        assert world["api"].post("/records", record_payload()).status_code == 201
