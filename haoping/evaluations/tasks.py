"""Periodic work under huey; each job is also a management command (`sweep`)."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.evaluations.chain import chain_seal
from haoping.evaluations.services import defaults_record
from haoping.ops.jobs import EVALUATIONS_SWEEP, recorded


@db_periodic_task(EVALUATIONS_SWEEP.schedule())
@recorded(EVALUATIONS_SWEEP)
@lock_task(EVALUATIONS_SWEEP.name, ttl=EVALUATIONS_SWEEP.lock_ttl)
def sweep() -> tuple[int, int]:
    """R2 default ratings for closed windows, then seal new evaluations into the chain."""
    return defaults_record(), chain_seal()
