"""Batch intake of records, visits and completions; the directory cache behind every intake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import iso
from haoping.directory.models import Department, ServiceItem
from haoping.directory.services import directory_import
from haoping.records.models import Applicant, RatingSlot, ServiceRecord, Visit
from haoping.records.services import MAX_BATCH


def test_mixed_batch_stores_the_valid_rows_and_answers_each_in_order(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    stored = record_payload(record_no="OLD-1")
    first = api.post("/records", stored)
    assert first.status_code == 201
    assert api.post("/records", record_payload(record_no="OLD-2")).status_code == 201
    rows = [
        record_payload(record_no="NEW-1"),
        record_payload(record_no="BAD-ITEM", item_code="NOPE"),
        stored,  # sent again, identical: a replay
        record_payload(record_no="OLD-2", item_code="ITEM-002"),  # another body under a stored number
        record_payload(record_no="BAD-MODE", mode="teleport"),
        "not an object",
        record_payload(record_no="NEW-2", completed_at=None),
        record_payload(record_no="NEW-1"),  # the batch's own first row's number, another body
    ]
    res = api.post("/records/batch", {"records": rows})
    assert res.status_code == 200
    results = res.json()["results"]
    assert [r["index"] for r in results] == list(range(len(rows)))
    assert [r["status"] for r in results] == [201, 422, 200, 409, 422, 422, 201, 409]
    assert [r["record_no"] for r in results] == [
        "NEW-1",
        "BAD-ITEM",
        "OLD-1",
        "OLD-2",
        "BAD-MODE",
        "",
        "NEW-2",
        "NEW-1",
    ]
    assert results[1]["error"]["error"] == "unknown_code" and results[1]["error"]["field"] == "item_code"
    assert results[3]["error"]["error"] == "duplicate" and results[3]["error"]["field"] == "record_no"
    assert results[4]["error"]["field"] == "mode" and "mode" in results[4]["error"]["detail"]
    assert results[5]["error"]["error"] == "invalid"
    # The replay gives the links the first registration gave.
    assert results[2]["completion"] == first.json()["completion"]
    assert results[0]["completion"]["evaluation_url"] and results[0]["record_status"] == "completed"
    assert results[6]["completion"] is None and results[6]["record_status"] == "in_progress"
    assert "error" not in results[0] or results[0]["error"] is None
    assert set(ServiceRecord.objects.values_list("record_no", flat=True)) == {"OLD-1", "OLD-2", "NEW-1", "NEW-2"}
    assert ServiceRecord.objects.get(record_no="OLD-2").item.code == "ITEM-001"
    # Every stored row once: one applicant per record, one completion slot per completed record.
    assert Applicant.objects.count() == 4
    assert RatingSlot.objects.filter(kind="completion").count() == 3


def test_a_replay_within_the_batch_is_200_and_a_single_replay_too(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    row = record_payload(record_no="TWICE")
    results = api.post("/records/batch", {"records": [row, row]}).json()["results"]
    assert [r["status"] for r in results] == [201, 200]
    assert results[0]["completion"] == results[1]["completion"]
    again = api.post("/records", row)
    assert again.status_code == 200 and again.json()["completion"] == results[0]["completion"]
    # The same instant written in another zone is the same row.
    utc = {**row, "accepted_at": dt.datetime.fromisoformat(row["accepted_at"]).astimezone(dt.UTC).isoformat()}
    assert api.post("/records", utc).status_code == 200
    assert ServiceRecord.objects.filter(record_no="TWICE").count() == 1


def test_a_number_registered_in_another_region_is_unusable_in_a_batch(
    world: dict[str, Any], record_payload: Any
) -> None:
    city_item = {"item_code": "ITEM-CITY", "institution_code": "H-QH", "window_code": None, "staff_no": None}
    assert world["other_api"].post("/records", record_payload(record_no="THEIRS", **city_item)).status_code == 201
    (row,) = world["api"].post("/records/batch", {"records": [record_payload(record_no="THEIRS")]}).json()["results"]
    assert row["status"] == 422 and row["error"]["field"] == "record_no"
    assert "already" not in row["error"]["detail"]


def test_whole_request_problems_are_refused_as_a_whole(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    row = record_payload()
    too_many = api.post("/records/batch", {"records": [{**row, "record_no": f"N{i}"} for i in range(MAX_BATCH + 1)]})
    assert too_many.status_code == 422 and too_many.json()["field"] == "records"
    # A body past what a full batch needs is refused before it is read.
    huge = api.post("/records/batch", {"records": [{**row, "record_no": "N" * 64}] * 9000})
    assert huge.status_code == 400
    assert api.post("/records/batch", {"records": []}).status_code == 422
    assert api.post("/records/batch", {"rows": [row]}).status_code == 422
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api.key}"}
    not_json = api.http.post("/api/v1/records/batch", "{not json", content_type="application/json", **headers)
    assert 400 <= not_json.status_code < 500 and "error" in not_json.json()
    form = api.http.post("/api/v1/records/batch", {"records": "x"}, **headers)
    assert form.status_code == 415
    assert ServiceRecord.objects.count() == 0


def test_a_full_batch_is_stored_in_a_few_statements(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    api.post("/records", record_payload(record_no="WARM"))
    rows = [record_payload(record_no=f"FULL-{i:04d}") for i in range(MAX_BATCH)]
    with CaptureQueriesContext(connection) as queries:
        res = api.post("/records/batch", {"records": rows})
    assert [r["status"] for r in res.json()["results"]] == [201] * MAX_BATCH
    # One look-up of the numbers; per chunk of rows its applicants, records and slots, and the
    # chunk's transaction (a savepoint inside the test's): nothing per row.
    chunks = -(-MAX_BATCH // 200)
    assert len(queries.captured_queries) <= 1 + chunks * 5, [q["sql"][:80] for q in queries.captured_queries]
    assert ServiceRecord.objects.filter(record_no__startswith="FULL-").count() == MAX_BATCH
    assert RatingSlot.objects.filter(record__record_no__startswith="FULL-").count() == MAX_BATCH


def test_single_registration_reads_nothing_from_the_directory(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    api.post("/records", record_payload())  # fills the process's directory cache and the key cache
    with CaptureQueriesContext(connection) as queries:
        assert api.post("/records", record_payload()).status_code == 201
    sqls = [q["sql"] for q in queries.captured_queries]
    # Before: 15 statements, five of them directory reads and one the region's policy.
    assert not [s for s in sqls if 'FROM "directory_' in s], sqls
    assert len([s for s in sqls if not s.startswith(("SAVEPOINT", "RELEASE"))]) <= 3


def test_an_item_moved_to_another_region_is_seen_by_the_next_record(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    assert api.post("/records", record_payload(item_code="ITEM-002")).status_code == 201
    item = ServiceItem.objects.get(code="ITEM-002")
    item.department = Department.objects.get(code="D-OTHER")
    item.save()
    res = api.post("/records", record_payload(item_code="ITEM-002"))
    assert res.status_code == 422 and res.json()["field"] == "item_code"
    # And back, through the directory import, which writes in bulk and sends no signals.
    directory_import(data={"items": [{"code": "ITEM-002", "name": "食品经营许可（新）", "department": "D-MKT"}]})
    assert ServiceItem.objects.get(code="ITEM-002").name == "食品经营许可（新）"
    assert api.post("/records", record_payload(item_code="ITEM-002")).status_code == 201


def test_a_new_item_and_a_new_rating_window_are_seen_by_the_next_record(
    world: dict[str, Any], record_payload: Any
) -> None:
    from haoping.directory.models import RegionPolicy

    api = world["api"]
    assert (
        api.post("/records/batch", {"records": [record_payload(item_code="ITEM-NEW")]}).json()["results"][0]["status"]
        == 422
    )
    directory_import(data={"items": [{"code": "ITEM-NEW", "name": "新事项", "department": "D-MKT"}]})
    res = api.post("/records", record_payload(record_no="W7", item_code="ITEM-NEW"))
    assert res.status_code == 201
    RegionPolicy.objects.create(region=world["district"], rating_window_days=30)
    assert api.post("/records", record_payload(record_no="W30")).status_code == 201
    days = {
        slot.record.record_no: (slot.closes_at - slot.opens_at).days
        for slot in RatingSlot.objects.filter(record__record_no__in=["W7", "W30"]).select_related("record")
    }
    assert days == {"W7": 7, "W30": 30}


def test_visits_batch(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    api.post("/records", record_payload(record_no="MIX", mode="mixed", on_the_spot=False, completed_at=None))
    api.post("/records", record_payload(record_no="DONE", mode="mixed", on_the_spot=False))
    visit = {
        "record_no": "MIX",
        "window_code": "W-XW-01",
        "staff_no": "S001",
        "at": iso(now - dt.timedelta(minutes=30)),
    }
    rows = [
        visit,
        {**visit, "window_code": "W-XW-02", "staff_no": "S002"},
        visit,  # the same visit again
        {**visit, "window_code": "NOPE"},
        {**visit, "record_no": "NOBODY"},
        {**visit, "record_no": "DONE", "at": iso(now)},  # after its completion
        {**visit, "at": "yesterday"},
        {**visit, "window_code": "W-QH-01", "staff_no": None},  # another region's window
    ]
    res = api.post("/records/visits/batch", {"visits": rows})
    assert res.status_code == 200
    results = res.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 200, 422, 404, 409, 422, 422]
    assert results[0]["visit"]["ratable"] and results[0]["visit"]["evaluation_url"]
    assert results[2]["visit"] == results[0]["visit"]
    assert results[3]["error"]["field"] == "window_code" and results[6]["error"]["field"] == "at"
    assert results[7]["error"]["error"] == "unknown_code"
    assert Visit.objects.filter(record__record_no="MIX").count() == 2
    assert Visit.objects.filter(record__record_no="DONE").count() == 0


def test_completions_batch(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    for no in ("C1", "C2"):
        api.post("/records", record_payload(record_no=no, completed_at=None))
    done = iso(now - dt.timedelta(minutes=5))
    rows = [
        {"record_no": "C1", "completed_at": done},
        {"record_no": "C1", "completed_at": done},  # the same completion again
        {"record_no": "C1", "completed_at": iso(now)},  # another time
        {"record_no": "NOBODY", "completed_at": done},
        {"record_no": "C2", "completed_at": iso(now + dt.timedelta(days=1))},
        {"record_no": "C2"},
    ]
    res = api.post("/records/complete/batch", {"completions": rows})
    assert res.status_code == 200
    results = res.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 409, 404, 422, 422]
    assert results[0]["completion"]["evaluation_url"] and results[1]["completion"] == results[0]["completion"]
    assert results[4]["error"]["field"] == "completed_at" and results[5]["error"]["field"] == "completed_at"
    assert ServiceRecord.objects.get(record_no="C1").status == "completed"
    assert ServiceRecord.objects.get(record_no="C2").status == "in_progress"
    assert RatingSlot.objects.filter(record__record_no="C1").count() == 1
    # A completion sent alone again is answered as it was, too.
    assert api.post("/records/C1/complete", {"completed_at": done}).status_code == 200


@pytest.mark.parametrize("path,key", [("/records/visits/batch", "visits"), ("/records/complete/batch", "completions")])
def test_visit_and_completion_batches_refuse_too_many_rows(world: dict[str, Any], path: str, key: str) -> None:
    res = world["api"].post(path, {key: [{"record_no": "X"}] * (MAX_BATCH + 1)})
    assert res.status_code == 422 and res.json()["field"] == key


def test_batched_bundles_follow_the_bundle_rules(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    theme = {"kind": "theme", "bundle_no": "T-1"}
    rows = [
        record_payload(record_no="T1-A", bundle=theme),
        record_payload(record_no="T1-B", bundle=theme, item_code="ITEM-002"),
        record_payload(record_no="T1-C", bundle={"kind": "batch", "bundle_no": "T-1"}),
    ]
    results = api.post("/records/batch", {"records": rows}).json()["results"]
    assert [r["status"] for r in results] == [201, 201, 422]
    assert results[0]["theme"] and results[0]["theme"] == results[1]["theme"]
    assert results[2]["error"]["field"] == "bundle.kind"


def test_a_directory_change_in_another_process_reaches_this_one(world: dict[str, Any]) -> None:
    import os
    import subprocess
    import sys

    from django.conf import settings

    from haoping.directory.signals import directory_version
    from haoping.records.lookups import directory_lookups

    lookups = directory_lookups()
    assert lookups.get(ServiceItem, "ITEM-001") is not None
    # Another process of the deployment (the admin's, the import's) changes the directory.
    changed = "from haoping.directory.signals import directory_changed; directory_changed()"
    env = {**os.environ, "HAOPING_VAR_DIR": str(settings.VAR_DIR)}
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", changed], cwd=settings.BASE_DIR, env=env, check=True, timeout=60
    )
    assert directory_lookups() is not lookups and directory_lookups().version == directory_version()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_full_batch_holds_no_transaction_for_long(world: dict[str, Any], record_payload: Any) -> None:
    """The bound stated at WRITE_CHUNK: no transaction of a batch lasts 200 ms."""
    from haoping.indicators.tests.locking import timed_transactions

    rows = [record_payload(record_no=f"LONG-{i:04d}") for i in range(MAX_BATCH)]
    with timed_transactions() as seen:
        res = world["api"].post("/records/batch", {"records": rows})
    assert [r["status"] for r in res.json()["results"]] == [201] * MAX_BATCH
    assert len(seen.durations) >= MAX_BATCH // 200
    assert seen.longest_ms < 200, f"a batch held a transaction for {seen.longest_ms:.0f} ms"
