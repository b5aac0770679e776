"""The rating fast path: the common `POST /api/v1/evaluations` answered before Django's request cycle.

Most ratings rate one service, named by its link token or its record (and visit) number. For
those, routing, middleware, schema validation and the ORM cost many times the database work
itself. The fast path takes exactly that case, and asks the same rules as `evaluation_submit`
(`haoping.evaluations.rules`: the content, R1 and R8, and the options of what it rates, R9, from
a per-process cache; the window, R2 and R3; the evaluator and
their registry entry, R7 and R15; whether a case opens, R12), besides the link signature and the
client's region; it writes the same row MAC, and R12's case is opened by `case_open` in the
rating's own transaction. Its lookup and insert are what the ORM compiles from the models, once
per process.

One writer thread per process stores the ratings waiting at each moment as one batch: one lookup
per kind of name, one insert, one commit. A bad rating, looked up with its batch, is stored with its
case in a transaction of its own on one of the writer's case threads, so that its several
statements and the notice gateway never hold up the batches. A rating is answered only once
committed.

Anything else gets `None`, and the full request cycle answers it as before: errors of any kind,
bundles (R5, R6), paper forms with their own time, a service already rated (409, or a retry's
replay), and SQLite (the demo). The unique slot constraint, not this module, keeps a service
rated once.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import DateTimeField, Field, Lookup
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from haoping import serving
from haoping.accounts.selectors import cached_api_client
from haoping.directory.models import Region, path_within
from haoping.errors import DomainError
from haoping.evaluations import rules
from haoping.evaluations.chain import row_mac
from haoping.evaluations.models import Evaluation
from haoping.evaluations.rules import Content, Party, SlotFacts
from haoping.evaluations.selectors import questionnaire_for, rated_kinds
from haoping.evaluations.services import (
    SLOT_VALUES,
    bad_rating_case_open,
    blocked_exists,
    content_check,
    new_receipt,
    rated_ids,
    rated_place,
    seal_answers,
)
from haoping.fields import seal_free_text
from haoping.lib.batching import BatchThread
from haoping.ops.rollups import rollups_soon
from haoping.records.links import public_id_from_token
from haoping.records.models import RatingSlot, ServiceRecord
from haoping.records.services import MAX_CLOCK_SKEW
from haoping.schemas import CONTROL, CONTROL_IN_TEXT, MAX_BIGINT
from haoping.serving import HEADERS

logger = logging.getLogger(__name__)

PATH = "/api/v1/evaluations"
MAX_BODY = 16 * 1024  # a rating with a full comment is under 4 kB; larger bodies take the full path
# The body fields the fast path takes; anything else (bundle_no, rated_at, unknown fields) goes to
# the full path, which accepts it or names the problem.
FIELDS = frozenset(
    {"token", "record_no", "visit_id", "level", "channel", "rated_by", "answers", "reasons", "comment", "client_ref"}
)
MAX_REASONS = 20
# How a rating names its service, and the lookup for a batch of such names: link tokens (their
# slot ids), record numbers (the completion), or visit ids (checked against the record number).
FINDERS: dict[str, tuple[str, dict[str, Any]]] = {
    "token": ("public_id", {}),
    "record": ("record__record_no", {"kind": RatingSlot.Kind.COMPLETION}),
    "visit": ("visit_id", {"kind": RatingSlot.Kind.VISIT}),
}
LOOKUP = (
    *SLOT_VALUES,
    *("public_id", "kind", "opens_at", "closes_at", "region__path", "record__record_no"),
    *("record__applicant_id", "record__agent_id"),
    *("applicant_blocked", "agent_blocked"),
)
MAX_BATCH = 64
SEALED = Evaluation._meta.get_field("comment_sealed")
# Threads per process that store bad ratings with their cases (about one in fifty ratings, each a
# few milliseconds; more wait their turn without holding up the batches).
CASE_THREADS = 4
# How a batch fills (seconds): while ratings keep arriving, at most one PAUSE apart, the writer
# waits for them, up to GATHER in all (the setting HAOPING_RATING_GATHER_MS). Under load they then
# share the batch's two statements and its commit instead of paying for their own; a lone rating
# waits one PAUSE.
PAUSE = 0.0006


class AnyOf(Lookup):  # type: ignore[type-arg]
    """`field = ANY(%s)` with a list: one statement, one plan, for any number of values."""

    lookup_name = "any"
    prepare_rhs = False

    # The parameter is one array, which the stubs' scalar parameter types do not describe.
    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


@dataclass(frozen=True)
class Statements:
    lookups: dict[str, tuple[str, tuple[Any, ...], int]]  # SQL, parameters, where the names go
    insert: str
    times: tuple[str, ...]  # the columns sent as ISO 8601 text


def _lookup(field: str, filters: dict[str, Any]) -> tuple[str, tuple[Any, ...], int]:
    """The slot lookup as the ORM writes it; the names are bound per batch."""
    sentinel = ["fastpath-sentinel"]
    slots = (
        RatingSlot.objects.filter(**{f"{field}__any": sentinel}, **filters)
        .annotate(applicant_blocked=blocked_exists("applicant"), agent_blocked=blocked_exists("agent"))
        .values_list(*LOOKUP)
    )
    sql, params = slots.query.sql_with_params()
    return sql, tuple(params), list(params).index(sentinel)


def _compile() -> Statements:
    for model, name in ((RatingSlot, "public_id"), (RatingSlot, "visit"), (ServiceRecord, "record_no")):
        named = model._meta.get_field(name)
        assert isinstance(named, Field)
        named.register_lookup(AnyOf)
    fields = tuple(f for f in Evaluation._meta.concrete_fields if not f.primary_key)
    qn = connection.ops.quote_name
    # The batch arrives as one JSON array of rows, which PostgreSQL reads back into typed columns:
    # the same statement for a batch of any size, and one parameter to send.
    columns = ", ".join(qn(str(f.column)) for f in fields)
    insert = (
        f"INSERT INTO {qn(Evaluation._meta.db_table)} ({columns}) SELECT {columns} FROM jsonb_to_recordset(%s::jsonb)"
        f" AS batch({', '.join(f'{qn(str(f.column))} {f.db_type(connection)}' for f in fields)})"
        f" ON CONFLICT DO NOTHING RETURNING {qn(str(Evaluation._meta.pk.column))}, {qn('receipt')}"
    )
    times = tuple(f.attname for f in fields if isinstance(f, DateTimeField))
    lookups = {name: _lookup(field, filters) for name, (field, filters) in FINDERS.items()}
    return Statements(lookups, insert, times)


@functools.cache
def statements() -> Statements:
    return _compile()


def _text(value: Any, limit: int, refused: re.Pattern[str] = CONTROL_IN_TEXT) -> bool:
    """Text the schema accepts (lone surrogates never get here: `_parsed` hands them to Django)."""
    return type(value) is str and len(value) <= limit and not refused.search(value)


def _well_formed(body: Any) -> bool:
    """What the API schema (EvaluationIn) accepts, narrowed to one service named by token or record."""
    if type(body) is not dict or not FIELDS.issuperset(body):
        return False
    if ("token" in body) == ("record_no" in body) or ("visit_id" in body and "record_no" not in body):
        return False
    name = body.get("token") or body.get("record_no")
    if not _text(name, 64, CONTROL) or not name:
        return False
    visit_id = body.get("visit_id", 1)
    if type(visit_id) is not int or not 1 <= visit_id <= MAX_BIGINT:
        return False
    if type(body.get("level")) is not int:
        return False
    if not _text(body.get("channel"), 8) or not _text(body.get("rated_by", "applicant"), 10):
        return False
    answers = body.get("answers", {})
    if type(answers) is not dict or not _text(body.get("comment", ""), MAX_BODY):
        return False
    if not all(type(v) is not str or _text(v, MAX_BODY) for v in answers.values()):
        return False
    if not _text(body.get("client_ref", ""), 64, CONTROL):
        return False
    reasons = body.get("reasons", [])
    return type(reasons) is list and len(reasons) <= MAX_REASONS and all(_text(r, MAX_BODY) for r in reasons)


@dataclass
class Pending:
    """One rating on its way through the fast path; `result` stays None if the full path must answer."""

    finder: str
    name: Any  # the slot id, record number or visit id
    record_no: str
    region_path: str
    content: dict[str, Any]
    checked: Content  # the content as the rules checked it, before masking
    client_ref: str
    now: dt.datetime
    comment_sealed: str = ""  # the comment as written, when masking changed it (`seal_free_text`)
    suggestion_sealed: str = ""  # likewise the questionnaire's suggestion (`seal_answers`)
    result: tuple[int, bytes] | None = None


@dataclass(frozen=True, eq=False)
class Row:
    """A rating the rules allow: its slot as looked up, its evaluation's values, its evaluator (R7)."""

    pending: Pending
    slot: dict[str, Any]
    values: dict[str, Any]
    evaluator: Party


