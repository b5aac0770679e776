"""Periodic work under huey; the same job is the management command `sweep_cases`."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.rectification.services import SweepResult, cases_sweep


@db_periodic_task(crontab(minute="*/5"))
@lock_task("cases-sweep")
def sweep_cases() -> SweepResult:
    """Deadline warnings, overdue marks and escalations (R12)."""
    return cases_sweep()
