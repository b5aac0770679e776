"""Periodic work under huey; also the management command `send_invitations`."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.channels.services import SweepResult, invitations_send
from haoping.ops.jobs import INVITATIONS_SEND, recorded


@db_periodic_task(INVITATIONS_SEND.schedule())
@recorded(INVITATIONS_SEND)
@lock_task(INVITATIONS_SEND.name, ttl=INVITATIONS_SEND.lock_ttl)
def send_invitations() -> SweepResult:
    """R22: SMS invitations and reminders that are due and may go out now."""
    return invitations_send()
