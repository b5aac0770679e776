"""Writes for the rollups: a rebuild, and an incremental update after ratings and case steps.

A rebuild recounts days from the raw evaluations and cases with the Annex A expressions of
`counting`. An update costs what changed, not what exists: each new evaluation adds what it
counts to its rows, and a case that moved on adds the difference its new outcome makes for its bad
reviews, so the update and a rebuild give the same rows.

Lock bound: an update writes in transactions of at most `BATCH` evaluations or case steps, all
read and worked out before the transaction starts, so no transaction of it holds SQLite's write
lock (or PostgreSQL's row locks) for more than a few milliseconds, however busy the day; the test
suite asserts under 200 ms for a demo-sized day (tests/test_rollup_locks.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import DateField, F, Func, Max, Min, Q, Sum, Value
from django.db.models.functions import Substr, TruncDate, TruncMonth
from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.indicators.counting import (
    BAD,
    COUNTS,
    FIELDS,
    LEVELS,
    case_aggregates,
    case_outcomes,
    counted,
    level_aggregates,
    rating_aggregates,
    valid_bad,
)
from haoping.indicators.models import CountedCase, DailyCount, MonthlyCount, ProblemTerm, RollupMark
from haoping.indicators.problems import terms
from haoping.rectification.models import BadReviewCase, CaseEvent

# Object kind → the evaluation's field naming it.
KIND_FIELDS = {
    DailyCount.Kind.REGION: "region_id",
    DailyCount.Kind.DEPARTMENT: "department_id",
    DailyCount.Kind.INSTITUTION: "institution_id",
    DailyCount.Kind.WINDOW: "window_id",
    DailyCount.Kind.PLATFORM: "platform_id",
    DailyCount.Kind.ITEM: "item_id",
    DailyCount.Kind.STAFF: "staff_id",
}


def tune_plans() -> None:
    """For the rest of the current transaction: plans made for each statement's own values, and no
    JIT compilation.

    The app's connections prepare statements (the rating path wants that), and PostgreSQL then
    settles on a generic plan, which can estimate neither a date range nor a list of regions; and
    at the size of the rollups its cost estimates make it compile queries that run in milliseconds.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)"
            )


# The channel of the rows that count every channel together.
ALL_CHANNELS = "*"
# Ids missing below the newest one read (a transaction that has not committed yet, or rolled back)
# are looked for again while they are at most this many ids behind it.
LOOKBACK = 5_000
MAX_GAPS = 500
# Evaluations or case steps per write transaction of an update (see the lock bound above).
BATCH = 200


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _local_day(field: str, where: Q) -> Func:
    """The local day of a datetime field, for the evaluations matching `where`.

    On SQLite, TruncDate with a time zone converts every row in Python, the bulk of a rebuild's
    time; when the zone keeps one UTC offset over the evaluations' span (Asia/Shanghai has since
    1991), SQLite's own date() with that offset gives the same day in SQL.
    """
    tz = timezone.get_default_timezone()
    if connection.vendor == "sqlite":
        span = Evaluation.objects.filter(where).aggregate(first=Min(field), last=Max(field))
        offset = _fixed_offset(tz, span["first"], span["last"])
        if offset is not None:
            # Whole seconds: SQLite rounds a fraction to milliseconds (23:59:59.9999 would be the
            # next day's midnight).
            whole = Substr(F(field), 1, 19)
            return Func(whole, Value(f"{offset:+d} seconds"), function="date", output_field=DateField())
    return TruncDate(field, tzinfo=tz)


def _fixed_offset(tz: dt.tzinfo, first: dt.datetime | None, last: dt.datetime | None) -> int | None:
    """The zone's UTC offset in seconds if it is the same at every hour from `first` to `last`
    (any DST period lasts far longer than an hour), else None."""
    if first is None or last is None:
        return None
    offsets: set[dt.timedelta | None] = set()
    moment = first.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    end = last.astimezone(dt.UTC) + dt.timedelta(hours=1)
    while moment <= end and len(offsets) < 2:
        offsets.add(moment.astimezone(tz).utcoffset())
        moment += dt.timedelta(hours=1)
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else int(offset.total_seconds())


