"""Reads of the ops app: each periodic job's health."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from haoping.ops.jobs import JOBS, Job
from haoping.ops.models import JobRun


@dataclass(frozen=True)
class JobHealth:
    job: Job
    last_success_at: dt.datetime | None
    last_duration: float | None
    last_failure_at: dt.datetime | None
    last_failure: str
    late: bool


def jobs_health(*, now: dt.datetime) -> list[JobHealth]:
    """Every periodic job with its last success and failure; late when it has not succeeded within
    `Job.late_after` (or never has)."""
    runs = {run.name: run for run in JobRun.objects.filter(name__in=[job.name for job in JOBS])}
    health = []
    for job in JOBS:
        run = runs.get(job.name)
        success = run.last_success_at if run else None
        health.append(
            JobHealth(
                job=job,
                last_success_at=success,
                last_duration=run.last_duration if run else None,
                last_failure_at=run.last_failure_at if run else None,
                last_failure=run.last_failure if run else "",
                late=success is None or now - success > job.late_after,
            )
        )
    return health
