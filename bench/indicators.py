#!/usr/bin/env python
"""Indicator benchmark: dashboard queries from the rollups against the same queries over the raw
evaluations, on a province-sized database.

    cd /work/main && .venv/bin/python bench/indicators.py [--evaluations 20000000] [--repeat 30] [--reuse]

Steps (see bench/README.md, "Indicators"):
  1. drop and create the PostgreSQL database `haoping_bench_ind`, migrate it (`manage.py migrate`
     in a subprocess);
  2. load a province-sized directory (1 province, 14 cities, 100 districts, institutions, windows,
     departments, items, staff, platforms) and N evaluations over two years with COPY FROM STDIN,
     plus a bad-review case for every bad rating; indexes and constraints of the two big tables are
     dropped for the load and rebuilt after it (foreign keys come back NOT VALID: the evaluations
     point at fake slots and records);
  3. build the daily rollups: one INSERT … SELECT per object kind whose SELECT is the app's own
     rollup queryset (the Annex A expressions of haoping.indicators.counting), then the monthly
     rows with the app's `months_refresh()`, and check on sample days that `rollups_rebuild()`
     writes exactly the same daily rows and monthly rows of the day's month (timing it);
  4. time the region overview of one city for one month and a one-year ranking of all institutions
     of the province, each from the rollups (as haoping.indicators.selectors reads) and as a GROUP BY
     over evaluations_evaluation with the app's Annex A expressions; check both give the same
     numbers; print p50/p95/max, the ratio and PASS/FAIL against the targets;
  5. drop the database (unless --keep-db; --reuse keeps it and skips steps 1–3 when it is loaded).

This process imports Django (after the database exists) so that both query forms are the app's ORM
code, run with the app's settings (prepared statements on, as in production).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = dict(host="127.0.0.1", port=5432, user="postgres")
TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
EVALUATIONS = "evaluations_evaluation"
CASES = "rectification_badreviewcase"
ROLLUPS = "indicators_dailycount"
MONTHLY = "indicators_monthlycount"

# Targets stated by the issue.
TARGET_P95_MS = 100.0
TARGET_RATIO = 100.0


# ----------------------------------------------------------------------------------------------
# PostgreSQL


def connect(db: str, **kw: Any) -> psycopg.Connection:
    return psycopg.connect(dbname=db, autocommit=True, **PG, **kw)


def db_exists(name: str) -> bool:
    with connect("postgres") as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone())


def drop_db(name: str) -> None:
    with connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_url(db: str, options: str = "") -> str:
    url = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}"
    return f"{url}?{options}" if options else url


def app_env(db: str, args: argparse.Namespace) -> dict[str, str]:
    workdir = Path(tempfile.gettempdir()) / "haoping-bench-ind"
    workdir.mkdir(exist_ok=True)
    return {
        "DATABASE_URL": database_url(db, args.db_options),
        "DJANGO_SETTINGS_MODULE": "haoping.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "HAOPING_MASTER_KEY": "6b" * 32,
        "HAOPING_VAR_DIR": str(workdir),
        "HAOPING_ROLLUPS_ENQUEUE": "0",
        "DB_PREPARED_STATEMENTS": "1" if args.prepared == "on" else "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def migrate(db: str, args: argparse.Namespace) -> None:
    env = {**os.environ, **app_env(db, args)}
    env.pop("REDIS_URL", None)
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)


@dataclass
class TableDefs:
    """The indexes and constraints of some tables, saved so that they can be dropped for a bulk load."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, definition)
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # primary and unique constraints
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX …)


def save_and_drop(conn: psycopg.Connection, tables: list[str]) -> TableDefs:
    """Drop every index, primary/unique key and foreign key on (or pointing at) `tables`."""
    defs = TableDefs()
    for table, name, definition, kind in conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
        " WHERE contype IN ('f', 'p', 'u') AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))"
        " ORDER BY contype, conname",
        (tables, tables),
    ):
        (defs.foreign_keys if kind == "f" else defs.keys).append((table, name, definition))
    backing = {name for _, name, _ in defs.keys}
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " ORDER BY indexname",
        (tables,),
    ):
        if name not in backing:
            defs.indexes.append((name, definition))
    for table, name, _ in defs.foreign_keys:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name, _ in defs.keys:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in defs.indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return defs


