"""How a pad learns, within a second, that a service was registered at its window.

The writer says which windows changed, inside the transaction that registered the service:
- with Redis (`REDIS_URL`), a PUBLISH once the transaction has committed;
- on PostgreSQL, `pg_notify`, which PostgreSQL itself delivers only when the transaction commits;
- on SQLite (the demo), nothing: the pads' streams look again every `POLL_SECONDS`.

Each server process keeps one listener (one Redis subscription or one PostgreSQL connection doing
LISTEN), however many pads it serves, and wakes the streams of the windows named. While that
listener is down the streams fall back to looking every `POLL_SECONDS`, so a lost notification
costs at most that long.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from haoping.records.models import RatingSlot

logger = logging.getLogger(__name__)

CHANNEL = "haoping_pad"
REDIS_CHANNEL = "haoping:pad"
# How often a stream looks for itself when no notification can reach it (SQLite, listener down).
POLL_SECONDS = 0.25
# How long a stream waits for a notification before it looks anyway (and sends a keep-alive).
IDLE_SECONDS = 15.0
# pg_notify takes at most 8,000 bytes of payload.
PAYLOAD_CHUNK = 900


def mode() -> str:
    """'redis', 'postgresql' or 'poll': how notifications travel in this deployment.
    `HAOPING_PAD_PUSH` may choose one; by default Redis when `REDIS_URL` is set, else PostgreSQL's
    own, else polling (behind a PgBouncer in transaction mode, LISTEN does not work: choose redis or
    poll)."""
    chosen = settings.HAOPING_PAD_PUSH
    if chosen in ("redis", "postgresql", "poll"):
        return chosen
    if _redis_url():
        return "redis"
    if connection.vendor == "postgresql":
        return "postgresql"
    return "poll"


def _redis_url() -> str:
    # The same variable as the cache's and huey's (settings), read when needed.
    return os.environ.get("REDIS_URL", "")


def slot_window_id(slot: RatingSlot) -> int | None:
    """The window a ratable service took place at: a visit's window, else its record's."""
    if slot.kind == RatingSlot.Kind.VISIT and slot.visit is not None:
        return slot.visit.window_id
    if slot.kind == RatingSlot.Kind.COMPLETION and slot.record is not None:
        return slot.record.window_id
    return None


# The windows that have a bound pad, as this process last read them (monotonic time, ids): a
# registration at a window without a pad sends nothing and costs no statement. A pad bound in
# another process is pushed to once this process reads again; until then its stream still looks
# every IDLE_SECONDS.
PAD_WINDOWS_TTL = 30.0
_pad_windows: tuple[float, frozenset[int]] | None = None


def pad_windows() -> frozenset[int]:
    global _pad_windows
    now = time.monotonic()
    if _pad_windows is None or now - _pad_windows[0] > PAD_WINDOWS_TTL:
        from haoping.pads.models import Pad

        live = Pad.objects.filter(bound_at__isnull=False, revoked_at__isnull=True)
        _pad_windows = (now, frozenset(live.values_list("window_id", flat=True).distinct()))
    return _pad_windows[1]


def pad_windows_forget() -> None:
    """After a pad is bound or revoked in this process."""
    global _pad_windows
    _pad_windows = None


def windows_changed_on_commit(*, slots: Sequence[RatingSlot]) -> None:
    """What records calls when ratable services open (`slots_opened_follower`)."""
    windows = {w for w in (slot_window_id(s) for s in slots) if w is not None}
    if windows:
        windows_changed(windows & pad_windows())


def _chunks(window_ids: Iterable[int]) -> list[str]:
    ids = sorted(window_ids)
    return [",".join(map(str, ids[i : i + PAYLOAD_CHUNK])) for i in range(0, len(ids), PAYLOAD_CHUNK)]


def windows_changed(window_ids: Iterable[int]) -> None:
    """Tell the pads of these windows to look again, once the current transaction commits."""
    payloads = _chunks(window_ids)
    if not payloads:
        return
    how = mode()
    if how == "redis":
        transaction.on_commit(lambda: _publish(payloads))
    elif how == "postgresql":
        with connection.cursor() as cursor:
            for payload in payloads:
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


def _publish(payloads: list[str]) -> None:
    try:
        client = _redis_client()
        for payload in payloads:
            client.publish(REDIS_CHANNEL, payload)
    except Exception as exc:  # noqa: BLE001  the service is stored; the pads find it by looking
        logger.warning("pad push: Redis publish failed (%s); pads will poll", type(exc).__name__)


_sync_redis: Any = None


def _redis_client() -> Any:
    global _sync_redis
    if _sync_redis is None:
        import redis

        _sync_redis = redis.Redis.from_url(_redis_url(), socket_timeout=1, socket_connect_timeout=1)
    return _sync_redis


def _pg_params() -> dict[str, Any]:
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout"):
        if key in db.get("OPTIONS", {}):
            params[key] = db["OPTIONS"][key]
    return {k: v for k, v in params.items() if v not in ("", None)}


class Hub:
    """One per event loop: the streams waiting, per window, and the listener that wakes them."""

    def __init__(self, how: str) -> None:
        self.mode = how
        self.listening = False
        self._waiters: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def wait_seconds(self) -> float:
        return IDLE_SECONDS if self.listening else POLL_SECONDS

    @asynccontextmanager
    async def subscribe(self, window_id: int) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[window_id].add(event)
        self.ensure_listener()
        try:
            yield event
        finally:
            self._waiters[window_id].discard(event)
            if not self._waiters[window_id]:
                del self._waiters[window_id]

    def ensure_listener(self) -> None:
        if self.mode != "poll" and (self._task is None or self._task.done()):
            self.listening = False
            self._task = asyncio.get_running_loop().create_task(self._listen())

    def wake(self, payload: str) -> None:
        for part in payload.split(","):
            if part.isdigit():
                for event in self._waiters.get(int(part), ()):
                    event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    async def _listen(self) -> None:
        try:
            await self._listen_while_waited()
        finally:
            self.listening = False

    async def _listen_while_waited(self) -> None:
        while self._waiters:
            try:
                if self.mode == "redis":
                    await self._listen_redis()
                else:
                    await self._listen_postgresql()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  streams poll meanwhile
                logger.warning("pad push: listener lost (%s); pads poll until it is back", type(exc).__name__)
            self.listening = False
            # Streams waiting for a notification look for themselves now, and poll until it is back.
            self._wake_all()
            await asyncio.sleep(1)

    async def _listen_postgresql(self) -> None:
        import psycopg

        conn = await psycopg.AsyncConnection.connect(autocommit=True, **_pg_params())
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            self._listening_now()
            gen = conn.notifies(timeout=IDLE_SECONDS)
            while self._waiters:
                async for note in gen:
                    self.wake(note.payload)
                gen = conn.notifies(timeout=IDLE_SECONDS)
        finally:
            await conn.close()

    async def _listen_redis(self) -> None:
        import redis.asyncio as aredis

        client = aredis.Redis.from_url(_redis_url())
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(REDIS_CHANNEL)
            self._listening_now()
            while self._waiters:
                message = await pubsub.get_message(timeout=IDLE_SECONDS)
                if message and message.get("type") == "message":
                    data = message["data"]
                    self.wake(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            await pubsub.aclose()
            await client.aclose()

    def _listening_now(self) -> None:
        self.listening = True
        # Whatever was registered while nobody listened is looked for now.
        self._wake_all()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub (granian runs one loop per worker)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub(mode())
    return found
