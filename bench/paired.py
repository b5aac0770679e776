#!/usr/bin/env python
"""Paired A/B rating-ingest benchmark: two (or three) checkouts compared in the same run.

    cd /work/main && .venv/bin/python bench/paired.py --a /path/to/checkout-a --b /path/to/checkout-b \
        [--c /path/to/checkout-c] [--rounds 5] [--seconds 30] [--clients 64]

The same command on the same machine gives results up to 20-30 % apart over a day (bench/README.md),
so two versions measured at different times cannot be told apart. Here each side is measured in
rounds that alternate (A, B, A, B, …), so that whatever the machine does meanwhile falls on both.

Each side is a directory holding a checkout of the project (a git worktree, or `git archive` of a
commit): it is migrated, loaded and served by its own code, with its own `.venv` if it has one.

1. Per side, a seed database `haoping_paired_<side>_seed`: migrated by the side's code, the
   directory and API client of bench/ingest.py, `--bulk` completed records to rate and a
   `--history` of rated ones (the same rows for every side: only the ids and tokens differ), then
   `VACUUM ANALYZE`.
2. Each round of a side: the round's database is a fresh copy of the side's seed (so every round of
   a side rates the same unrated records in the same order), the side's `deploy/serve` (the
   production command) serves it with `--workers` workers on a free loopback port, `--warmup`
   ratings are sent, then bench/ingest.py's load generator rates for `--seconds`; the server
   stops and the database check of bench/ingest.py runs (every acknowledged rating stored once).
3. Printed: each round's ratings/s, p50/p99 and CPU per rating; per side the median and the
   min-max of the rates and the median CPU per rating; for each pair of sides, the ratio of the
   medians, the ratios of each round to the other side's round next to it, and a bootstrap 95 %
   interval of the ratio of the medians (rounds resampled per side). A difference whose interval
   holds 1.00 is inside the noise.

Seeds are dropped at the end unless `--keep-seeds` (then `--reuse-seeds` skips step 1 next time).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # noqa: E402  (bench/ingest.py: database helpers, scripts, load generator, checks)

SIDES = ("a", "b", "c")


@dataclass
class Side:
    name: str
    root: Path
    serve_args: list[str]
    env: dict[str, str]
    key: str = ""
    tokens: list[str] = field(default_factory=list)
    rounds: list[dict[str, object]] = field(default_factory=list)

    @property
    def python(self) -> str:
        venv = self.root / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    @property
    def seed_db(self) -> str:
        return f"haoping_paired_{self.name}_seed"

    @property
    def round_db(self) -> str:
        return f"haoping_paired_{self.name}"

    def commit(self) -> str:
        try:
            out = subprocess.run(
                ["git", "-C", str(self.root), "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=True
            )
            return out.stdout.strip()[:72]
        except (OSError, subprocess.CalledProcessError):
            return "(not a git checkout)"


def side_env(side: Side, db: str, workdir: Path) -> dict[str, str]:
    env = ingest.app_env(workdir, argparse.Namespace(db_socket="", db_options=""))
    env["DATABASE_URL"] = ingest.database_url(db)
    env["PATH"] = f"{Path(side.python).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(side.env)
    return env


def manage(side: Side, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [side.python, "manage.py", *args], cwd=side.root, env=env, check=False, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"[{side.name}] manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def make_seed(side: Side, args: argparse.Namespace, workdir: Path) -> None:
    """The side's seed database, made by the side's own code; its key and tokens in a file beside."""
    t0 = time.perf_counter()
    ingest.drop_db(side.seed_db)
    ingest.pg_admin(f"CREATE DATABASE {side.seed_db}")
    env = side_env(side, side.seed_db, workdir)
    manage(side, env, "migrate", "--no-input", "-v", "0")
    out = manage(side, env, "shell", "-c", ingest.SETUP_SCRIPT)
    side.key = next(json.loads(line[10:])["key"] for line in out.splitlines() if line.startswith("BENCH-KEY "))
    tokens_file = workdir / f"tokens-{side.name}.json"
    bulk_env = {
        **env,
        "BENCH_BULK": str(args.bulk),
        "BENCH_HISTORY": str(args.history),
        "BENCH_RUN": "00001",
        "BENCH_TOKENS": str(tokens_file),
    }
    manage(side, bulk_env, "shell", "-c", ingest.BULK_SCRIPT)
    side.tokens = json.loads(tokens_file.read_text())
    ingest.pg_admin("VACUUM ANALYZE", db=side.seed_db)
    seed_file(side).write_text(json.dumps({"key": side.key, "tokens": side.tokens}))
    print(
        f"  [{side.name}] seed {side.seed_db}: {len(side.tokens)} records to rate, {args.history} rated"
        f" ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )


def seed_file(side: Side) -> Path:
    return Path(tempfile.gettempdir()) / f"{side.seed_db}.json"


def start(side: Side, args: argparse.Namespace, env: dict[str, str], workdir: Path) -> ingest.Server:
    """The side's `deploy/serve`, as production runs it, on a free loopback port."""
    port = ingest.free_port()
    env = {**env, "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": str(args.workers)}
    cmd = ["bash", str(side.root / "deploy" / "serve"), "--log-level", "warning", *side.serve_args]
    log = workdir / f"server-{side.name}.log"
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            cmd, cwd=side.root, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    return ingest.listening(ingest.Server(proc, port, log, " ".join(cmd[1:])), 60, f"[{side.name}] server")


