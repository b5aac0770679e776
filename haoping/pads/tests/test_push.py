"""The pad's event stream: a visit registered at its window reaches the open stream within a
second, woken by PostgreSQL's NOTIFY (or Redis), not found by polling."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import AsyncClient
from django.utils import timezone

from haoping.pads import push
from haoping.pads.tests.support import bound_pad, manager, visit
from haoping.records.models import RatingSlot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _register(api: Any, record_payload: Any, record_no: str, window_code: str = "W-XW-01") -> None:
    try:
        visit(api, record_payload, record_no, window_code=window_code, at=timezone.now().isoformat())
    finally:
        connections.close_all()


async def _next_event(chunks: Any, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        chunk = await asyncio.wait_for(chunks.__anext__(), max(0.01, deadline - time.monotonic()))
        text = chunk.decode() if isinstance(chunk, bytes) else str(chunk)
        if text.startswith("event: service"):
            return text


def _stream_sees_the_visit(world: dict[str, Any], record_payload: Any) -> tuple[str, float, bool]:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    cookie = tablet.cookies["haoping_pad"].value

    async def main() -> tuple[str, float, bool]:
        client = AsyncClient()
        client.cookies["haoping_pad"] = cookie
        response = await client.get("/pad/events/")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
        chunks = response.streaming_content.__aiter__()
        assert (await chunks.__anext__()).startswith(b"retry:")
        assert (await chunks.__anext__()).startswith(b": waiting")  # idle: nothing to show yet
        # A visit at the other window wakes nobody here.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _register, world["api"], record_payload, "PUSH-0", "W-XW-02")
        started = time.monotonic()
        registered = loop.run_in_executor(None, _register, world["api"], record_payload, "PUSH-1")
        event = await _next_event(chunks, 1.0)
        elapsed = time.monotonic() - started
        listening = push.hub().listening
        await registered
        await chunks.aclose()
        return event, elapsed, listening

    try:
        return asyncio.run(main())
    finally:
        connections.close_all()


def test_the_stream_shows_a_visit_at_its_window_within_a_second(world: dict[str, Any], record_payload: Any) -> None:
    assert push.mode() == "postgresql"
    event, elapsed, listening = _stream_sees_the_visit(world, record_payload)
    slot = RatingSlot.objects.get(record__record_no="PUSH-1", kind="visit")
    assert f'"service": "{slot.public_id}"' in event
    assert elapsed < 1.0 and listening


@pytest.fixture
def redis_server(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        monkeypatch.setenv("REDIS_URL", url)
        monkeypatch.setattr(push, "_sync_redis", None)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_with_redis_the_stream_is_woken_by_a_publish(
    world: dict[str, Any], record_payload: Any, redis_server: str
) -> None:
    assert push.mode() == "redis" and os.environ["REDIS_URL"] == redis_server
    event, elapsed, listening = _stream_sees_the_visit(world, record_payload)
    slot = RatingSlot.objects.get(record__record_no="PUSH-1", kind="visit")
    assert f'"service": "{slot.public_id}"' in event
    assert elapsed < 1.0 and listening


def test_a_listener_that_cannot_connect_leaves_the_streams_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")

    async def main() -> tuple[float, bool]:
        the_hub = push.Hub("redis")
        async with the_hub.subscribe(7) as changed:
            # Woken when the listener fails, so that the stream looks for itself at once.
            await asyncio.wait_for(changed.wait(), 5)
            return the_hub.wait_seconds(), the_hub.listening

    wait, listening = asyncio.run(main())
    assert (wait, listening) == (push.POLL_SECONDS, False)


def test_a_deployment_may_choose_polling(settings: Any) -> None:
    """Behind a PgBouncer in transaction mode LISTEN cannot work: HAOPING_PAD_PUSH=poll."""
    settings.HAOPING_PAD_PUSH = "poll"
    assert push.mode() == "poll"

    async def main() -> float:
        the_hub = push.Hub(push.mode())
        async with the_hub.subscribe(1):
            return the_hub.wait_seconds()

    assert asyncio.run(main()) == push.POLL_SECONDS