def prepare(body: Any, client: Any, now: dt.datetime | None = None) -> Pending | None:
    """A rating the fast path can take, checked without the database; None for the full path."""
    if client is None or not _well_formed(body) or not _on_postgresql():
        return None
    content = {
        "level": body["level"],
        "channel": body["channel"],
        "rated_by": body.get("rated_by", "applicant"),
        "answers": body.get("answers", {}),
        "reasons": body.get("reasons", []),
        "comment": body.get("comment", "").strip(),
    }
    try:
        checked = content_check(**content)
        if "token" in body:
            finder, name, record_no = "token", public_id_from_token(body["token"]), ""
        elif "visit_id" in body:
            finder, name, record_no = "visit", body["visit_id"], body["record_no"]
        else:
            finder, name, record_no = "record", body["record_no"], body["record_no"]
    except DomainError:
        return None
    content["comment"], comment_sealed = seal_free_text(content["comment"])
    content["answers"], suggestion_sealed = seal_answers(content["answers"])
    client_ref = body.get("client_ref", "")
    return Pending(
        finder=finder,
        name=name,
        record_no=record_no,
        region_path=client.region.path,
        content=content,
        checked=checked,
        client_ref=f"{client.pk}:{client_ref}" if client_ref else "",
        now=now or timezone.now(),
        comment_sealed=comment_sealed,
        suggestion_sealed=suggestion_sealed,
    )


