"""Periodic work under huey; the same jobs are the management commands `exchange_sweep` and
`exchange_push`."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.exchange.services import PushResult, SweepResult, exchange_push, exchange_sweep
from haoping.ops.jobs import EXCHANGE_PUSH, recorded


@db_periodic_task(EXCHANGE_PUSH.schedule())
@recorded(EXCHANGE_PUSH)
@lock_task(EXCHANGE_PUSH.name, ttl=EXCHANGE_PUSH.lock_ttl)
def push_exchange() -> tuple[SweepResult, PushResult]:
    """R21: rows for what was stored since the last run, then every due row sent upward. The
    endpoints' own schedules are kept by `exchange_push` (an endpoint not yet due is skipped)."""
    return exchange_sweep(), exchange_push(due_only=True)
