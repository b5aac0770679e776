"""The periodic jobs: how often each runs, when it counts as late, and a record of each run.

Each job's huey task (in its app's `tasks.py`) is scheduled from `Job.schedule()`, takes a lock
that expires after `Job.lock_ttl` (so that a consumer killed mid-task cannot keep it for good; the
consumer also clears its locks when it starts, `HUEY["consumer"]` in the settings), and records its
outcome through `recorded`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from huey import crontab
from huey.exceptions import TaskLockedException

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Job:
    name: str  # also the name of its huey lock
    label: Any  # lazy translated text
    every: dt.timedelta

    @property
    def every_minutes(self) -> int:
        return int(self.every.total_seconds() // 60)

    @property
    def late_after(self) -> dt.timedelta:
        """Two runs missed in a row: the job is late (health check)."""
        return self.every * 3

    @property
    def lock_ttl(self) -> int:
        # Every job is safe to run twice at once; the lock only spares the duplicate work, so a run
        # outliving it costs time, never correctness.
        return int(self.late_after.total_seconds())

    def schedule(self) -> Any:
        minutes = self.every_minutes
        return crontab(minute="*" if minutes == 1 else f"*/{minutes}")


EVALUATIONS_SWEEP = Job("evaluations-sweep", _("default ratings and chain sealing"), dt.timedelta(minutes=5))
ROLLUPS_UPDATE = Job("rollups-update", _("indicator rollups"), dt.timedelta(minutes=1))
CASES_SWEEP = Job("cases-sweep", _("case deadline sweep"), dt.timedelta(minutes=5))
EXCHANGE_PUSH = Job("exchange-push", _("upload to the upper-level platform"), dt.timedelta(minutes=1))
INVITATIONS_SEND = Job("invitations-send", _("SMS invitations and reminders"), dt.timedelta(minutes=5))
COMMENT_MAIL = Job("comment-mail", _("comment inbox over IMAP"), dt.timedelta(minutes=5))
JOBS = (EVALUATIONS_SWEEP, ROLLUPS_UPDATE, CASES_SWEEP, EXCHANGE_PUSH, INVITATIONS_SEND, COMMENT_MAIL)


def recorded(job: Job) -> Callable[[F], F]:
    """Record each run's outcome: success with its duration, or failure (locked out, or the
    exception's type), then let huey see the exception as before."""
    from haoping.ops.services import job_run_record

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                result = fn(*args, **kwargs)
            except TaskLockedException:
                _record_failure(job, "locked")
                raise
            except Exception as exc:
                _record_failure(job, type(exc).__name__)
                raise
            job_run_record(name=job.name, at=timezone.now(), duration=time.monotonic() - started)
            return result

        return run  # type: ignore[return-value]

    return decorate


def _record_failure(job: Job, reason: str) -> None:
    from haoping.ops.services import job_run_record

    try:
        job_run_record(name=job.name, at=timezone.now(), failure=reason)
    except DatabaseError:
        # The job's own failure is what huey logs; a database that is down cannot take this either.
        logger.warning("could not record the failure of job %s", job.name)
