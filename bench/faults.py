#!/usr/bin/env python
"""Fault bench: the production server (`deploy/serve`) when a worker dies, and under slow clients.

    cd /work/main && .venv/bin/python bench/faults.py [--records 4000] [--seconds 12] [--clients 16] [--slow 1100]

Uses bench/ingest.py's database, directory and load generator (see bench/README.md), on its own
database `haoping_bench_faults`:
  1. a worker is killed (SIGKILL) a third into a run of ratings with C keep-alive clients: how long
     until ratings are acknowledged again, the longest pause, whether the worker was respawned,
     and whether every acknowledged rating is a row (an unacknowledged one may be too);
  2. N slow clients without a key (half on the rating API, half on a public rating page), each
     sending its headers and one byte of a 100-byte body, stay connected while C clients rate:
     the ratings/s and latencies the others get, and what the slow clients were answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # noqa: E402

DB = "haoping_bench_faults"
ROOT = ingest.ROOT


def workers(main_pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def serve(env: dict[str, str], workdir: Path, port: int, count: int) -> ingest.Server:
    env = {**env, "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": str(count)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = workdir / "server.log"
    with open(log, "ab") as fh:
        proc = ingest.subprocess.Popen(
            ["bash", str(ROOT / "deploy" / "serve"), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=ingest.subprocess.STDOUT,
            start_new_session=True,
        )
    server = ingest.Server(proc, port, log, f"deploy/serve, {count} workers")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        if len(workers(proc.pid)) == count:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    time.sleep(3)  # the workers load the application
                    return server
            except OSError:
                pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit("server did not start")


def stored(tokens: list[str]) -> set[str]:
    rows = ingest.pg_query(
        "SELECT s.public_id FROM evaluations_evaluation e JOIN records_ratingslot s ON s.id = e.slot_id"
        " WHERE s.public_id = ANY(%s)",
        ([t.split(".", 1)[0] for t in tokens],),
        db=DB,
    )
    return {r[0] for r in rows}


def kill_run(server: ingest.Server, key: str, tokens: list[str], args: argparse.Namespace) -> None:
    jobs = [
        (ingest.build_request("/api/v1/evaluations", key, ingest.rating_body(i, t, 2), server.port), t)
        for i, t in enumerate(tokens)
    ]
    victim = workers(server.proc.pid)[0]
    killed_at = 0.0

    async def run() -> ingest.Outcome:
        nonlocal killed_at

        async def kill() -> None:
            nonlocal killed_at
            await asyncio.sleep(args.seconds / 3)
            killed_at = time.perf_counter()
            os.kill(victim, signal.SIGKILL)

        killer = asyncio.create_task(kill())
        out = await ingest.drive(server.port, args.clients, jobs, args.seconds, 201)
        await killer
        return out

    out = asyncio.run(run())
    after = [t for t in out.accepted_at if t >= killed_at]
    times = sorted(out.accepted_at)
    gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=float("nan"))
    in_db = stored([t for _raw, t in jobs])
    acked = {t.split(".", 1)[0] for t in out.accepted_tokens}
    respawned = len(workers(server.proc.pid)) == args.workers and victim not in workers(server.proc.pid)
    print(f"worker killed after {args.seconds / 3:.0f} s of {args.seconds:.0f} s with {args.clients} clients:")
    print(
        f"  acknowledged {len(acked)} ratings ({len(acked) / (out.finished - out.started):.0f}/s), "
        f"{len(after)} after the kill; transport errors {out.errors}; statuses {out.statuses}"
    )
    print(
        f"  first acknowledged after the kill: {(after[0] - killed_at) * 1000 if after else float('nan'):.0f} ms;"
        f" longest pause between acknowledgements: {gap * 1000:.0f} ms"
    )
    print(f"  server alive: {server.proc.poll() is None}; worker respawned: {respawned}")
    print(
        f"  acknowledged and stored: {len(acked & in_db)} of {len(acked)}; stored but not acknowledged:"
        f" {len(in_db - acked)} (at most the {sum(out.errors.values())} requests cut off)"
    )


def slow_run(server: ingest.Server, key: str, tokens: list[str], args: argparse.Namespace) -> None:
    port = server.port

    def slow(path: str) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        sock.sendall((head + "Content-Length: 100\r\n\r\n{").encode())
        return sock

    socks = [slow("/api/v1/evaluations" if i % 2 else "/r/some-token/") for i in range(args.slow)]
    time.sleep(0.5)
    jobs = [
        (ingest.build_request("/api/v1/evaluations", key, ingest.rating_body(i, t, 2), port), t)
        for i, t in enumerate(tokens)
    ]
    out = asyncio.run(ingest.drive(port, args.clients, jobs, args.seconds, 201))
    answers: dict[str, int] = {}
    for sock in socks:
        sock.settimeout(15)
        try:
            head = sock.recv(64).split(b" ", 2)
            status = head[1].decode() if len(head) > 1 else "closed"
        except OSError:
            status = "no answer"
        answers[status] = answers.get(status, 0) + 1
        sock.close()
    lat = sorted(out.latencies)
    took = out.finished - out.started
    print(f"{args.slow} slow clients without a key, {args.clients} clients rating for {args.seconds:.0f} s:")
    print(
        f"  others: {len(out.accepted_tokens)} ratings acknowledged ({len(out.accepted_tokens) / took:.0f}/s); "
        f"p50 {ingest.percentile(lat, 50) * 1000:.1f} ms, p99 {ingest.percentile(lat, 99) * 1000:.1f} ms, "
        f"max {lat[-1] * 1000 if lat else float('nan'):.0f} ms; errors {out.errors}; statuses {out.statuses}"
    )
    print(f"  slow clients were answered: {dict(sorted(answers.items()))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=4000, help="rating tokens registered (shared by both runs)")
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slow", type=int, default=1100, help="slow clients in the second run")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="haoping-faults-"))
    ingest.DB_NAME = DB
    env = ingest.app_env(workdir, argparse.Namespace(db_socket=None, db_options=None))
    env["DATABASE_URL"] = ingest.database_url(DB)
    key = ingest.create_db(env)
    port = args.port or ingest.free_port()
    server = serve(env, workdir, port, args.workers)
    try:
        tokens = ingest.register_tokens(port, key, args.records, 16)
        half = len(tokens) // 2
        kill_run(server, key, tokens[:half], args)
        time.sleep(2)
        slow_run(server, key, tokens[half:], args)
    finally:
        server.stop()
        ingest.drop_db(DB)


if __name__ == "__main__":
    main()
