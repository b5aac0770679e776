"""haoping.gate and the body time limits: what a request must pass before its body is read (RSGI)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.evaluations import fastpath
from haoping.lib.tests.rsgi_support import Headers, Protocol, Scope, SlowProtocol


@pytest.fixture
def application() -> Any:
    from haoping.rsgi import application

    yield application
    application.writer.stop()


def _scope(path: str, length: int | None = 100, client: str = "10.0.0.7:5000", **headers: str) -> Scope:
    fields = [("host", "testserver"), ("content-type", "application/json"), *headers.items()]
    if length is not None:
        fields.append(("content-length", str(length)))
    return Scope("POST", path, Headers(fields), client=client)


def _run(application: Any, scope: Scope, protocol: Protocol, within: float = 5) -> None:
    asyncio.run(asyncio.wait_for(application.__rsgi__(scope, protocol), within))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("authorization", [None, "Bearer hp_unknown", "Basic abc"])
def test_an_api_request_without_a_valid_key_is_refused_before_its_body_is_read(
    world: dict[str, Any], application: Any, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    protocol = SlowProtocol()  # its body would never arrive
    _run(application, _scope(fastpath.PATH, **headers), protocol)
    assert protocol.status == 401 and json.loads(protocol.answer())["error"] == "unauthorized"
    assert not protocol.read


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("path", [fastpath.PATH, "/api/v1/records", "/r/some-token/"])
def test_a_body_that_does_not_arrive_in_time_is_answered_408(
    world: dict[str, Any], application: Any, settings: Any, path: str
) -> None:
    settings.HAOPING_BODY_TIMEOUT = 0.3
    protocol = SlowProtocol()
    _run(application, _scope(path, authorization=f"Bearer {world['api'].key}"), protocol)
    assert protocol.read and protocol.status == 408
    # A slow body that arrives in time is read as any other.
    late = SlowProtocol(delay=0.1)
    late.body = b"{}"
    _run(application, _scope("/api/v1/records", length=2, authorization=f"Bearer {world['api'].key}"), late)
    assert late.status == 422


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_address_without_a_key_may_hold_only_so_many_bodies_open(
    world: dict[str, Any], application: Any, settings: Any
) -> None:
    settings.HAOPING_MAX_PENDING_PER_CLIENT = 3
    settings.HAOPING_BODY_TIMEOUT = 1

    async def scenario() -> tuple[list[Protocol], Protocol, Protocol]:
        slow = [SlowProtocol() for _ in range(3)]
        held = [asyncio.create_task(application.__rsgi__(_scope("/r/x/"), p)) for p in slow]
        await asyncio.sleep(0.1)
        refused, elsewhere = Protocol(b"x" * 100), SlowProtocol(delay=0)
        elsewhere.body = b"level=5"
        await application.__rsgi__(_scope("/r/x/"), refused)
        await application.__rsgi__(_scope("/r/x/", length=7, client="10.0.0.8:5000"), elsewhere)
        await asyncio.gather(*held)
        return slow, refused, elsewhere

    slow, refused, elsewhere = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert refused.status == 429 and json.loads(refused.answer())["error"] == "too_many_requests"
    assert "同时请求过多" in json.loads(refused.answer())["detail"]
    assert elsewhere.read and elsewhere.status == 404  # another address is served (Django: no such rating link)
    assert [p.status for p in slow] == [408, 408, 408]
    assert application.gate.pending == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_body_is_read_only_from_a_signed_in_user_or_with_a_key(
    world: dict[str, Any], application: Any, settings: Any
) -> None:
    settings.HAOPING_BODY_TIMEOUT = 0.3
    big = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    for scope in (_scope("/console/cases/1/act/rectify/", length=big), _scope("/r/x/", length=None)):
        scope.headers.pairs.append(("transfer-encoding", "chunked"))
        protocol = SlowProtocol()
        _run(application, scope, protocol)
        assert protocol.status == 413 and not protocol.read
    user = get_user_model().objects.create_user(username="handler", password="pw-handler")
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    signed_in = SlowProtocol()
    # Admitted: its body may take 0.3 s plus its size at 32 kB/s (8 s) to arrive.
    _run(application, _scope("/console/cases/1/act/rectify/", length=big, cookie=cookie), signed_in, within=15)
    assert signed_in.read and signed_in.status == 408
    keyed = SlowProtocol()
    _run(application, _scope("/r/x/", length=big, authorization=f"Bearer {world['api'].key}"), keyed, within=15)
    assert keyed.read and keyed.status == 408
