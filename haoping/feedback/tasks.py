"""Periodic work under huey: the comment inbox (R18), also the command `fetch_comment_mail`."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, lock_task

from haoping.feedback.mail import configured_fetch
from haoping.ops.jobs import COMMENT_MAIL, recorded


@db_periodic_task(COMMENT_MAIL.schedule())
@recorded(COMMENT_MAIL)
@lock_task(COMMENT_MAIL.name, ttl=COMMENT_MAIL.lock_ttl)
def comment_mail_fetch() -> int:
    """Read the comment inbox, when one is configured; how many comments were new."""
    return configured_fetch() or 0
