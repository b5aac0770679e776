#!/usr/bin/env python
"""Public results benchmark: requests/s for a published region page of the demo city's full tree.

    cd /work/main && .venv/bin/python bench/public.py [--records 18000] [--seconds 20] [--clients 16] [--workers 2]

Steps (see bench/README.md, "Public pages"):
  1. drop and create the PostgreSQL database `haoping_bench`, migrate it and load the demo city
     (`load_demo`, which publishes its last full month for the city and each district);
  2. start granian (`haoping.asgi`, DEBUG off) as deploy/serve does;
  3. for --seconds each, C keep-alive clients GET the city's published month page, then a
     reference: the same server answering the smallest Django page there is (the favicon
     redirect), which bounds what any page can reach on this machine;
  4. print requests/s and latency percentiles of both, then stop the server and drop the database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # noqa: E402

MONTH_SCRIPT = r"""
from haoping.disclosure.models import Publication
p = Publication.objects.select_related("region").filter(region__parent__isnull=True).get()
print("BENCH-PAGE /gongkai/%s/%s/" % (p.region.code, p.month.strftime("%Y-%m")))
"""


async def hammer(port: int, path: str, clients: int, seconds: float) -> tuple[int, list[float], dict[int, int]]:
    raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.monotonic() + seconds

    async def client() -> None:
        conn = ingest.Conn(port)
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _body = await conn.request(raw)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), latencies, statuses


def report(name: str, done: int, latencies: list[float], statuses: dict[int, int], seconds: float) -> None:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"{name}: {done / seconds:.0f} req/s; p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms; "
        f"statuses {dict(sorted(statuses.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=18_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    # What ingest.start_server reads.
    args.server, args.interface, args.threads, args.port = "granian", "asgi", 16, 0
    args.db_socket, args.db_options = None, None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = ingest.app_env(workdir, args)
        ingest.drop_db(ingest.DB_NAME)
        ingest.pg_admin(f"CREATE DATABASE {ingest.DB_NAME}")
        run = {"cwd": ingest.ROOT, "env": env, "check": True}
        subprocess.run([ingest.PY, "manage.py", "migrate", "--no-input", "-v", "0"], **run)  # type: ignore[call-overload]
        started = time.monotonic()
        subprocess.run(
            [ingest.PY, "manage.py", "load_demo", "--records", str(args.records)], capture_output=True, **run
        )  # type: ignore[call-overload]
        print(f"demo of {args.records} records loaded and published in {time.monotonic() - started:.0f} s")
        out = subprocess.run(
            [ingest.PY, "manage.py", "shell", "-c", MONTH_SCRIPT], capture_output=True, text=True, **run
        ).stdout  # type: ignore[call-overload]
        page = next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("BENCH-PAGE "))
        server = ingest.start_server(args, env, workdir)
        try:
            print(f"{server.description}; {args.clients} clients, {args.seconds:g} s each")
            for name, path in (("region page " + page, page), ("reference /favicon.ico", "/favicon.ico")):
                asyncio.run(hammer(server.port, path, args.clients, 2))  # warm up
                done, latencies, statuses = asyncio.run(hammer(server.port, path, args.clients, args.seconds))
                report(name, done, latencies, statuses, args.seconds)
        finally:
            server.stop()
            if not args.keep_db:
                ingest.drop_db(ingest.DB_NAME)


if __name__ == "__main__":
    main()
