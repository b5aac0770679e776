"""The rating fast path: the common `POST /api/v1/evaluations` answered before Django's request cycle.

Most ratings are one good (or middling) rating of one service, named by its link token or its
record (and visit) number. For those, routing, middleware, schema validation and the ORM cost
several times the two statements the rating needs (a slot lookup and an insert). `answer` serves
exactly that case with the same rules (`_validate_content`, the link signature, the client's
region, the window of R2/R3, R7's agent check, R15's registry), SQL that the ORM compiles once per
process, and the same row MAC.

Anything else gets `None`, and the full request cycle answers it as before: errors of any kind,
bundles (R5, R6), paper forms with their own time, bad ratings (they open a case, R12), a service
already rated (409 or a retry's replay), and SQLite (the demo). The unique slot constraint, not
this module, is what keeps a service rated once.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import JSONField
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from psycopg.types.json import Jsonb

from haoping.accounts.selectors import api_client_for_key
from haoping.errors import DomainError
from haoping.evaluations.chain import row_mac
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import SLOT_VALUES, _blocked, _validate_content, new_receipt, rated_ids
from haoping.indicators.services import rollups_soon
from haoping.records.links import public_id_from_token
from haoping.records.models import RatingSlot
from haoping.records.services import MAX_CLOCK_SKEW

PATH = "/api/v1/evaluations"
MAX_BODY = 16 * 1024  # a rating with a full comment is under 4 kB; larger bodies take the full path
# The body fields the fast path takes; anything else (bundle_no, rated_at, unknown fields) goes to
# the full path, which accepts it or names the problem.
FIELDS = frozenset(
    {"token", "record_no", "visit_id", "level", "channel", "rated_by", "answers", "reasons", "comment", "client_ref"}
)
MAX_REASONS = 20
LOOKUP = (*SLOT_VALUES, "kind", "opens_at", "closes_at", "region__path", "record__record_no", "record__agent_id")
TEXT_KEY = "fastpath-sentinel"
INT_KEY = -(2**62) + 7301
# How a rating names its service: the link token's slot id, or a record number (and a visit).
FINDERS: dict[str, dict[str, Any]] = {
    "token": {"public_id": TEXT_KEY},
    "record": {"record__record_no": TEXT_KEY, "kind": RatingSlot.Kind.COMPLETION},
    "visit": {"record__record_no": TEXT_KEY, "visit_id": INT_KEY, "kind": RatingSlot.Kind.VISIT},
}
# The headers the middleware stack puts on a JSON answer (checked against it by the tests).
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "Accept-Language"),
    ("Content-Language", "zh-hans"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


@dataclass(frozen=True)
class Lookup:
    sql: str
    params: tuple[Any, ...]
    text_at: int
    int_at: int | None

    def bind(self, text: str, number: int | None) -> list[Any]:
        params = list(self.params)
        params[self.text_at] = text
        if self.int_at is not None:
            params[self.int_at] = number
        return params


@dataclass(frozen=True)
class Statements:
    lookups: dict[str, Lookup]
    insert: str
    columns: tuple[tuple[str, bool], ...]  # each column's attribute, and whether it holds JSON


_statements: Statements | None = None


def _lookup(filters: dict[str, Any]) -> Lookup:
    """The slot lookup as the ORM writes it, with the caller's values re-bound per request."""
    slots = (
        RatingSlot.objects.filter(**filters)
        .annotate(applicant_blocked=_blocked("applicant"), agent_blocked=_blocked("agent"))
        .values_list(*LOOKUP, "applicant_blocked", "agent_blocked")
    )
    sql, params = slots.query.sql_with_params()
    params = tuple(params)
    return Lookup(sql, params, params.index(TEXT_KEY), params.index(INT_KEY) if INT_KEY in params else None)


