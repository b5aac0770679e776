"""Periodic work under huey; the same job is the management command `sweep_cases`."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.ops.jobs import CASES_SWEEP, recorded
from haoping.rectification.services import SweepResult, cases_sweep


@db_periodic_task(CASES_SWEEP.schedule())
@recorded(CASES_SWEEP)
@lock_task(CASES_SWEEP.name, ttl=CASES_SWEEP.lock_ttl)
def sweep_cases() -> SweepResult:
    """Deadline warnings, overdue marks and escalations (R12)."""
    return cases_sweep()
