"""Writes of the ops app: the outcome of a periodic job's run."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from haoping.ops.models import JobRun


@transaction.atomic
def job_run_record(*, name: str, at: dt.datetime, duration: float | None = None, failure: str = "") -> None:
    """A success (no `failure`), with how long it took, or a failure and its reason."""
    if failure:
        values = {"last_failure_at": at, "last_failure": failure[:100]}
    else:
        values = {"last_success_at": at, "last_duration": duration}
    if JobRun.objects.filter(name=name).update(**values):
        return
    try:
        with transaction.atomic():
            JobRun.objects.create(name=name, **values)
    except IntegrityError:  # a concurrent run created it first
        JobRun.objects.filter(name=name).update(**values)
