#!/usr/bin/env python
"""Pad push benchmark: how long from a visit registered over the API to the event on the pad's
stream, with many pads connected to one server.

    cd /work/main && .venv/bin/python bench/pads.py [--pads 50] [--visits 300] [--workers 2]

Steps (see bench/README.md, "Window pads"):
  1. drop and create the PostgreSQL database `haoping_bench_pads`, migrate it, and in a
     `manage.py shell` subprocess create a hall with one window per pad, a staff member each, an
     API client, and the pads, registered and bound (this process never imports Django);
  2. start `deploy/serve` (granian, haoping.asgi) against it, `--workers` workers;
  3. open one event stream (`GET /pad/events/`, the pad's signed cookie) per pad and wait until
     every stream is listening;
  4. register the records (setup, not timed), then `--visits` visits, one at a time, each at the
     window of the next pad in turn with a random pause of 20–80 ms between them: the time from
     sending `POST /records/{no}/visits` to the `service` event naming that visit on its pad's
     stream is the push latency;
  5. print p50/p90/p99/max, check that every visit reached its pad and no other pad, stop the
     server and drop the database (unless --keep-db).

`--push` chooses how the pads are told (HAOPING_PAD_PUSH: postgresql, redis with --redis-url, or
poll, the fallback); by default the deployment's own choice (PostgreSQL here).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_NAME = os.environ.get("HAOPING_BENCH_DB", "haoping_bench_pads")
PG = dict(host="127.0.0.1", port=5432, user="postgres")

SETUP_SCRIPT = r"""
import json, os
from haoping.accounts.access import Actor
from haoping.accounts.services import api_client_create
from haoping.directory.models import Department, Institution, ServiceItem, Staff, Window
from haoping.directory.services import region_create
from haoping.pads.selectors import pad_cookie_value
from haoping.pads.services import pad_bind, pad_register

pads = int(os.environ["BENCH_PADS"])
city = region_create(code="320100", name="示例市")
district = region_create(code="320102", name="玄武区", parent=city)
dept = Department.objects.create(code="D-MKT", name="市场监督管理局", region=district)
hall = Institution.objects.create(code="H-XW", name="玄武区政务服务中心", kind="center", region=district)
ServiceItem.objects.create(code="ITEM-001", name="企业开办", department=dept, legal_days=20, promised_days=5)
manager = Actor(label="bench", roles=frozenset({"manager"}), region=district)
out = []
for i in range(1, pads + 1):
    window = Window.objects.create(code=f"W-{i:03d}", name=f"{i}号窗口", institution=hall, department=dept)
    Staff.objects.create(staff_no=f"S{i:03d}", name=f"员工{i}", department=dept, institution=hall, window=window)
    _pad, code = pad_register(actor=manager, window=window)
    out.append({"window": window.code, "cookie": pad_cookie_value(pad_bind(code=code))})
