"""Periodic work under huey; each job is also a management command (`sweep`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.evaluations.chain import chain_seal
from haoping.evaluations.services import defaults_record


@db_periodic_task(crontab(minute="*/5"))
@lock_task("evaluations-sweep")
def sweep() -> tuple[int, int]:
    """R2 default ratings for closed windows, then seal new evaluations into the chain."""
    return defaults_record(), chain_seal()
