"""The rating fast path answers the common rating as the full path would, and leaves the rest to it.

Every other rating test already goes through the fast path first (conftest's `Api`); these tests
check which requests it answers, that its rows equal the full path's, and the WSGI entry point.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Api, iso, rating_writer
from haoping import serving
from haoping.accounts.selectors import api_client_for_key, clear_cache
from haoping.evaluations import fastpath, rules
from haoping.evaluations.chain import chain_seal, chain_verify, row_mac
from haoping.evaluations.models import Evaluation
from haoping.evaluations.selectors import questionnaire_for
from haoping.records.models import RatingSlot
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.services import blocked_evaluator_add
from haoping.rectification.tests.support import act_ok, console_actor, person, rated, to_handling

# Fields that differ between two ratings of two services, whichever path stored them.
OWN = {"id", "slot", "record", "receipt", "rated_at", "created_at", "row_mac", "client_ref"}


def token_of(res: Any) -> str:
    assert res.status_code == 201, res.json()
    url: str = res.json()["completion"]["evaluation_url"]
    return url.rstrip("/").split("/")[-1]


def fast(api: Api, body: Any, **environ: Any) -> tuple[int, bytes] | None:
    """The fast path's answer alone: None means it left the request to Django."""
    return fastpath.respond(api.environ(json.dumps(body).encode(), **environ), api.writer())


