"""The record fast path: the common `POST /api/v1/records` answered before Django's request cycle.

Every rating needs a record first, and business systems push them one a request. Django's ASGI
request cycle (a thread per request, the middleware stack) costs several times the registration's
own work, so a single registration is taken here instead: the body is read and validated on the
event loop by the API's own schema (`RecordIn`), and one writer thread per process stores the
registrations waiting at that moment in one call of `records_register`, the batch endpoint's
service, with the rules of `record_register`: the same checks, the same replay and conflict rules,
a few statements and one commit for all of them. Each request is answered, once committed, what
the API answers for that registration (`record_answer`, through the API's response schema and
renderer).

Anything else is Django's: a body the schema refuses, a registration any rule refuses (Django
meets the same rule and answers it), a fault of the writer, SQLite (the demo). The unique record
number, not this module, keeps a record registered once.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection
from pydantic import ValidationError

from haoping.accounts.models import ApiClient
from haoping.api import api
from haoping.evaluations.fastpath import PAUSE, AsyncFastPath
from haoping.lib.batching import BatchThread
from haoping.records.api import RecordCreatedOut, RecordIn, record_answer, record_row
from haoping.records.services import RecordResult, RecordRow, records_register

logger = logging.getLogger(__name__)

PATH = "/api/v1/records"
# At most this many registrations share a batch: one transaction of the batch service (WRITE_CHUNK).
MAX_BATCH = 200
# How a batch fills, as the rating writer's: while registrations keep arriving at most PAUSE
# apart, up to GATHER in all.
GATHER = 0.002


@functools.cache
def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@dataclass(eq=False)
class PendingRecord:
    """One registration on its way; `result` stays None if Django must answer it."""

    client: ApiClient
    row: RecordRow
    result: tuple[int, bytes] | None = None


def prepare(body: Any, client: ApiClient | None) -> PendingRecord | None:
    """A registration the fast path can take, validated by the API's schema; None for Django."""
    if client is None or type(body) is not dict or not _on_postgresql():
        return None
    try:
        payload = RecordIn.model_validate(body)
    except ValidationError:
        return None
    return PendingRecord(client=client, row=record_row(payload))


def rendered(result: RecordResult) -> tuple[int, bytes]:
    """The status and body the API answers for `result`, as its response schema and renderer give them."""
    status, body = record_answer(result)
    data = RecordCreatedOut.model_validate(body).model_dump()
    return status, api.renderer.render(None, data, response_status=status).encode()  # type: ignore[arg-type]


def store(batch: list[PendingRecord]) -> None:
    """Register every registration of `batch`, one `records_register` call per key; each one
    stored (or replayed) gets its answer, the others none."""
    by_client: dict[int, list[PendingRecord]] = {}
    for pending in batch:
        by_client.setdefault(pending.client.pk, []).append(pending)
    for group in by_client.values():
        outcomes = records_register(client=group[0].client, rows=[p.row for p in group])
        for pending, outcome in zip(group, outcomes, strict=True):
            if outcome.error is None:
                pending.result = rendered(outcome.result)


class RecordWriter(BatchThread[PendingRecord]):
    """One thread per process that registers the fast path's records in batches."""

    def __init__(self, gather: float = GATHER, pause: float = PAUSE) -> None:
        super().__init__(name="record-writer", max_batch=MAX_BATCH, gather=gather, pause=pause)

    async def register(self, pending: PendingRecord) -> tuple[int, bytes] | None:
        """Register `pending` in the next batch; its answer, once committed (None: Django's)."""
        await self.submit_async(pending)
        return pending.result

    def flush(self, batch: list[PendingRecord]) -> tuple[()]:
        try:
            # The writer keeps its connection while it runs; only a broken one is replaced.
            if connection.errors_occurred and not connection.is_usable():
                connection.close()
            store(batch)
        except Exception as exc:
            # Registrations answered so far are committed; Django takes each of the others again.
            # Only the error's type is logged: a database error's text may quote personal data.
            logger.error("a record batch failed (%s); Django takes the records not stored", type(exc).__name__)
        return ()

    def thread_ending(self) -> None:
        connection.close()  # back to the pool


class AsyncRecordFastPath(AsyncFastPath):
    """The record fast path in front of Django: its answers, else Django's."""

    path = PATH
    writer: RecordWriter

    def __init__(self, app: Any, writer: RecordWriter) -> None:
        super().__init__(app, writer)

    async def answer(self, body: Any, client: Any) -> tuple[int, bytes] | None:
        pending = prepare(body, client)
        if pending is None:
            return None
        return await self.writer.register(pending)