def restore(conn: psycopg.Connection, defs: TableDefs, *, validate_foreign_keys: bool) -> None:
    """Rebuild what `save_and_drop` dropped; foreign keys NOT VALID unless asked to validate."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    for table, name, definition in defs.keys:
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in defs.indexes:
        conn.execute(definition)
    for table, name, definition in defs.foreign_keys:
        suffix = "" if validate_foreign_keys else " NOT VALID"
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}{suffix}')
    conn.execute("RESET maintenance_work_mem")


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], chunks: Iterator[str]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for chunk in chunks:
            copy.write(chunk)


def text_rows(rows: list[tuple]) -> Iterator[str]:
    """COPY text format for small tables (no tabs, newlines or backslashes in our values)."""
    yield "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)


def sync_sequence(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


# ----------------------------------------------------------------------------------------------
# The directory: a province with cities, districts, institutions, windows, departments, items, staff


@dataclass
class Directory:
    regions: list[tuple] = field(default_factory=list)  # (id, code, name, path, parent_id)
    departments: list[tuple] = field(default_factory=list)  # (id, code, name, region_id)
    institutions: list[tuple] = field(default_factory=list)  # (id, code, name, kind, region_id)
    windows: list[tuple] = field(default_factory=list)  # (id, code, name, institution_id, department_id)
    platforms: list[tuple] = field(default_factory=list)  # (id, code, name, kind, region_id)
    items: list[tuple] = field(default_factory=list)  # (id, code, name, type, department_id, legal, promised)
    staff: list[tuple] = field(default_factory=list)  # (id, staff_no, name, department_id, institution_id, window_id)
    # Traffic weights: onsite ratings pick a staff member, online ratings a department.
    staff_weight: list[float] = field(default_factory=list)
    department_weight: list[float] = field(default_factory=list)
    city_of: dict[int, int] = field(default_factory=dict)  # region id → its city's region id
    city_app: dict[int, int] = field(default_factory=dict)  # city's region id → its app's platform id


def build_directory(args: argparse.Namespace, rng: random.Random) -> Directory:
    d = Directory()
    d.regions.append((1, "320000", "省", "/320000/", None))
    region_weight: dict[int, float] = {}
    districts: list[int] = []
    base, extra = divmod(args.districts, args.cities)
    per_city = [base + (1 if c < extra else 0) for c in range(args.cities)]
    if max(per_city) > 97:
        raise SystemExit("at most 97 districts per city (6-digit codes)")
    for c in range(args.cities):
        code = f"32{c + 1:02d}00"
        city_id = len(d.regions) + 1
        city_path = f"/320000/{code}/"
        d.regions.append((city_id, code, f"第{c + 1}市", city_path, 1))
        d.city_of[city_id] = city_id
        # The capital is busiest; the others fall off slowly (Zipf-like).
        cw = 1 / (c + 1) ** 0.7
        region_weight[city_id] = cw
        for k in range(per_city[c]):
            dcode = f"32{c + 1:02d}{k + 2:02d}"
            did = len(d.regions) + 1
            d.regions.append((did, dcode, f"第{c + 1}市第{k + 1}区", f"{city_path}{dcode}/", city_id))
            d.city_of[did] = city_id
            region_weight[did] = cw / per_city[c] * rng.uniform(0.5, 1.5)
            districts.append(did)
    city_ids = [r[0] for r in d.regions if r[4] == 1]
    d.city_of[1] = 1

    # Departments: a few provincial ones, at least one per city and district, the rest by weight.
    local = [r[0] for r in d.regions[1:]]
    dept_region = [1] * max(1, args.departments // 75) + local
    extra = args.departments - len(dept_region)
    if extra > 0:
        dept_region += rng.choices(local, weights=[region_weight[r] ** 0.5 for r in local], k=extra)
    depts_in: dict[int, list[int]] = {}
    for i, region_id in enumerate(dept_region, 1):
        d.departments.append((i, f"D{i:05d}", f"部门{i}", region_id))
        depts_in.setdefault(region_id, []).append(i)
        d.department_weight.append(region_weight.get(region_id, 0.3) * rng.lognormvariate(0, 0.8))

    # Institutions: a centre per city and per district, then halls and stations in districts.
    inst_region: list[tuple[int, str, float]] = []
    for city_id in city_ids:
        inst_region.append((city_id, "center", 40 * region_weight[city_id]))
    for did in districts:
        inst_region.append((did, "center", 12 * region_weight[did]))
    rest = args.institutions - len(inst_region)
    for did in rng.choices(districts, weights=[region_weight[r] for r in districts], k=max(rest, 0)):
        kind = "hall" if rng.random() < 0.2 else "station"
        weight = (3.0 if kind == "hall" else 0.5) * region_weight[did] * rng.lognormvariate(0, 0.6)
        inst_region.append((did, kind, weight))
    inst_weight = []
    for i, (region_id, kind, weight) in enumerate(inst_region, 1):
        d.institutions.append((i, f"H{i:05d}", f"服务机构{i}", kind, region_id))
        inst_weight.append(weight)

    # Windows: one per institution, the rest where the traffic is (not proportionally).
    win_inst = list(range(1, len(d.institutions) + 1))
    more = args.windows - len(win_inst)
    if more > 0:
        win_inst += rng.choices(win_inst, weights=[w**0.7 for w in inst_weight], k=more)
    win_inst.sort()
    windows_of: dict[int, list[int]] = {}
    for i, inst_id in enumerate(win_inst, 1):
        region_id = d.institutions[inst_id - 1][4]
        parent = d.regions[region_id - 1][4] or region_id
        dept = rng.choice(depts_in.get(region_id, []) + depts_in.get(parent, []) or dept_region[:1])
        d.windows.append((i, f"W{i:06d}", f"{len(windows_of.get(inst_id, [])) + 1}号窗口", inst_id, dept))
        windows_of.setdefault(inst_id, []).append(i)
    window_weight = [0.0] * len(d.windows)
    for inst_id, wins in windows_of.items():
        shares = [rng.uniform(0.5, 1.5) for _ in wins]
        for w, share in zip(wins, shares, strict=True):
            window_weight[w - 1] = inst_weight[inst_id - 1] * share / sum(shares)

    # Staff: at least one per window, the rest spread evenly.
    staff_win = list(range(1, len(d.windows) + 1))
    more = args.staff - len(staff_win)
    if more > 0:
        staff_win += rng.choices(staff_win, k=more)
    staff_win.sort()
    staff_count: dict[int, int] = {}
    for w in staff_win:
        staff_count[w] = staff_count.get(w, 0) + 1
    for i, w in enumerate(staff_win, 1):
        _, _, _, inst_id, dept = d.windows[w - 1]
        d.staff.append((i, f"S{i:06d}", f"员工{i}", dept, inst_id, w))
        d.staff_weight.append(window_weight[w - 1] / staff_count[w])

    # Items: at least one per department.
    item_dept = [r[0] for r in d.departments]
    more = args.items - len(item_dept)
    if more > 0:
        item_dept += rng.choices(item_dept, k=more)
    for i, dept in enumerate(sorted(item_dept), 1):
        d.items.append((i, f"ITEM{i:06d}", f"事项{i}", "行政许可", dept, 20, rng.choice([1, 3, 5, 10])))

    # Platforms: the province's web portal and app, and an app per city.
    d.platforms.append((1, "P-WEB", "省政务服务网", "web", 1))
    d.platforms.append((2, "P-APP", "省政务服务App", "mobile", 1))
    for k, city_id in enumerate(city_ids, 3):
        d.platforms.append((k, f"P-APP-{city_id}", f"市App{city_id}", "mobile", city_id))
        d.city_app[city_id] = k
    return d


def load_directory(conn: psycopg.Connection, d: Directory) -> None:
    copy_rows(conn, "directory_region", ["id", "code", "name", "path", "parent_id"], text_rows(d.regions))
    copy_rows(conn, "directory_department", ["id", "code", "name", "region_id"], text_rows(d.departments))
    copy_rows(conn, "directory_institution", ["id", "code", "name", "kind", "region_id"], text_rows(d.institutions))
    copy_rows(conn, "directory_window", ["id", "code", "name", "institution_id", "department_id"], text_rows(d.windows))
    copy_rows(conn, "directory_platform", ["id", "code", "name", "kind", "region_id"], text_rows(d.platforms))
    copy_rows(
        conn,
        "directory_serviceitem",
        ["id", "code", "name", "type", "department_id", "legal_days", "promised_days"],
        text_rows(d.items),
    )
    copy_rows(
        conn,
        "directory_staff",
        ["id", "staff_no", "name", "department_id", "institution_id", "window_id"],
        text_rows(d.staff),
    )
    for table in (
        "directory_region",
        "directory_department",
        "directory_institution",
        "directory_window",
        "directory_platform",
        "directory_serviceitem",
        "directory_staff",
    ):
        sync_sequence(conn, table)


# ----------------------------------------------------------------------------------------------
# Evaluations and bad-review cases

# Shares of active ratings by channel (window pads and the app dominate, paper is rare).
CHANNELS = {"pad": 33, "mobile": 24, "qrcode": 12, "pc": 10, "sms": 9, "kiosk": 5, "phone": 5, "paper": 2}
ONLINE = {"pc", "mobile"}  # rated on a platform, no institution/window/staff
# Levels of active ratings: skewed good; level ≤ 2 is about 1.7 % of active, 1.5 % of all.
LEVELS = {5: 0.8845, 4: 0.075, 3: 0.0235, 2: 0.0095, 1: 0.0075}
DEFAULT_SHARE = 0.12  # timed-out defaults (level 3, no channel, R2)
BLOCKED_SHARE = 0.0002  # ratings of evaluators in the registry of malicious evaluators (R15)
# Local hour of day → relative volume: office-hour peaks, a little online traffic at night.
HOURS = [0.2] * 7 + [1, 4, 9, 10, 8, 3, 4, 8, 9, 8, 4, 2, 2, 2, 1.5, 1, 0.5]
MAC = "5f" * 32  # a row MAC has 64 hex digits; its value plays no part in counting
EVAL_COLUMNS = [
    "id",
    "rated_at",
    "created_at",
    "receipt",
    "slot_id",
    "record_id",
    "item_id",
    "region_id",
    "department_id",
    "institution_id",
    "platform_id",
    "window_id",
    "staff_id",
    "level",
    "source",
    "channel",
    "rated_by",
    "answers",
    "reasons",
    "comment",
    "client_ref",
    "overall",
    "row_mac",
    "bundle_id",
    "visit_id",
    "blocked",
]
CASE_COLUMNS = [
    "id",
    "region_id",
    "evaluation_id",
    "receipt",
    "record_id",
    "item_id",
    "unit_id",
    "institution_id",
    "window_id",
    "staff_id",
    "level",
    "state",
    "category",
    "deadline_rules",
    "opened_at",
    "dispatched_at",
    "contact_due",
    "resolve_due",
    "step_started_at",
    "due_at",
    "provisional",
    "was_overdue",
    "contacted_at",
    "classified_at",
    "rectified_at",
    "replied_at",
    "revisited_at",
    "satisfied",
    "closed_at",
    "invalid",
    "invalid_reason",
    "public_id",
]


@dataclass(frozen=True)
class Template:
    """The outcome columns of a rating (level … blocked) and how to place it."""

    text: str
    mode: int  # 0 onsite (a staff member), 1 online PC, 2 province app, 3 city app
    level: int
    active: bool
    bad: bool


def templates() -> tuple[list[Template], list[float]]:
    out: list[Template] = []
    weights: list[float] = []

    def add(weight: float, mode: int, level: int, source: str, channel: str, rated_by: str, **cols: str) -> None:
        text = "\t".join(
            [
                str(level),
                source,
                channel,
                rated_by,
                cols.get("answers", "{}"),
                cols.get("reasons", "[]"),
                cols.get("comment", ""),
                "",
                "f",
                MAC,
                "\\N",
                "\\N",
                cols.get("blocked", "f"),
            ]
        )
        bad = source == "active" and level <= 2 and cols.get("blocked", "f") == "f"
        out.append(Template(text, mode, level, source == "active", bad))
        weights.append(weight)

    add(DEFAULT_SHARE * 0.75, 0, 3, "default", "", "")
    add(DEFAULT_SHARE * 0.25, 1, 3, "default", "", "")
    active = 1 - DEFAULT_SHARE - BLOCKED_SHARE
    total_channels = sum(CHANNELS.values())
    answers = '{"guide_clear": 5, "procedure_convenient": 5, "materials_streamlined": 4}'
    for channel, cw in CHANNELS.items():
        modes = [(1, 1.0)] if channel == "pc" else [(2, 0.5), (3, 0.5)] if channel == "mobile" else [(0, 1.0)]
        for mode, mw in modes:
            for level, lw in LEVELS.items():
                for rated_by, rw in (("applicant", 0.96), ("agent", 0.04)):
                    w = active * cw / total_channels * mw * lw * rw
                    if level <= 2:
                        add(w * 0.6, mode, level, "active", channel, rated_by, reasons='["efficiency"]')
                        add(
                            w * 0.4,
                            mode,
                            level,
                            "active",
                            channel,
                            rated_by,
                            reasons='["attitude", "repeat_visits"]',
                            comment="排队时间太长，跑了两趟",
                        )
                    elif channel in ONLINE:
                        add(w * 0.3, mode, level, "active", channel, rated_by, answers=answers)
                        add(w * 0.7, mode, level, "active", channel, rated_by)
                    else:
                        add(w, mode, level, "active", channel, rated_by)
    add(BLOCKED_SHARE, 0, 1, "active", "pad", "applicant", reasons='["other"]', blocked="t")
    return out, weights


def day_counts(n: int, first: dt.date, days: int, rng: random.Random) -> list[tuple[dt.date, int]]:
    """Ratings per day: working days full, weekends and holidays light, volume growing over time."""
    try:
        import chinese_calendar

        def workday(day: dt.date) -> bool:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                return day.weekday() < 5
    except ImportError:

        def workday(day: dt.date) -> bool:
            return day.weekday() < 5

    dates = [first + dt.timedelta(days=k) for k in range(days)]
    weights = [
        (1.0 if workday(day) else 0.25) * (0.85 + 0.3 * k / max(days - 1, 1)) * rng.uniform(0.9, 1.1)
        for k, day in enumerate(dates)
    ]
    total = sum(weights)
    out, acc, given = [], 0.0, 0
    for day, w in zip(dates, weights, strict=True):
        acc += w
        upto = round(n * acc / total)
        out.append((day, upto - given))
        given = upto
    return out


@dataclass
class Generator:
    """Streams COPY text for the evaluations, one day at a time, and keeps the bad ones for cases."""

    d: Directory
    rng: random.Random
    bad_rows: list[tuple] = field(default_factory=list)  # (id, rated_at, level, region, dept, inst, win, staff, item)

    def chunks(self, per_day: list[tuple[dt.date, int]]) -> Iterator[str]:
        rng = self.rng
        rand = rng.random
        choices = rng.choices
        tmpls, tweights = templates()
        tcum = list(_cumulative(tweights))
        hcum = list(_cumulative(HOURS))
        hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08" for s in range(86400)]
        d = self.d
        scum = list(_cumulative(d.staff_weight))
        dcum = list(_cumulative(d.department_weight))
        n_staff, n_dept = len(d.staff), len(d.departments)
        # Location columns (region … staff) and the department whose items apply.
        staff_loc = []
        staff_parts = []
        for sid, _, _, dept, inst, win in d.staff:
            region = d.institutions[inst - 1][4]
            staff_loc.append(f"{region}\t{dept}\t{inst}\t\\N\t{win}\t{sid}")
            staff_parts.append((region, dept, inst, win, sid))
        dept_loc: list[list[str]] = [[], [], [], []]
        dept_parts = []
        for did, _, _, region in d.departments:
            # PC: the province's portal; mobile: the province's app or the city's (province: its own).
            for mode, platform in ((1, 1), (2, 2), (3, d.city_app.get(d.city_of[region], 2))):
                dept_loc[mode].append(f"{region}\t{did}\t\\N\t{platform}\t\\N\t\\N")
            dept_parts.append((region, did, None, None, None))
        items_of: list[list[int]] = [[] for _ in range(n_dept + 1)]
        for iid, _, _, _, dept, _, _ in d.items:
            items_of[dept].append(iid)
        bad_rows = self.bad_rows
        i = 0
        hours = range(24)
        for day, n in per_day:
            if n == 0:
                continue
            secs = sorted(h * 3600 + int(rand() * 3600) for h in choices(hours, cum_weights=hcum, k=n))
            picks = choices(tmpls, cum_weights=tcum, k=n)
            onsite = choices(range(n_staff), cum_weights=scum, k=n)
            online = choices(range(n_dept), cum_weights=dcum, k=n)
            prefix = f"{day.isoformat()} "
            lines = []
            append = lines.append
            for k in range(n):
                i += 1
                t = picks[k]
                if t.mode == 0:
                    s = onsite[k]
                    loc = staff_loc[s]
                    parts = staff_parts[s]
                else:
                    s = online[k]
                    loc = dept_loc[t.mode][s]
                    parts = dept_parts[s]
                its = items_of[parts[1]]
                item = its[int(len(its) * rand() * rand())]  # popular items first
                ts = prefix + hms[secs[k]]
                receipt = f"BN{i:012d}" if t.active else "DEFAULT"
                append(f"{i}\t{ts}\t{ts}\t{receipt}\t{i}\t{i}\t{item}\t{loc}\t{t.text}\n")
                if t.bad:
                    bad_rows.append((i, day, secs[k], t.level, *parts, item, receipt))
            yield "".join(lines)


def _cumulative(weights: list[float]) -> Iterator[float]:
    acc = 0.0
    for w in weights:
        acc += w
        yield acc


def case_chunks(bad_rows: list[tuple], now: dt.datetime, rng: random.Random) -> Iterator[str]:
    """A case per bad rating, in the state its age makes likely; the receipt is its rating's."""

    def ts(value: dt.datetime | None) -> str:
        return "\\N" if value is None else value.isoformat(sep=" ")

    hour = dt.timedelta(hours=1)
    day = dt.timedelta(days=1)
    lines = []
    for cid, (eid, rated_day, sec, level, region, dept, inst, win, staff, item, receipt) in enumerate(bad_rows, 1):
        opened = dt.datetime.combine(rated_day, dt.time(), tzinfo=TZ) + dt.timedelta(seconds=sec)
        age = now - opened
        contact_due = opened + 48 * hour
        resolve_due = contacted = classified = rectified = replied = revisited = satisfied = closed = None
        state, category, invalid, invalid_reason = "open", "", False, ""
        due = contact_due
        step = opened
        r = rng.random()
        if age > 2 * day:
            contacted = opened + rng.uniform(2, 40) * hour
            classified = contacted + rng.uniform(1, 20) * hour
            state, category, step = "handling", "general", classified
            resolve_due = classified + 7 * day
            due = resolve_due
            if age > 10 * day:
                if r < 0.07:  # found mistaken or malicious, or an appeal upheld: not adopted
                    category = "mistaken" if r < 0.04 else "malicious"
                    invalid, invalid_reason = True, category if r < 0.06 else "appeal"
                    closed = classified + rng.uniform(1, 5) * day
                    state, step, due = "closed", closed, None
                elif r < 0.985:
                    rectified = classified + rng.uniform(1, 6) * day
                    replied = rectified + rng.uniform(1, 30) * hour
                    state, step, due = "replied", replied, None
                    if rng.random() < 0.92:
                        revisited = replied + rng.uniform(1, 4) * day
                        satisfied = rng.random() < 0.93
                        if not satisfied and rng.random() < 0.5:
                            # Sent back: rectified again, the old revisit no longer counts.
                            rectified = revisited + rng.uniform(1, 4) * day
                            replied = rectified + 2 * hour
                            state, step = "replied", replied
                        else:
                            closed = revisited
                            state, step = "closed", closed
        lines.append(
            "\t".join(
                [
                    str(cid),
                    str(region),
                    str(eid),
                    receipt,
                    str(eid),
                    str(item),
                    str(dept),
                    "\\N" if inst is None else str(inst),
                    "\\N" if win is None else str(win),
                    "\\N" if staff is None else str(staff),
                    str(level),
                    state,
                    category,
                    "default",
                    ts(opened),
                    ts(opened),
                    ts(contact_due),
                    ts(resolve_due),
                    ts(step),
                    ts(due),
                    "f",
                    "f",
                    ts(contacted),
                    ts(classified),
                    ts(rectified),
                    ts(replied),
                    ts(revisited),
                    "\\N" if satisfied is None else ("t" if satisfied else "f"),
                    ts(closed),
                    "t" if invalid else "f",
                    invalid_reason,
                    f"C{cid:016d}",
                ]
            )
            + "\n"
        )
        if len(lines) >= 20_000:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def load(db: str, args: argparse.Namespace, first: dt.date, last: dt.date) -> dict[str, float]:
    timings: dict[str, float] = {}
    rng = random.Random(args.seed)
    with connect(db) as conn:
        t0 = time.perf_counter()
        d = build_directory(args, rng)
        load_directory(conn, d)
        timings["directory"] = time.perf_counter() - t0
        print(
            f"  directory: {len(d.regions)} regions, {len(d.departments)} departments, {len(d.institutions)}"
            f" institutions, {len(d.windows)} windows, {len(d.platforms)} platforms, {len(d.items)} items,"
            f" {len(d.staff)} staff ({timings['directory']:.1f} s)",
            flush=True,
        )

        t0 = time.perf_counter()
        defs = save_and_drop(conn, [EVALUATIONS, CASES])
        print(
            f"  dropped {len(defs.indexes)} indexes, {len(defs.keys)} keys and {len(defs.foreign_keys)} foreign keys"
            f" of {EVALUATIONS} and {CASES} for the load",
            flush=True,
        )
        gen = Generator(d, rng)
        per_day = day_counts(args.evaluations, first, (last - first).days + 1, rng)
        with conn.transaction():
            # TRUNCATE in the same transaction lets COPY FREEZE write frozen, all-visible pages.
            conn.execute(f"TRUNCATE {EVALUATIONS}, {CASES}")
            with conn.cursor() as cur:
                columns = ", ".join(EVAL_COLUMNS)
                with cur.copy(f"COPY {EVALUATIONS} ({columns}) FROM STDIN (FREEZE)") as copy:
                    done = 0
                    report = time.perf_counter() + 30
                    for (_day, n), chunk in zip((x for x in per_day if x[1]), gen.chunks(per_day), strict=True):
                        copy.write(chunk)
                        done += n
                        if time.perf_counter() > report:
                            rate = done / (time.perf_counter() - t0)
                            print(f"    {done:,} evaluations ({rate:,.0f}/s)", flush=True)
                            report = time.perf_counter() + 30
        timings["copy_evaluations"] = time.perf_counter() - t0
        print(
            f"  COPY {args.evaluations:,} evaluations: {timings['copy_evaluations']:.1f} s"
            f" ({args.evaluations / timings['copy_evaluations']:,.0f} rows/s)",
            flush=True,
        )
        t0 = time.perf_counter()
        now = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=TZ)
        copy_rows(conn, CASES, CASE_COLUMNS, case_chunks(gen.bad_rows, now, rng))
        timings["copy_cases"] = time.perf_counter() - t0
        print(f"  COPY {len(gen.bad_rows):,} bad-review cases: {timings['copy_cases']:.1f} s", flush=True)

        t0 = time.perf_counter()
        restore(conn, defs, validate_foreign_keys=False)
        timings["indexes"] = time.perf_counter() - t0
        print(f"  rebuilt keys and indexes: {timings['indexes']:.1f} s", flush=True)
        t0 = time.perf_counter()
        sync_sequence(conn, EVALUATIONS)
        sync_sequence(conn, CASES)
        conn.execute(f"VACUUM ANALYZE {EVALUATIONS}")
        conn.execute(f"VACUUM ANALYZE {CASES}")
        conn.execute("ANALYZE")
        timings["vacuum_analyze"] = time.perf_counter() - t0
        print(f"  VACUUM ANALYZE: {timings['vacuum_analyze']:.1f} s", flush=True)
    return timings


