"""The periodic jobs hold no write transaction for long, however large their backlog: the default
sweep, chain sealing, the case sweep and a monthly report's build commit in small batches (run on
PostgreSQL, and on SQLite with DATABASE_URL=sqlite:////tmp/….sqlite3, where a transaction holds the
one write lock and every rating waits for it). Rollup updates: indicators/tests/test_rollup_locks.py;
directory imports: directory/tests/test_import_directory.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from haoping.evaluations.chain import chain_seal
from haoping.evaluations.models import ChainSeal, Evaluation
from haoping.evaluations.services import defaults_record, evaluation_submit
from haoping.indicators.services import rollups_rebuild
from haoping.indicators.tests.busy import busy_day, open_slots
from haoping.indicators.tests.locking import timed_transactions
from haoping.records.links import token_for
from haoping.rectification.models import BadReviewCase
from haoping.rectification.services import cases_sweep
from haoping.reports.models import MonthlyReport
from haoping.reports.services import report_build

# The bound the jobs' docstrings state ("milliseconds"), as for the rollup update.
LOCK_BOUND_MS = 200
# On SQLite, the commit that fills the write-ahead log also copies it into the database file (every
# 1,000 pages), and the first batch reads the table from disk: those few commits take longer there.
SQLITE_SLOWEST_MS = 600


def assert_short(seen: Any, what: str) -> None:
    """Every transaction within the bound; on SQLite, nine in ten, and the slowest within its own."""
    if connection.vendor != "sqlite":
        assert seen.longest_ms < LOCK_BOUND_MS, f"{what} held a transaction for {seen.longest_ms:.0f} ms"
        return
    ordered = sorted(seen.durations)
    typical_ms = ordered[max(0, int(len(ordered) * 0.9) - 1)] * 1000
    assert typical_ms < LOCK_BOUND_MS, f"{what}: nine transactions in ten held the lock up to {typical_ms:.0f} ms"
    assert seen.longest_ms < SQLITE_SLOWEST_MS, f"{what} held a transaction for {seen.longest_ms:.0f} ms"


# A backlog many times what one run of a job finds on the demo city.
BACKLOG = 3_000

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_default_sweep_and_sealing_commit_in_small_batches(world: dict[str, Any]) -> None:
    slots = open_slots(world, BACKLOG)
    later = timezone.now() + dt.timedelta(days=30)  # every window has closed
    with timed_transactions() as seen:
        created = defaults_record(now=later)
    assert created == BACKLOG == Evaluation.objects.filter(slot__in=slots, source="default").count()
    assert len(seen.durations) >= BACKLOG // 200, "the sweep wrote in fewer batches than it states"
    assert_short(seen, "the default sweep")

    with timed_transactions() as seen:
        sealed = chain_seal()
    assert sealed == BACKLOG == ChainSeal.objects.count()
    assert len(seen.durations) >= BACKLOG // 500
    assert_short(seen, "sealing")


def test_the_case_sweep_claims_one_case_per_transaction(world: dict[str, Any]) -> None:
    for i, slot in enumerate(open_slots(world, 200)):
        bad = {"reasons": ["attitude"], "comment": "态度不好"} if i % 2 else {}
        evaluation_submit(client=None, token=token_for(slot.public_id), level=1 if i % 2 else 5, channel="pad", **bad)
    cases = BadReviewCase.objects.count()
    assert cases == 100
    later = timezone.now() + dt.timedelta(days=90)  # every step is overdue
    with timed_transactions() as seen:
        result = cases_sweep(now=later)
    assert result.overdue == cases == BadReviewCase.objects.filter(overdue_at=later).count()
    assert len(seen.durations) >= cases
    assert_short(seen, "the case sweep")


def test_a_report_build_writes_only_its_progress_and_its_files(world: dict[str, Any]) -> None:
    busy_day(world, BACKLOG)
    rollups_rebuild()
    user = get_user_model().objects.create_user(username="manager", password="x")
    month = timezone.localdate().replace(day=1)
    report = MonthlyReport.objects.create(
        region=world["district"], month=month, requested_by=user, created_at=timezone.now()
    )
    with timed_transactions() as seen:
        assert report_build(report_id=report.pk) == "done"
    # The claim, a progress row per step, and the files: each a single statement.
    assert len(seen.durations) >= 3
    assert_short(seen, "a report build")
