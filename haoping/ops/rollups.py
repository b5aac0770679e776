"""Asking for an update of the indicator rollups once a write commits.

Ratings (evaluations) and case steps (rectification) ask; indicators, which reads both, says what
runs the update (`rollups_updater`, from its app's `ready`), so that neither asker imports it.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import transaction

_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("rollups_paused", default=False)
# Schedules the update this many seconds ahead; set by the indicators app.
_schedule: Callable[[float], None] | None = None

# A burst of ratings asks for one update: the first one schedules it this long ahead, and those
# committed before it runs are recounted with it, so each process queues at most one a second.
COALESCE_SECONDS = 1.0
_next_enqueue = 0.0


def rollups_updater(schedule: Callable[[float], None]) -> None:
    """Say what schedules a rollup update, `delay` seconds ahead."""
    global _schedule
    _schedule = schedule


def rollups_soon() -> None:
    """Ask for an update once the current transaction commits (outside the request's own work)."""
    if not _paused.get() and getattr(settings, "HAOPING_ROLLUPS_ENQUEUE", True):
        transaction.on_commit(_enqueue)


def _enqueue() -> None:
    global _next_enqueue
    now = time.monotonic()
    if _schedule is None or now < _next_enqueue:
        return
    _next_enqueue = now + COALESCE_SECONDS
    _schedule(COALESCE_SECONDS)


@contextlib.contextmanager
def rollups_paused() -> Iterator[None]:
    """For bulk loads (the demo), which rebuild the rollups once at the end."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)