# ----------------------------------------------------------------------------------------------
# Django (imported once the database exists)


def django_setup(db: str, args: argparse.Namespace) -> None:
    os.environ.update(app_env(db, args))
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import gc

    import django

    django.setup()
    gc.freeze()  # as haoping/wsgi.py does once the app is loaded


def rollup_queryset(kind: str, *, per_channel: bool) -> Any:
    """The rollup rows of one kind as `haoping.indicators.services._count_rows` groups them: per
    channel, or all channels together (stored with channel ALL_CHANNELS)."""
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from haoping.evaluations.models import Evaluation
    from haoping.indicators.counting import count_aggregates, counted, level_aggregates
    from haoping.indicators.services import KIND_FIELDS

    field_name = KIND_FIELDS[kind]
    base = counted(Evaluation.objects.all()).annotate(day=TruncDate("rated_at", tzinfo=timezone.get_default_timezone()))
    keys = list(dict.fromkeys(["region_id", "day", field_name, *(["channel"] if per_channel else [])]))
    return (
        base.filter(**{f"{field_name}__isnull": False})
        .values(*keys)
        .annotate(**count_aggregates(), **level_aggregates())
        .order_by()
    )


def rollups_build_sql(work_mem: str) -> dict[str, tuple[int, float]]:
    """Two INSERT … SELECT per kind (per channel, all channels) around the app's own grouped queryset."""
    from django.db import connection, transaction

    from haoping.indicators.counting import COUNTS, LEVELS
    from haoping.indicators.services import ALL_CHANNELS, KIND_FIELDS

    out: dict[str, tuple[int, float]] = {}
    counts = [*COUNTS, *LEVELS]
    columns = ", ".join(["region_id", "day", "kind", "object_id", "channel", *counts])
    select = ", ".join(f"q.{c}" for c in counts)
    with connect(connection.settings_dict["NAME"]) as admin:
        admin.execute(f"TRUNCATE {ROLLUPS}")
        defs = save_and_drop(admin, [ROLLUPS])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
        for kind, field_name in KIND_FIELDS.items():
            t0 = time.perf_counter()
            rows = 0
            for per_channel in (True, False):
                sql, params = rollup_queryset(kind, per_channel=per_channel).query.sql_with_params()
                channel = "q.channel" if per_channel else "%s"
                cursor.execute(
                    f"INSERT INTO {ROLLUPS} ({columns}) SELECT q.region_id, q.day, %s, q.{field_name}, {channel},"
                    f" {select} FROM ({sql}) q",
                    [kind, *([] if per_channel else [ALL_CHANNELS]), *params],
                )
                rows += cursor.rowcount
            out[kind] = (rows, time.perf_counter() - t0)
            print(f"    {kind:<12} {rows:>12,} rows  {out[kind][1]:7.1f} s", flush=True)
    with connect(connection.settings_dict["NAME"]) as admin:
        t0 = time.perf_counter()
        restore(admin, defs, validate_foreign_keys=False)
        admin.execute(f"VACUUM ANALYZE {ROLLUPS}")
        out["_indexes"] = (0, time.perf_counter() - t0)
        print(f"    keys, indexes, VACUUM ANALYZE {out['_indexes'][1]:.1f} s", flush=True)
    out["monthly"] = months_build()
    return out


