#!/usr/bin/env python
"""Chain sealing rate: how many evaluations per second the sweep seals into the chain.

    DATABASE_URL=postgres://…/DB .venv/bin/python bench/sealing.py [--runs 3] [--compare FILE]

DB must be a scratch PostgreSQL database holding evaluations (e.g. `manage.py load_demo` into it):
each run empties the chain's tables as the superuser (past the append-only triggers) and seals
every evaluation again with `chain_seal`, as the sweep does, in batches of 5,000. `--compare FILE`
also times the `chain_seal` of another version of haoping/evaluations/chain.py (e.g. one from
`git show`) on the same rows, alternating runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haoping.settings")


def reset() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE evaluations_chainseal, evaluations_chaincheckpoint")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE evaluations_chainseal")


def timed(seal: Any) -> tuple[int, float]:
    reset()
    start = time.perf_counter()
    sealed = seal()
    return sealed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", type=Path, help="another chain.py to time on the same rows")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from haoping.evaluations import chain

    settings.HAOPING_CHAIN_ANCHOR_LOG = Path(tempfile.mkdtemp()) / "anchors.log"
    versions: dict[str, Any] = {"this version": chain.chain_seal}
    if args.compare:
        spec = importlib.util.spec_from_file_location("chain_compared", args.compare)
        assert spec and spec.loader
        other = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = other  # dataclasses look their module up
        spec.loader.exec_module(other)
        versions[str(args.compare)] = other.chain_seal
    for run in range(1, args.runs + 1):
        for name, seal in versions.items():
            settings.HAOPING_CHAIN_ANCHOR_LOG.unlink(missing_ok=True)
            sealed, seconds = timed(seal)
            print(f"run {run} {name}: {sealed} sealed in {seconds:.2f} s = {sealed / seconds:,.0f}/s", flush=True)
    reset()
    settings.HAOPING_CHAIN_ANCHOR_LOG.unlink(missing_ok=True)
    chain.chain_seal()
    print("left sealed by this version; verify:", chain.chain_verify())


if __name__ == "__main__":
    main()
