#!/usr/bin/env python
"""Rating-ingest benchmark: how many ratings per second the API accepts, and how fast.

    cd /work/main && .venv/bin/python bench/ingest.py [--records N] [--seconds 60] [--clients C] [--workers W]

Steps (see bench/README.md):
  1. drop and create the PostgreSQL database `haoping_bench`, migrate it, create a small directory
     and an API client (in a `manage.py shell` subprocess: this process never imports Django);
  2. start granian (`haoping.asgi` by default) against it with DEBUG off;
  3. register N completed service records over HTTP (in batches), then more in bulk, and a history of records
     already rated (setup, not timed);
  4. submit one rating per token with C concurrent keep-alive clients for --seconds;
  5. print accepted ratings/s, latency percentiles, errors by status, and check the database
     holds exactly the accepted ratings besides the untouched history;
  6. stop the server and drop the database (unless --keep-db).

The load generator is plain asyncio streams with hand-built HTTP/1.1 requests and minimal
response parsing, so it spends little CPU of the two cores it shares with the server and PostgreSQL.
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
from dataclasses import dataclass, field
from pathlib import Path

import psycopg  # the only non-stdlib import: setup and checks talk to PostgreSQL directly

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Another name keeps runs on a shared machine apart (each drops and creates its database).
DB_NAME = os.environ.get("HAOPING_BENCH_DB", "haoping_bench")
SEED_DB = f"{DB_NAME}_seed"
PG = dict(host="127.0.0.1", port=5432, user="postgres")
MASTER_KEY = "6b" * 32  # fixed, so that tokens stay valid across runs (--reuse-seed)

SETUP_SCRIPT = r"""
import json
from haoping.accounts.services import api_client_create
from haoping.directory.models import Department, Institution, ServiceItem, Staff, Window
from haoping.directory.services import region_create

city = region_create(code="320100", name="示例市")
district = region_create(code="320102", name="玄武区", parent=city)
dept = Department.objects.create(code="D-MKT", name="市场监督管理局", region=district)
hall = Institution.objects.create(code="H-XW", name="玄武区政务服务中心", kind="center", region=district)
windows = [
    Window.objects.create(code=f"W-XW-{i:02d}", name=f"{i}号窗口", institution=hall, department=dept)
    for i in range(1, 5)
]
for i in range(1, 6):
    ServiceItem.objects.create(code=f"ITEM-{i:03d}", name=f"事项{i}", department=dept, legal_days=20, promised_days=5)
for i, window in enumerate(windows, 1):
    Staff.objects.create(staff_no=f"S{i:03d}", name=f"员工{i}", department=dept, institution=hall, window=window)
_, key = api_client_create(name="玄武区审批系统", region=district)
print("BENCH-KEY " + json.dumps({"key": key}))
"""

# More completed records, inserted the way the demo loads history (haoping.demo.bulk: the same
# rows as the records services write), for runs longer than HTTP registration can feed.
BULK_SCRIPT = r"""
import datetime as dt, json, os
from haoping.demo.bulk import register_bulk
from haoping.demo.directory import ItemRef
from haoping.demo.people import Party
from haoping.demo.plan import RecordPlan
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import evaluation_build, new_receipt
from haoping.records.links import token_for
from haoping.records.models import RatingSlot

run = os.environ["BENCH_RUN"]


def register(prefix, n, completed, phone, born):
    # n completed on-the-spot records, numbered {prefix}{run}-0000000 on, registered 20,000 at a time.
    for start in range(0, n, 20_000):
        register_bulk([
            RecordPlan(
                item=ItemRef(code=f"ITEM-{i % 5 + 1:03d}", spec=None, department_code="D-MKT"),
                region_code="320102", institution="H-XW", platform=None,
                window=f"W-XW-{i % 4 + 1:02d}", staff=f"S{i % 4 + 1:03d}", mode="onsite", on_the_spot=True,
                applicant=Party(kind="person", name="张三", phone=f"{phone}{i:08d}", id_number=f"320102{born}{i:08d}"),
                agent=None, accepted_at=completed - dt.timedelta(hours=1), completed_at=completed,
                record_no=f"{prefix}{run}-{i:07d}",
            )
            for i in range(start, min(n, start + 20_000))
        ])
        first, last = f"{prefix}{run}-{start:07d}", f"{prefix}{run}-{start + 20_000:07d}"
        yield RatingSlot.objects.filter(record__record_no__gte=first, record__record_no__lt=last)


tokens = []
an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
for slots in register("B", int(os.environ["BENCH_BULK"]), an_hour_ago, "139", "1990"):
    tokens += [token_for(p) for p in slots.values_list("public_id", flat=True)]