def months_build() -> tuple[int, float]:
    """The monthly rows of every month, by the app's `months_refresh()` over the daily rows."""
    from django.db import connection, transaction
    from django.db.models import Max, Min

    from haoping.indicators.models import DailyCount
    from haoping.indicators.services import months_between, months_refresh

    t0 = time.perf_counter()
    with connect(connection.settings_dict["NAME"]) as admin:
        admin.execute(f"TRUNCATE {MONTHLY}")
        defs = save_and_drop(admin, [MONTHLY])
    span = DailyCount.objects.aggregate(first=Min("day"), last=Max("day"))
    with transaction.atomic():
        months_refresh(months=months_between(span["first"], span["last"]))
    with connect(connection.settings_dict["NAME"]) as admin:
        restore(admin, defs, validate_foreign_keys=False)
        admin.execute(f"VACUUM ANALYZE {MONTHLY}")
        rows = admin.execute(f"SELECT count(*) FROM {MONTHLY}").fetchone()[0]
    took = time.perf_counter() - t0
    print(f"    monthly      {rows:>12,} rows  {took:7.1f} s (months_refresh, indexes, VACUUM ANALYZE)", flush=True)
    return rows, took


def rollup_rows_of(day: dt.date) -> set[tuple]:
    """The day's daily rows and its month's monthly rows."""
    from haoping.indicators.counting import COUNTS, LEVELS
    from haoping.indicators.models import DailyCount, MonthlyCount

    keys = ("region_id", "kind", "object_id", "channel", *COUNTS, *LEVELS)
    daily = DailyCount.objects.filter(day=day).values_list("day", *keys)
    monthly = MonthlyCount.objects.filter(month=day.replace(day=1)).values_list("month", *keys)
    return {("day", *row) for row in daily} | {("month", *row) for row in monthly}


