"""The record fast path answers `POST /api/v1/records` as Django does, stores each record once, in
batches of the batch endpoint's service, and answers only what is committed."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from haoping import recordpath
from haoping.accounts.selectors import api_client_for_key
from haoping.evaluations.tests.test_fastpath import _asgi_call, _headers
from haoping.evaluations.tests.test_served import _post, server  # noqa: F401  (the served server fixture)
from haoping.records.models import Applicant, RatingSlot, ServiceRecord

PATH = recordpath.PATH
Answer = tuple[int, dict[bytes, bytes], bytes]


@pytest.fixture
def application() -> Iterator[Any]:
    """The served ASGI application; its writers stopped after the test."""
    from haoping.asgi import application

    yield application
    application.app.writer.stop()
    application.app.app.writer.stop()


def _django(application: Any) -> Any:
    """Django's own ASGI application, behind the gate and both fast paths."""
    return application.app.app.app


async def _post_to(app: Any, key: str, body: Any) -> Answer:
    raw = json.dumps(body).encode()
    return await _asgi_call(app, "POST", PATH, _headers(key, raw), raw)


def _spied(application: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The record numbers of the registrations that reached Django."""
    record_path = application.app.app
    django = record_path.app
    reached: list[str] = []

    async def spy(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        reached.append(json.loads(message["body"]).get("record_no", "?") if message.get("body") else "no body")
        given = [message]

        async def again() -> Any:
            return given.pop() if given else await receive()

        await django(scope, again, send)

    monkeypatch.setattr(record_path, "app", spy)
    return reached


def _same(fast: Answer, django: Answer) -> None:
    """Equal answers: status, headers (the length aside) and body, byte for byte."""
    assert fast[0] == django[0]
    assert fast[2] == django[2]

    def headers(answer: Answer) -> dict[bytes, bytes]:
        return {k.lower(): v for k, v in answer[1].items() if k.lower() != b"content-length"}

    assert headers(fast) == headers(django)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_its_answers_are_djangos(
    world: dict[str, Any], record_payload: Any, application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = world["api"].key
    reached = _spied(application, monkeypatch)
    django = _django(application)
    fast_one = record_payload(record_no="FAST-1", agent={"kind": "person", "name": "李四", "phone": "13900000000"})
    django_one = record_payload(record_no="DJANGO-1")
    in_progress = record_payload(record_no="FAST-2", completed_at=None, on_the_spot=False)
    unknown_item = record_payload(record_no="FAST-3", item_code="NO-SUCH-ITEM")
    missing = {k: v for k, v in record_payload(record_no="FAST-4").items() if k != "mode"}

    async def scenario() -> list[Answer]:
        return [
            # Created by the fast path; Django answers the retry as a replay (200, the same links).
            await _post_to(application, key, fast_one),
            await _post_to(django, key, fast_one),
            # Created by Django; the fast path answers the retry.
            await _post_to(django, key, django_one),
            await _post_to(application, key, django_one),
            # A record not yet completed: no link yet.
            await _post_to(application, key, in_progress),
            # A different record under a registered number (409), an unknown code (422), a field missing (422).
            await _post_to(application, key, {**fast_one, "staff_no": "S002"}),
            await _post_to(django, key, {**fast_one, "staff_no": "S002"}),
            await _post_to(application, key, unknown_item),
            await _post_to(django, key, unknown_item),
            await _post_to(application, key, missing),
            await _post_to(django, key, missing),
        ]

    created, replayed, django_created, fast_replayed, pending, *refused = asyncio.run(scenario())
    conflict, django_conflict, unknown, django_unknown, invalid, django_invalid = refused
    assert created[0] == 201 and replayed[0] == 200
    assert json.loads(created[2])["completion"]["evaluation_url"]
    # A 201 and the replay's 200 carry the same body, whichever path gave them.
    _same((200, created[1], created[2]), replayed)
    _same(fast_replayed, (200, django_created[1], django_created[2]))
    assert django_created[0] == 201
    assert pending[0] == 201 and json.loads(pending[2]) == {
        "record_no": "FAST-2",
        "status": "in_progress",
        "completion": None,
        "theme": None,
    }
    _same(conflict, django_conflict)
    assert conflict[0] == 409 and json.loads(conflict[2])["error"] == "duplicate"
    _same(unknown, django_unknown)
    assert unknown[0] == 422 and json.loads(unknown[2])["field"] == "item_code"
    _same(invalid, django_invalid)
    assert invalid[0] == 422 and json.loads(invalid[2])["field"] == "mode"
    # Stored and answered by the fast path: the new records and the replay. Django had the rest
    # (the spy stands between the fast path and Django, and sees only what the fast path declined).
    assert reached == ["FAST-1", "DJANGO-1", "FAST-1", "FAST-1", "FAST-3", "FAST-3", "FAST-4", "FAST-4"]
    assert sorted(ServiceRecord.objects.values_list("record_no", flat=True)) == ["DJANGO-1", "FAST-1", "FAST-2"]
    record = ServiceRecord.objects.get(record_no="FAST-1")
    # Personal data as the services store it: encrypted fields read back, the agent with its own row.
    assert (record.applicant.name, record.agent.name if record.agent else None) == ("张三", "李四")
    assert Applicant.objects.count() == 4
    slot = RatingSlot.objects.get(record=record, kind=RatingSlot.Kind.COMPLETION)
    assert slot.public_id in json.loads(created[2])["completion"]["evaluation_url"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_registrations_share_one_call_of_the_batch_service(
    world: dict[str, Any], record_payload: Any, application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registrations arriving together are stored by one `records_register` call; a retried
    submission among them is stored once, and a different one under the same number refused."""
    key, other_key = world["api"].key, world["other_api"].key
    calls: list[tuple[str, list[str]]] = []
    real = recordpath.records_register

    def counted(*, client: Any, rows: list[Any]) -> Any:
        calls.append((client.name, [r.record_no for r in rows]))
        return real(client=client, rows=rows)

    monkeypatch.setattr(recordpath, "records_register", counted)
    reached = _spied(application, monkeypatch)
    writer = application.app.app.writer
    writer.gather, writer.pause = 5.0, 0.5  # generous moments: the requests below arrive within them
    bodies = [record_payload(record_no=f"TOGETHER-{n}") for n in range(5)]
    twice = bodies[0]
    other_region = record_payload(
        record_no="OTHER-1", item_code="ITEM-QH", institution_code="H-QH", window_code="W-QH-01", staff_no="S-QH"
    )

    async def scenario() -> list[Answer]:
        sent = [_post_to(application, key, b) for b in bodies]
        sent += [_post_to(application, key, twice), _post_to(application, key, {**twice, "staff_no": "S002"})]
        sent += [_post_to(application, other_key, other_region)]
        return list(await asyncio.gather(*sent))

    # The keys known already: the requests reach the writer in the order they were sent.
    assert api_client_for_key(key) and api_client_for_key(other_key)
    answers = asyncio.run(scenario())
    statuses = [a[0] for a in answers]
    assert statuses[:5] == [201] * 5 and statuses[5] == 200 and statuses[6] == 409 and statuses[7] == 201
    assert json.loads(answers[5][2]) == json.loads(answers[0][2])
    # One call per key, the retry and the conflicting row in the first key's call.
    assert sorted(calls) == [
        ("玄武区审批系统", [*(b["record_no"] for b in bodies), "TOGETHER-0", "TOGETHER-0"]),
        ("秦淮区审批系统", ["OTHER-1"]),
    ]
    # The conflict was Django's to answer, after the batch refused it.
    assert reached == ["TOGETHER-0"]
    assert ServiceRecord.objects.filter(record_no="TOGETHER-0").count() == 1
    assert ServiceRecord.objects.count() == 6
    assert RatingSlot.objects.count() == 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_registration_is_answered_only_once_committed(
    world: dict[str, Any], record_payload: Any, application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = world["api"].key
    reached = _spied(application, monkeypatch)
    seen: list[bool] = []

    def committed(record_no: str) -> bool:
        # Another connection than the writer's: it sees only what is committed.
        try:
            return ServiceRecord.objects.filter(record_no=record_no).exists()
        finally:
            connection.close()

    async def scenario() -> None:
        for n in range(3):
            no = f"SEEN-{n}"
            status, _headers_, _body = await _post_to(application, key, record_payload(record_no=no))
            assert status == 201
            seen.append(await asyncio.to_thread(committed, no))

    asyncio.run(scenario())
    assert seen == [True, True, True]
    assert reached == []  # every one was the fast path's


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failing_batch_leaves_its_registrations_to_django(
    world: dict[str, Any], record_payload: Any, application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    def broken(*, client: Any, rows: list[Any]) -> Any:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(recordpath, "records_register", broken)
    reached = _spied(application, monkeypatch)
    status, _h, body = asyncio.run(_post_to(application, world["api"].key, record_payload(record_no="FALLS-1")))
    assert status == 201 and json.loads(body)["record_no"] == "FALLS-1"
    assert reached == ["FALLS-1"]
    assert ServiceRecord.objects.filter(record_no="FALLS-1").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_record_through_the_served_server_is_stored_once(
    server: str,  # noqa: F811  (the fixture imported above)
    world: dict[str, Any],
    record_payload: Any,
) -> None:
    key = world["api"].key
    body = record_payload(record_no="SERVED-R1")
    results: list[tuple[int, dict[str, Any]]] = []

    def send() -> None:
        results.append(_post(f"{server}{PATH}", key, body))

    # The first request and two retries of it at once: one record, and all three the same answer.
    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _answer in results) == [200, 200, 201], results
    assert len({json.dumps(answer, sort_keys=True) for _status, answer in results}) == 1
    assert results[0][1]["completion"]["evaluation_url"]
    assert ServiceRecord.objects.filter(record_no="SERVED-R1").count() == 1
    status, refused = _post(f"{server}{PATH}", key, {**body, "staff_no": "S002"})
    assert status == 409 and refused["error"] == "duplicate"


def test_what_the_fast_path_leaves_to_django(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api_client_for_key(world["api"].key)
    body = record_payload(record_no="PREP-1")
    taken = recordpath.prepare(body, client)
    assert taken is not None and taken.row.record_no == "PREP-1" and taken.row.applicant.name == "张三"
    # A body the schema refuses, a field it does not know, no client: Django answers them.
    assert recordpath.prepare({**body, "mode": "by pigeon"}, client) is None
    assert recordpath.prepare({**body, "colour": "red"}, client) is None
    assert recordpath.prepare([body], client) is None
    assert recordpath.prepare(body, None) is None
    # SQLite (the demo) is Django's alone.
    monkeypatch.setattr(recordpath, "_on_postgresql", lambda: False)
    assert recordpath.prepare(body, client) is None