def _facts(found: dict[str, Any]) -> SlotFacts:
    """A looked-up slot's facts, as the rules take them."""
    agent_id = found["record__agent_id"]
    return SlotFacts(
        key=found["id"],
        kind=found["kind"],
        opens_at=found["opens_at"],
        closes_at=found["closes_at"],
        # Whether rated already is left to the unique slot constraint (R4): a second rating inserts
        # nothing and the full path answers it.
        rated=False,
        applicant=Party(found["record__applicant_id"], bool(found["applicant_blocked"])),
        agent=None if agent_id is None else Party(agent_id, bool(found["agent_blocked"])),
    )


def _accepts(p: Pending, found: dict[str, Any]) -> Party | None:
    """The evaluator of a rating of one ratable service, no bundle, that the rules allow; None
    for the full path to answer."""
    if (
        found["record__bundle_id"] is not None  # R5, R6: bundles take the full path
        or (p.finder == "visit" and found["record__record_no"] != p.record_no)
        or not path_within(found["region__path"], p.region_path)  # outside the key's region
    ):
        return None
    facts = _facts(found)
    try:
        rules.window_check(facts, p.now, skew=MAX_CLOCK_SKEW)
        # R8, R9: the options of what it rates, from the process's cache (no query).
        questionnaire = questionnaire_for(found["region__path"], rated_kinds(rated_place(found)))
        rules.offered_check(p.checked, questionnaire)
        return rules.evaluator(p.content["rated_by"], [facts])
    except DomainError:
        return None


def _rows(batch: list[Pending], st: Statements) -> list[Row]:
    """Each rating the rules allow, with its slot, its evaluation's values and its evaluator."""
    rows = []
    with connection.cursor() as cursor:
        for finder in {p.finder for p in batch}:
            asked = [p for p in batch if p.finder == finder]
            sql, params, at = st.lookups[finder]
            bound = list(params)
            bound[at] = list({p.name for p in asked})
            cursor.execute(sql, bound)
            key = FINDERS[finder][0]
            found = {r[key]: r for r in (dict(zip(LOOKUP, row, strict=True)) for row in cursor.fetchall())}
            for p in asked:
                slot = found.get(p.name)
                who = None if slot is None else _accepts(p, slot)
                if slot is None or who is None:
                    continue
                ev = SimpleNamespace(
                    **rated_ids(slot),
                    **p.content,
                    source=Evaluation.Source.ACTIVE.value,
                    rated_at=p.now,
                    created_at=p.now,
                    receipt=new_receipt(),
                    client_ref=p.client_ref,
                    overall=False,
                    blocked=not rules.counted(who),
                    origin="",  # rated here, not taken from a lower system
                    # Sent as the column holds it: encrypted, as the ORM would write it.
                    comment_sealed=SEALED.get_prep_value(p.comment_sealed),
                    suggestion_sealed=SEALED.get_prep_value(p.suggestion_sealed),
                )
                ev.row_mac = row_mac(ev)
                rows.append(Row(p, slot, vars(ev), who))
    return rows