def check_against_app(days: list[dt.date]) -> list[dict[str, Any]]:
    """rollups_rebuild() of a day must rewrite exactly the rows the INSERT … SELECT wrote."""
    from haoping.indicators.services import rollups_rebuild

    results = []
    for day in days:
        ours = rollup_rows_of(day)
        t0 = time.perf_counter()
        written = rollups_rebuild(first=day, last=day)
        took = time.perf_counter() - t0
        theirs = rollup_rows_of(day)
        same = ours == theirs
        results.append({"day": str(day), "rows": written, "seconds": round(took, 2), "identical": same})
        print(
            f"    rollups_rebuild(first=last={day}): {written:,} rows in {took:.1f} s;"
            f" identical to INSERT … SELECT: {'yes' if same else 'NO'}"
            + ("" if same else f" (only ours {len(ours - theirs)}, only app {len(theirs - ours)})"),
            flush=True,
        )
    return results


def rollups_build_app() -> float:
    from haoping.indicators.services import rollups_rebuild

    t0 = time.perf_counter()
    rows = rollups_rebuild()
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"    rollups_rebuild(): {rows:,} rows in {took:.1f} s; peak RSS of this process {peak:,.0f} MB", flush=True)
    return took


# ----------------------------------------------------------------------------------------------
# The dashboard queries, each in two forms


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def local_range(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=tz),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