_, key = api_client_create(name="玄武区审批系统", region=district)
print("BENCH " + json.dumps({"key": key, "pads": out}))
"""


def pg_admin(sql: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(sql)


def app_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "HUEY_IMMEDIATE"}}
    env.update(
        DATABASE_URL=f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        HAOPING_MASTER_KEY="6b" * 32,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        HAOPING_VAR_DIR=str(workdir),
        HAOPING_ROLLUPS_ENQUEUE="0",
        DJANGO_SETTINGS_MODULE="haoping.settings",
        PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def setup(env: dict[str, str], pads: int) -> dict:
    pg_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    done = subprocess.run(
        [PY, "manage.py", "shell", "-c", SETUP_SCRIPT],
        cwd=ROOT,
        env={**env, "BENCH_PADS": str(pads)},
        check=True,
        capture_output=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise SystemExit(f"setup printed nothing:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict[str, str], port: int, workers: int, workdir: Path) -> subprocess.Popen:
    server_env = {**env, "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": str(workers)}
    log = (workdir / "server.log").open("ab")
    proc = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "serve")], cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


class Pad:
    """One pad's event stream: when each service id was announced (monotonic time)."""

    def __init__(self, window: str, cookie: str) -> None:
        self.window, self.cookie = window, cookie
        self.seen: dict[str, float] = {}
        self.listening = asyncio.Event()
        self.arrived = asyncio.Event()

    async def follow(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"GET /pad/events/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                f"Cookie: haoping_pad={self.cookie}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        event = ""
        while True:
            line = (await reader.readline()).decode("utf-8", "replace").strip()
            if not line and reader.at_eof():
                return
            if line.startswith(": waiting"):
                self.listening.set()
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "service":
                service = json.loads(line.split(":", 1)[1])["service"]
                if service:
                    self.seen[service] = time.monotonic()
                    self.arrived.set()
                event = ""


async def post(port: int, key: str, path: str, body: dict) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    raw = json.dumps(body).encode()
    writer.write(
        (
            f"POST /api/v1{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + raw
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = payload.partition(b"\r\n")
        payload = rest[: int(size, 16)]
    return status, json.loads(payload or b"{}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(port: int, data: dict, visits: int) -> dict:
    key = data["key"]
    pads = [Pad(p["window"], p["cookie"]) for p in data["pads"]]
    tasks = [asyncio.create_task(pad.follow(port)) for pad in pads]
    await asyncio.wait_for(asyncio.gather(*(pad.listening.wait() for pad in pads)), 30)
    now = dt.datetime.now(dt.UTC)
    numbers = [f"PADB-{i:05d}" for i in range(visits)]
    for no in numbers:
        body = {
            "record_no": no,
            "item_code": "ITEM-001",
            "institution_code": "H-XW",
            "mode": "onsite",
            "on_the_spot": False,
            "applicant": {"kind": "person", "name": "张三", "phone": "13812345678", "id_number": ""},
            "accepted_at": (now - dt.timedelta(minutes=5)).isoformat(),
        }
        status, answer = await post(port, key, "/records", body)
        assert status == 201, (status, answer)
    latencies, missing, stray = [], 0, 0
    for i, no in enumerate(numbers):
        pad = pads[i % len(pads)]
        await asyncio.sleep(random.uniform(0.02, 0.08))
        sent = time.monotonic()
        status, answer = await post(
            port,
            key,
            f"/records/{no}/visits",
            {"window_code": pad.window, "at": dt.datetime.now(dt.UTC).isoformat()},
        )
        assert status == 201, (status, answer)
        service = answer["evaluation_url"].rstrip("/").rsplit("/", 1)[1].split(".")[0]
        deadline = time.monotonic() + 5
        while service not in pad.seen and time.monotonic() < deadline:
            pad.arrived.clear()
            try:
                await asyncio.wait_for(pad.arrived.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
        if service in pad.seen:
            latencies.append((pad.seen[service] - sent) * 1000)
        else:
            missing += 1
        stray += sum(service in other.seen for other in pads if other is not pad)
    for task in tasks:
        task.cancel()
    return {"latencies": latencies, "missing": missing, "stray": stray}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pads", type=int, default=50)
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--push", choices=["auto", "postgresql", "redis", "poll"], default="auto")
    parser.add_argument("--redis-url", default="", help="for --push redis, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.push == "redis" and not args.redis_url:
        # Without a Redis to listen to, the streams would fall back to polling and be measured as such.
        parser.error("--push redis needs --redis-url")
    workdir = Path(tempfile.mkdtemp(prefix="haoping-bench-pads-"))
    env = app_env(workdir)
    env["HAOPING_PAD_PUSH"] = args.push
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    data = setup(env, args.pads)
    port = free_port()
    server = serve(env, port, args.workers, workdir)
    try:
        result = asyncio.run(run(port, data, args.visits))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep_db:
            pg_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    values = result["latencies"]
    load = os.getloadavg()[0]
    print(
        f"pads: {args.pads} streams on one server ({args.workers} granian workers), visits: {args.visits}, "
        f"push: {args.push}"
    )
    print(f"delivered: {len(values)}, missing: {result['missing']}, delivered to another pad: {result['stray']}")
    if values:
        print(
            f"push latency (ms): p50 {percentile(values, 50):.1f}  p90 {percentile(values, 90):.1f}  "
            f"p99 {percentile(values, 99):.1f}  max {max(values):.1f}"
        )
    print(f"load average (1 min) at the end: {load:.1f}")


if __name__ == "__main__":
    main()