def _insert(st: Statements, values: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the rows not rated yet; the receipts and ids of those inserted."""
    sent = [{**v, **{name: v[name].isoformat() for name in st.times}} for v in values]
    with connection.cursor() as cursor:
        cursor.execute(st.insert, [json.dumps(sent, ensure_ascii=False)])
        return {receipt: pk for pk, receipt in cursor.fetchall()}


def _open_case(row: Row, pk: int) -> None:
    bad_rating_case_open(
        evaluations=[Evaluation(id=pk, **row.values)],
        # The region as the lookup just read it; any other field loads on first use.
        region=Region.from_db(connection.alias, ["id", "path"], [row.values["region_id"], row.slot["region__path"]]),
        evaluator_id=row.evaluator.person_id,
        now=row.pending.now,
    )


def _answer(row: Row) -> None:
    p, slot, values = row.pending, row.slot, row.values
    out = {
        "evaluations": [
            {"record_no": slot["record__record_no"], "visit_id": values["visit_id"], "level": values["level"]}
        ],
        "receipt": values["receipt"],
    }
    p.result = 201, json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


def store(batch: list[Pending], hand_on: Callable[[Row], None]) -> None:
    """Rate every rating of `batch` the rules allow: one lookup per kind of name, then one insert
    for all the ratings that open no case; each that does goes on to `hand_on`, which stores it
    with its case in a transaction of its own (the writer's case threads, `store_with_case`).

    A rating gets its answer only once it is committed. Ratings skipped (rated already, or twice
    in this batch) keep a None result, as does any rating whose own step fails.
    """
    st = statements()
    rows = _rows(batch, st)
    opening = [row for row in rows if rules.opens_case(row.values["level"], row.evaluator)]
    plain = [row for row in rows if row not in opening]
    stored = _insert(st, [row.values for row in plain]) if plain else {}
    for row in plain:
        if row.values["receipt"] in stored:
            _answer(row)
    for row in opening:
        hand_on(row)
    if stored:
        _rollups_soon()


def _rollups_soon() -> None:
    try:
        rollups_soon()
    except Exception as exc:
        # The ratings are committed and answered; the minute's update counts them all the same.
        logger.error("rollup update not queued (%s)", type(exc).__name__)


def _with_case(st: Statements, row: Row) -> bool:
    """Store a bad rating and its case together, or neither; whether they were stored (and answered)."""
    try:
        with transaction.atomic():
            pk = _insert(st, [row.values]).get(row.values["receipt"])
            if pk is not None:
                _open_case(row, pk)
    except Exception as exc:
        logger.error("a bad rating's case did not open (%s); the full path takes it", type(exc).__name__)
        return False
    if pk is None:
        return False  # rated already
    _answer(row)
    return True


def store_with_case(row: Row) -> None:
    """A bad rating looked up in the writer's batch, stored with its case on a case thread."""
    try:
        with serving.as_a_request():
            if _with_case(statements(), row):
                _rollups_soon()
    except Exception as exc:
        # `_with_case` handles its own errors: this is the connection's, before or after it.
        logger.error("a case thread's connection failed (%s)", type(exc).__name__)


# The batch statements take arrays of any length: one generic plan serves every batch, where
# PostgreSQL would otherwise plan the lookup's joins anew each time (about 2 ms, 5 ms for a batch).
GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"
USUAL_PLANS = "RESET plan_cache_mode"


def _discard() -> None:
    """Close the writer's connection for good: a connection that cannot take a RESET is broken, and
    the pool discards a closed connection instead of lending it again with the generic plans."""
    if connection.connection is not None:
        connection.connection.close()
    connection.close()


class Writer(BatchThread[Pending]):
    """One thread per process that stores the fast path's ratings in batches.

    Request threads hand over checked ratings and wait; the writer takes all that are waiting
    (up to MAX_BATCH) as one batch, on its own database connection. Under load, many ratings
    share one lookup, one insert and one commit; alone, a rating waits for nothing. A bad rating
    goes on, with what the lookup found, to one of CASE_THREADS threads that store it with its case.
    """

    def __init__(self, gather: float | None = None, pause: float = PAUSE) -> None:
        super().__init__(
            name="rating-writer",
            max_batch=MAX_BATCH,
            gather=settings.HAOPING_RATING_GATHER_MS / 1000 if gather is None else gather,
            pause=pause,
        )
        self._planned: Any = None
        self._cases: ThreadPoolExecutor | None = None
        self._cases_lock = threading.Lock()

    def submit(self, pending: Pending) -> tuple[int, bytes] | None:  # type: ignore[override]
        """Store `pending` in the next batch; its answer, once committed (None: the full path's)."""
        super().submit(pending)
        return pending.result

    async def submit_async(self, pending: Pending) -> tuple[int, bytes] | None:  # type: ignore[override]
        """As `submit`, for a request served by an event loop."""
        await super().submit_async(pending)
        return pending.result

    def stop(self) -> None:
        """Store what is queued, then end the threads (a later rating starts new ones)."""
        super().stop()
        with self._cases_lock:
            cases, self._cases = self._cases, None
        if cases is not None:
            cases.shutdown(wait=True)

    def _case_threads(self) -> ThreadPoolExecutor:
        with self._cases_lock:
            if self._cases is None:
                self._cases = ThreadPoolExecutor(CASE_THREADS, thread_name_prefix="rating-case")
            return self._cases

    def _plan_once(self) -> None:
        """The generic plans (GENERIC_PLANS), set once for as long as the writer keeps its connection."""
        connection.ensure_connection()
        if connection.connection is not self._planned:
            with connection.cursor() as cursor:
                cursor.execute(GENERIC_PLANS)
            self._planned = connection.connection

    def _with_case(self, row: Row) -> None:
        try:
            store_with_case(row)
        finally:
            self.wake([row.pending])

    def flush(self, batch: list[Pending]) -> list[Pending]:
        """Store `batch`; the bad ratings handed on to a case thread, which answers each once stored."""
        handed: list[Pending] = []

        def hand_on(row: Row) -> None:
            handed.append(row.pending)
            self._case_threads().submit(self._with_case, row)

        try:
            # The writer keeps its connection (and its prepared statements) while it runs;
            # only a connection broken by an error is replaced.
            if connection.errors_occurred and not connection.is_usable():
                connection.close()
            self._plan_once()
            store(batch, hand_on)
        except Exception as exc:
            # Ratings answered so far are committed; the full path takes each of the others again.
            # Only the error's type is logged: a database error's text may quote a comment.
            logger.error("a rating batch failed (%s); the full path takes the ratings not stored", type(exc).__name__)
        return handed

    def thread_ending(self) -> None:
        self._planned = None
        try:
            if connection.connection is not None:
                with connection.cursor() as cursor:
                    cursor.execute(USUAL_PLANS)  # the pool's next borrower plans as usual
            connection.close()
        except DatabaseError:
            _discard()


@functools.lru_cache(maxsize=64)
def _host_allowed(host: str) -> bool:
    """Django's host check (ALLOWED_HOSTS), for the few hosts a server is named by."""
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


@receiver(setting_changed)
def _hosts_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ALLOWED_HOSTS":
        _host_allowed.cache_clear()


@functools.cache
def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _parsed(host: str, content_type: str, raw: bytes) -> Any:
    """The JSON body of a request the fast path may take, else None."""
    # Sent as the API's parser takes it (anything else is Django's to take or refuse).
    if content_type.partition(";")[0].strip() != "application/json" or not _host_allowed(host):
        return None
    try:
        text = raw.decode()
        body = json.loads(text)
        # Text PostgreSQL cannot store (a lone surrogate, only ever written as an escape) is
        # Django's to refuse, not a batch's to fail on.
        if "\\ud" in text or "\\uD" in text:
            json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, RecursionError, UnicodeEncodeError):
        return None
    return body


def _body(environ: dict[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    # Whatever happens next, the full path can still read the body.
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == length else None


def respond(environ: dict[str, Any], writer: Writer) -> tuple[int, bytes] | None:
    """The fast path's answer to a WSGI request, or None for the full path.

    The rating is stored in the writer's next batch (a bad one with its case on a case thread).
    """
    if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
        return None
    raw = _body(environ)
    if raw is None:
        return None
    # As Django's get_host: the Host header whenever there is one, even empty.
    host = environ["HTTP_HOST"] if "HTTP_HOST" in environ else environ.get("SERVER_NAME", "")
    body = _parsed(host, environ.get("CONTENT_TYPE", ""), raw)
    if body is None:
        return None
    try:
        pending = prepare(body, serving.api_client_of(environ.get("HTTP_AUTHORIZATION", "")))
        if pending is None:
            return None
        # The key's lookup may have borrowed a connection: back to the pool before waiting, for
        # the case thread that may store this rating.
        close_old_connections()
    except DatabaseError:
        # The full path meets the same fault and answers it as it answers any other.
        return None
    return writer.submit(pending)


StartResponse = Callable[..., Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RatingFastPath:
    """WSGI middleware in front of Django: the fast path's answers, else Django's."""

    def __init__(self, app: WSGIApp, writer: Writer | None = None) -> None:
        self.app = app
        self.writer = writer or Writer()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            with serving.as_a_request():
                answered = respond(environ, self.writer)
            if answered is not None:
                status, body = answered
                start_response(f"{status} Created", [*HEADERS, ("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)


HEADER_BYTES = [(name.lower().encode(), value.encode()) for name, value in HEADERS]


class AsyncFastPath:
    """ASGI middleware that answers one kind of JSON POST itself, before the application behind it,
    and hands the application everything else, and every request it declines, body and all.

    The whole body is read (up to `max_body`) and checked on the event loop, which never waits for
    the database: a worker thread looks up a key not yet in the cache, and `answer` hands the work
    to a batch thread (`haoping.lib.batching`). `answer` returns the status and JSON body, or None
    for the application to answer the request as if nobody had read it.
    """

    path = ""
    max_body = MAX_BODY

    def __init__(self, app: ASGIApp, writer: Any) -> None:
        self.app = app
        self.writer = writer

    async def answer(self, body: Any, client: Any) -> tuple[int, bytes] | None:
        raise NotImplementedError

    async def respond(self, fields: list[tuple[str, str]], raw: bytes) -> tuple[int, bytes] | None:
        """The answer to a request with these header fields (names in lower case) whose whole body
        is `raw`, or None for the application behind."""
        headers = dict(fields)
        if len(headers) != len(fields):
            return None  # a repeated header: Django reads it as it reads any other request
        body = _parsed(headers.get("host", ""), headers.get("content-type", ""), raw)
        if body is None:
            return None
        authorization = headers.get("authorization", "")
        key = serving.bearer_key(authorization)
        if not key:
            return None
        try:
            known, client = cached_api_client(key)
            if not known:
                client = await sync_to_async(serving.api_client_looked_up, thread_sensitive=False)(authorization)
            if client is None:
                return None
            return await self.answer(body, client)
        except DatabaseError:
            # The application meets the same fault and answers it as it answers any other.
            return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] != "POST"
            or scope.get("query_string")
        ):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= self.max_body:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replayed(chunks, message, receive), send)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        whole = not more and size <= self.max_body
        fields = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in scope["headers"]]
        answered = await self.respond(fields, b"".join(chunks)) if whole else None
        if answered is None:
            # The application reads the body from the start, as if nobody had.
            pending = {"type": "http.request", "body": b"".join(chunks), "more_body": more}
            return await self.app(scope, _replayed([], pending, receive), send)
        status, body = answered
        headers = [*HEADER_BYTES, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class AsyncRatingFastPath(AsyncFastPath):
    """The rating fast path in front of Django (or another fast path): its answers, else Django's.

    The writer stores a rating, and its case threads a bad one with its case."""

    path = PATH
    writer: Writer

    def __init__(self, app: ASGIApp, writer: Writer) -> None:
        super().__init__(app, writer)

    async def answer(self, body: Any, client: Any) -> tuple[int, bytes] | None:
        pending = prepare(body, client)
        if pending is None:
            return None
        return await self.writer.submit_async(pending)


def _replayed(chunks: list[bytes], message: dict[str, Any], receive: Any) -> Any:
    """A `receive` that gives back what was read, then reads on."""
    queued = [{"type": "http.request", "body": c, "more_body": True} for c in chunks] + [message]

    async def replay() -> Any:
        if queued:
            return queued.pop(0)
        return await receive()

    return replay