DAILY_COLUMNS = ("region_id", "day", "kind", "object_id", "channel", *COUNTS, *LEVELS)


def _count_rows(where: Q) -> list[tuple[Any, ...]]:
    """Rollup rows (`DAILY_COLUMNS`) for the evaluations matching `where`, one per region × day ×
    object × channel."""
    base = counted(Evaluation.objects.filter(where)).annotate(day=_local_day("rated_at", where))
    rows = []
    aggregates = {**rating_aggregates(), **level_aggregates()}
    cases = case_aggregates()
    no_cases = dict.fromkeys(cases, 0)
    adapt = connection.ops.adapt_datefield_value
    for kind, field in KIND_FIELDS.items():
        scoped = base.filter(**{f"{field}__isnull": False})
        # Per channel, and once more for all channels together ("*"), which most reads want.
        for group in (("region_id", "day", field, "channel"), ("region_id", "day", field)):
            n = len(group)
            # The case counts are taken over the bad reviews alone (see `case_aggregates`).
            of_bad = {
                g[:n]: dict(zip(cases, g[n:], strict=True))
                for g in scoped.filter(BAD).values(*group).annotate(**cases).values_list(*group, *cases).order_by()
            }
            grouped = scoped.values(*group).annotate(**aggregates).values_list(*group, *aggregates).order_by()
            for g in grouped:
                found = dict(zip(aggregates, g[n:], strict=True)) | of_bad.get(g[:n], no_cases)
                channel = g[3] if n == 4 else ALL_CHANNELS
                rows.append((g[0], adapt(g[1]), kind, g[2], channel, *(found[name] for name in (*COUNTS, *LEVELS))))
    return rows


def _insert(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain rows: the ORM's per-value preparation in bulk_create would be most of a
    rebuild's time (values of date fields must already be adapted for the database)."""
    qn = connection.ops.quote_name
    names = ", ".join(qn(model._meta.get_field(c).column) for c in columns)
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[start : start + 2000])


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def months_refresh(*, months: Iterable[dt.date], region_id: int | None = None) -> None:
    """Recompute the monthly rows of some months (of one region, or of all) from their daily rows,
    in one INSERT … SELECT (one pass over the daily rows, however many months)."""
    chosen = sorted({month_of(m) for m in months})
    if not chosen:
        return
    stale = MonthlyCount.objects.filter(month__in=chosen)
    # Day ranges rather than a test of each day's month, which PostgreSQL cannot estimate.
    in_months = Q()
    for first, last in _runs(chosen):
        in_months |= Q(day__gte=first, day__lte=month_end(last))
    daily = DailyCount.objects.filter(in_months)
    if region_id is not None:
        stale, daily = stale.filter(region_id=region_id), daily.filter(region_id=region_id)
    stale.delete()
    fields = (*COUNTS, *LEVELS)
    sums_of = [f"s_{f}" for f in fields]  # named apart from the model's fields
    keys = ("region_id", "kind", "object_id", "channel")
    sums = (
        daily.annotate(in_month=TruncMonth("day"))
        .values(*keys, "in_month")
        .annotate(**{name: Sum(f) for name, f in zip(sums_of, fields, strict=True)})
        .order_by()
    )
    select, params = sums.query.sql_with_params()
    into = f"{MonthlyCount._meta.db_table} (region_id, kind, object_id, channel, month, {', '.join(fields)})"
    columns = ", ".join(f"q.{c}" for c in ("region_id", "kind", "object_id", "channel", "in_month", *sums_of))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {into} SELECT {columns} FROM ({select}) q", params)


