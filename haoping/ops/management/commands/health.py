from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haoping.ops.selectors import JobHealth, jobs_health


def _when(at: dt.datetime | None) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds") if at else "never"


def _line(health: JobHealth) -> str:
    job, success, failed = health.job, health.last_success_at, health.last_failure_at
    line = f"{job.name}: {'LATE' if health.late else 'ok'}, last success {_when(success)}"
    if failed and (success is None or failed > success):
        line += f"; last failure {_when(failed)} ({health.last_failure})"
    every, late_after = int(job.every.total_seconds()), int(job.late_after.total_seconds())
    return f"{line} (every {every} s, late after {late_after} s)"


class Command(BaseCommand):
    help = "Print each periodic job's last success; exit non-zero when one is late."

    def handle(self, *args: Any, **options: Any) -> None:
        health = jobs_health(now=timezone.now())
        for job in health:
            self.stdout.write(_line(job))
        late = [job.job.name for job in health if job.late]
        if late:
            raise CommandError(f"late: {', '.join(late)}")