with open(os.environ["BENCH_TOKENS"], "w") as f:
    json.dump(tokens, f)

# History: records of the past days, rated when they were done, so that the evaluation table and its
# indexes hold what a running system's do (and PostgreSQL's statistics and plans see them).
done = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
for slots in register("H", int(os.environ["BENCH_HISTORY"]), done, "138", "1980"):
    Evaluation.objects.bulk_create(
        [
            evaluation_build(
                slot, level=(5, 5, 4, 5, 3)[k % 5], source="active", channel=("mobile", "pad", "qrcode")[k % 3],
                rated_by="applicant", rated_at=slot.opens_at + dt.timedelta(minutes=5),
                created_at=slot.opens_at + dt.timedelta(minutes=5), answers={}, reasons=[], comment="",
                receipt=new_receipt(), client_ref="", overall=False,
            )
            for k, slot in enumerate(slots.select_related("record__item", "visit__window"))
        ],
        batch_size=2000,
    )
"""


# ----------------------------------------------------------------------------------------------
# PostgreSQL


def pg_admin(sql: str, db: str = "postgres") -> None:
    with psycopg.connect(dbname=db, autocommit=True, **PG) as conn:
        conn.execute(sql)


def pg_query(sql: str, params: tuple = (), db: str | None = None) -> list[tuple]:
    """`db`: by default the bench database (`DB_NAME`, which bench/paired.py sets per round)."""
    with psycopg.connect(dbname=db or DB_NAME, autocommit=True, **PG) as conn:
        return conn.execute(sql, params).fetchall()


def db_exists(name: str) -> bool:
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone())


def drop_db(name: str) -> None:
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_url(db: str = DB_NAME) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}"


def app_env(workdir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    url = database_url()
    if args.db_socket:  # PostgreSQL on the same host: a Unix socket instead of TCP loopback
        url = f"postgres://{PG['user']}@{args.db_socket.replace('/', '%2F')}/{DB_NAME}"
    if args.db_options:  # e.g. server_side_binding=true (dj-database-url turns these into OPTIONS)
        url += "?" + args.db_options
    env.update(
        DATABASE_URL=url,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        HAOPING_MASTER_KEY=MASTER_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1:8000",
        HAOPING_VAR_DIR=str(workdir),
        DJANGO_SETTINGS_MODULE="haoping.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("REDIS_URL", None)
    return env


def create_db(env: dict[str, str]) -> str:
    """Fresh database, migrated, with a small directory; returns the API key."""
    drop_db(DB_NAME)
    pg_admin(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", SETUP_SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("BENCH-KEY "):
            return json.loads(line[len("BENCH-KEY ") :])["key"]
    raise SystemExit(f"directory setup printed no key:\n{out}")


# ----------------------------------------------------------------------------------------------
# The server


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path
    description: str

    def pids(self) -> list[int]:
        """The master and its workers."""
        kids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == self.proc.pid:
                    kids.append(int(entry.name))
        return [self.proc.pid, *kids]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> Server:
    port = args.port or free_port()
    log = workdir / "server.log"
    if args.server == "granian":
        cmd = [
            PY,
            "-m",
            "granian",
            "--interface",
            "asginl" if args.interface == "asgi" else args.interface,  # Django speaks no ASGI lifespan
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            # ASGI: one event loop per worker (uvloop, as the README serves it); WSGI: a pool
            # of request threads.
            *(["--blocking-threads", str(args.threads)] if args.interface == "wsgi" else ["--loop", "uvloop"]),
            "--runtime-threads",
            "1",
            "--http",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
            f"haoping.{args.interface}:application",
        ]
        desc = f"granian {args.interface.upper()}, {args.workers} workers"
        if args.interface == "wsgi":
            desc = f"granian WSGI, {args.workers} workers x {args.threads} blocking threads"
    else:
        cmd = [
            str(Path(PY).parent / "gunicorn"),
            "haoping.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.server,
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ]
        if args.server == "gthread":
            cmd += [
                "--threads",
                str(args.threads),
                "--keep-alive",
                "30",
                "--worker-connections",
                str(max(1000, args.clients * 2)),
            ]
            desc = f"gunicorn gthread, {args.workers} workers x {args.threads} threads, keep-alive"
        else:
            desc = f"gunicorn sync, {args.workers} workers (sync closes every connection)"
    desc += f"; DB over {'Unix socket' if args.db_socket else 'TCP 127.0.0.1'}, pool of 8 connections per worker"
    if args.db_options:
        desc += f", {args.db_options}"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    return listening(Server(proc, port, log, desc), 30)


def listening(server: Server, seconds: float, name: str = "server") -> Server:
    """`server` once it accepts connections; exits with its log if it stops or is not up in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} did not start listening within {seconds:g} s")