def _runs(months: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted months as runs of consecutive ones: (first month, last month) each."""
    runs: list[tuple[dt.date, dt.date]] = []
    for month in months:
        if runs and month_end(runs[-1][1]) + dt.timedelta(days=1) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return runs


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = month_end(month) + dt.timedelta(days=1)
    return months


TermKey = tuple[int, dt.date, str, int, str]  # region, day, kind, object, term


def _term_keys(
    region_id: int, day: dt.date, item_id: int, department_id: int, comment: str, reasons: Any
) -> set[TermKey]:
    """The term rows one bad review (its words, and its reason tags as "#code") counts in: its
    item's and its department's."""
    words = set(terms(comment)) | {f"#{r}" for r in reasons}
    return {
        key
        for word in words
        for key in (
            (region_id, day, "item", item_id, word[:40]),
            (region_id, day, "department", department_id, word[:40]),
        )
    }


def _term_rows(where: Q) -> list[ProblemTerm]:
    """Words of the valid bad reviews matching `where`, per region × day × item/department.

    A word counts once per evaluator in each row: a batch or theme rating is one evaluator's one
    comment on every record it covers, and one evaluator's several comments of a day on an item
    (or a department) say what they say once.
    """
    bad = list(
        valid_bad(Evaluation.objects.filter(where)).values_list(
            "region_id", "rated_at", "item_id", "department_id", "comment", "reasons", "receipt"
        )
    )
    who = _evaluators((row[0], row[6]) for row in bad)
    tz = timezone.get_default_timezone()
    seen: set[tuple[TermKey, str]] = set()
    for region_id, rated_at, item_id, department_id, comment, reasons, receipt in bad:
        day = timezone.localtime(rated_at, tz).date()
        by = who[(region_id, receipt)]
        seen |= {(key, by) for key in _term_keys(region_id, day, item_id, department_id, comment, reasons)}
    found = Counter(key for key, _by in seen)
    return [
        ProblemTerm(region_id=r, day=d, kind=k, object_id=o, term=t, count=n) for (r, d, k, o, t), n in found.items()
    ]


def rollups_rebuild(*, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Recount the rollups of a date range (all dates when none is given) from scratch.

    An administrator's repair (and the demo's load), in one transaction that reads one snapshot;
    unlike the update it holds its locks while it recounts.
    """
    snapshot = not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            _snapshot()
        tune_plans()
        if first is None and last is None:
            # Everything is counted from this snapshot: the marks start at its newest rows and
            # every case's outcome is counted as it stands in it.
            _set_marks()
            counted_cases_reset()
        else:
            # The cases' outcomes counted elsewhere must be the ones the recount finds.
            while _cases_step(BATCH):
                pass
        marks = _marks()
        where = _counted(marks["evaluations"])
        rows_to_delete = DailyCount.objects.all()
        terms_to_delete = ProblemTerm.objects.all()
        if first is not None:
            rows_to_delete = rows_to_delete.filter(day__gte=first)
            terms_to_delete = terms_to_delete.filter(day__gte=first)
            where &= Q(rated_at__gte=day_bounds(first, first)[0])
        if last is not None:
            rows_to_delete = rows_to_delete.filter(day__lte=last)
            terms_to_delete = terms_to_delete.filter(day__lte=last)
            where &= Q(rated_at__lt=day_bounds(last, last)[1])
        rows_to_delete.delete()
        terms_to_delete.delete()
        rows = _count_rows(where)
        _insert(DailyCount, DAILY_COLUMNS, rows)
        ProblemTerm.objects.bulk_create(_term_rows(where), batch_size=2000)
        if first is None or last is None:
            MonthlyCount.objects.filter(
                **({} if first is None else {"month__gte": month_of(first)}),
                **({} if last is None else {"month__lte": last}),
            ).delete()
        span = DailyCount.objects.aggregate(first=Min("day"), last=Max("day"))
        low, high = first or span["first"], last or span["last"]
        if low is not None and high is not None:
            months_refresh(months=months_between(low, high))
    return len(rows)


def _snapshot() -> None:
    """On PostgreSQL, every read of the current transaction sees the same moment (SQLite's
    IMMEDIATE transaction does anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


MARKED = ("evaluations", "case_events")


def _marked_models() -> dict[str, Any]:
    return {"evaluations": Evaluation, "case_events": CaseEvent}


def _set_marks() -> None:
    """Marks at the newest rows, with the ids missing in the look-back as gaps (a transaction that
    took its id may still commit)."""
    for name, model in _marked_models().items():
        top = model.objects.aggregate(top=Max("id"))["top"] or 0
        seen = set(model.objects.filter(pk__gt=top - LOOKBACK).values_list("pk", flat=True))
        gaps = {pk for pk in range(max(top - LOOKBACK, 0) + 1, top + 1) if pk not in seen}
        RollupMark.objects.update_or_create(name=name, defaults={"last_id": top, "gaps": _ranges(gaps)})


def _marks() -> dict[str, RollupMark]:
    found = {m.name: m for m in RollupMark.objects.filter(name__in=MARKED)}
    for name in MARKED:
        if name not in found:
            found[name] = RollupMark.objects.get_or_create(name=name)[0]
    return found


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    """Ids as sorted [first, last] ranges."""
    ranges: list[list[int]] = []
    for pk in sorted(ids):
        if ranges and ranges[-1][1] == pk - 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


def _in_gaps(mark: RollupMark) -> Q:
    q = Q(pk__in=[low for low, high in mark.gaps if low == high])
    for low, high in mark.gaps:
        if low != high:
            q |= Q(pk__gte=low, pk__lte=high)
    return q


def _counted(mark: RollupMark) -> Q:
    """The rows that the rollups count already."""
    return Q(pk__lte=mark.last_id) & ~_in_gaps(mark)


def _pending(mark: RollupMark) -> Q:
    """The rows that the rollups do not count yet."""
    return Q(pk__gt=mark.last_id) | _in_gaps(mark)


def _advance(mark: RollupMark, read: list[int]) -> tuple[int, list[list[int]]]:
    """The mark after reading `read` (the pending ids found, ascending, up to a batch's end): every
    id up to the newest read that was not found is a gap; gaps too far back are given up."""
    gaps = {pk for low, high in mark.gaps for pk in range(low, high + 1)} - set(read)
    top = max(mark.last_id, read[-1] if read else 0)
    gaps |= set(range(mark.last_id + 1, top + 1)) - set(read)
    # Rolled-back inserts leave gaps for good; the newest MAX_GAPS ranges are looked for (a
    # transaction in flight is among the newest), so that the query stays small.
    return top, _ranges(pk for pk in gaps if pk > top - LOOKBACK)[-MAX_GAPS:]


RowKey = tuple[int, dt.date, str, int, str]  # region, day (or month), kind, object, channel
CASE_COUNTS = ("invalid_bad", "replied", "rectified", "satisfied")
# CountedCase's flag for each case count, in the same order.
CASE_FLAGS = ("invalid", "replied", "rectified", "satisfied")
_EVALUATION_VALUES: tuple[str, ...] = ("pk", "region_id", "rated_at", "channel", "source", "level", "blocked")
_EVALUATION_VALUES += ("receipt", "comment", "reasons", "supersedes_id", *KIND_FIELDS.values())


class _Change:
    """What a batch adds to the daily, monthly and term rows."""

    def __init__(self) -> None:
        self.days: dict[RowKey, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
        self.terms: Counter[TermKey] = Counter()

    def add(self, ev: dict[str, Any], values: dict[str, int], day: dt.date) -> None:
        """`values` (count name → change) for every row that counts the evaluation `ev`."""
        changes = [(FIELDS.index(name), n) for name, n in values.items() if n]
        for kind, field in KIND_FIELDS.items():
            object_id = ev[field]
            if object_id is None:
                continue
            for channel in (ev["channel"], ALL_CHANNELS):
                row = self.days[(ev["region_id"], day, kind, object_id, channel)]
                for i, n in changes:
                    row[i] += n

    def add_terms(self, before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]) -> None:
        """One evaluator's valid bad reviews counted in the term rows were `before` and are now
        `after`: each row counts a word of theirs once, so only the rows that gain or lose one of
        their words change."""
        counted_before, counted_after = _review_terms(before), _review_terms(after)
        for key in counted_after - counted_before:
            self.terms[key] += 1
        for key in counted_before - counted_after:
            self.terms[key] -= 1

    def statements(self) -> list[Statement]:
        """The statements that write the change, built before the transaction that runs them."""
        days = {k: v for k, v in self.days.items() if any(v)}
        months: dict[RowKey, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
        for (region_id, day, kind, object_id, channel), values in days.items():
            into = months[(region_id, month_of(day), kind, object_id, channel)]
            for i, n in enumerate(values):
                into[i] += n
        changed_terms = {k: [n] for k, n in self.terms.items() if n}
        found = [
            *_upsert(DailyCount, "day", FIELDS, days),
            *_upsert(MonthlyCount, "month", FIELDS, months),
            *_upsert(ProblemTerm, "day", ("count",), changed_terms, last="term"),
        ]
        # A word no valid bad review of the day uses any more is gone, as a rebuild would leave it.
        emptied = sorted({(k[0], k[1]) for k, v in changed_terms.items() if v[0] < 0})
        if emptied:
            found.append(
                (
                    f"DELETE FROM {ProblemTerm._meta.db_table} WHERE region_id = %s AND day = %s AND count = 0",
                    emptied,
                    True,
                )
            )
        return found


# SQL, its parameters, and whether they are a sequence of parameter sets (executemany).
Statement = tuple[str, Any, bool]


def _upsert(
    model: Any, date: str, fields: tuple[str, ...], rows: dict[Any, list[int]], last: str = "channel"
) -> list[Statement]:
    """Statements that add `rows` (key → changes of `fields`) to the rows of `model`, creating the
    missing ones."""
    table = model._meta.db_table
    keys = ("region_id", date, "kind", "object_id", last)
    # The database checks a row to insert (counts are never negative) before it finds the row it
    # would update instead: a change that takes away updates rows, which exist since they count it.
    growing = [(key, values) for key, values in rows.items() if min(values) >= 0]
    shrinking = [(key, values) for key, values in rows.items() if min(values) < 0]
    columns = ", ".join((*keys, *fields))
    one = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    add = ", ".join(f"{f} = {table}.{f} + EXCLUDED.{f}" for f in fields)
    per_statement = max(1, min(500, (connection.features.max_query_params or 10_000) // (len(keys) + len(fields))))
    statements: list[Statement] = []
    for at in range(0, len(growing), per_statement):
        batch = growing[at : at + per_statement]
        params: list[Any] = []
        for key, values in batch:
            params += [*key, *values]
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {add}"
        )
        statements.append((sql, params, False))
    if shrinking:
        sql = (
            f"UPDATE {table} SET {', '.join(f'{f} = {f} + %s' for f in fields)}"
            f" WHERE {' AND '.join(f'{k} = %s' for k in keys)}"
        )
        statements.append((sql, [(*values, *key) for key, values in shrinking], True))
    return statements


def _counted_cases_upsert(moved: dict[tuple[int, str], tuple[bool, ...]]) -> list[Statement]:
    if not moved:
        return []
    table = CountedCase._meta.db_table
    columns = ("region_id", "receipt", *CASE_FLAGS)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        f" ON CONFLICT (region_id, receipt) DO UPDATE SET {', '.join(f'{f} = EXCLUDED.{f}' for f in CASE_FLAGS)}"
    )
    return [(sql, [(*key, *flags) for key, flags in moved.items()], True)]


def _case_flags(cases: Any) -> dict[tuple[int, str], tuple[bool, ...]]:
    """(region, receipt) → the outcome flags of each of `cases` as the case counts read them."""
    from django.db.models import BooleanField, Case, Value, When

    outcomes = case_outcomes()
    flags = {
        f"flag_{name}": Case(When(outcomes[name], then=Value(True)), default=Value(False), output_field=BooleanField())
        for name in CASE_COUNTS
    }
    return {
        (row[0], row[1]): tuple(row[2:]) for row in cases.annotate(**flags).values_list("region_id", "receipt", *flags)
    }


NO_OUTCOME = (False,) * len(CASE_FLAGS)


def _counted_flags(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], tuple[bool, ...]]:
    keys = set(keys)
    found: dict[tuple[int, str], tuple[bool, ...]] = {}
    receipts = sorted({receipt for _, receipt in keys})
    for at in range(0, len(receipts), 500):
        rows = CountedCase.objects.filter(receipt__in=receipts[at : at + 500]).values_list(
            "region_id", "receipt", *CASE_FLAGS
        )
        for region_id, receipt, *flags in rows:
            if (region_id, receipt) in keys:
                found[(region_id, receipt)] = tuple(flags)
    return found


def _rating_values(ev: dict[str, Any], flags: tuple[bool, ...]) -> dict[str, int]:
    """What one evaluation counts (R1, R2; Annex A), its case's outcome being `flags`."""
    active = ev["source"] == Evaluation.Source.ACTIVE
    bad = active and ev["level"] <= 2
    values = {
        "total": 1,
        "active": int(active),
        "defaults": int(ev["source"] == Evaluation.Source.DEFAULT),
        "active_good": int(active and ev["level"] >= 4),
        "bad": int(bad),
        **{f"level_{n}": int(active and ev["level"] == n) for n in range(1, 6)},
    }
    for name, flag in zip(CASE_COUNTS, flags, strict=True):
        values[name] = int(bad and flag)
    return values


class _Moved(Exception):
    """Another update moved the marks since this batch read them."""


def _write(
    marks: dict[str, RollupMark], moving: str, top: int, gaps: list[list[int]], statements: list[Statement]
) -> bool:
    """In one short transaction: move the mark `moving` to (`top`, `gaps`) and run `statements`,
    unless another update moved either mark since `marks` were read; whether it was written.

    On PostgreSQL the statements travel in one pipeline: the transaction lasts two round trips
    (the statements, then the commit), however many there are.
    """
    table = RollupMark._meta.db_table
    same_gaps = "gaps = %s::jsonb" if connection.vendor == "postgresql" else "json(gaps) = json(%s)"
    checks = []
    for name in MARKED:
        mark = marks[name]
        new = (top, json.dumps(gaps)) if name == moving else (mark.last_id, json.dumps(mark.gaps))
        sql = f"UPDATE {table} SET last_id = %s, gaps = %s WHERE name = %s AND last_id = %s AND {same_gaps}"
        checks.append((sql, [*new, name, mark.last_id, json.dumps(mark.gaps)]))
    if connection.vendor == "postgresql":
        checks = [(sql.replace("gaps = %s WHERE", "gaps = %s::jsonb WHERE"), params) for sql, params in checks]
    try:
        with transaction.atomic():
            connection.ensure_connection()
            raw = connection.connection
            pipeline = raw.pipeline() if connection.vendor == "postgresql" else contextlib.nullcontext()
            cursors = []
            with pipeline:
                for sql, params in checks:
                    cursors.append(raw.cursor())
                    cursors[-1].execute(_native(sql), params)
                cursor = raw.cursor()
                if connection.vendor == "postgresql":
                    # The rows are derived, and a crash may lose only whole transactions of them,
                    # marks included, which the next update writes again: no wait for the disk.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                for sql, params, many in statements:
                    if many:
                        cursor.executemany(_native(sql), params)
                    else:
                        cursor.execute(_native(sql), params)
            if any(c.rowcount != 1 for c in cursors):
                raise _Moved
    except _Moved:
        return False
    return True


def _native(sql: str) -> str:
    """`sql` with the driver's own placeholders (SQLite's driver takes "?")."""
    return sql.replace("%s", "?") if connection.vendor == "sqlite" else sql


def _counted_bad(region_id: int, receipt: str, mark: RollupMark) -> list[dict[str, Any]]:
    """The bad reviews of a receipt that the rollups count already."""
    reviews = counted(Evaluation.objects.filter(region_id=region_id, receipt=receipt)).filter(BAD & _counted(mark))
    return list(reviews.values(*_EVALUATION_VALUES))


def _review_terms(reviews: Iterable[dict[str, Any]]) -> set[TermKey]:
    tz = timezone.get_default_timezone()
    found: set[TermKey] = set()
    for ev in reviews:
        day = timezone.localtime(ev["rated_at"], tz).date()
        found |= _term_keys(ev["region_id"], day, ev["item_id"], ev["department_id"], ev["comment"], ev["reasons"])
    return found


def _who(receipt: str, id_digest: str | None, phone_digest: str | None) -> str:
    """Who gave the bad reviews of a receipt, as far as the hot problems tell people apart: the
    keyed digest of the evaluator's ID number, or else of their phone; else the one submission."""
    if id_digest:
        return f"id:{id_digest}"
    if phone_digest:
        return f"phone:{phone_digest}"
    return f"receipt:{receipt}"


def _evaluators(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """(region, receipt) → who gave its bad reviews: the evaluator their case names (R7, R12)."""
    found = {key: _who(key[1], None, None) for key in keys}
    receipts = sorted({receipt for _, receipt in found})
    for at in range(0, len(receipts), 500):
        rows = BadReviewCase.objects.filter(receipt__in=receipts[at : at + 500]).values_list(
            "region_id", "receipt", "evaluator__id_digest", "evaluator__phone_digest"
        )
        for region_id, receipt, id_digest, phone_digest in rows:
            if (region_id, receipt) in found:
                found[(region_id, receipt)] = _who(receipt, id_digest, phone_digest)
    return found


def _evaluators_reviews(
    whose: dict[tuple[int, str], str], mark: RollupMark
) -> tuple[dict[str, list[tuple[tuple[int, str], dict[str, Any]]]], dict[tuple[int, str], tuple[bool, ...]]]:
    """Every bad review the rollups count already of the evaluators of `whose` ((region, receipt)
    → who), by evaluator, each with its (region, receipt); and the case outcome counted for each
    such receipt."""
    whose = dict(whose)
    ids = sorted({w.removeprefix("id:") for w in whose.values() if w.startswith("id:")})
    phones = sorted({w.removeprefix("phone:") for w in whose.values() if w.startswith("phone:")})
    wanted = set(whose.values())
    for digests, field in ((ids, "evaluator__id_digest"), (phones, "evaluator__phone_digest")):
        for at in range(0, len(digests), 500):
            rows = BadReviewCase.objects.filter(**{f"{field}__in": digests[at : at + 500]}).values_list(
                "region_id", "receipt", "evaluator__id_digest", "evaluator__phone_digest"
            )
            for region_id, receipt, id_digest, phone_digest in rows:
                who = _who(receipt, id_digest, phone_digest)
                if who in wanted:
                    whose[(region_id, receipt)] = who
    found: dict[str, list[tuple[tuple[int, str], dict[str, Any]]]] = defaultdict(list)
    receipts = sorted({receipt for _, receipt in whose})
    for at in range(0, len(receipts), 500):
        reviews = counted(Evaluation.objects.filter(receipt__in=receipts[at : at + 500])).filter(BAD & _counted(mark))
        for ev in reviews.values(*_EVALUATION_VALUES):
            key = (ev["region_id"], ev["receipt"])
            if key in whose:
                found[whose[key]].append((key, ev))
    return found, _counted_flags(whose)


def _evaluations_step(size: int) -> int:
    """Count up to `size` evaluations not counted yet; the number read."""
    marks = _marks()
    mark = marks["evaluations"]
    found = list(Evaluation.objects.filter(_pending(mark)).order_by("pk").values(*_EVALUATION_VALUES)[:size])
    if not found:
        return 0
    tz = timezone.get_default_timezone()
    # A default rating a paper form replaced counts nowhere (counting.counted): one read now is
    # skipped, and one counted already is taken out when its replacement is counted.
    replaced = set(
        Evaluation.objects.filter(supersedes_id__in=[ev["pk"] for ev in found]).values_list("supersedes_id", flat=True)
    )
    counted = [ev for ev in found if not ev["blocked"] and ev["pk"] not in replaced]
    flags = _counted_flags((ev["region_id"], ev["receipt"]) for ev in counted)
    change = _Change()
    superseded = [ev["supersedes_id"] for ev in counted if ev["supersedes_id"] is not None]
    if superseded:
        taken_out = Evaluation.objects.filter(Q(pk__in=superseded, blocked=False) & _counted(mark))
        for old in taken_out.values(*_EVALUATION_VALUES):
            day = timezone.localtime(old["rated_at"], tz).date()
            values = _rating_values(old, NO_OUTCOME)
            change.add(old, {name: -n for name, n in values.items()}, day)
    valid_bad_by_receipt: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for ev in counted:
        day = timezone.localtime(ev["rated_at"], tz).date()
        outcome = flags.get((ev["region_id"], ev["receipt"]), NO_OUTCOME)
        change.add(ev, _rating_values(ev, outcome), day)
        if ev["source"] == Evaluation.Source.ACTIVE and ev["level"] <= 2 and not outcome[0]:
            valid_bad_by_receipt[(ev["region_id"], ev["receipt"])].append(ev)
    if valid_bad_by_receipt:
        # A word counts once per evaluator: their reviews counted already (a batch or theme stored
        # in parts, their other comments of the day) may count it in the same rows.
        whose = _evaluators(valid_bad_by_receipt)
        earlier, outcomes = _evaluators_reviews(whose, mark)
        new: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, reviews in valid_bad_by_receipt.items():
            new[whose[key]] += reviews
        for who, reviews in new.items():
            valid = [ev for key, ev in earlier.get(who, []) if not outcomes.get(key, NO_OUTCOME)[0]]
            change.add_terms(valid, valid + reviews)
    top, gaps = _advance(mark, [ev["pk"] for ev in found])
    # Should another update have got there first, the batch is read again.
    _write(marks, "evaluations", top, gaps, change.statements())
    return len(found)


def _cases_step(size: int) -> int:
    """Count the outcome of the cases of up to `size` case steps not read yet; the number read."""
    marks = _marks()
    mark = marks["case_events"]
    events = list(CaseEvent.objects.filter(_pending(mark)).order_by("pk").values_list("pk", "case_id")[:size])
    if not events:
        return 0
    now = _case_flags(BadReviewCase.objects.filter(pk__in={case_id for _, case_id in events}))
    before = _counted_flags(now)
    moved = {key: flags for key, flags in now.items() if flags != before.get(key, NO_OUTCOME)}
    change = _Change()
    tz = timezone.get_default_timezone()
    for (region_id, receipt), flags in moved.items():
        old = before.get((region_id, receipt), NO_OUTCOME)
        reviews = _counted_bad(region_id, receipt, marks["evaluations"])
        for ev in reviews:
            day = timezone.localtime(ev["rated_at"], tz).date()
            change.add(ev, {n: int(b) - int(a) for n, a, b in zip(CASE_COUNTS, old, flags, strict=True)}, day)
    # Found invalid (or no longer): its words leave (or rejoin) the terms, unless another valid
    # review of the same evaluator counts them there.
    invalidity = [key for key, flags in moved.items() if before.get(key, NO_OUTCOME)[0] != flags[0]]
    if invalidity:
        reviews_of, outcomes = _evaluators_reviews(_evaluators(invalidity), marks["evaluations"])
        for theirs in reviews_of.values():
            was = [ev for key, ev in theirs if not outcomes.get(key, NO_OUTCOME)[0]]
            is_now = [ev for key, ev in theirs if not moved.get(key, outcomes.get(key, NO_OUTCOME))[0]]
            change.add_terms(was, is_now)
    top, gaps = _advance(mark, [pk for pk, _ in events])
    _write(marks, "case_events", top, gaps, change.statements() + _counted_cases_upsert(moved))
    return len(events)


def counted_cases_reset() -> None:
    """Count every case's outcome as it stands (for a recount of everything)."""
    CountedCase.objects.all().delete()
    rows = [
        CountedCase(region_id=region_id, receipt=receipt, **dict(zip(CASE_FLAGS, flags, strict=True)))
        for (region_id, receipt), flags in _case_flags(BadReviewCase.objects.all()).items()
        if any(flags)
    ]
    CountedCase.objects.bulk_create(rows, batch_size=2000)


def rollups_update() -> int:
    """Count the evaluations and case steps stored since the last update; the number read.

    Safe to run at any time, also beside another update and beside ratings: each batch is worked
    out before its short write transaction, which first checks that no other update has moved the
    marks (else the batch is read again).
    """
    done = 0
    while n := _evaluations_step(BATCH):
        done += n
    while n := _cases_step(BATCH):
        done += n
    return done
