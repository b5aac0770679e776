"""Hostile input on every API operation: a 4xx naming the field, never a 500 (issue 17's reproductions)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.records.models import ServiceRecord
from haoping.tests.test_recordpath import _django, _post_to, application  # noqa: F401  (the served application)

SURROGATE = "\ud800"


def completed(world: dict[str, Any], record_payload: Any) -> str:
    body = record_payload()
    res = world["api"].post("/records", body)
    assert res.status_code == 201, res.content
    return str(body["record_no"])


def assert_names(res: Any, status: int, field: str) -> None:
    assert res.status_code == status, res.content
    body = res.json()
    assert set(body) >= {"error", "detail", "field"}, body
    assert body["field"] == field, body
    assert field in body["detail"], body


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"comment": f"态度{SURROGATE}差"}, "comment"),
        ({"answers": {"suggestion": SURROGATE}}, "answers"),
        ({"client_ref": SURROGATE}, "client_ref"),
    ],
)
def test_lone_surrogate_in_a_rating_is_422(
    world: dict[str, Any], record_payload: Any, extra: dict[str, Any], field: str, fast: bool
) -> None:
    record_no = completed(world, record_payload)
    api = world["api"]
    api.fast = fast
    res = api.post("/evaluations", {"record_no": record_no, "level": 5, "channel": "pc", **extra})
    assert_names(res, 422, field)
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("fast", [True, False])
def test_lone_surrogate_in_a_rated_record_no_is_422(world: dict[str, Any], fast: bool) -> None:
    api = world["api"]
    api.fast = fast
    res = api.post("/evaluations", {"record_no": f"R{SURROGATE}", "level": 5, "channel": "pc"})
    assert_names(res, 422, "record_no")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record_no": f"R{SURROGATE}1"}, "record_no"),
        ({"applicant": {"kind": "person", "name": f"张{SURROGATE}"}}, "applicant.name"),
        ({"applicant": {"kind": "person", "phone": f"138{SURROGATE}"}}, "applicant.phone"),
        ({"agent": {"kind": "person", "id_number": SURROGATE}}, "agent.id_number"),
        ({"record_no": "R\x01"}, "record_no"),
        ({"item_code": "ITEM\x1b001"}, "item_code"),
    ],
)
def test_bad_text_in_a_record_is_422(
    world: dict[str, Any], record_payload: Any, change: dict[str, Any], field: str
) -> None:
    res = world["api"].post("/records", record_payload(**change))
    assert_names(res, 422, field)
    assert not ServiceRecord.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record_no": f"R{SURROGATE}1"}, "record_no"),
        ({"applicant": {"kind": "person", "name": f"张{SURROGATE}"}}, "applicant.name"),
    ],
)
def test_lone_surrogate_in_a_record_is_422_through_the_served_application(
    world: dict[str, Any],
    record_payload: Any,
    application: Any,  # noqa: F811 (the fixture)
    change: dict[str, Any],
    field: str,
) -> None:
    # The served application takes a registration on its record fast path (haoping.recordpath)
    # when it can: the same refusal as Django's own, and nothing stored.
    key, body = world["api"].key, record_payload(**change)

    async def both() -> list[Any]:
        return [await _post_to(application, key, body), await _post_to(_django(application), key, body)]

    served, django = asyncio.run(both())
    assert served[0] == django[0] == 422, (served, django)
    assert served[2] == django[2]
    answer = json.loads(served[2])
    assert answer["field"] == field and field in answer["detail"], answer
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize("obj", ["region", "item", "department", "staff"])
@pytest.mark.parametrize("code", ["%00", "A%01B", "%7F", "%C2%85"])
def test_control_characters_in_indicator_codes_are_422(world: dict[str, Any], obj: str, code: str) -> None:
    res = world["api"].get(f"/indicators?object={obj}&code={code}&from=2026-01-01&to=2026-01-31")
    assert_names(res, 422, "code")


@pytest.mark.parametrize(
    "path",
    [
        "/cases?record_no=%00",
        "/cases?record_no=R%0A1",
        "/records/R%00",
        "/records/R%01/visits",
    ],
)
def test_control_characters_in_other_text_parameters_are_4xx(world: dict[str, Any], path: str) -> None:
    api = world["api"]
    res = api.get(path) if "visits" not in path else api.post(path, {"window_code": "W-XW-01", "at": "x"})
    assert res.status_code == 422, res.content
    assert res.json()["field"] == "record_no"


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("9999-12-01", "9999-12-31", "from"),
        ("1999-12-31", "2000-01-31", "from"),
        ("0001-01-01", "0001-01-31", "from"),
    ],
)
def test_indicator_periods_are_bounded(world: dict[str, Any], first: str, last: str, field: str) -> None:
    res = world["api"].get(f"/indicators?object=region&code=320102&from={first}&to={last}")
    assert_names(res, 422, field)


def test_indicator_period_end_beyond_a_year_ahead_is_422(world: dict[str, Any]) -> None:
    today = timezone.localdate()
    far = today + dt.timedelta(days=400)
    res = world["api"].get(f"/indicators?object=region&code=320102&from={today}&to={far}")
    assert_names(res, 422, "to")
    near = today + dt.timedelta(days=300)
    assert world["api"].get(f"/indicators?object=region&code=320102&from={today}&to={near}").status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/cases?offset=999999999999999999999999999999", "offset"),
        ("/cases?limit=999999999999999999999999999999", "limit"),
        ("/cases/999999999999999999999999999999", "case_id"),
    ],
)
def test_integer_parameters_are_bounded(world: dict[str, Any], path: str, field: str) -> None:
    res = world["api"].get(path)
    assert res.status_code in (404, 422), res.content
    if res.status_code == 422:
        assert res.json()["field"] == field


@pytest.mark.parametrize(
    "body",
    [
        {"record_no": "R000001", "visit_id": 10**30, "level": 5, "channel": "pc"},
        {"record_no": "R000001", "visit_id": 2**63, "level": 5, "channel": "pc"},
    ],
)
def test_integer_fields_are_bounded(world: dict[str, Any], record_payload: Any, body: dict[str, Any]) -> None:
    completed(world, record_payload)
    res = world["api"].post("/evaluations", body)
    assert_names(res, 422, "visit_id")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/evaluations", "text/plain"),
        ("/api/v1/evaluations", "application/x-www-form-urlencoded"),
        ("/api/v1/evaluations", ""),
        ("/api/v1/records", "text/plain"),
        ("/api/v1/records", "multipart/form-data; boundary=x"),
        ("/api/v1/cases/1/actions", "text/plain"),
    ],
)
def test_a_body_that_is_not_json_is_415(
    world: dict[str, Any], record_payload: Any, path: str, content_type: str
) -> None:
    record_no = completed(world, record_payload)
    body = json.dumps({"record_no": record_no, "level": 5, "channel": "pc"})
    res = Client().post(path, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {world['api'].key}")
    assert res.status_code == 415, res.content
    answer = res.json()
    assert answer["error"] == "unsupported_media_type" and "application/json" in answer["detail"]
    assert answer["field"] == "Content-Type"
    assert not Evaluation.objects.exists()


def test_json_with_a_charset_is_accepted(world: dict[str, Any], record_payload: Any) -> None:
    body = json.dumps(record_payload())
    res = Client().post(
        "/api/v1/records",
        body,
        content_type="application/json; charset=utf-8",
        HTTP_AUTHORIZATION=f"Bearer {world['api'].key}",
    )
    assert res.status_code == 201, res.content
