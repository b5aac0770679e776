#!/usr/bin/env python
"""Rollup update benchmark: the longest transaction (SQLite's write lock) of one rollup update
after new ratings on the demo database, beside the recount that the update used to run.

    cd /work/main && .venv/bin/python bench/rollups.py [--db var/demo.sqlite3] [--ratings 300]

Steps (see bench/README.md, "Rollup updates"):
  1. without --db: migrate a scratch SQLite database and load the demo city into it
     (`manage.py load_demo`, about a minute); with --db, a copy of that database is used;
  2. rebuild the rollups (a baseline counted by this code), then rate --ratings open services of
     the demo through `evaluation_submit` (levels 5, 4, 1; each bad one opens its case), as
     applicants would, without running an update;
  3. time `rollups_update()` with every transaction timed (haoping.indicators.tests.locking);
  4. the reference, in the same run: recount, in one transaction, the days that the update before
     this change recounted (those of the last 5,000 evaluations: `rollups_rebuild(first=…, last=…)`);
  5. check the rollups left by the update equal a rebuild from scratch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, help="a demo SQLite database (copied, never changed)")
    parser.add_argument("--ratings", type=int, default=300)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="haoping-bench-rollups-"))
    db = scratch / "demo.sqlite3"
    os.environ.update(
        HAOPING_VAR_DIR=str(scratch),
        DATABASE_URL=f"sqlite:///{db}",
        HAOPING_ROLLUPS_ENQUEUE="0",
        DJANGO_SETTINGS_MODULE="haoping.settings",
    )
    try:
        if args.db:
            shutil.copyfile(args.db, db)
            manage("migrate", "--no-input", "-v", "0")
        else:
            print("loading the demo city …", flush=True)
            manage("migrate", "--no-input", "-v", "0")
            manage("load_demo")
        run(args.ratings)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def manage(*command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def run(ratings: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.getLogger("haoping.messages").setLevel(logging.WARNING)  # one line per case opened
    from django.db.models import Max, Min
    from django.utils import timezone

    from haoping.errors import Conflict
    from haoping.evaluations import rules
    from haoping.evaluations.models import Evaluation, RatingSlot
    from haoping.evaluations.services import evaluation_submit
    from haoping.indicators.services import LOOKBACK, rollups_rebuild, rollups_update
    from haoping.indicators.tests.locking import timed_transactions
    from haoping.indicators.tests.test_rollup_properties import rows
    from haoping.records.links import token_for

    rollups_rebuild()  # a baseline counted by this code, whichever code built the database's rollups
    now = timezone.now()
    slots = RatingSlot.objects.filter(rules.window_open_q(now), evaluations__isnull=True)
    rated = 0
    for i, slot in enumerate(slots.exclude(kind="theme").order_by("id")[: ratings * 2]):
        level = [5, 4, 1][i % 3]
        bad = {"reasons": ["efficiency"], "comment": "排队时间太长"} if level <= 2 else {}
        try:
            evaluation_submit(client=None, token=token_for(slot.public_id), level=level, channel="mobile", **bad)
        except Conflict:
            continue  # rated with its batch or theme already
        rated += 1
        if rated == ratings:
            break
    print(f"{Evaluation.objects.count():,} evaluations; {rated} new ratings", flush=True)

    started = time.perf_counter()
    with timed_transactions() as seen:
        read = rollups_update()
    took = time.perf_counter() - started
    print(
        f"rollups_update(): read {read} evaluations and case steps in {took:.2f} s, {len(seen.durations)}"
        f" transactions; longest transaction {seen.longest_ms:.1f} ms",
        flush=True,
    )
    incremental = rows()

    tz = timezone.get_default_timezone()
    recent = Evaluation.objects.filter(pk__gt=(Evaluation.objects.aggregate(top=Max("id"))["top"] or 0) - LOOKBACK)
    first = timezone.localtime(recent.aggregate(first=Min("rated_at"))["first"], tz).date()
    with timed_transactions() as reference:
        rollups_rebuild(first=first, last=timezone.localdate())
    print(
        f"reference: the recount the update ran before, days {first} to today in one transaction:"
        f" {reference.longest_ms:.1f} ms",
        flush=True,
    )

    rollups_rebuild()
    print(f"update's rollups equal a rebuild from scratch: {'yes' if rows() == incremental else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
