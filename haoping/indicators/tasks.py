"""The rollups follow ratings and case steps within moments, outside the requests that made them."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from haoping.indicators.services import rollups_update
from haoping.ops.jobs import ROLLUPS_UPDATE, recorded


def update_soon(delay: float) -> None:
    """What `haoping.ops.rollups.rollups_soon` runs once a rating or case step commits."""
    from huey.contrib.djhuey import HUEY

    if HUEY.immediate:
        update_rollups()  # huey's immediate mode keeps scheduled tasks and never runs them
    else:
        update_rollups.schedule(delay=delay)


# While another update holds the lock, this one tries again a few times; if it is still locked out,
# the periodic update below catches up within the minute.
@db_task(retries=3, retry_delay=1)
@lock_task(ROLLUPS_UPDATE.name, ttl=ROLLUPS_UPDATE.lock_ttl)
def update_rollups() -> int:
    return rollups_update()


@db_periodic_task(ROLLUPS_UPDATE.schedule())
@recorded(ROLLUPS_UPDATE)
@lock_task(ROLLUPS_UPDATE.name, ttl=ROLLUPS_UPDATE.lock_ttl)
def update_rollups_periodically() -> int:
    """Catches up whatever an enqueued update missed (a restart, a lost queue)."""
    return rollups_update()