def raw_sums(evaluations: Any, *group: str) -> list[dict[str, Any]]:
    """`selectors._sums` over the raw evaluations: the app's Annex A and level expressions, same shape."""
    from haoping.indicators.counting import (
        COUNTS,
        LEVELS,
        annex_a_rates,
        count_aggregates,
        counted,
        level_aggregates,
        with_valid_bad,
    )

    aggregates = {**count_aggregates(), **level_aggregates()}
    rows = counted(evaluations)
    if group:
        grouped = list(rows.values(*group).annotate(**aggregates).order_by(*group))
    else:
        grouped = [rows.aggregate(**aggregates)]
    result = []
    for row in grouped:
        counts = with_valid_bad({n: int(row[n] or 0) for n in COUNTS})
        levels = [int(row[n] or 0) for n in LEVELS]
        result.append(
            {**{g: row[g] for g in group}, "counts": counts, "rates": annex_a_rates(counts), "levels": levels}
        )
    return result


def raw_region_overview(*, region: Any, first: dt.date, last: dt.date) -> dict[str, Any]:
    """`selectors.region_overview` as GROUP BYs over evaluations_evaluation."""
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from haoping.evaluations.models import Evaluation

    start, end = local_range(first, last)
    evaluations = Evaluation.objects.filter(region__path__startswith=region.path, rated_at__gte=start, rated_at__lt=end)
    by_day = evaluations.annotate(day=TruncDate("rated_at", tzinfo=timezone.get_default_timezone()))
    return {
        "whole": raw_sums(evaluations)[0],
        "days": raw_sums(by_day, "day"),
        "channels": raw_sums(evaluations, "channel"),
    }


def raw_region_totals(*, region: Any, first: dt.date, last: dt.date) -> dict[str, Any]:
    """`selectors.indicator_report` of a region as one aggregate over evaluations_evaluation."""
    from haoping.evaluations.models import Evaluation

    start, end = local_range(first, last)
    evaluations = Evaluation.objects.filter(region__path__startswith=region.path, rated_at__gte=start, rated_at__lt=end)
    whole = raw_sums(evaluations)[0]
    return {"counts": whole["counts"], "rates": whole["rates"]}


def raw_object_breakdown(
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    within: Any,
    object_ids: list[int] | None = None,
    channel: str | None = None,
) -> dict[int, dict[str, Any]]:
    """`selectors.object_breakdown` as a GROUP BY over evaluations_evaluation."""
    from haoping.evaluations.models import Evaluation
    from haoping.indicators.services import KIND_FIELDS

    field_name = KIND_FIELDS[kind]
    start, end = local_range(first, last)
    evaluations = Evaluation.objects.filter(rated_at__gte=start, rated_at__lt=end, **{f"{field_name}__isnull": False})
    if within is not None:
        evaluations = evaluations.filter(region__path__startswith=within.path)
    if object_ids is not None:
        evaluations = evaluations.filter(**{f"{field_name}__in": object_ids})
    if channel is not None:
        evaluations = evaluations.filter(channel=channel)
    out = {}
    for row in raw_sums(evaluations, field_name):
        row["object_id"] = row.pop(field_name)
        out[row["object_id"]] = row
    return out


def overview(region: Any, period: tuple[dt.date, dt.date], previous: tuple[dt.date, dt.date], *, raw: bool) -> dict:
    """What the overview page reads for its cards, trend, levels and channels, and the previous
    period's totals for the change shown on each card."""
    from haoping.indicators.selectors import indicator_report, region_overview

    if raw:
        return {
            "period": raw_region_overview(region=region, first=period[0], last=period[1]),
            "previous": raw_region_totals(region=region, first=previous[0], last=previous[1]),
        }
    return {
        "period": region_overview(region=region, first=period[0], last=period[1]),
        "previous": indicator_report(kind="region", object_id=None, first=previous[0], last=previous[1], within=region),
    }


def ranking_page(province: Any, year: tuple[dt.date, dt.date], breakdown: Callable | None = None) -> Any:
    """What the rankings page reads: all institutions of the province by good rate over a year
    (`selectors.ranking`, with the app's minimum sample); `breakdown` replaces its source of counts."""
    from unittest import mock

    from django.conf import settings

    from haoping.indicators import selectors

    names = selectors.ranked_objects("institution", province)
    query = dict(
        kind="institution",
        names=names,
        first=year[0],
        last=year[1],
        within=province,
        rate="good_rate",
        min_sample=settings.HAOPING_RANKING_MIN_SAMPLE,
        lowest=3,
        threshold=None,
    )
    if breakdown is None:
        return selectors.ranking(**query)
    with mock.patch.object(selectors, "object_breakdown", breakdown):
        return selectors.ranking(**query)


def overview_rest(region: Any, period: tuple[dt.date, dt.date]) -> dict:
    """The other rollup reads of the overview page: institutions, departments and items of the region,
    and one line per child region (rollups only; names and the overdue-case count left out)."""
    from haoping.indicators.models import DailyCount
    from haoping.indicators.selectors import child_regions_breakdown, object_breakdown

    first, last = period
    return {
        kind: object_breakdown(kind=kind, first=first, last=last, within=region)
        for kind in (DailyCount.Kind.INSTITUTION, DailyCount.Kind.DEPARTMENT, DailyCount.Kind.ITEM)
    } | {"children": child_regions_breakdown(region=region, first=first, last=last)}