# ----------------------------------------------------------------------------------------------
# The load generator: asyncio streams, HTTP/1.1 keep-alive, hand-built requests


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opens = 0

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.opens += 1
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; return (status, body). Reconnects once if the server closed an idle connection."""
        for attempt in (0, 1):
            if self.writer is None:
                await self.open()
            try:
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        status = int(head[9:12])
        length = -1
        close = False
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, body


def build_request(path: str, key: str, body: dict, port: int) -> bytes:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def record_body(i: int, run: str, now: dt.datetime, prefix: str = "B") -> dict:
    tz = dt.timezone(dt.timedelta(hours=8))
    accepted = (now - dt.timedelta(hours=3)).astimezone(tz)
    w = i % 4 + 1
    return {
        "record_no": f"{prefix}{run}-{i:07d}",
        "item_code": f"ITEM-{i % 5 + 1:03d}",
        "institution_code": "H-XW",
        "window_code": f"W-XW-{w:02d}",
        "staff_no": f"S{w:03d}",
        "mode": "onsite",
        "on_the_spot": True,
        "applicant": {"kind": "person", "name": "张三", "phone": f"138{i:08d}", "id_number": f"3201021990{i:08d}"},
        "accepted_at": accepted.isoformat(),
        "completed_at": (accepted + dt.timedelta(hours=1)).isoformat(),
    }


# Good and middling ratings, across channels; a questionnaire on some.
GOOD_MIX = [
    {"level": 5, "channel": "mobile"},
    {"level": 5, "channel": "pad"},
    {"level": 5, "channel": "qrcode"},
    {"level": 4, "channel": "mobile", "answers": {"guide_clear": 5, "procedure_convenient": 4}},
    {"level": 4, "channel": "kiosk"},
    {"level": 5, "channel": "sms"},
    {"level": 3, "channel": "phone"},
    {"level": 5, "channel": "pc"},
]
# Bad ratings carry a reason on screen channels (R8), and each opens a case (R12).
BAD_MIX = [
    {"level": 2, "channel": "mobile", "reasons": ["efficiency"], "comment": "排队时间太长"},
    {"level": 1, "channel": "pad", "reasons": ["attitude", "repeat_visits"]},
]


def rating_body(i: int, token: str, bad_percent: float) -> dict:
    """The i-th rating: bad ones spread evenly, `bad_percent` in every hundred."""
    bad = int((i + 1) * bad_percent / 100) > int(i * bad_percent / 100)
    mix = BAD_MIX if bad else GOOD_MIX
    return {"token": token, **mix[i % len(mix)]}


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, every response
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # transport errors
    accepted_tokens: list[str] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)  # perf_counter of each accepted answer
    samples: dict[int, bytes] = field(default_factory=dict)  # first body per non-2xx status
    started: float = 0.0
    finished: float = 0.0
    reconnects: int = 0


async def drive(port: int, clients: int, jobs: list[tuple[bytes, str]], seconds: float | None, ok: int) -> Outcome:
    """Send `jobs` (request bytes, tag) with `clients` concurrent connections until done or time is up."""
    out = Outcome()
    it = iter(jobs)
    conns = [Conn(port) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in conns))
    out.started = time.perf_counter()
    deadline = out.started + seconds if seconds is not None else float("inf")
    perf = time.perf_counter
    lat = out.latencies
    statuses = out.statuses

    async def worker(conn: Conn) -> None:
        for raw, tag in it:
            t0 = perf()
            if t0 >= deadline:
                return
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                name = type(exc).__name__
                out.errors[name] = out.errors.get(name, 0) + 1
                conn.close()
                continue
            t1 = perf()
            lat.append(t1 - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if status == ok:
                out.accepted_tokens.append(tag)
                out.accepted_at.append(t1)
            elif status not in out.samples:
                out.samples[status] = body[:300]

    await asyncio.gather(*(worker(c) for c in conns))
    out.finished = perf()
    out.reconnects = sum(c.opens - 1 for c in conns)
    for c in conns:
        c.close()
    return out


def by_10s(out: Outcome) -> list[int]:
    """Accepted answers in each whole 10 s of the run."""
    counts = [0] * int((out.finished - out.started) // 10)
    for at in out.accepted_at:
        slot = int((at - out.started) // 10)
        if slot < len(counts):
            counts[slot] += 1
    return counts


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# ----------------------------------------------------------------------------------------------
# CPU accounting from /proc (who used the two cores during the timed run)

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu() -> dict[int, tuple[str, float, float]]:
    """pid → (kind, user+system seconds, system seconds) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            if comm.startswith("postgres"):
                # "postgres: 15/main: postgres haoping_bench 127.0.0.1(…)" for a backend of ours,
                # "postgres: 15/main: walwriter" etc. for the cluster's own processes.
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if f" {DB_NAME} " in title:
                    comm = "postgres"
                elif " postgres " in title.split(":", 2)[-1][:12] or "(" in title:
                    comm = "postgres backend of another database"
                else:
                    comm = "postgres"  # walwriter, checkpointer, autovacuum: work our commits cause
        except (OSError, ValueError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (comm, (int(fields[11]) + int(fields[12])) / CLK, int(fields[12]) / CLK)
    return table


def machine_busy() -> tuple[float, float]:
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts) - idle) / CLK, sum(parts) / CLK


