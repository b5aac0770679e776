"""haoping.gate and the body time limits: what a request must pass before its body is read, in
front of the ASGI application that deploy/serve serves (haoping.asgi)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.evaluations import fastpath


class Peer:
    """One client of an ASGI application: its body (at once, after `delay` seconds, or, with no body
    given and no delay, never), and what the application answered."""

    def __init__(self, body: bytes | None = None, delay: float | None = None) -> None:
        self.body, self.delay = body, delay
        self.read = False  # whether anyone started reading the body
        self.given = False
        self.status: int | None = None
        self.content = b""

    async def receive(self) -> dict[str, Any]:
        self.read = True
        if self.given or (self.body is None and self.delay is None):
            await asyncio.Event().wait()  # the client stays until answered
        await asyncio.sleep(self.delay or 0)
        self.given = True
        return {"type": "http.request", "body": self.body or b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.content += message.get("body", b"")

    def answer(self) -> Any:
        return json.loads(self.content)


@pytest.fixture
def application() -> Any:
    from haoping.asgi import application

    yield application
    application.app.writer.stop()


def _scope(path: str, length: int | None = 100, client: str = "10.0.0.7", **headers: str) -> dict[str, Any]:
    fields = [("host", "testserver"), ("content-type", "application/json"), *headers.items()]
    if length is not None:
        fields.append(("content-length", str(length)))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in fields],
        "client": (client, 5000),
        "server": ("testserver", 80),
    }


async def _call(application: Any, scope: dict[str, Any], peer: Peer) -> None:
    await application(scope, peer.receive, peer.send)


def _run(application: Any, scope: dict[str, Any], peer: Peer, within: float = 5) -> None:
    asyncio.run(asyncio.wait_for(_call(application, scope, peer), within))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("authorization", [None, "Bearer hp_unknown", "Basic abc"])
def test_an_api_request_without_a_valid_key_is_refused_before_its_body_is_read(
    world: dict[str, Any], application: Any, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    peer = Peer()  # its body would never arrive
    _run(application, _scope(fastpath.PATH, **headers), peer)
    assert peer.status == 401 and peer.answer()["error"] == "unauthorized"
    assert not peer.read


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("path", [fastpath.PATH, "/api/v1/records", "/r/some-token/"])
def test_a_body_that_does_not_arrive_in_time_is_answered_408(
    world: dict[str, Any], application: Any, settings: Any, path: str
) -> None:
    settings.HAOPING_BODY_TIMEOUT = 0.3
    peer = Peer()
    _run(application, _scope(path, authorization=f"Bearer {world['api'].key}"), peer)
    assert peer.read and peer.status == 408
    # A slow body that arrives in time is read as any other.
    late = Peer(b"{}", delay=0.1)
    _run(application, _scope("/api/v1/records", length=2, authorization=f"Bearer {world['api'].key}"), late)
    assert late.status == 422


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_address_without_a_key_may_hold_only_so_many_bodies_open(
    world: dict[str, Any], application: Any, settings: Any
) -> None:
    settings.HAOPING_MAX_PENDING_PER_CLIENT = 3
    settings.HAOPING_BODY_TIMEOUT = 1

    async def scenario() -> tuple[list[Peer], Peer, Peer]:
        slow = [Peer() for _ in range(3)]
        held = [asyncio.create_task(_call(application, _scope("/r/x/"), p)) for p in slow]
        await asyncio.sleep(0.1)
        refused, elsewhere = Peer(b"x" * 100), Peer(b"level=5", delay=0)
        await _call(application, _scope("/r/x/"), refused)
        await _call(application, _scope("/r/x/", length=7, client="10.0.0.8"), elsewhere)
        await asyncio.gather(*held)
        return slow, refused, elsewhere

    slow, refused, elsewhere = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert refused.status == 429 and refused.answer()["error"] == "too_many_requests"
    assert "同时请求过多" in refused.answer()["detail"]
    assert not refused.read
    assert elsewhere.read and elsewhere.status == 404  # another address is served (Django: no such rating link)
    assert [p.status for p in slow] == [408, 408, 408]
    assert application.pending == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_body_is_read_only_from_a_signed_in_user_or_with_a_key(
    world: dict[str, Any], application: Any, settings: Any
) -> None:
    settings.HAOPING_BODY_TIMEOUT = 0.3
    big = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    for scope in (_scope("/console/cases/1/act/rectify/", length=big), _scope("/r/x/", length=None)):
        scope["headers"].append((b"transfer-encoding", b"chunked"))
        peer = Peer()
        _run(application, scope, peer)
        assert peer.status == 413 and not peer.read
    user = get_user_model().objects.create_user(username="handler", password="pw-handler")
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    signed_in = Peer()
    # Admitted: its body may take 0.3 s plus its size at 32 kB/s (8 s) to arrive.
    _run(application, _scope("/console/cases/1/act/rectify/", length=big, cookie=cookie), signed_in, within=15)
    assert signed_in.read and signed_in.status == 408
    keyed = Peer()
    _run(application, _scope("/r/x/", length=big, authorization=f"Bearer {world['api'].key}"), keyed, within=15)
    assert keyed.read and keyed.status == 408
