"""A huey consumer killed in the middle of a job: once restarted, the job runs again.

A real consumer (`manage.py run_huey`) works on the test database. The test holds the chain's
advisory lock so that the sweep stops inside `chain_seal`, holding its huey lock; the consumer is
then killed (SIGKILL: no clean-up of any kind) and started again, and the next sweep must seal.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from haoping.evaluations.chain import SEAL_LOCK_ID
from haoping.evaluations.models import ChainSeal, Evaluation
from haoping.evaluations.tests.test_window_and_sweep import completed_days_ago
from haoping.ops.models import JobRun
from haoping.ops.tests.processes import database_url, environment, manage, start, stop, wait_for

ENQUEUE_SWEEP = "from haoping.evaluations.tasks import sweep; sweep()"


def _waiting_for_the_seal_lock(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
        [SEAL_LOCK_ID & 0xFFFFFFFF],
    ).fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_consumer_killed_mid_sweep_runs_the_sweep_again_after_a_restart(
    world: dict[str, Any], record_payload: Any, tmp_path: Path
) -> None:
    world["api"].fast = False
    completed_days_ago(world["api"], record_payload, "CRASH1", 9)  # the sweep has a default to record
    env = environment(tmp_path)
    consumer_cmd = [sys.executable, "manage.py", "run_huey", "--workers", "1"]
    holder = psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK_ID])
    consumer = start(consumer_cmd, env, tmp_path / "consumer.log")
    try:
        manage("shell", "-c", ENQUEUE_SWEEP, env=env)
        # The sweep has recorded the default and waits for the chain's lock, holding its huey lock.
        wait_for(lambda: _waiting_for_the_seal_lock(holder), 60, "the sweep to reach chain_seal")
        assert Evaluation.objects.filter(source="default").count() == 1
        stop(consumer, signal.SIGKILL)
        holder.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK_ID])
        # The killed consumer's database session still waits for the lock; gone with its process.
        holder.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        assert not ChainSeal.objects.exists()

        consumer = start(consumer_cmd, env, tmp_path / "consumer.log")
        manage("shell", "-c", ENQUEUE_SWEEP, env=env)
        wait_for(ChainSeal.objects.exists, 60, "the sweep after the restart to seal the default rating")
        run = wait_for(lambda: JobRun.objects.filter(name="evaluations-sweep").first(), 10, "its success record")
        wait_for(lambda: JobRun.objects.get(name="evaluations-sweep").last_success_at, 10, "its success record")
        assert run.last_failure != "locked"
    finally:
        stop(consumer)
        holder.close()
    assert "unable to acquire lock" not in (tmp_path / "consumer.log").read_text()