def submit_together(writer: fastpath.Writer, batch: list[fastpath.Pending]) -> None:
    """Hand `batch` to `writer` at once, as that many requests would, and wait for every answer."""
    threads = [threading.Thread(target=writer.submit, args=(p,)) for p in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def row(ev: Evaluation) -> dict[str, Any]:
    return {f.name: getattr(ev, f.attname) for f in Evaluation._meta.concrete_fields if f.name not in OWN}


def test_it_stores_the_row_the_full_path_would(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    full = Api(api.key, fast=False)
    body = {
        "level": 4,
        "channel": "mobile",
        "answers": {"guide_clear": 5, "suggestion": "  多开一个窗口 "},
        "comment": "  还行，等了一会儿  ",
        "client_ref": "pad-7",
    }
    quick = fast(api, {"token": token_of(api.post("/records", record_payload(record_no="F1"))), **body})
    assert quick is not None and quick[0] == 201
    slow = full.post("/evaluations", {"token": token_of(api.post("/records", record_payload(record_no="F2"))), **body})
    assert slow.status_code == 201
    quick_body, slow_body = json.loads(quick[1]), slow.json()
    assert quick_body["evaluations"] == [{"record_no": "F1", "visit_id": None, "level": 4}]
    assert slow_body["evaluations"] == [{"record_no": "F2", "visit_id": None, "level": 4}]
    assert len(quick_body["receipt"]) == len(slow_body["receipt"]) == 14

    one = Evaluation.objects.get(record__record_no="F1")
    two = Evaluation.objects.get(record__record_no="F2")
    assert row(one) == row(two)
    assert one.comment == "还行，等了一会儿" and one.receipt == quick_body["receipt"]
    # The client's own reference is kept per client, as the full path keeps it.
    client = api_client_for_key(api.key)
    assert client is not None and one.client_ref == two.client_ref == f"{client.pk}:pad-7"
    assert one.row_mac == row_mac(one)
    chain_seal()
    assert chain_verify() == (2, None)
    # The business system sees it as any other rating.
    rated = api.get("/records/F1").json()["evaluations"]
    assert [(e["level"], e["source"], e["channel"], e["rated_by"]) for e in rated] == [
        (4, "active", "mobile", "applicant")
    ]


# What differs between two cases of two ratings, whichever path opened them.
CASE_OWN = {"id", "evaluation", "receipt", "record", "evaluator", "public_id"}
CASE_TIMES = {"opened_at", "dispatched_at", "contact_due", "step_started_at", "due_at", "warn_at"}


def test_a_bad_rating_opens_the_case_the_full_path_would(world: dict[str, Any], record_payload: Any) -> None:
    """R12 on the fast path: the same case, history and notice, in the rating's own transaction."""
    api = world["api"]
    full = Api(api.key, fast=False)
    body = {"level": 1, "channel": "pad", "reasons": ["attitude"], "comment": "态度差"}
    quick = fast(api, {"token": token_of(api.post("/records", record_payload(record_no="BAD1"))), **body})
    assert quick is not None and quick[0] == 201
    slow = full.post(
        "/evaluations", {"token": token_of(api.post("/records", record_payload(record_no="BAD2"))), **body}
    )
    assert slow.status_code == 201
    one, two = (BadReviewCase.objects.get(record__record_no=no) for no in ("BAD1", "BAD2"))

    def fields(case: BadReviewCase) -> dict[str, Any]:
        return {
            f.name: getattr(case, f.attname)
            for f in BadReviewCase._meta.concrete_fields
            if f.name not in CASE_OWN | CASE_TIMES
        }

    assert fields(one) == fields(two)
    assert one.evaluation.receipt == json.loads(quick[1])["receipt"] == one.receipt
    assert one.evaluator_id == one.record.applicant_id
    # The deadlines follow from the moment of the rating, as on the full path.
    assert abs(one.contact_due - two.contact_due) < dt.timedelta(minutes=1)
    assert list(one.events.values_list("action", flat=True)) == list(two.events.values_list("action", flat=True))
    assert Message.objects.filter(case=one).count() == Message.objects.filter(case=two).count() == 1


def test_a_case_that_fails_to_open_takes_its_rating_with_it(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haoping.evaluations import services as evaluations

    api = world["api"]
    bad = token_of(api.post("/records", record_payload(record_no="NOCASE")))
    good = token_of(api.post("/records", record_payload(record_no="FINE")))
    client = api_client_for_key(api.key)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("no policy")

    # The case opener rectification registered (haoping.rectification.apps).
    monkeypatch.setattr(evaluations, "_case_opener", broken)
    batch = [
        fastpath.prepare({"token": bad, "level": 2, "channel": "pad", "reasons": ["efficiency"]}, client),
        fastpath.prepare({"token": good, "level": 5, "channel": "pad"}, client),
    ]
    pending = [p for p in batch if p is not None]
    submit_together(rating_writer(gather=5.0, pause=0.5), pending)
    # The good rating of the same batch is stored and answered; the bad one is neither.
    assert [p.result is not None for p in pending] == [False, True]
    assert list(Evaluation.objects.values_list("record__record_no", flat=True)) == ["FINE"]


def test_it_rates_by_record_number_and_by_visit(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    api.post("/records", record_payload(record_no="MIX", mode="mixed", on_the_spot=False, completed_at=None))
    visit = api.post("/records/MIX/visits", {"window_code": "W-XW-02", "staff_no": "S002", "at": iso(now)}).json()
    answered = fast(api, {"record_no": "MIX", "visit_id": visit["visit_id"], "level": 5, "channel": "pad"})
    assert answered is not None and json.loads(answered[1])["evaluations"] == [
        {"record_no": "MIX", "visit_id": visit["visit_id"], "level": 5}
    ]
    ev = Evaluation.objects.get(visit_id=visit["visit_id"])
    # A visit rates the window visited and its staff member.
    assert (ev.window, ev.staff, ev.institution) == (world["window2"], world["staff2"], world["hall"])
    api.post("/records/MIX/complete", {"completed_at": iso(now)})
    assert fast(api, {"record_no": "MIX", "level": 4, "channel": "kiosk"}) is not None
    assert Evaluation.objects.filter(record__record_no="MIX").count() == 2


def _closed_token(api: Api, record_payload: Any) -> str:
    long_ago = timezone.now() - dt.timedelta(days=9)
    return token_of(
        api.post(
            "/records",
            record_payload(
                record_no="OLD", accepted_at=iso(long_ago - dt.timedelta(hours=1)), completed_at=iso(long_ago)
            ),
        )
    )


LEFT_TO_DJANGO = {
    # Whatever the schema or the rules refuse, Django names.
    "level as text": {"level": "5"},
    "level as boolean": {"level": True},
    "level 6": {"level": 6},
    "level as a fraction": {"level": 4.0},
    "unknown channel": {"channel": "fax"},
    "unknown field": {"rating": 5},
    "unknown reason": {"reasons": ["weather"]},
    "unknown question": {"answers": {"mood": 5}},
    # R9: a window service is not asked the platform's options (the check reads a cached set).
    "a reason not offered for a window service": {"level": 1, "reasons": ["system"]},
    "a question not asked of a window service": {"answers": {"interface_friendly": 5}},
    "bad rating without a reason": {"level": 2},
    "comment too long": {"comment": "长" * 1001},
    "NUL in comment": {"comment": "a\x00b"},
    "agent without agent": {"rated_by": "agent"},
    "own time on paper": {"channel": "paper", "rated_at": "2026-01-01T00:00:00+08:00"},
    "bundle": {"bundle_no": "THEME-1"},
    "two names": {"record_no": "R000001"},
}


@pytest.mark.parametrize("change", LEFT_TO_DJANGO.values(), ids=LEFT_TO_DJANGO.keys())
def test_anything_unusual_is_left_to_django(world: dict[str, Any], record_payload: Any, change: dict[str, Any]) -> None:
    api = world["api"]
    token = token_of(api.post("/records", record_payload()))
    body = {"token": token, "level": 5, "channel": "pad", **change}
    assert fast(api, body) is None
    assert not Evaluation.objects.exists()


def test_requests_it_cannot_vouch_for_are_left_to_django(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(api.post("/records", record_payload(record_no="MINE")))
    body = {"token": token, "level": 5, "channel": "pad"}
    public_id, _dot, signature = token.partition(".")
    for name, answered in {
        "forged signature": fast(api, {**body, "token": f"{public_id}.{'A' * len(signature)}"}),
        "no such slot": fast(api, {**body, "token": "x" + token}),
        "no signature": fast(api, {**body, "token": public_id}),
        "no such record": fast(api, {"record_no": "NONE", "level": 5, "channel": "pad"}),
        "another region's key": fast(world["other_api"], body),
        "no key": fast(api, body, HTTP_AUTHORIZATION=""),
        "unknown key": fast(Api("hp_unknown-key"), body),
        "host not allowed": fast(api, body, HTTP_HOST="evil.example"),
        "not JSON": fast(api, body, CONTENT_TYPE="text/plain"),
        "GET": fast(api, body, REQUEST_METHOD="GET"),
        "another path": fast(api, body, PATH_INFO="/api/v1/evaluations/"),
        "no length": fast(api, body, CONTENT_LENGTH=""),
        "closed window": fast(api, {**body, "token": _closed_token(api, record_payload)}),
        "empty Host": fast(api, body, HTTP_HOST="", SERVER_NAME="testserver"),
        "deeply nested": fastpath.respond(api.environ(b"[" * 1100 + b"]" * 1100), api.writer()),
        "lone surrogate": fastpath.respond(
            api.environ(json.dumps({**body, "comment": "\ud800"}).encode()), api.writer()
        ),
    }.items():
        assert answered is None, name
    assert not Evaluation.objects.exists()
    # The body is still there for Django to read.
    environ = api.environ(json.dumps(body).encode(), HTTP_AUTHORIZATION="")
    assert fastpath.respond(environ, api.writer()) is None
    assert json.loads(environ["wsgi.input"].read()) == body


def test_a_batch_record_is_left_to_django(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    batch = {"kind": "batch", "bundle_no": "BATCH-F"}
    token = token_of(api.post("/records", record_payload(record_no="BF1", bundle=batch)))
    api.post("/records", record_payload(record_no="BF2", bundle=batch))
    assert fast(api, {"token": token, "level": 5, "channel": "pad"}) is None
    # Django rates the whole batch (R5).
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "pad"}).status_code == 201
    assert Evaluation.objects.count() == 2


def test_a_second_rating_or_a_retry_is_left_to_django(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(api.post("/records", record_payload()))
    body = {"token": token, "level": 5, "channel": "mobile", "client_ref": "retry-1"}
    first = fast(api, body)
    assert first is not None
    assert fast(api, body) is None and fast(api, {**body, "client_ref": ""}) is None
    # Django answers the retry with the first receipt, and a second rating with 409.
    retry = api.post("/evaluations", body)
    assert retry.status_code == 200 and retry.json()["receipt"] == json.loads(first[1])["receipt"]
    assert api.post("/evaluations", {**body, "client_ref": "", "channel": "sms"}).status_code == 409
    assert Evaluation.objects.count() == 1


def test_a_blocked_evaluators_good_rating_is_kept_and_counted_nowhere(
    world: dict[str, Any], record_payload: Any
) -> None:
    """R15 on the fast path: the registry is asked in the same lookup."""
    api = world["api"]
    troll = person(1, phone="13900000001", id_number="320102198001010011")
    case = BadReviewCase.objects.get(record__record_no=rated(api, record_payload, level=1, applicant=troll))
    to_handling(api, case.pk, "malicious")
    act_ok(api, case.pk, "request_invalidation", reason="报复性差评")
    act_ok(world["manager_api"], case.pk, "approve_invalidation", note="同意")
    blocked_evaluator_add(
        actor=console_actor("manager", "manager", region=world["district"]), case=case, reason="多次恶意差评"
    )
    token = token_of(api.post("/records", record_payload(record_no="AGAIN", applicant=person(2, phone=troll["phone"]))))
    assert fast(api, {"token": token, "level": 5, "channel": "pad"}) is not None
    assert Evaluation.objects.get(record__record_no="AGAIN").blocked is True
    other = token_of(api.post("/records", record_payload(record_no="SOMEONE", applicant=person(3))))
    assert fast(api, {"token": other, "level": 5, "channel": "pad"}) is not None
    assert Evaluation.objects.get(record__record_no="SOMEONE").blocked is False


def _call(environ: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Call the production WSGI application the way a server does."""
    from haoping.wsgi import application

    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], json.loads(body)


def _entry_point_tokens(api: Api, record_payload: Any, prefix: str) -> tuple[str, str, str]:
    """Links of records {prefix}1 and {prefix}2, and of {prefix}B1 in a batch with {prefix}B2."""
    first = token_of(api.post("/records", record_payload(record_no=f"{prefix}1")))
    second = token_of(api.post("/records", record_payload(record_no=f"{prefix}2")))
    bundle = {"kind": "batch", "bundle_no": f"BATCH-{prefix}"}
    batch = token_of(api.post("/records", record_payload(record_no=f"{prefix}B1", bundle=bundle)))
    api.post("/records", record_payload(record_no=f"{prefix}B2", bundle=bundle))
    return first, second, batch


def _django_spy(django: Any, to_django: list[str]) -> Any:
    """Django's ASGI application, noting what reached it: the token rated, the path, "long", or
    "no body" (haoping.gate keeps the body from Django when the key is not valid)."""

    async def spy(scope: dict[str, Any], receive: Any, send: Any) -> None:
        messages = [await receive()]
        while messages[-1].get("more_body"):
            messages.append(await receive())
        body = b"".join(m.get("body", b"") for m in messages)
        if not body:
            to_django.append("no body")
        else:
            to_django.append(json.loads(body).get("token", scope["path"]) if len(body) <= fastpath.MAX_BODY else "long")
        replay = messages[::-1]

        async def again() -> Any:
            return replay.pop() if replay else await receive()

        await django(scope, again, send)

    return spy


def _headers(key: str, raw: bytes | None = None, length: int | None = None) -> list[tuple[str, str]]:
    """A client's headers; with a JSON body, its type and length (the declared `length` if given)."""
    fields = [("host", "testserver"), ("authorization", f"Bearer {key}")]
    if raw is not None:
        declared = len(raw) if length is None else length
        fields += [("content-type", "application/json"), ("content-length", str(declared))]
    return fields


async def _asgi_call(
    application: Any, method: str, path: str, headers: list[tuple[str, str]], raw: bytes = b"", chunk: int = 0
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request to an ASGI application, its body in `chunk`-sized messages; the answer."""
    import asyncio

    parts = [raw[i : i + chunk] for i in range(0, len(raw), chunk)] if chunk else [raw]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # as a server does: the client stays until answered
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_wsgi_application_answers_through_both_paths(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haoping.wsgi import application

    api = world["api"]
    first, second, batch = _entry_point_tokens(api, record_payload, "W")
    # What reached Django, by the token rated (or the path).
    to_django: list[str] = []
    django = application.app

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        raw = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(raw)
        to_django.append(json.loads(raw).get("token", environ["PATH_INFO"]))
        return django(environ, start_response)

    monkeypatch.setattr(application, "app", spy)

    def post(body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        raw = json.dumps(body).encode()
        return _call({**api.environ(raw), "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http"})

    good = post({"token": first, "level": 5, "channel": "qrcode"})
    bad = post({"token": second, "level": 1, "channel": "pad", "reasons": ["attitude"]})
    # A batch record goes through Django (R5).
    batched = post({"token": batch, "level": 4, "channel": "pad"})
    assert good[0] == bad[0] == batched[0] == 201
    assert good[2]["evaluations"] == [{"record_no": "W1", "visit_id": None, "level": 5}]
    assert bad[2]["evaluations"] == [{"record_no": "W2", "visit_id": None, "level": 1}]
    assert BadReviewCase.objects.filter(record__record_no="W2").exists()
    assert sorted(e["record_no"] for e in batched[2]["evaluations"]) == ["WB1", "WB2"]
    # The fast path's answers carry the headers Django's do.
    without_length = [{k: v for k, v in h.items() if k != "Content-Length"} for h in (good[1], batched[1])]
    assert without_length[0] == without_length[1]
    assert int(good[1]["Content-Length"]) > 0
    # A second rating is Django's 409, in the API's error shape.
    again = post({"token": first, "level": 4, "channel": "sms"})
    assert again[0] == 409 and again[2]["error"] == "already_rated"
    assert Evaluation.objects.count() == 4
    # Other paths are untouched.
    missing = _call(
        {**api.environ(b"{}", PATH_INFO="/api/v1/nothing"), "SERVER_NAME": "testserver", "SERVER_PORT": "80"}
    )
    assert missing[0] == 404 and missing[2]["error"] == "not_found"
    # The good and the bad rating were the fast path's; the batch, the second rating and the
    # unknown path were Django's.
    assert to_django == [batch, first, "/api/v1/nothing"]
    assert application.writer is not None
    application.writer.stop()


def test_ratings_ask_for_one_rollup_update_a_second(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from haoping.indicators.tasks import update_rollups
    from haoping.ops import rollups as services

    settings.HAOPING_ROLLUPS_ENQUEUE = True
    scheduled: list[float] = []
    monkeypatch.setattr(update_rollups, "schedule", lambda delay: scheduled.append(delay))
    clock = iter([100.0, 100.2, 100.9, 101.1, 101.5, 103.0])
    monkeypatch.setattr(services.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(services, "_next_enqueue", 0.0)
    for _ in range(6):
        services._enqueue()
    # At 100.0 (runs at 101.0, covering 100.2 and 100.9), 101.1 (covering 101.5) and 103.0.
    assert scheduled == [1.0, 1.0, 1.0]


def test_the_statements_are_the_orms_own_sql(db: Any) -> None:
    """They come from the models, so a migration that renames a column moves them too."""
    statements = fastpath.statements()
    for name, (sql, params, at) in statements.lookups.items():
        assert params[at] == ["fastpath-sentinel"], name
        assert "= ANY(%s)" in sql and RatingSlot._meta.db_table in sql and "rectification_blockedevaluator" in sql
    assert statements.insert.count("%s") == 1
    columns = [f.column for f in Evaluation._meta.concrete_fields if not f.primary_key]
    assert all(f'"{column}"' in statements.insert for column in columns)
    assert statements.times == ("rated_at", "created_at")


def test_a_batch_shares_one_lookup_per_kind_of_name_and_one_insert(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    client = api_client_for_key(api.key)
    other = api_client_for_key(world["other_api"].key)
    tokens = [token_of(api.post("/records", record_payload(record_no=f"BT{n}"))) for n in range(3)]
    api.post("/records", record_payload(record_no="BYNO"))
    now = timezone.now()
    body = {"level": 5, "channel": "pad"}
    batch = [
        fastpath.prepare({"token": tokens[0], **body}, client, now),
        fastpath.prepare({"token": tokens[1], **body, "level": 4}, client, now),
        fastpath.prepare({"token": tokens[1], **body, "level": 3}, client, now),  # the same service again
        fastpath.prepare({"token": tokens[2], **body}, other, now),  # outside that key's region
        fastpath.prepare({"record_no": "BYNO", **body}, client, now),
        fastpath.prepare({"record_no": "NONE", **body}, client, now),
    ]
    pending = [p for p in batch if p is not None]
    assert len(pending) == 6
    writer = rating_writer(gather=5.0, pause=0.5)
    # The questionnaire sets (R8, R9) are read once per process, then every rating asks the cache.
    questionnaire_for("", (rules.INSTITUTION,))
    with CaptureQueriesContext(connection) as queries:
        submit_together(writer, pending)
    # The writer sets its plans once per connection (fastpath.GENERIC_PLANS); then the batch.
    batch_queries = [q["sql"] for q in queries.captured_queries if q["sql"] != fastpath.GENERIC_PLANS]
    assert len(batch_queries) == 3, batch_queries
    answered = [json.loads(p.result[1])["evaluations"][0] if p.result else None for p in pending]
    # The two ratings of BT1 arrived in either order: one is stored and answered, the other not.
    bt1 = [a for a in answered[1:3] if a is not None]
    assert len(bt1) == 1 and bt1[0]["record_no"] == "BT1"
    assert answered[:1] + answered[3:] == [
        {"record_no": "BT0", "visit_id": None, "level": 5},
        None,
        {"record_no": "BYNO", "visit_id": None, "level": 5},
        None,
    ]
    assert sorted(Evaluation.objects.values_list("record__record_no", "level")) == [
        ("BT0", 5),
        ("BT1", bt1[0]["level"]),
        ("BYNO", 5),
    ]
    # Django answers the ones left: the second rating of BT1 and the other region's token.
    assert api.post("/evaluations", {"token": tokens[1], **body}).status_code == 409
    assert world["other_api"].post("/evaluations", {"token": tokens[2], **body}).status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_writer_stores_concurrent_ratings_before_answering(world: dict[str, Any], record_payload: Any) -> None:
    import threading

    from django.db import connection

    api = world["api"]
    client = api_client_for_key(api.key)
    tokens = [token_of(api.post("/records", record_payload(record_no=f"C{n:02d}"))) for n in range(12)]
    writer = fastpath.Writer()
    outcomes: list[tuple[str, bool | None]] = []
    start = threading.Barrier(13)

    def rate(token: str, level: int) -> None:
        try:
            pending = fastpath.prepare({"token": token, "level": level, "channel": "kiosk"}, client)
            assert pending is not None
            start.wait()
            answered = writer.submit(pending)
            # An answer is given only once the rating is committed: this thread's own connection sees it.
            receipt = json.loads(answered[1])["receipt"] if answered else None
            outcomes.append((token, None if receipt is None else Evaluation.objects.filter(receipt=receipt).exists()))
        finally:
            connection.close()

    # The first service twice: one rating wins; the other is left to Django (409 there).
    threads = [threading.Thread(target=rate, args=(t, 5)) for t in tokens] + [
        threading.Thread(target=rate, args=(tokens[0], 4))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    assert sorted(outcome for _t, outcome in outcomes if outcome is not None) == [True] * 12
    assert [t for t, outcome in outcomes if outcome is None] == [tokens[0]]
    assert Evaluation.objects.count() == 12


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ratings_arriving_together_share_one_batch(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from django.db import connection

    api = world["api"]
    client = api_client_for_key(api.key)
    tokens = [token_of(api.post("/records", record_payload(record_no=f"G{n}"))) for n in range(5)]
    batches: list[int] = []
    real_store = fastpath.store

    def counted(batch: list[fastpath.Pending], hand_on: Any = None) -> None:
        batches.append(len(batch))
        real_store(batch, hand_on)

    monkeypatch.setattr(fastpath, "store", counted)
    # Generous moments, so that five threads started together always arrive within them.
    writer = fastpath.Writer(gather=5.0, pause=0.5)
    start = threading.Barrier(5)
    answers: list[int] = []

    def rate(token: str) -> None:
        try:
            pending = fastpath.prepare({"token": token, "level": 5, "channel": "kiosk"}, client)
            assert pending is not None
            start.wait()
            answered = writer.submit(pending)
            answers.append(answered[0] if answered else 0)
        finally:
            connection.close()

    threads = [threading.Thread(target=rate, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    assert answers == [201] * 5
    assert batches == [5]
    assert Evaluation.objects.count() == 5


class HeldGateway:
    """A notice gateway that does not answer until the test lets it."""

    release: Any = None
    entered: Any = None
    delivers_by_storing = False

    def send(self, message: Message) -> None:
        self.entered.set()
        assert self.release.wait(30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bad_rating_is_stored_with_its_case_off_the_writer(
    world: dict[str, Any], record_payload: Any, settings: Any
) -> None:
    """The writer looks a bad rating up with its batch and hands it on: a slow notice gateway holds
    up that rating, not the batches after it, and it is answered once stored with its case."""
    import threading

    from django.db import connection

    api = world["api"]
    client = api_client_for_key(api.key)
    tokens = [token_of(api.post("/records", record_payload(record_no=f"H{n}"))) for n in range(4)]
    HeldGateway.release, HeldGateway.entered = threading.Event(), threading.Event()
    settings.HAOPING_MESSAGE_BACKEND = f"{__name__}.HeldGateway"
    writer = fastpath.Writer()
    answers: dict[str, tuple[int, bytes] | None] = {}
    committed: dict[str, tuple[bool, bool]] = {}

    def rate(token: str, level: int) -> None:
        try:
            body = {
                "token": token,
                "level": level,
                "channel": "pad",
                **({"reasons": ["attitude"]} if level < 3 else {}),
            }
            pending = fastpath.prepare(body, client)
            assert pending is not None
            answers[token] = writer.submit(pending)
            # Answered only once committed: this thread's own connection sees the rating and its case.
            rated = Evaluation.objects.filter(slot__public_id=pending.name)
            committed[token] = rated.exists(), BadReviewCase.objects.filter(evaluation__in=rated).exists()
        finally:
            connection.close()

    bad = threading.Thread(target=rate, args=(tokens[0], 1))
    bad.start()
    try:
        assert HeldGateway.entered.wait(30)  # the case is stored, its notice held
        # Good ratings go on being stored and answered meanwhile, in batches of their own.
        for token in tokens[1:]:
            rate(token, 5)
        assert [answers[t][0] for t in tokens[1:]] == [201, 201, 201]  # type: ignore[index]
        assert tokens[0] not in answers and bad.is_alive()
    finally:
        HeldGateway.release.set()
        bad.join(30)
        writer.stop()
    status, content = answers[tokens[0]]  # type: ignore[misc]
    assert status == 201 and json.loads(content)["evaluations"][0]["level"] == 1
    assert committed == {tokens[0]: (True, True), **{t: (True, False) for t in tokens[1:]}}
    case = BadReviewCase.objects.get(record__record_no="H0")
    assert case.messages.get().backend == "HeldGateway"
    assert Evaluation.objects.count() == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_case_that_fails_on_a_case_thread_leaves_its_rating_to_django(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from haoping.evaluations import services as evaluations

    api = world["api"]
    token = token_of(api.post("/records", record_payload(record_no="NOCASE")))

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("no policy")

    # The case opener rectification registered (haoping.rectification.apps).
    monkeypatch.setattr(evaluations, "_case_opener", broken)
    writer = fastpath.Writer()
    pending = fastpath.prepare(
        {"token": token, "level": 2, "channel": "pad", "reasons": ["efficiency"]}, api_client_for_key(api.key)
    )
    assert pending is not None
    try:
        assert writer.submit(pending) is None  # answered (by the full path), not left waiting
    finally:
        writer.stop()
        connection.close()
    assert not Evaluation.objects.exists() and not BadReviewCase.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_wsgi_request_holds_no_connection_while_its_rating_waits(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key's lookup borrows a connection; the request gives it back before it waits, so that
    the case thread storing its bad rating finds one in the pool, however small."""
    from django.db import connection

    from haoping.wsgi import application

    api = world["api"]
    token = token_of(api.post("/records", record_payload(record_no="WAIT")))
    writer = application.writer
    assert writer is not None
    held: list[bool] = []
    submit = writer.submit

    def waiting(pending: fastpath.Pending) -> Any:
        held.append(connection.connection is not None)
        return submit(pending)

    monkeypatch.setattr(writer, "submit", waiting)
    clear_cache()  # the key is looked up in the database, on this request's thread
    raw = json.dumps({"token": token, "level": 1, "channel": "pad", "reasons": ["attitude"]}).encode()
    try:
        status, _headers, content = _call(
            {**api.environ(raw), "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
        )
    finally:
        writer.stop()
    assert status == 201 and content["evaluations"][0]["record_no"] == "WAIT"
    assert held == [False]
    assert BadReviewCase.objects.filter(record__record_no="WAIT").exists()


def test_a_database_fault_is_left_to_django(world: dict[str, Any], record_payload: Any, monkeypatch: Any) -> None:
    from django.db import DatabaseError

    api = world["api"]
    token = token_of(api.post("/records", record_payload()))

    def broken() -> Any:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(fastpath, "statements", broken)
    assert fast(api, {"token": token, "level": 5, "channel": "pad"}) is None
    assert not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_asgi_application_answers_through_both_paths(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from haoping.asgi import application

    api = world["api"]
    good_token, bad_token, batch_token = _entry_point_tokens(api, record_payload, "A")
    to_django: list[str] = []
    fast_path = application.app  # behind the request gate (haoping.gate)
    spy = _django_spy(fast_path.app, to_django)

    lookups: list[str] = []
    looked_up = serving.api_client_looked_up

    def counted(authorization: str) -> Any:
        lookups.append(authorization)
        return looked_up(authorization)

    async def call(
        path: str, body: Any, chunk: int = 0, key: str = api.key, extra: tuple[tuple[str, str], ...] = ()
    ) -> tuple[int, dict[bytes, bytes], Any]:
        raw = json.dumps(body).encode()
        status, headers, content = await _asgi_call(
            application, "POST", path, [*_headers(key, raw), *extra], raw, chunk
        )
        return status, headers, json.loads(content)

    async def scenario() -> list[tuple[int, dict[bytes, bytes], Any]]:
        return [
            await call(fastpath.PATH, {"token": good_token, "level": 5, "channel": "qrcode"}),
            await call(fastpath.PATH, {"token": bad_token, "level": 2, "channel": "pad", "reasons": ["process"]}),
            # A batch record goes through Django (R5); its body arrives in pieces.
            await call(fastpath.PATH, {"token": batch_token, "level": 4, "channel": "pad"}, chunk=7),
            await call(fastpath.PATH, {"token": good_token, "level": 4, "channel": "sms"}),
            await call("/api/v1/nothing", {}),
            # Past the fast path's body limit, Django reads the rest and names the problem.
            await call(fastpath.PATH, {"token": bad_token, "level": 5, "channel": "pad", "comment": "长" * 7000}, 4096),
            await call(fastpath.PATH, {"token": bad_token, "level": 5, "channel": "pad"}, key="hp_unknown"),
            # A second Authorization header: the first names no client, so Django gets no body and
            # refuses the request.
            await call(
                fastpath.PATH,
                {"token": batch_token, "level": 5, "channel": "pad"},
                key="hp_unknown",
                extra=(("authorization", f"Bearer {api.key}"),),
            ),
        ]

    # The first rating finds the key on a worker thread, not on the event loop.
    clear_cache()
    monkeypatch.setattr(fast_path, "app", spy)
    monkeypatch.setattr(serving, "api_client_looked_up", counted)
    try:
        good, bad, batched, again, missing, long, unknown, doubled = asyncio.run(scenario())
    finally:
        fast_path.writer.stop()
    # Each key the cache did not know was looked up once, off the event loop.
    assert lookups == [f"Bearer {api.key}", "Bearer hp_unknown"]
    assert doubled[0] == 401
    # The good and the bad rating were the fast path's; the rest were Django's.
    # The gate let no body through without a valid key.
    assert to_django == [batch_token, good_token, "/api/v1/nothing", "long", "no body", "no body"]
    assert good[0] == bad[0] == batched[0] == 201
    assert good[2]["evaluations"] == [{"record_no": "A1", "visit_id": None, "level": 5}]
    assert bad[2]["evaluations"] == [{"record_no": "A2", "visit_id": None, "level": 2}]
    assert BadReviewCase.objects.filter(record__record_no="A2").exists()
    assert sorted(e["record_no"] for e in batched[2]["evaluations"]) == ["AB1", "AB2"]
    # The fast path's answers carry the headers Django's do.
    assert {k.lower(): v for k, v in good[1].items() if k != b"content-length"} == {
        k.lower(): v for k, v in batched[1].items() if k.lower() != b"content-length"
    }
    assert again[0] == 409 and again[2]["error"] == "already_rated"
    assert missing[0] == 404 and missing[2]["error"] == "not_found"
    assert long[0] == 422 and "comment" in long[2]["detail"]
    assert unknown[0] == 401
    assert Evaluation.objects.count() == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_asgi_requests_give_their_database_connections_back(
    world: dict[str, Any], record_payload: Any, settings: Any
) -> None:
    """Django runs each ASGI request's view on a thread of its own; a connection kept with such a
    thread would stay open after it, until PostgreSQL refuses new clients. Requests borrow from the
    pool instead, whichever path answers them."""
    import asyncio

    from django.db import connection

    from haoping.asgi import application

    api = world["api"]
    tokens = [token_of(api.post("/records", record_payload(record_no=f"P{n:02d}"))) for n in range(24)]

    async def call(method: str, path: str, body: Any = None) -> int:
        raw = None if body is None else json.dumps(body).encode()
        return (await _asgi_call(application, method, path, _headers(api.key, raw), raw or b""))[0]

    async def rounds() -> list[int]:
        statuses: list[int] = []
        for start in range(0, 24, 12):
            batch = [call("GET", f"/api/v1/records/P{n:02d}") for n in range(start, start + 12)]
            # Good ratings (the writer), bad ratings (the writer's case threads), and Django's 409s.
            batch += [call("POST", fastpath.PATH, {"token": t, "level": 5, "channel": "pad"}) for t in tokens[start::4]]
            batch += [
                call("POST", fastpath.PATH, {"token": t, "level": 1, "channel": "pad", "reasons": ["attitude"]})
                for t in tokens[start + 1 : start + 12 : 4]
            ]
            batch += [call("POST", fastpath.PATH, {"token": tokens[0], "level": 4, "channel": "sms"})]
            statuses += await asyncio.gather(*batch)
        return statuses

    def lent() -> int:
        stats = connection.pool.get_stats()
        return int(stats["pool_size"] - stats["pool_available"])

    # This test's own connection, and any another test's server thread still holds.
    before = lent()
    statuses = asyncio.run(rounds())
    application.app.writer.stop()
    assert sorted(set(statuses)) == [200, 201, 409]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (others,) = cursor.fetchone()
    # This test's own connection is one of the pool's.
    assert others <= settings.DB_POOL_SIZE - 1, others
    # And every connection the requests borrowed is back in the pool: none stayed with a finished
    # request's thread, the writer, a case thread or a worker thread.
    assert lent() == before, connection.pool.get_stats()
