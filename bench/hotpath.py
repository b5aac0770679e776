#!/usr/bin/env python
"""Single-process view of the rating hot path: per-request CPU and wall time, per-query time,
and a cProfile of POST /api/v1/evaluations called through the WSGI application directly (the fast
path in front of Django, as haoping.wsgi serves it; `--full` for Django alone)
(no HTTP server, no load generator), against a database prepared by `bench/ingest.py --keep-db`.

    cd /work/main && .venv/bin/python bench/ingest.py --records 3000 --seconds 1 --keep-db --save-seed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/haoping_bench \\
        .venv/bin/python bench/hotpath.py [-n 2000] [--profile]

Run it from a scratch copy of the project (`cd /tmp/scratch && /work/main/.venv/bin/python
bench/hotpath.py ...`) to measure what an app change would gain. It needs unrated slots in the
database: it rates `-n` of them (use a fresh clone: `ingest.py --reuse-seed --seconds 0 --keep-db`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haoping.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HAOPING_MASTER_KEY", "6b" * 32)
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("HAOPING_VAR_DIR", "/tmp")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402

from haoping.evaluations.fastpath import RatingFastPath  # noqa: E402
from haoping.records.links import token_for  # noqa: E402
from haoping.records.models import RatingSlot  # noqa: E402


def environ(body: bytes, key: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/evaluations",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--full", action="store_true", help="Django's request cycle only, without the fast path")
    ap.add_argument("--bad", action="store_true", help="level-1 ratings, which open a case")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--seed", default=str(Path("/tmp/haoping-bench-seed.json")))
    args = ap.parse_args()

    key = json.loads(Path(args.seed).read_text())["key"]
    free = list(RatingSlot.objects.filter(evaluations__isnull=True).values_list("public_id", flat=True)[: args.n + 60])
    if len(free) < args.n + 60:
        raise SystemExit(f"only {len(free)} unrated slots; need {args.n + 60}")
    rating = {"level": 1, "channel": "pad", "reasons": ["attitude"]} if args.bad else {"level": 5, "channel": "mobile"}
    bodies = [json.dumps({"token": token_for(p), **rating}).encode() for p in free]
    app = WSGIHandler() if args.full else RatingFastPath(WSGIHandler())
    statuses: dict[str, int] = {}

    def start_response(status: str, headers: list) -> None:
        statuses[status[:3]] = statuses.get(status[:3], 0) + 1

    def call(body: bytes) -> None:
        for _ in app(environ(body, key), start_response):
            pass

    for body in bodies[:50]:  # warm-up
        call(body)
    queries: list[tuple[float, str]] = []

    def timer(execute, sql, params, many, context):  # noqa: ANN001
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - t, sql))

    with connection.execute_wrapper(timer):
        for body in bodies[50:60]:
            call(body)
    timed = bodies[60 : 60 + args.n]
    prof = cProfile.Profile(time.process_time) if args.profile else None  # CPU time, not time waiting for PostgreSQL
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0, w0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    for body in timed:
        call(body)
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    print(f"statuses {statuses}")
    n = len(timed)
    print(
        f"{n} ratings: {wall / n * 1e3:.3f} ms wall, {cpu / n * 1e3:.3f} ms app CPU per rating"
        f" ({user / len(timed) * 1e3:.3f} user + {system / len(timed) * 1e3:.3f} system;"
        f" → at most {len(timed) / cpu:.0f}/s per core for the app alone)"
    )
    per = len(queries) // 10
    print(f"{per} queries per rating (mean of 10, ms as seen by Django incl. round trip):")
    for i in range(per):
        ms = sum(queries[j * per + i][0] for j in range(10)) / 10 * 1e3
        print(f"   {ms:6.3f}  {queries[i][1][:100]}")
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(args.top)
        print(s.getvalue())
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(args.top)
        print(s.getvalue())


if __name__ == "__main__":
    main()