def one_round(side: Side, n: int, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    ingest.drop_db(side.round_db)
    ingest.pg_admin(f"CREATE DATABASE {side.round_db} TEMPLATE {side.seed_db} STRATEGY FILE_COPY")
    ingest.DB_NAME = side.round_db  # whose backends count as ours, which database the checks read
    ingest.pg_admin("CHECKPOINT")
    env = side_env(side, side.round_db, workdir)
    server = start(side, args, env, workdir)
    try:
        jobs = [
            (
                ingest.build_request(
                    "/api/v1/evaluations", side.key, ingest.rating_body(i, t, args.bad_percent), server.port
                ),
                t,
            )
            for i, t in enumerate(side.tokens)
        ]
        warm, timed = jobs[: args.warmup], jobs[args.warmup :]
        history = ingest.history_mark()
        w = asyncio.run(ingest.drive(server.port, args.clients, warm, None, 201))
        cpu0, busy0, pids = ingest.proc_cpu(), ingest.machine_busy(), set(server.pids())
        out = asyncio.run(ingest.drive(server.port, args.clients, timed, args.seconds, 201))
        cpu1, busy1 = ingest.proc_cpu(), ingest.machine_busy()
    finally:
        server.stop()
    elapsed = out.finished - out.started
    ok = out.statuses.get(201, 0)
    lat = sorted(out.latencies)
    split = ingest.cpu_split(cpu0, cpu1, pids)
    split.pop("_others")
    split.pop("_system")
    check = ingest.verify(w.accepted_tokens + out.accepted_tokens, history)
    errors = {str(s): c for s, c in sorted({**w.statuses, **out.statuses}.items()) if s != 201}
    errors.update(out.errors)
    ran_out = sum(out.statuses.values()) + sum(out.errors.values()) >= len(timed)
    result: dict[str, object] = {
        "side": side.name,
        "round": n,
        "ratings_per_s": round(ok / elapsed, 1),
        "p50_ms": round(ingest.percentile(lat, 50) * 1000, 1),
        "p99_ms": round(ingest.percentile(lat, 99) * 1000, 1),
        "server_ms": round(split["server"] / max(ok, 1) * 1e3, 3),
        "postgres_ms": round(split["postgres"] / max(ok, 1) * 1e3, 3),
        "other_cores": round(split["other"] / elapsed, 2),
        "machine_busy_pct": round(100 * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9), 1),
        "errors": errors,
        "exact": bool(check["exact"]),
        "tokens_ran_out": ran_out,
    }
    print(
        f"  round {n} {side.name}: {result['ratings_per_s']:>8,.0f} ratings/s  p50 {result['p50_ms']} ms"
        f"  p99 {result['p99_ms']} ms  server/PG {result['server_ms']}/{result['postgres_ms']} ms per rating"
        f"  other {result['other_cores']} cores  busy {result['machine_busy_pct']} %"
        f"  {'exact' if check['exact'] else 'DATABASE MISMATCH'}"
        + (f"  errors {errors}" if errors else "")
        + ("  (tokens ran out: raise --bulk)" if ran_out else ""),
        flush=True,
    )
    ingest.drop_db(side.round_db)
    return result


def bootstrap_ratio(a: list[float], b: list[float], draws: int = 10_000) -> tuple[float, float]:
    """95 % interval of median(b) / median(a), rounds resampled with replacement per side (with
    five rounds a side, a resampled median is one of the middle rounds most of the time: the interval
    is rough, and read with the round-by-round ratios)."""
    rng = random.Random(7)
    ratios = sorted(
        statistics.median(rng.choices(b, k=len(b))) / statistics.median(rng.choices(a, k=len(a))) for _ in range(draws)
    )
    return ratios[int(0.025 * draws)], ratios[int(0.975 * draws) - 1]