def cpu_split(before: dict, after: dict, server_pids: set[int]) -> dict[str, float]:
    split = {"server": 0.0, "postgres": 0.0, "load generator": 0.0, "other": 0.0}
    system = {"server": 0.0, "postgres": 0.0}
    others: dict[str, float] = {}
    me = os.getpid()
    for pid, (comm, t, st) in after.items():
        t0, st0 = before[pid][1:] if pid in before else (0.0, 0.0)
        dt_cpu = t - t0
        if dt_cpu <= 0:
            continue
        if pid in server_pids:
            system["server"] += st - st0
        elif comm == "postgres":
            system["postgres"] += st - st0
        if pid == me:
            split["load generator"] += dt_cpu
        elif pid in server_pids:
            split["server"] += dt_cpu
        elif comm == "postgres":
            split["postgres"] += dt_cpu
        else:
            split["other"] += dt_cpu
            others[comm] = others.get(comm, 0.0) + dt_cpu
    split["_system"] = system  # type: ignore[assignment]
    split["_others"] = dict(sorted(others.items(), key=lambda kv: -kv[1])[:5])  # type: ignore[assignment]
    return split


# ----------------------------------------------------------------------------------------------


def register_tokens(port: int, key: str, n: int, clients: int, batch: int = 500) -> list[str]:
    """Register n completed records through `POST /records/batch`, `batch` to a request over
    `clients` connections; return their rating tokens (last path segment of evaluation_url)."""
    run = f"{int(time.time()) % 100000:05d}"
    now = dt.datetime.now(dt.UTC)
    tokens: list[str] = []

    async def go() -> Outcome:
        out = Outcome()
        it = iter(range(0, n, batch))
        conns = [Conn(port) for _ in range(clients)]

        async def worker(conn: Conn) -> None:
            for start in it:
                rows = [record_body(i, run, now) for i in range(start, min(n, start + batch))]
                status, body = await conn.request(build_request("/api/v1/records/batch", key, {"records": rows}, port))
                if status != 200:
                    out.statuses[status] = out.statuses.get(status, 0) + 1
                    out.samples.setdefault(status, body[:300])
                    continue
                for result in json.loads(body)["results"]:
                    out.statuses[result["status"]] = out.statuses.get(result["status"], 0) + 1
                    if result["status"] == 201:
                        url = result["completion"]["evaluation_url"]
                        tokens.append(url.rstrip("/").rsplit("/", 1)[1])
                    else:
                        out.samples.setdefault(result["status"], json.dumps(result).encode()[:300])

        await asyncio.gather(*(worker(c) for c in conns))
        for c in conns:
            c.close()
        return out

    t0 = time.perf_counter()
    out = asyncio.run(go())
    took = time.perf_counter() - t0
    bad = {s: c for s, c in out.statuses.items() if s != 201}
    if bad:
        raise SystemExit(f"registration failed: {bad} {out.samples}")
    print(f"  registered {n} completed records in batches in {took:.1f} s ({n / took:.0f} records/s)", flush=True)
    return tokens