def _compile() -> Statements:
    fields = tuple(f for f in Evaluation._meta.concrete_fields if not f.primary_key)
    qn = connection.ops.quote_name
    insert = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING RETURNING {}".format(
        qn(Evaluation._meta.db_table),
        ", ".join(qn(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
        qn(str(Evaluation._meta.pk.column)),
    )
    columns = tuple((f.attname, isinstance(f, JSONField)) for f in fields)
    return Statements({name: _lookup(filters) for name, filters in FINDERS.items()}, insert, columns)


def statements() -> Statements:
    global _statements
    if _statements is None:
        _statements = _compile()
    return _statements


def _text(value: Any, limit: int) -> bool:
    return type(value) is str and len(value) <= limit and "\x00" not in value


def _well_formed(body: Any) -> bool:
    """What the API schema (EvaluationIn) accepts, narrowed to one service named by token or record."""
    if type(body) is not dict or not FIELDS.issuperset(body):
        return False
    if ("token" in body) == ("record_no" in body) or ("visit_id" in body and "record_no" not in body):
        return False
    name = body.get("token") or body.get("record_no")
    if not _text(name, 64) or not name or type(body.get("visit_id", 0)) is not int:
        return False
    if type(body.get("level")) is not int:
        return False
    if not _text(body.get("channel"), 8) or not _text(body.get("rated_by", "applicant"), 10):
        return False
    if type(body.get("answers", {})) is not dict or not _text(body.get("comment", ""), MAX_BODY):
        return False
    if not _text(body.get("client_ref", ""), 64):
        return False
    reasons = body.get("reasons", [])
    return type(reasons) is list and len(reasons) <= MAX_REASONS and all(_text(r, MAX_BODY) for r in reasons)


def answer(body: Any, client: Any, now: dt.datetime | None = None) -> tuple[int, bytes] | None:
    """Rate the common case and return (status, JSON body); None when the full path must answer.

    `client` is the API client the key names. Nothing is written unless the rating is accepted.
    """
    if client is None or not _well_formed(body):
        return None
    level = body["level"]
    channel = body["channel"]
    rated_by = body.get("rated_by", "applicant")
    answers = body.get("answers", {})
    reasons = body.get("reasons", [])
    comment = body.get("comment", "").strip()
    try:
        _validate_content(
            level=level, channel=channel, rated_by=rated_by, answers=answers, reasons=reasons, comment=comment
        )
        if "token" in body:
            finder, key, number = "token", public_id_from_token(body["token"]), None
        else:
            finder = "visit" if "visit_id" in body else "record"
            key, number = body["record_no"], body.get("visit_id")
    except DomainError:
        return None
    if level <= 2 or connection.vendor != "postgresql":
        return None  # R12: a bad rating opens its case in the same transaction, in the full path
    st = statements()
    lookup = st.lookups[finder]
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, lookup.bind(key, number))
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip(LOOKUP, row, strict=False))
        applicant_blocked, agent_blocked = row[len(LOOKUP) :]
        if (
            found["record__bundle_id"] is not None  # R5, R6: bundles take the full path
            or not found["region__path"].startswith(client.region.path)  # outside the key's region
            or found["closes_at"] is None
            or not found["opens_at"] - MAX_CLOCK_SKEW <= now <= found["closes_at"]  # R2, R3
            or (rated_by == Evaluation.RatedBy.AGENT and found["record__agent_id"] is None)  # R7
        ):
            return None
        # R15: a rating from someone in the registry is kept for audit and counted nowhere.
        blocked = bool(agent_blocked if rated_by == Evaluation.RatedBy.AGENT else applicant_blocked)
        client_ref = body.get("client_ref", "")
        ev = SimpleNamespace(
            **rated_ids(found),
            level=level,
            source=Evaluation.Source.ACTIVE.value,
            channel=channel,
            rated_by=rated_by,
            rated_at=now,
            created_at=now,
            answers=answers,
            reasons=reasons,
            comment=comment,
            receipt=new_receipt(),
            client_ref=f"{client.pk}:{client_ref}" if client_ref else "",
            overall=False,
            blocked=blocked,
        )
        ev.row_mac = row_mac(ev)
        values = vars(ev)
        params: list[Any] = [Jsonb(values[name]) if json else values[name] for name, json in st.columns]
        cursor.execute(st.insert, params)
        if cursor.fetchone() is None:
            return None  # rated already: the full path tells a retry from a second rating
    rollups_soon()
    out = {
        "evaluations": [{"record_no": found["record__record_no"], "visit_id": ev.visit_id, "level": level}],
        "receipt": ev.receipt,
    }
    return 201, json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


def _client(environ: dict[str, Any]) -> Any:
    scheme, _sep, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return api_client_for_key(key.strip())


def _host_allowed(environ: dict[str, Any]) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


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


def respond(environ: dict[str, Any]) -> tuple[int, bytes] | None:
    """The fast path's answer to a WSGI request, or None for the full path."""
    if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
        return None
    if not environ.get("CONTENT_TYPE", "").startswith("application/json") or not _host_allowed(environ):
        return None
    raw = _body(environ)
    if raw is None:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    client = _client(environ)
    try:
        return answer(body, client)
    except DatabaseError:
        # The full path meets the same fault and answers it as it answers any other.
        return None


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RatingFastPath:
    """WSGI middleware in front of Django: the fast path's answers, else Django's."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            # As Django does around each request: drop a connection that is broken or too old.
            close_old_connections()
            try:
                answered = respond(environ)
            finally:
                close_old_connections()
            if answered is not None:
                status, body = answered
                start_response(f"{status} Created", [*HEADERS, ("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)