def summary(sides: list[Side]) -> dict[str, object]:
    rates = {s.name: [float(r["ratings_per_s"]) for r in s.rounds] for s in sides}  # type: ignore[arg-type]
    print("\nside  rounds (ratings/s)                                   median    min-max   CPU ms per rating")
    for s in sides:
        r = rates[s.name]
        rounds = "  ".join(f"{x:,.0f}" for x in r)
        # CPU per rating moves less with the machine's other work than the rate does.
        server = statistics.median(float(x["server_ms"]) for x in s.rounds)  # type: ignore[arg-type]
        postgres = statistics.median(float(x["postgres_ms"]) for x in s.rounds)  # type: ignore[arg-type]
        print(
            f"{s.name:<5} {rounds:<52} {statistics.median(r):>7,.0f}   {min(r):,.0f}-{max(r):,.0f}"
            f"   server {server:.3f}, PostgreSQL {postgres:.3f} (medians)"
        )
    out: dict[str, dict[str, object]] = {}
    for k, first in enumerate(sides):
        for second in sides[k + 1 :]:
            a, b = rates[first.name], rates[second.name]
            ratio = statistics.median(b) / statistics.median(a)
            per_round = [y / x for x, y in zip(a, b, strict=False)]
            low, high = bootstrap_ratio(a, b)
            inside = low <= 1.0 <= high or min(len(a), len(b)) < 3  # fewer rounds tell nothing
            print(
                f"{second.name} / {first.name}: medians {ratio:.3f} ({100 * (ratio - 1):+.1f} %); round by round"
                f" {min(per_round):.3f}-{max(per_round):.3f}; bootstrap 95 % {low:.3f}-{high:.3f}"
                f" → {'inside the noise' if inside else 'outside the noise'}"
            )
            out[f"{second.name}/{first.name}"] = {
                "ratio_of_medians": round(ratio, 4),
                "round_ratios": [round(x, 4) for x in per_round],
                "bootstrap_95": [round(low, 4), round(high, 4)],
                "inside_noise": inside,
            }
    return {"rates": rates, "ratios": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in SIDES:
        ap.add_argument(f"--{name}", type=Path, required=name != "c", help=f"checkout of side {name.upper()}")
        ap.add_argument(
            f"--{name}-args", default="", help=f"more arguments to side {name.upper()}'s deploy/serve (quoted)"
        )
        ap.add_argument(
            f"--{name}-env",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"environment of side {name.upper()}",
        )
    ap.add_argument("--rounds", type=int, default=5, help="rounds per side")
    ap.add_argument("--seconds", type=float, default=30.0, help="timed rating per round")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="GRANIAN_WORKERS for deploy/serve")
    ap.add_argument("--warmup", type=int, default=2000, help="ratings sent before each timed run")
    ap.add_argument("--bulk", type=int, default=160_000, help="records to rate in each seed")
    ap.add_argument("--history", type=int, default=200_000, help="rated records of past days in each seed")
    ap.add_argument("--bad-percent", type=float, default=2.0)
    ap.add_argument("--keep-seeds", action="store_true", help="leave the seed databases (for --reuse-seeds)")
    ap.add_argument("--reuse-seeds", action="store_true", help="use the seed databases a --keep-seeds run left")
    ap.add_argument("--json", metavar="FILE", help="also write the rounds and the summary as JSON")
    args = ap.parse_args()

    sides = [
        Side(
            name,
            getattr(args, name).resolve(),
            shlex.split(getattr(args, f"{name}_args")),
            dict(item.split("=", 1) for item in getattr(args, f"{name}_env")),
        )
        for name in SIDES
        if getattr(args, name) is not None
    ]
    workdir = Path(tempfile.mkdtemp(prefix="haoping-paired-"))
    print(f"haoping paired ingest bench  {dt.datetime.now():%Y-%m-%d %H:%M}  cpus={os.cpu_count()}", flush=True)
    for s in sides:
        print(f"  {s.name}: {s.root}  [{s.commit()}]  serve args {s.serve_args or '-'}  env {s.env or '-'}")
    try:
        for s in sides:
            saved = seed_file(s)
            if args.reuse_seeds and ingest.db_exists(s.seed_db) and saved.exists():
                data = json.loads(saved.read_text())
                s.key, s.tokens = data["key"], data["tokens"]
                print(f"  [{s.name}] reusing {s.seed_db}", flush=True)
            else:
                make_seed(s, args, workdir)
        for n in range(1, args.rounds + 1):
            # A, B, then B, A, …: each round starts with the next side, so that none always runs
            # first (or right after another).
            k = (n - 1) % len(sides)
            order = sides[k:] + sides[:k]
            for s in order:
                s.rounds.append(one_round(s, n, args, workdir))
        result = summary(sides)
        bad = [r for s in sides for r in s.rounds if not r["exact"] or r["errors"]]
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "date": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
                        "sides": {
                            s.name: {"root": str(s.root), "commit": s.commit(), "args": s.serve_args} for s in sides
                        },
                        "rounds": [r for s in sides for r in s.rounds],
                        **result,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        if bad:
            print(f"{len(bad)} round(s) with errors or a database mismatch")
            sys.exit(1)
    finally:
        for s in sides:
            ingest.drop_db(s.round_db)
            if not args.keep_seeds:
                ingest.drop_db(s.seed_db)
                seed_file(s).unlink(missing_ok=True)
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