def register_bulk(env: dict[str, str], workdir: Path, n: int, history: int) -> list[str]:
    t0 = time.perf_counter()
    out = workdir / "bulk-tokens.json"
    bulk_env = {
        **env,
        "BENCH_BULK": str(n),
        "BENCH_HISTORY": str(history),
        "BENCH_RUN": f"{int(time.time()) % 100000:05d}",
        "BENCH_TOKENS": str(out),
    }
    subprocess.run([PY, "manage.py", "shell", "-c", BULK_SCRIPT], cwd=ROOT, env=bulk_env, check=True)
    tokens: list[str] = json.loads(out.read_text())
    print(
        f"  added {len(tokens)} completed records, and {history} more of past days already rated,"
        f" in bulk in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return tokens


def history_mark() -> tuple[int, int]:
    """The newest evaluation id and the number of evaluations before the ratings of this run."""
    last, count = pg_query("SELECT coalesce(max(id), 0), count(*) FROM evaluations_evaluation")[0]
    return last, count


def verify(accepted_tokens: list[str], history: tuple[int, int]) -> dict[str, object]:
    """The rows after the history are exactly the accepted ratings; the history is untouched."""
    last, count = history
    rows = pg_query(
        "SELECT count(*), count(DISTINCT e.slot_id), count(*) FILTER (WHERE e.source <> 'active') "
        "FROM evaluations_evaluation e WHERE e.id > %s",
        (last,),
    )[0]
    kept = pg_query("SELECT count(*) FROM evaluations_evaluation WHERE id <= %s", (last,))[0][0]
    in_db = {
        r[0]
        for r in pg_query(
            "SELECT s.public_id FROM evaluations_evaluation e JOIN records_ratingslot s ON s.id = e.slot_id"
            " WHERE e.id > %s",
            (last,),
        )
    }
    sent = [t.split(".", 1)[0] for t in accepted_tokens]
    return {
        "history": kept,
        "rows": rows[0],
        "distinct_slots": rows[1],
        "non_active": rows[2],
        "accepted": len(sent),
        "accepted_distinct": len(set(sent)),
        "exact": rows[0] == len(sent) == rows[1] == len(set(sent))
        and in_db == set(sent)
        and rows[2] == 0
        and kept == count,
    }


# ----------------------------------------------------------------------------------------------
# Record intake: what business systems push before anything can be rated


@dataclass
class Intake:
    """One timed run of record intake: single `POST /records`, or batches of `POST /records/batch`."""

    kind: str
    clients: int
    seconds: float = 0.0
    requests: int = 0
    acknowledged: list[str] = field(default_factory=list)  # record numbers answered 201
    statuses: dict[int, int] = field(default_factory=dict)  # per request (single) or per row (batch)
    errors: dict[str, int] = field(default_factory=dict)
    samples: dict[int, bytes] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds per request

    @property
    def per_s(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0


async def drive_intake(port: int, key: str, prefix: str, clients: int, seconds: float, batch: int, run: str) -> Intake:
    """Register new completed records, each number once, with `clients` connections for `seconds`:
    one record a request (`batch` 0) or `batch` records a request."""
    now = dt.datetime.now(dt.UTC)
    out = Intake("batch" if batch else "single", clients)
    numbers = iter(range(10**7))
    conns = [Conn(port) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in conns))
    perf = time.perf_counter
    started = perf()
    deadline = started + seconds

    async def worker(conn: Conn) -> None:
        while perf() < deadline:
            if batch:
                rows = [record_body(next(numbers), run, now, prefix) for _ in range(batch)]
                raw = build_request("/api/v1/records/batch", key, {"records": rows}, port)
            else:
                row = record_body(next(numbers), run, now, prefix)
                raw = build_request("/api/v1/records", key, row, port)
            t0 = perf()
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                out.errors[type(exc).__name__] = out.errors.get(type(exc).__name__, 0) + 1
                conn.close()
                continue
            out.latencies.append(perf() - t0)
            out.requests += 1
            if batch and status == 200:
                for result in json.loads(body)["results"]:
                    out.statuses[result["status"]] = out.statuses.get(result["status"], 0) + 1
                    if result["status"] == 201:
                        out.acknowledged.append(result["record_no"])
                    elif result["status"] not in out.samples:
                        out.samples[result["status"]] = json.dumps(result, ensure_ascii=False)[:300].encode()
                continue
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if status == 201 and not batch:
                out.acknowledged.append(row["record_no"])
            elif status not in out.samples:
                out.samples[status] = body[:300]

    await asyncio.gather(*(worker(c) for c in conns))
    out.seconds = perf() - started
    for c in conns:
        c.close()
    return out


def verify_records(prefix: str, acknowledged: list[str]) -> dict[str, object]:
    """Every acknowledged record stored exactly once with its one completion slot, and nothing else
    under the run's numbers."""
    rows = pg_query(
        "SELECT r.record_no, count(s.id) FROM records_servicerecord r"
        " LEFT JOIN records_ratingslot s ON s.record_id = r.id AND s.kind = 'completion'"
        " WHERE r.record_no LIKE %s GROUP BY r.record_no",
        (prefix + "%",),
    )
    stored = {no for no, _slots in rows}
    return {
        "stored": len(rows),
        "acknowledged": len(acknowledged),
        "acknowledged_distinct": len(set(acknowledged)),
        "slots_not_one": sum(1 for _no, slots in rows if slots != 1),
        "exact": stored == set(acknowledged) and len(acknowledged) == len(rows) and all(n == 1 for _no, n in rows),
    }


def intake_report(result: Intake, check: dict[str, object]) -> dict[str, object]:
    lat = sorted(result.latencies)
    return {
        "clients": result.clients,
        "seconds": round(result.seconds, 2),
        "requests": result.requests,
        "records_acknowledged": len(result.acknowledged),
        "records_per_s": round(result.per_s, 1),
        "request_p50_ms": round(percentile(lat, 50) * 1000, 1),
        "request_p99_ms": round(percentile(lat, 99) * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "errors": result.errors,
        "db_check": check,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--records",
        type=int,
        default=5_000,
        help="records (tokens) to register over the API as setup",
    )
    ap.add_argument(
        "--bulk",
        type=int,
        default=300_000,
        help="more completed records, inserted in bulk as the demo loads history, after the HTTP ones",
    )
    ap.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="length of the timed rating run (0: none, to keep unrated slots for hotpath.py)",
    )
    ap.add_argument(
        "--history",
        type=int,
        default=300_000,
        help="records of past days, already rated, loaded with the bulk records (the evaluation table's history)",
    )
    ap.add_argument(
        "--clients",
        type=int,
        default=64,
        help="concurrent rating connections (each waits for its answer before sending the next rating)",
    )
    ap.add_argument(
        "--server",
        choices=["granian", "gthread", "sync"],
        default="granian",
        help="granian (ASGI or WSGI, see --interface), gunicorn gthread or gunicorn sync",
    )
    ap.add_argument(
        "--interface",
        choices=["asgi", "wsgi"],
        default="asgi",
        help="granian's interface: haoping.asgi (fast path on the event loop; as deploy/serve), or haoping.wsgi",
    )
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--threads", type=int, default=16, help="threads per worker (gthread, granian WSGI)")
    ap.add_argument(
        "--register-clients", type=int, default=4, help="concurrent connections registering the setup's batches"
    )
    ap.add_argument("--warmup", type=int, default=2000, help="ratings sent before the timed run (not timed)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument(
        "--bad-percent",
        type=float,
        default=2.0,
        help="share of bad ratings (levels 1-2, each opening a case); the demo city has 1.5 %%",
    )
    ap.add_argument(
        "--db-socket",
        metavar="DIR",
        default="",
        help="the server reaches PostgreSQL through this Unix-socket directory (e.g. /var/run/postgresql)",
    )
    ap.add_argument(
        "--db-options",
        metavar="QUERY",
        default="",
        help="query string appended to the server's DATABASE_URL, e.g. server_side_binding=true",
    )
    ap.add_argument(
        "--save-seed",
        action="store_true",
        help=f"after registration, keep a copy of the database as {SEED_DB} (for --reuse-seed)",
    )
    ap.add_argument(
        "--reuse-seed",
        action="store_true",
        help=f"clone {SEED_DB} instead of migrating and registering again (dev iteration)",
    )
    ap.add_argument("--keep-db", action="store_true", help=f"leave {DB_NAME} in place afterwards")
    ap.add_argument(
        "--profile",
        metavar="CMD",
        default="",
        help="shell command run during the timed run; {pids} is replaced by the worker pids",
    )
    ap.add_argument(
        "--record-seconds",
        type=float,
        default=30.0,
        help="length of each timed record-intake run after the ratings (single, then batch; 0: none)",
    )
    ap.add_argument("--record-clients", type=int, default=16, help="connections registering single records")
    ap.add_argument("--batch-clients", type=int, default=4, help="connections sending record batches")
    ap.add_argument("--batch-size", type=int, default=1000, help="records per batch request")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haoping-bench-"))
    env = app_env(workdir, args)
    seed_tokens = workdir.parent / f"{DB_NAME.replace('_', '-')}-seed.json"
    server: Server | None = None
    print(f"haoping ingest bench  {dt.datetime.now():%Y-%m-%d %H:%M}  cpus={os.cpu_count()}", flush=True)
    try:
        # 1. the database
        t0 = time.perf_counter()
        if args.reuse_seed and db_exists(SEED_DB) and seed_tokens.exists():
            saved = json.loads(seed_tokens.read_text())
            key, tokens = saved["key"], saved["tokens"]
            drop_db(DB_NAME)
            pg_admin(f"CREATE DATABASE {DB_NAME} TEMPLATE {SEED_DB}")
            # The app may have gained migrations since the seed was made.
            subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
            print(
                f"  cloned {SEED_DB} and migrated: {len(tokens)} unrated tokens ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
            server = start_server(args, env, workdir)
        else:
            key = create_db(env)
            print(f"  created and migrated {DB_NAME} ({time.perf_counter() - t0:.1f} s)", flush=True)
            # 2. the server, 3. the records
            server = start_server(args, env, workdir)
            try:
                tokens = register_tokens(server.port, key, args.records, args.register_clients)
            except SystemExit:
                print(f"server log (end):\n{server.log.read_text(errors='replace')[-4000:]}", flush=True)
                raise
            if args.bulk:
                tokens += register_bulk(env, workdir, args.bulk, args.history)
            if args.save_seed:
                server.stop()
                drop_db(SEED_DB)
                pg_admin(f"CREATE DATABASE {SEED_DB} TEMPLATE {DB_NAME}")
                seed_tokens.write_text(json.dumps({"key": key, "tokens": tokens}))
                server = start_server(args, env, workdir)
        print(f"  server: {server.description}", flush=True)
        # Settle the database the way autovacuum and the checkpointer would, so that neither lands
        # inside the timed run by chance.
        pg_admin("VACUUM ANALYZE", db=DB_NAME)
        pg_admin("CHECKPOINT")

        random.Random(42).shuffle(tokens)
        jobs = [
            (build_request("/api/v1/evaluations", key, rating_body(i, t, args.bad_percent), server.port), t)
            for i, t in enumerate(tokens)
        ]
        warm, timed = jobs[: args.warmup], jobs[args.warmup :]

        # 4. warm-up (workers import lazily, open DB connections, fill the key cache), then the run
        history = history_mark()
        w = asyncio.run(drive(server.port, args.clients, warm, None, 201))
        print(f"  warm-up: {sum(w.statuses.values())} ratings {dict(sorted(w.statuses.items()))}", flush=True)
        cpu0, busy0, pids = proc_cpu(), machine_busy(), set(server.pids())
        profiler = None
        if args.profile:
            workers = ",".join(str(p) for p in sorted(pids) if p != server.proc.pid)
            profiler = subprocess.Popen(args.profile.replace("{pids}", workers), shell=True, start_new_session=True)
        out = asyncio.run(drive(server.port, args.clients, timed, args.seconds, 201))
        cpu1, busy1 = proc_cpu(), machine_busy()
        if profiler is not None:
            try:
                profiler.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(profiler.pid, signal.SIGINT)
                profiler.wait()
        # The records business systems push, on the same server right after the ratings: one a
        # request, then in batches; each run with its own numbers, checked against the database.
        intake: dict[str, dict[str, object]] = {}
        if args.record_seconds:
            run = f"{int(time.time()) % 100000:05d}"
            for prefix, clients, size in (
                ("S", args.record_clients, 0),
                ("M", args.batch_clients, args.batch_size),
            ):
                before = proc_cpu()
                got = asyncio.run(drive_intake(server.port, key, prefix, clients, args.record_seconds, size, run))
                used = cpu_split(before, proc_cpu(), pids)
                intake[got.kind] = intake_report(got, verify_records(f"{prefix}{run}-", got.acknowledged))
                intake[got.kind]["cpu_ms_per_record"] = {
                    k: round(used[k] / max(len(got.acknowledged), 1) * 1e3, 3) for k in ("server", "postgres")
                }
                intake[got.kind]["other_cores"] = round(used["other"] / got.seconds, 2)
                if got.samples:
                    intake[got.kind]["samples"] = {str(k): v.decode(errors="replace") for k, v in got.samples.items()}

        # 5. report
        elapsed = out.finished - out.started
        n = sum(out.statuses.values())
        ok = out.statuses.get(201, 0)
        lat = sorted(out.latencies)
        ran_out = n + sum(out.errors.values()) >= len(timed)
        split = cpu_split(cpu0, cpu1, pids)
        top_others = split.pop("_others")
        system = split.pop("_system")
        busy = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9)
        check = verify(w.accepted_tokens + out.accepted_tokens, history)
        errors = {str(s): c for s, c in sorted(out.statuses.items()) if s != 201}
        errors.update(out.errors)
        result = {
            "date": f"{dt.date.today()}",
            "server": server.description,
            "clients": args.clients,
            "seconds": round(elapsed, 2),
            "requests": n,
            "accepted": ok,
            "accepted_per_s": round(ok / elapsed, 1),
            "accepted_per_s_by_10s": [n / 10 for n in by_10s(out)],
            "p50_ms": round(percentile(lat, 50) * 1000, 2),
            "p90_ms": round(percentile(lat, 90) * 1000, 2),
            "p99_ms": round(percentile(lat, 99) * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            "errors": errors,
            "reconnects": out.reconnects,
            "tokens_ran_out": ran_out,
            "cpu_cores_used": {k: round(v / elapsed, 2) for k, v in split.items()},
            "machine_busy_pct": round(busy * 100, 1),
            "unattributed_cores": round(busy * (os.cpu_count() or 1) - sum(split.values()) / elapsed, 2),
            "cpu_ms_per_accepted": {k: round(split[k] / max(ok, 1) * 1e3, 3) for k in ("server", "postgres")},
            "system_share_pct": {k: round(100 * system[k] / max(split[k], 1e-9)) for k in system},
            "other_processes_cpu_s": {k: round(v, 1) for k, v in top_others.items()},
            "db_check": check,
            "bad_percent": args.bad_percent,
            "records": intake,
        }
        print()
        print(
            f"server            {server.description}; {args.clients} clients, {elapsed:.1f} s,"
            f" {args.bad_percent:g} % bad ratings"
            + ("  (tokens ran out before the time was up: register more with --records or --bulk)" if ran_out else "")
        )
        print(f"accepted ratings  {ok} → {ok / elapsed:,.0f} ratings/s")
        print("by 10 s            " + "  ".join(f"{n / 10:,.0f}" for n in by_10s(out)))
        print(
            f"latency ms        p50 {result['p50_ms']}  p90 {result['p90_ms']}  p99 {result['p99_ms']}"
            f"  max {result['max_ms']}"
        )
        print(f"errors            {errors or 'none'}" + (f"  samples: {out.samples}" if out.samples else ""))
        print(
            "cpu (cores)       "
            + "  ".join(f"{k} {v}" for k, v in result["cpu_cores_used"].items())
            + f"  machine busy {result['machine_busy_pct']}%"
            + f"  unattributed {result['unattributed_cores']} (exited processes: disturbed run if > 0.1)"
            + (f"  (other: {result['other_processes_cpu_s']} CPU-s)" if split["other"] > 0.05 * elapsed else "")
        )
        print(
            f"cpu per rating    server {result['cpu_ms_per_accepted']['server']} ms"
            f" ({result['system_share_pct']['server']}% in the kernel), PostgreSQL"
            f" {result['cpu_ms_per_accepted']['postgres']} ms"
            f" ({result['system_share_pct']['postgres']}% in the kernel)"
        )
        print(
            f"database          {check['history']} earlier evaluations untouched; {check['rows']} new rows,"
            f" {check['distinct_slots']} distinct slots; "
            f"{check['accepted']} accepted (warm-up + run) → "
            + ("EXACT: every accepted rating stored once, nothing else" if check["exact"] else "MISMATCH")
        )
        rate = ok / elapsed
        for kind, got in intake.items():
            what = (
                f"{kind:6s} ({got['clients']} connections"
                + (f", {args.batch_size} a request" if kind == "batch" else "")
                + f", {got['seconds']:.0f} s)"
            )
            per_s = float(got["records_per_s"])  # type: ignore[arg-type]
            ratio = per_s / rate if rate else float("nan")
            db = got["db_check"]
            print(
                f"records {what}  {got['records_acknowledged']} → {per_s:,.0f} records/s"
                f"  ({ratio:.2f} × the {rate:,.0f} ratings/s)"
                f"  request p50 {got['request_p50_ms']} ms p99 {got['request_p99_ms']} ms"
                f"  cpu per record: server {got['cpu_ms_per_record']['server']} ms,"  # type: ignore[index]
                f" PostgreSQL {got['cpu_ms_per_record']['postgres']} ms"  # type: ignore[index]
                f"  (other processes {got['other_cores']} cores)"
                f"  statuses {got['statuses']}"
                + (f"  transport errors {got['errors']}" if got["errors"] else "")
                + (f"  samples {got['samples']}" if "samples" in got else "")
            )
            print(
                f"  database        {db['stored']} stored, {db['acknowledged']} acknowledged → "  # type: ignore[index]
                + (
                    "EXACT: every acknowledged record stored once with one completion slot"
                    if db["exact"]  # type: ignore[index]
                    else "MISMATCH"
                )
            )
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        records_ok = all(
            got["db_check"]["exact"] and set(got["statuses"]) == {"201"} and not got["errors"]  # type: ignore[index]
            for got in intake.values()
        )
        if not check["exact"] or errors or set(w.statuses) != {201} or not records_ok:
            sys.exit(1)
    finally:
        # 6. clean up
        if server is not None:
            server.stop()
        if not args.keep_db:
            drop_db(DB_NAME)
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