def measure(fn: Callable[[], Any], warmup: int, repeat: int) -> tuple[list[float], Any, list[list[float]]]:
    """Run fn warmup + repeat times; return the timed wall times (ms), the last result, and per run the
    time of each SQL statement it executed (ms, execute and fetch)."""
    from django.db import connection

    result = None
    for _ in range(warmup):
        result = fn()
    times, statements = [], []
    for _ in range(repeat):
        run: list[float] = []

        def timer(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                run.append((time.perf_counter() - t0) * 1000)  # noqa: B023 (this run's list)

        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        statements.append(run)
    return times, result, statements


def statement_summary(statements: list[list[float]]) -> str:
    """p50/p95 (ms) of each statement of a run, by position."""
    n = min(len(run) for run in statements)
    return "  ".join(
        f"#{k + 1} {statistics.median([r[k] for r in statements]):.1f}/{pct([r[k] for r in statements], 95):.1f}"
        for k in range(n)
    )


def statement_p95(statements: list[list[float]]) -> tuple[float, int, int]:
    """The worst per-statement p95 (statements by position in the run), statements per run, slowest position."""
    n = min(len(run) for run in statements)
    p95s = [pct([run[k] for run in statements], 95) for k in range(n)]
    worst = max(range(n), key=lambda k: p95s[k])
    return p95s[worst], n, worst + 1


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(times: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(times), 2),
        "p95": round(pct(times, 95), 2),
        "max": round(max(times), 2),
        "n": len(times),
    }


# ----------------------------------------------------------------------------------------------


CLK = os.sysconf("SC_CLK_TCK")


def cpu_by_owner(db: str) -> dict[str, float]:
    """CPU seconds so far: this process, our PostgreSQL backends, and everything else alive now."""
    out = {"bench": 0.0, "postgres": 0.0, "other": 0.0}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / CLK
        if int(entry.name) == me:
            out["bench"] += used
        elif f" {db} " in title or "parallel worker for PID" in title:
            out["postgres"] += used
        else:
            out["other"] += used
    return out


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine (including processes that have exited)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(parts) - parts[3] - parts[4]) / CLK


def table_figures(db: str) -> dict[str, Any]:
    with connect(db) as conn:
        rows = {}
        tables = (EVALUATIONS, CASES, ROLLUPS, MONTHLY, "indicators_problemterm", "directory_institution")
        for table in tables:
            n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()[0]
            rows[table] = {"rows": n, "bytes": size}
        kinds = dict(conn.execute(f"SELECT kind, count(*) FROM {ROLLUPS} GROUP BY kind ORDER BY kind").fetchall())
        db_size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"tables": rows, "rollup_rows_by_kind": kinds, "db_bytes": db_size}


