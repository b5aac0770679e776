"""Writes for the rollups: a full rebuild, and an incremental update after ratings and case steps.

A region-day is the unit of work: its rows are recounted from the raw evaluations and cases with
the Annex A expressions of `counting`, so an incremental update and a rebuild give the same rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.indicators.counting import (
    BAD,
    COUNTS,
    FIELDS,
    LEVELS,
    case_aggregates,
    counted,
    level_aggregates,
    rating_aggregates,
    valid_bad,
)
from haoping.indicators.models import DailyCount, MonthlyCount, ProblemTerm, RollupMark
from haoping.indicators.problems import terms

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
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("rollups_paused", default=False)


def rollups_soon() -> None:
    """Ask for an update once the current transaction commits (outside the request's own work)."""
    if not _paused.get() and getattr(settings, "HAOPING_ROLLUPS_ENQUEUE", True):
        transaction.on_commit(_enqueue)


# A burst of ratings asks for one update: the first one schedules it this long ahead, and those
# committed before it runs are recounted with it, so each process queues at most one a second.
COALESCE_SECONDS = 1.0
_next_enqueue = 0.0


def _enqueue() -> None:
    from huey.contrib.djhuey import HUEY

    from haoping.indicators.tasks import update_rollups

    global _next_enqueue
    now = time.monotonic()
    if now < _next_enqueue:
        return
    _next_enqueue = now + COALESCE_SECONDS
    if HUEY.immediate:
        update_rollups()  # huey's immediate mode keeps scheduled tasks and never runs them
    else:
        update_rollups.schedule(delay=COALESCE_SECONDS)


@contextlib.contextmanager
def rollups_paused() -> Iterator[None]:
    """For bulk loads (the demo), which rebuild the rollups once at the end."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


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
# Rows committed out of id order (a slow transaction) are caught by looking back this far.
LOOKBACK = 5_000


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _count_rows(**filters: object) -> list[DailyCount]:
    """Rollup rows for the evaluations matching `filters`, one per region × day × object × channel."""
    base = counted(Evaluation.objects.filter(**filters)).annotate(
        day=TruncDate("rated_at", tzinfo=timezone.get_default_timezone())
    )
    rows = []
    aggregates = {**rating_aggregates(), **level_aggregates()}
    cases = case_aggregates()
    for kind, field in KIND_FIELDS.items():
        scoped = base.filter(**{f"{field}__isnull": False})
        # Per channel, and once more for all channels together ("*"), which most reads want.
        for group in (("region_id", "day", field, "channel"), ("region_id", "day", field)):
            # The case counts are taken over the bad reviews alone (see `case_aggregates`).
            of_bad = {
                tuple(g[k] for k in group): g for g in scoped.filter(BAD).values(*group).annotate(**cases).order_by()
            }
            for g in scoped.values(*group).annotate(**aggregates).order_by():
                g |= of_bad.get(tuple(g[k] for k in group)) or dict.fromkeys(cases, 0)
                rows.append(
                    DailyCount(
                        region_id=g["region_id"],
                        day=g["day"],
                        kind=kind,
                        object_id=g[field],
                        channel=g.get("channel", ALL_CHANNELS),
                        **{name: g[name] for name in (*COUNTS, *LEVELS)},
                    )
                )
    return rows


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


MonthKey = tuple[dt.date, str, int, str]  # month, kind, object, channel


def _by_month(rows: Iterable[tuple[Any, ...]], *, sign: int) -> dict[MonthKey, list[int]]:
    """Daily rows (day, kind, object, channel, *FIELDS) summed into their months, times `sign`."""
    sums: dict[MonthKey, list[int]] = {}
    for day, kind, object_id, channel, *values in rows:
        key = (month_of(day), kind, object_id, channel)
        into = sums.setdefault(key, [0] * len(FIELDS))
        for i, value in enumerate(values):
            into[i] += sign * value
    return sums


def months_shift(*, region_id: int, change: dict[MonthKey, list[int]], months: Iterable[dt.date]) -> None:
    """Add what changed in some days of a region to the monthly rows of their months.

    After an update only the changed days are read, not the whole month. Should the monthly rows
    ever disagree with the daily ones (a count would go below zero), the months are recomputed.
    """
    changed = [(key, values) for key, values in change.items() if any(values)]
    table = MonthlyCount._meta.db_table
    columns = ", ".join(("region_id", "month", "kind", "object_id", "channel", *FIELDS))
    one = "(" + ", ".join(["%s"] * (5 + len(FIELDS))) + ")"
    add = ", ".join(f"{f} = {table}.{f} + EXCLUDED.{f}" for f in FIELDS)
    per_statement = max(1, min(1000, (connection.features.max_query_params or 10_000) // (5 + len(FIELDS))))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for at in range(0, len(changed), per_statement):
                batch = changed[at : at + per_statement]
                params: list[Any] = []
                for (month, kind, object_id, channel), values in batch:
                    params += [region_id, month, kind, object_id, channel, *values]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}"
                    f" ON CONFLICT (region_id, month, kind, object_id, channel) DO UPDATE SET {add}",
                    params,
                )
    except IntegrityError:
        months_refresh(months=months, region_id=region_id)
        return
    # A key whose days no longer count anything is gone, as a rebuild would leave it.
    MonthlyCount.objects.filter(region_id=region_id, month__in={month_of(m) for m in months}, total=0).delete()


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


def _term_rows(**filters: object) -> list[ProblemTerm]:
    """Words of the valid bad reviews matching `filters`, per region × day × item/department."""
    bad = valid_bad(Evaluation.objects.filter(**filters)).values_list(
        "region_id", "rated_at", "item_id", "department_id", "comment", "reasons", "receipt"
    )
    tz = timezone.get_default_timezone()
    found: Counter[tuple[int, dt.date, str, int, str]] = Counter()
    # A batch or theme rating is one evaluator's one comment on every record it covers: its words
    # count once per item and department, not once per record.
    seen: set[tuple[tuple[int, dt.date, str, int, str], str]] = set()
    for region_id, rated_at, item_id, department_id, comment, reasons, receipt in bad.iterator():
        day = timezone.localtime(rated_at, tz).date()
        words = terms(comment) + Counter(f"#{r}" for r in reasons)
        for word in words:
            for key in (
                (region_id, day, "item", item_id, word[:40]),
                (region_id, day, "department", department_id, word[:40]),
            ):
                if (key, receipt) not in seen:
                    seen.add((key, receipt))
                    found[key] += 1
    return [
        ProblemTerm(region_id=r, day=d, kind=k, object_id=o, term=t, count=n) for (r, d, k, o, t), n in found.items()
    ]


@transaction.atomic
def rollups_rebuild(*, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Recount the rollups of a date range (all dates when none is given) from scratch."""
    tune_plans()
    rows_to_delete = DailyCount.objects.all()
    filters: dict[str, object] = {}
    if first is not None:
        rows_to_delete = rows_to_delete.filter(day__gte=first)
        filters["rated_at__gte"] = day_bounds(first, first)[0]
    if last is not None:
        rows_to_delete = rows_to_delete.filter(day__lte=last)
        filters["rated_at__lt"] = day_bounds(last, last)[1]
    rows_to_delete.delete()
    terms_to_delete = ProblemTerm.objects.all()
    if first is not None:
        terms_to_delete = terms_to_delete.filter(day__gte=first)
    if last is not None:
        terms_to_delete = terms_to_delete.filter(day__lte=last)
    terms_to_delete.delete()
    rows = _count_rows(**filters)
    DailyCount.objects.bulk_create(rows, batch_size=2000)
    ProblemTerm.objects.bulk_create(_term_rows(**filters), batch_size=2000)
    if first is None or last is None:
        MonthlyCount.objects.filter(
            **({} if first is None else {"month__gte": month_of(first)}),
            **({} if last is None else {"month__lte": last}),
        ).delete()
    span = DailyCount.objects.aggregate(first=Min("day"), last=Max("day"))
    low, high = first or span["first"], last or span["last"]
    if low is not None and high is not None:
        months_refresh(months=months_between(low, high))
    if first is None and last is None:
        _set_marks()
    return len(rows)


@transaction.atomic
def rollups_refresh(*, region_days: set[tuple[int, dt.date]]) -> int:
    """Recount the given region-days."""
    tune_plans()
    by_region: dict[int, set[dt.date]] = defaultdict(set)
    for region_id, day in region_days:
        by_region[region_id].add(day)
    written = 0
    for region_id, days in by_region.items():
        stale = DailyCount.objects.filter(region_id=region_id, day__in=days)
        change = _by_month(stale.values_list("day", "kind", "object_id", "channel", *FIELDS), sign=-1)
        stale.delete()
        start, end = day_bounds(min(days), max(days))
        rows = [
            row for row in _count_rows(region_id=region_id, rated_at__gte=start, rated_at__lt=end) if row.day in days
        ]
        DailyCount.objects.bulk_create(rows, batch_size=2000)
        fresh = ((r.day, r.kind, r.object_id, r.channel, *(getattr(r, f) for f in FIELDS)) for r in rows)
        for key, values in _by_month(fresh, sign=1).items():
            change[key] = [a + b for a, b in zip(change.get(key, [0] * len(FIELDS)), values, strict=True)]
        months_shift(region_id=region_id, change=change, months=days)
        ProblemTerm.objects.filter(region_id=region_id, day__in=days).delete()
        ProblemTerm.objects.bulk_create(
            [t for t in _term_rows(region_id=region_id, rated_at__gte=start, rated_at__lt=end) if t.day in days],
            batch_size=2000,
        )
        written += len(rows)
    return written


def _set_marks() -> None:
    from haoping.rectification.models import CaseEvent

    for name, model in (("evaluations", Evaluation), ("case_events", CaseEvent)):
        top = model.objects.aggregate(top=Max("id"))["top"] or 0
        RollupMark.objects.update_or_create(name=name, defaults={"last_id": top})


def rollups_update() -> int:
    """Recount every region-day touched by evaluations or case steps since the last update.

    Safe to run at any time and concurrently with ratings: recounting a region-day is idempotent.
    """
    from haoping.rectification.models import BadReviewCase, CaseEvent

    with transaction.atomic():
        marks = {
            m.name: m for m in RollupMark.objects.select_for_update().filter(name__in=["evaluations", "case_events"])
        }
        ev_mark = marks.get("evaluations") or RollupMark.objects.create(name="evaluations")
        case_mark = marks.get("case_events") or RollupMark.objects.create(name="case_events")
        tz = timezone.get_default_timezone()
        touched: set[tuple[int, dt.date]] = set()
        newest = Evaluation.objects.aggregate(top=Max("id"))["top"] or 0
        if newest <= ev_mark.last_id and not CaseEvent.objects.filter(pk__gt=case_mark.last_id).exists():
            return 0
        new = Evaluation.objects.filter(pk__gt=max(ev_mark.last_id - LOOKBACK, 0))
        top_ev = ev_mark.last_id
        for pk, region_id, rated_at in new.values_list("pk", "region_id", "rated_at").iterator():
            touched.add((region_id, timezone.localtime(rated_at, tz).date()))
            top_ev = max(top_ev, pk)
        events = CaseEvent.objects.filter(pk__gt=case_mark.last_id)
        top_case = case_mark.last_id
        case_ids = set()
        for pk, case_id in events.values_list("pk", "case_id").iterator():
            case_ids.add(case_id)
            top_case = max(top_case, pk)
        if case_ids:
            receipts = BadReviewCase.objects.filter(pk__in=case_ids).values_list("region_id", "receipt")
            for region_id, receipt in receipts:
                for rated_at in Evaluation.objects.filter(region_id=region_id, receipt=receipt).values_list(
                    "rated_at", flat=True
                ):
                    touched.add((region_id, timezone.localtime(rated_at, tz).date()))
        written = rollups_refresh(region_days=touched) if touched else 0
        RollupMark.objects.filter(name="evaluations").update(last_id=top_ev)
        RollupMark.objects.filter(name="case_events").update(last_id=top_case)
    return written