def gb(n: int) -> str:
    return f"{n / 1024**3:.2f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaluations", type=int, default=20_000_000, help="evaluations to load (two years)")
    ap.add_argument("--days", type=int, default=730, help="days of data, ending on --last-day")
    ap.add_argument("--last-day", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    ap.add_argument("--cities", type=int, default=14)
    ap.add_argument("--districts", type=int, default=100)
    ap.add_argument("--departments", type=int, default=3000)
    ap.add_argument("--institutions", type=int, default=2000)
    ap.add_argument("--windows", type=int, default=20_000)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--staff", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--city", default="320100", help="the city of the region overview (default: the capital)")
    ap.add_argument("--repeat", type=int, default=30, help="timed runs of each query from the rollups")
    ap.add_argument("--raw-repeat", type=int, default=5, help="timed runs of each raw GROUP BY (seconds each)")
    ap.add_argument(
        "--rollups",
        choices=["sql", "app"],
        default="sql",
        help="build the rollups with one INSERT … SELECT per kind (sql) or with the app's rollups_rebuild()"
        " (app: holds every rollup row in Python memory; for small --evaluations only)",
    )
    ap.add_argument("--check-days", type=int, default=2, help="sample days rebuilt by rollups_rebuild() and compared")
    ap.add_argument("--build-work-mem", default="256MB", help="work_mem of the session building the rollups")
    ap.add_argument("--prepared", choices=["on", "off"], default="on", help="the app's DB_PREPARED_STATEMENTS")
    ap.add_argument(
        "--db-options",
        metavar="QUERY",
        default="",
        help="query string appended to the app's DATABASE_URL, e.g. 'options=-c%%20jit%%3Doff'",
    )
    ap.add_argument("--db", default="haoping_bench_ind", help="database name (dropped and created)")
    ap.add_argument("--reuse", action="store_true", help="keep and reuse the database if it holds the data")
    ap.add_argument(
        "--rebuild-rollups", action="store_true", help="with --reuse: keep the evaluations, rebuild the rollups"
    )
    ap.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()

    db = args.db
    last = args.last_day
    first = last - dt.timedelta(days=args.days - 1)
    result: dict[str, Any] = {"date": str(dt.date.today()), "evaluations": args.evaluations, "cpus": os.cpu_count()}
    print(
        f"haoping indicators bench  {dt.datetime.now():%Y-%m-%d %H:%M}  cpus={os.cpu_count()}"
        f"  {args.evaluations:,} evaluations {first} … {last}",
        flush=True,
    )
    t_all = time.perf_counter()
    loaded = False
    if args.reuse and db_exists(db):
        with connect(db) as conn:
            try:
                n = conn.execute(f"SELECT count(*) FROM {EVALUATIONS}").fetchone()[0]
                r = conn.execute(f"SELECT count(*) FROM {ROLLUPS}").fetchone()[0]
            except psycopg.Error:
                n = r = 0
        loaded = n == args.evaluations
        print(f"  --reuse: {db} holds {n:,} evaluations and {r:,} rollup rows → {'reused' if loaded else 'reloading'}")
        rollups_needed = args.rebuild_rollups or r == 0
    else:
        rollups_needed = True
    try:
        if not loaded:
            t0 = time.perf_counter()
            drop_db(db)
            with connect("postgres") as conn:
                conn.execute(f"CREATE DATABASE {db}")
            migrate(db, args)
            print(f"  created and migrated {db} ({time.perf_counter() - t0:.1f} s)", flush=True)
            timings = load(db, args, first, last)
            timings["total"] = sum(timings.values())
            result["load_seconds"] = {k: round(v, 1) for k, v in timings.items()}
            print(f"  load total: {timings['total']:.1f} s", flush=True)
        else:
            t0 = time.perf_counter()
            migrate(db, args)  # the app may have gained migrations since (they may fill new rollups)
            with connect(db) as admin:
                admin.execute(f"VACUUM ANALYZE {MONTHLY}")  # a migration may have just filled it
            result["migrate_seconds"] = round(time.perf_counter() - t0, 1)
            print(f"  migrated {db}, VACUUM ANALYZE {MONTHLY} ({result['migrate_seconds']:.1f} s)", flush=True)

        django_setup(db, args)
        from haoping.indicators.models import MonthlyCount

        if rollups_needed:
            t0 = time.perf_counter()
            if args.rollups == "app":
                print("  rollups: rollups_rebuild()", flush=True)
                with connect(db) as admin:
                    admin.execute(f"TRUNCATE {ROLLUPS}")
                rollups_build_app()
                with connect(db) as admin:
                    admin.execute(f"VACUUM ANALYZE {ROLLUPS}")
            else:
                print("  rollups: INSERT … SELECT per kind (the app's rollup queryset)", flush=True)
                built = rollups_build_sql(args.build_work_mem)
                result["rollup_build"] = {k: [n, round(s, 1)] for k, (n, s) in built.items()}
            result["rollup_build_seconds"] = round(time.perf_counter() - t0, 1)
            print(f"  rollups built in {result['rollup_build_seconds']:.1f} s", flush=True)
        elif not MonthlyCount.objects.exists():
            print("  monthly rollups: months_refresh() over the daily rows", flush=True)
            result["rollup_build"] = {"monthly": list(months_build())}
        if args.check_days:
            sample = [last, first + dt.timedelta(days=args.days // 2)][: args.check_days]
            print("  check: the app's rollups_rebuild() on sample days", flush=True)
            result["check"] = check_against_app(sample)

        figures = table_figures(db)
        result["figures"] = figures
        print()
        print("tables")
        for table, f in figures["tables"].items():
            print(f"  {table:<30} {f['rows']:>12,} rows  {gb(f['bytes']):>10} with indexes")
        print("  rollup rows by kind: " + ", ".join(f"{k} {v:,}" for k, v in figures["rollup_rows_by_kind"].items()))
        print(f"  database size {gb(figures['db_bytes'])}")

        from haoping.directory.models import Region
        from haoping.evaluations.models import Evaluation

        city = Region.objects.get(code=args.city)
        province = Region.objects.get(code="320000")
        month = month_bounds(last)
        # The overview page compares with the period of the same length just before (views._period).
        span = month[1] - month[0] + dt.timedelta(days=1)
        prev = (month[0] - span, month[0] - dt.timedelta(days=1))
        year = (last - dt.timedelta(days=364), last)
        start, end = local_range(*month)
        city_month = Evaluation.objects.filter(
            region__path__startswith=city.path, rated_at__gte=start, rated_at__lt=end
        ).count()
        start, end = local_range(*year)
        year_rows = Evaluation.objects.filter(rated_at__gte=start, rated_at__lt=end, institution__isnull=False).count()
        print()
        print(
            f"queries (warm caches: rollups 3 warm-up + {args.repeat} timed runs, raw 1 warm-up +"
            f" {args.raw_repeat} timed runs; the app's selectors in this process, prepared statements {args.prepared})"
        )
        print(f"  overview: city {city.code} {month[0]}…{month[1]} (+ {prev[0]}…{prev[1]}): {city_month:,} evaluations")
        print(f"  ranking: institutions of province {province.code}, {year[0]}…{year[1]}: {year_rows:,} evaluations")

        cases: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
            (
                "overview",
                lambda: overview(city, month, prev, raw=False),
                lambda: overview(city, month, prev, raw=True),
            ),
            (
                "ranking",
                lambda: ranking_page(province, year),
                lambda: ranking_page(province, year, raw_object_breakdown),
            ),
            ("overview page, other reads", lambda: overview_rest(city, month), None),
        ]
        verdicts = []
        cpu0, busy0, wall0 = cpu_by_owner(db), machine_busy(), time.perf_counter()
        result["queries"] = {}
        for name, rollup_fn, raw_fn in cases:
            r_times, r_out, r_statements = measure(rollup_fn, 3, args.repeat)
            rs = summary(r_times)
            worst, per_run, worst_at = statement_p95(r_statements)
            p95_ok = worst <= TARGET_P95_MS
            entry: dict[str, Any] = {"rollups_ms": rs, "statements_per_run": per_run, "worst_statement_p95_ms": worst}
            entry["pass_p95"] = p95_ok
            print()
            print(f"{name}")
            print(
                f"  from rollups  p50 {rs['p50']:9.1f} ms  p95 {rs['p95']:9.1f} ms  max {rs['max']:9.1f} ms"
                f"   ({per_run} SQL statements; slowest p95 {worst:.1f} ms, #{worst_at})"
            )
            print(f"  statements p50/p95 ms: {statement_summary(r_statements)}")
            entry["statements"] = statement_summary(r_statements)
            verdicts.append(p95_ok)
            line = f"  every statement p95 ≤ {TARGET_P95_MS:.0f} ms: {'PASS' if p95_ok else 'FAIL'}"
            if raw_fn is not None:
                w_times, w_out, _ = measure(raw_fn, 1, args.raw_repeat)
                ws = summary(w_times)
                same = r_out == w_out
                ratio50, ratio95 = ws["p50"] / rs["p50"], ws["p95"] / rs["p95"]
                ratio_ok = ratio50 >= TARGET_RATIO
                entry |= {"raw_ms": ws, "ratio_p50": round(ratio50, 1), "ratio_p95": round(ratio95, 1)}
                entry |= {"same_result": same, "pass_ratio": ratio_ok}
                verdicts += [ratio_ok, same]
                print(f"  raw GROUP BY  p50 {ws['p50']:9.1f} ms  p95 {ws['p95']:9.1f} ms  max {ws['max']:9.1f} ms")
                print(f"  same result from rollups and raw: {'yes' if same else 'NO'}")
                line += (
                    f"   raw/rollups ×{ratio50:,.1f} at p50, ×{ratio95:,.1f} at p95;"
                    f" ≥ {TARGET_RATIO:.0f}×: {'PASS' if ratio_ok else 'FAIL'}"
                )
            print(line, flush=True)
            result["queries"][name] = entry
        wall = time.perf_counter() - wall0
        cpu1, busy1 = cpu_by_owner(db), machine_busy()
        mine = (cpu1["bench"] - cpu0["bench"] + cpu1["postgres"] - cpu0["postgres"]) / wall
        other = (cpu1["other"] - cpu0["other"]) / wall
        busy = (busy1 - busy0) / wall
        result["query_phase_cores"] = {"bench_and_postgres": round(mine, 2), "other": round(other, 2)}
        result["query_phase_cores"]["machine"] = round(busy, 2)
        print()
        print(
            f"cores used during the timed queries: bench + PostgreSQL {mine:.2f}, other processes {other:.2f},"
            f" whole machine {busy:.2f} of {os.cpu_count()} (other > ~0.2: disturbed, repeat with --reuse)"
        )
        result["total_seconds"] = round(time.perf_counter() - t_all, 1)
        print()
        print(f"run took {result['total_seconds']:.0f} s; {'ALL PASS' if all(verdicts) else 'NOT ALL TARGETS MET'}")
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not (args.keep_db or args.reuse):
            drop_db(db)


if __name__ == "__main__":
    main()
