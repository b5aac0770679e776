"""Intake from lower-level systems: rows of the national format, written out by hand as a county's
system sends them, read back through the code table, counted once, refused row by row."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from haoping.accounts.services import api_client_create
from haoping.directory.models import ServiceItem
from haoping.evaluations.models import Evaluation
from haoping.exchange import transport
from haoping.exchange.models import CodeTable, IncomingRow, LowerSystem
from haoping.indicators.counting import annex_a_counts
from haoping.lib.gm import sm2_encrypt, sm2_private_key, sm2_public_key
from haoping.records.models import RatingSlot, ServiceRecord
from haoping.rectification.models import BadReviewCase

TASK_CODE = "11320102MB1234567X3000117009000"
APP_MARK, APP_WORD = "xuanwu-county", "county-word"


def when(hours_ago: float) -> str:
    return timezone.localtime(timezone.now() - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def service_row(project: str, number: int = 1, **extra: str) -> dict[str, str]:
    row = {
        "projectNo": project,
        "serviceNumber": str(number),
        "serviceName": "办结",
        "serviceTime": when(3),
        "proStatus": "3",
        "acceptDate": when(5),
        "resultDate": when(3),
        "taskCode": TASK_CODE,
        "taskHandleItem": "",
        "taskName": "食品经营许可证核发",
        "taskType": "01",
        "areaCode": "320102000000",
        "deptCode": "D-MKT",
        "userProp": "1",
        "certKey": "",
        "projectType": "2",
        "promisetime": "2",
        "proChannel": "2",
        "dataSource": "165",
    }
    row.update(extra)
    return row


def evaluation_row(project: str, number: int = 1, **extra: str) -> dict[str, str]:
    row = {
        "projectNo": project,
        "assessNumber": str(number),
        "serviceNumber": str(number),
        "pf": "4",  # national: hall pad
        "satisfaction": "5",
        "evalDetail": "",
        "writingEvaluation": "",
        "assessTime": when(2),
        "dataSource": "165",
    }
    row.update(extra)
    return row


def step_row(project: str, step: str, hours_ago: float, **extra: str) -> dict[str, str]:
    row = {
        "projectNo": project,
        "assessNumber": "1",
        "serviceNumber": "1",
        "handleStep": step,
        "handleTime": when(hours_ago),
        "invalidType": "",
        "revisitResult": "",
        "dataSource": "165",
    }
    row.update(extra)
    return row


@pytest.fixture
def county(world: dict[str, Any]) -> dict[str, Any]:
    """The district's own 好差评 system, registered here as a lower-level system with its key."""
    ServiceItem.objects.create(
        code=TASK_CODE, name="食品经营许可证核发", type="行政许可", department=world["item"].department
    )
    client, key = api_client_create(name="玄武区好差评系统", region=world["district"])
    system = LowerSystem.objects.create(
        name="玄武区好差评系统",
        region=world["district"],
        api_client=client,
        code_table=CodeTable.objects.get(slug="national"),
    )
    return {"system": system, "key": key}


def post(client: Any, key: str, path: str, body: Any) -> Any:
    return client.post(
        f"/api/v1/exchange/{path}",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def results(res: Any) -> list[dict[str, Any]]:
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["C-Response-Desc"] == "success"
    return list(body["C-Response-Body"]["results"])


def test_a_service_and_its_rating_are_stored_once_and_counted_like_local_ones(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    rows = [
        service_row("XW-1"),
        evaluation_row("XW-1", pf="7", satisfaction="2", writingEvaluation="等了很久，电话13812345678"),
        service_row("XW-2"),
        evaluation_row("XW-2"),
    ]

    first = results(post(client, county["key"], "services", rows))
    again = results(post(client, county["key"], "evaluations", rows))

    assert [r["status"] for r in first] == [201, 201, 201, 201]
    assert [r["status"] for r in again] == [200, 200, 200, 200]
    assert first[1]["key"] == "evaluation:XW-1:1" and first[0]["kind"] == "service"
    assert Evaluation.objects.count() == 2 and IncomingRow.objects.count() == 4
    assert IncomingRow.objects.get(natural_key="evaluation:XW-1:1").times == 2
    record = ServiceRecord.objects.get(record_no="XW-1")
    assert (record.region, record.status, record.applicant.kind) == (world["district"], "completed", "person")
    slot = RatingSlot.objects.get(record=record)
    # Rated below: no rating window here, so no default rating is ever made for it here.
    assert (slot.kind, slot.closes_at) == ("completion", None)
    bad = Evaluation.objects.get(record=record)
    assert (bad.level, bad.channel, bad.source, bad.origin) == (2, "sms", "active", "玄武区好差评系统")
    assert "13812345678" not in bad.comment
    # The lower system works the case: ours holds its steps, closed, with no deadline.
    case = BadReviewCase.objects.get(evaluation=bad)
    assert (case.state, case.due_at, case.deadline_rules) == ("closed", None, "imported")
    counts = annex_a_counts(Evaluation.objects.filter(region=world["district"]))
    assert (counts["total"], counts["active"], counts["active_good"], counts["bad"], counts["valid_bad"]) == (
        2,
        2,
        1,
        1,
        1,
    )


def test_reported_case_steps_count_in_annex_a_as_the_lower_system_counts_them(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    rows = [
        service_row("XW-1"),
        evaluation_row("XW-1", satisfaction="1", writingEvaluation="态度差"),
        step_row("XW-1", "replied", 1.5),
        step_row("XW-1", "rectified", 1.2),
        step_row("XW-1", "revisited", 1.0, revisitResult="1"),
        service_row("XW-2"),
        evaluation_row("XW-2", satisfaction="2", writingEvaluation="乱评"),
        step_row("XW-2", "invalidated", 1.0, invalidType="malicious"),
        service_row("XW-3"),
        evaluation_row("XW-3", pf="5", satisfaction="3"),  # national: 5 is the default rating's pf
    ]

    got = results(post(client, county["key"], "evaluations", rows))
    assert [r["status"] for r in got] == [201] * len(rows)
    assert results(post(client, county["key"], "evaluations", rows[2:5]))[0]["status"] == 200

    counts = annex_a_counts(Evaluation.objects.filter(region=world["district"]))
    # Hand-counted: 3 ratings, one of them the default (pf 5 is "default" before "kiosk" and
    # "paper" in the national table), 2 bad, one not adopted (malicious), the other answered,
    # rectified after its revisit and satisfied.
    assert {k: counts[k] for k in ("total", "defaults", "bad", "invalid_bad", "replied", "rectified", "satisfied")} == {
        "total": 3,
        "defaults": 1,
        "bad": 2,
        "invalid_bad": 1,
        "replied": 1,
        "rectified": 1,
        "satisfied": 1,
    }
    assert Evaluation.objects.get(record__record_no="XW-3").source == "default"
    events = BadReviewCase.objects.get(record__record_no="XW-1").events.order_by("pk")
    assert [e.action for e in events] == ["open", "reply", "rectify", "revisit"]
    assert {e.actor_label for e in events} == {"玄武区好差评系统"}


def test_each_bad_row_gets_its_own_422_naming_the_field_and_the_rest_are_stored(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    from haoping.exchange.national import CHECKPOINT, ROW_KIND

    rows: list[Any] = [
        service_row("XW-1"),
        service_row("QH-1", areaCode="320104000000"),  # another district: outside the key's region
        service_row("XW-2", userProp="8"),  # no such code in the table
        service_row("XW-3", serviceTime="2026/05/06 09:30"),
        service_row("XW-4", taskCode="11320102MB1234567X3000117009999"),  # not in the directory
        evaluation_row("XW-9"),  # its service never came
        evaluation_row("XW-1", pf="9"),
        evaluation_row("XW-1", satisfaction="1"),  # bad, but neither codes nor text
        {ROW_KIND: CHECKPOINT, "checkpointNumber": "1", "checkpoint": {}, "areaCodes": {}, "dataSource": "165"},
        {"hello": "world"},
        "not an object",
        step_row("XW-1", "replied", 1),  # its rating is not a bad one with a case
        evaluation_row("XW-1"),
    ]

    got = results(post(client, county["key"], "services", rows))

    assert [(r["status"], r["field"]) for r in got] == [
        (201, ""),
        (422, "areaCode"),
        (422, "userProp"),
        (422, "serviceTime"),
        (422, "taskCode"),
        (422, "serviceNumber"),
        (422, "pf"),
        (422, "evalDetail"),
        (422, "rowKind"),
        (422, "row"),
        (422, "row"),
        (422, "assessNumber"),
        (201, ""),
    ]
    assert all(r["message"] for r in got if r["status"] == 422)
    assert got[8]["kind"] == "checkpoint" and got[10]["kind"] == "unknown"
    # Nothing sent is lost: every refused row is kept with its reason, the row as sent beside it.
    # (the two refused tries of XW-1's rating share their key with the one stored after them).
    refused = IncomingRow.objects.filter(status="refused")
    assert refused.count() == 9
    kept = refused.get(natural_key="service:QH-1:1")
    assert (kept.field, json.loads(kept.payload)["areaCode"]) == ("areaCode", "320104000000")
    # The rating of XW-1 came once, after two refused tries under the same key.
    assert Evaluation.objects.count() == 1
    assert IncomingRow.objects.get(natural_key="evaluation:XW-1:1").status == "stored"

    # A changed rating under a stored key is a conflict, never a second rating.
    conflict = results(post(client, county["key"], "evaluations", [evaluation_row("XW-1", satisfaction="4")]))
    assert (conflict[0]["status"], conflict[0]["field"]) == (409, "assessNumber")


def test_a_record_of_this_system_is_not_the_lower_systems_to_write(
    client: Any, world: dict[str, Any], county: dict[str, Any], record_payload: Any
) -> None:
    body = record_payload(record_no="LOCAL-1")
    assert world["api"].post("/records", body).status_code == 201

    got = results(post(client, county["key"], "services", [service_row("LOCAL-1")]))

    assert (got[0]["status"], got[0]["field"]) == (409, "projectNo")
    assert not RatingSlot.objects.filter(record__record_no="LOCAL-1", kind="visit").exists()


def test_calls_that_cannot_be_read_are_refused_whole(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    assert post(client, county["key"], "services", []).status_code == 422
    assert post(client, county["key"], "services", {"rows": "x"}).status_code == 422
    res = client.post(
        "/api/v1/exchange/services", data="a=1", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {county['key']}"
    )
    assert res.status_code == 415
    # A key that is not a registered lower system's takes nothing.
    res = post(client, world["api"].key, "services", [service_row("XW-1")])
    assert res.status_code == 403 and res.json()["error"] == "forbidden"
    assert client.post("/api/v1/exchange/services", data="[]", content_type="application/json").status_code == 401
    assert not IncomingRow.objects.exists()


@pytest.fixture
def signing(county: dict[str, Any]) -> dict[str, str]:
    theirs, ours = sm2_private_key(os.urandom(32)), sm2_private_key(os.urandom(32))
    system = county["system"]
    system.app_mark, system.app_word = APP_MARK, APP_WORD
    system.sign_public_key = sm2_public_key(theirs)
    system.decrypt_private_key = ours
    system.save()
    return {"private": theirs, "public": sm2_public_key(theirs), "our_public": sm2_public_key(ours)}


def creds(signing: dict[str, str], url: str = "http://127.0.0.1:1/", **extra: Any) -> transport.Credentials:
    return transport.Credentials(
        url=url,
        app_mark=APP_MARK,
        app_word=APP_WORD,
        private_key=signing["private"],
        public_key=signing["public"],
        **extra,
    )


def test_a_system_with_a_key_must_sign_and_may_encrypt(
    client: Any, county: dict[str, Any], signing: dict[str, str]
) -> None:
    rows = [service_row("XW-1"), evaluation_row("XW-1")]
    signed = transport.envelope(rows, creds(signing), timezone.now())

    assert post(client, county["key"], "services", rows).status_code == 403
    unsigned = json.loads(json.dumps(signed))
    del unsigned["txnBodyCom"]["sign"]
    assert post(client, county["key"], "services", unsigned).status_code == 403
    forged = json.loads(json.dumps(signed))
    forged["txnBodyCom"]["time"] = "20200101000000"
    assert post(client, county["key"], "services", forged).json()["field"] == "sign"
    assert not IncomingRow.objects.exists()

    assert [r["status"] for r in results(post(client, county["key"], "services", signed))] == [201, 201]
    # The rows SM2-encrypted to the key we gave the system, as the upload sends them to a platform.
    sealed = transport.envelope(
        [service_row("XW-2")], creds(signing, platform_public_key=signing["our_public"]), timezone.now()
    )
    assert isinstance(sealed["txnBodyCom"]["params"]["evaluate"][0], str)
    assert [r["status"] for r in results(post(client, county["key"], "services", sealed))] == [201]
    garbled = json.loads(json.dumps(sealed))
    garbled["txnBodyCom"]["params"]["evaluate"] = [sm2_encrypt(signing["public"], b"[]")]
    assert post(client, county["key"], "services", garbled).json()["field"] == "evaluate"


class Flaky:
    """A proxy on 127.0.0.1 in front of the served application: the first calls fail (503 without
    passing them on, or passed on with the answer lost), then calls go through."""

    def __init__(self, target: str, *, refuse: int = 0, lose: int = 0) -> None:
        self.target, self.refuse, self.lose, self.calls = target, refuse, lose, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                proxy.calls += 1
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = 503, b'{"C-Response-Desc": "busy"}'
                if proxy.refuse:
                    proxy.refuse -= 1
                else:
                    request = urllib.request.Request(
                        proxy.target + self.path, data=raw, headers=dict(self.headers), method="POST"
                    )
                    with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310 (the test's own server)
                        passed = answer.read()
                    if proxy.lose:
                        proxy.lose -= 1
                    else:
                        status, body = 200, passed
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky(live_server: Any) -> Iterator[Any]:
    made: list[Flaky] = []

    def make(**options: int) -> Flaky:
        made.append(Flaky(live_server.url, **options))
        return made[-1]

    yield make
    for proxy in made:
        proxy.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("failure", ["refused", "answer_lost"])
def test_a_batch_that_fails_twice_then_goes_through_is_stored_once(
    county: dict[str, Any], signing: dict[str, str], flaky: Any, failure: str
) -> None:
    """Our own upload's client (signing, retries with backoff) against this intake: whether the
    first two calls never arrived or arrived and lost their answers, one copy is stored."""
    proxy = flaky(refuse=2) if failure == "refused" else flaky(lose=2)
    rows = [service_row("XW-1"), evaluation_row("XW-1", satisfaction="2", writingEvaluation="慢")]
    target = creds(signing, url=proxy.url + "/api/v1/exchange/evaluations", api_key=county["key"])
    waits: list[float] = []

    answer = transport.send(rows, target, now=timezone.now, sleep=waits.append, base_delay=0.01)

    assert proxy.calls == 3 and len(waits) == 2
    assert answer.rejections == [None, None]
    assert Evaluation.objects.count() == 1 and BadReviewCase.objects.count() == 1
    assert IncomingRow.objects.filter(status="stored").count() == 2
    expected_times = 1 if failure == "refused" else 3
    assert IncomingRow.objects.get(natural_key="evaluation:XW-1:1").times == expected_times


# The same rating in each preset's codes, written out by hand (as test_exchange.PRESETS sends them):
# SMS, level 2, a natural person, a promised item handled on site.
PRESET_ROWS = {
    "national": {"pf": "7", "satisfaction": "2", "userProp": "1", "promisetime": "2", "projectType": "2"},
    "national-sms6": {"pf": "6", "satisfaction": "2", "userProp": "1", "promisetime": "1", "projectType": "1"},
    "gbt39046": {"pf": "7", "satisfaction": "4", "userProp": "1", "promisetime": "2", "projectType": "2"},
}


@pytest.mark.parametrize("preset", sorted(PRESET_ROWS))
def test_each_preset_reads_its_own_codes_back_into_ours(
    client: Any, world: dict[str, Any], county: dict[str, Any], preset: str
) -> None:
    system = county["system"]
    system.code_table = CodeTable.objects.get(slug=preset)
    system.save(update_fields=["code_table"])
    codes = PRESET_ROWS[preset]
    service = service_row("XW-1", userProp=codes["userProp"], promisetime=codes["promisetime"])
    service["projectType"] = codes["projectType"]
    rating = evaluation_row("XW-1", pf=codes["pf"], satisfaction=codes["satisfaction"], writingEvaluation="慢")

    got = results(post(client, county["key"], "services", [service, rating]))

    assert [r["status"] for r in got] == [201, 201]
    ev = Evaluation.objects.get()
    assert (ev.channel, ev.level, ev.source) == ("sms", 2, "active")
    record = ev.record
    assert (record.applicant.kind, record.on_the_spot) == ("person", False)


def test_imported_ratings_and_their_case_steps_go_further_up(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    """The city pushes what its counties sent it to the province, as its own rows."""
    from haoping.exchange.models import Endpoint, OutgoingRow
    from haoping.exchange.services import exchange_push, exchange_sweep
    from haoping.exchange.tests.upstream import Upstream

    ours = sm2_private_key(os.urandom(32))
    province = Upstream(app_mark="city", app_word="w", public_key=sm2_public_key(ours))
    try:
        Endpoint.objects.create(
            region=world["city"],
            code_table=CodeTable.objects.get(slug="national"),
            url=province.url,
            app_mark="city",
            app_word="w",
            sign_private_key=ours,
            sign_public_key=sm2_public_key(ours),
            data_source="320",
        )
        rows = [
            service_row("XW-1"),
            evaluation_row("XW-1", pf="2", satisfaction="1", writingEvaluation="态度差"),
            step_row("XW-1", "replied", 1),
        ]
        assert [r["status"] for r in results(post(client, county["key"], "evaluations", rows))] == [201] * 3

        exchange_sweep()
        pushed = exchange_push(sleep=lambda s: None)

        assert (pushed.sent, pushed.rejected) == (3, 0)
        assert set(OutgoingRow.objects.values_list("kind", flat=True)) == {"service", "evaluation", "case_step"}
        sent = province.evaluations[("XW-1", "1")]
        assert (sent["pf"], sent["satisfaction"], sent["dataSource"]) == ("2", "1", "320")
        assert province.services[("XW-1", "1")]["taskCode"] == TASK_CODE
        assert [s["handleStep"] for s in province.steps] == ["replied"]
    finally:
        province.stop()


def test_an_imported_case_is_neither_reopened_nor_spot_checked_here(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    from haoping.errors import Conflict
    from haoping.rectification.services import spot_check_draw

    rows = [
        service_row("XW-1"),
        evaluation_row("XW-1", satisfaction="1", writingEvaluation="态度差"),
        step_row("XW-1", "replied", 1.5),
        step_row("XW-1", "revisited", 1.0, revisitResult="0"),
    ]
    assert [r["status"] for r in results(post(client, county["key"], "evaluations", rows))] == [201] * 4
    case = BadReviewCase.objects.get()
    assert case.closed_at is not None

    res = world["city_api"].post(f"/cases/{case.pk}/actions", {"action": "reopen", "note": "抽查不合格"})

    assert res.status_code == 409 and res.json()["error"] == "imported"
    case.refresh_from_db()
    assert (case.state, case.replied_at is not None) == ("closed", True)
    today = timezone.localdate()
    # Closed within the period, but the lower system checks its own cases: nothing to draw here.
    with pytest.raises(Conflict) as refused:
        spot_check_draw(
            actor=_city_actor(world),
            region=world["city"],
            closed_from=today - dt.timedelta(days=1),
            closed_to=today,
            count=5,
        )
    assert refused.value.code == "nothing_to_check"


def _city_actor(world: dict[str, Any]) -> Any:
    from haoping.accounts.access import actor_for_client
    from haoping.accounts.models import ApiClient

    return actor_for_client(ApiClient.objects.get(name="市级平台"))


def test_a_manager_reads_an_imported_case_with_the_steps_the_lower_system_reported(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from haoping.accounts.models import Membership

    rows = [
        service_row("XW-1"),
        evaluation_row("XW-1", satisfaction="2", writingEvaluation="态度差"),
        step_row("XW-1", "replied", 1),
    ]
    assert [r["status"] for r in results(post(client, county["key"], "evaluations", rows))] == [201] * 3
    user = get_user_model().objects.create_user(username="city-manager", password="pw")
    Membership.objects.create(user=user, role="manager", region=world["city"])
    console = Client()
    console.force_login(user)

    page = console.get(f"/console/cases/{BadReviewCase.objects.get().pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    # Its timeline names the system that reported each step.
    assert html.count("玄武区好差评系统") >= 2
    # Nobody here acts on it: no action is offered, through the console or the API.
    case_id = BadReviewCase.objects.get().pk
    assert world["city_api"].get(f"/cases/{case_id}").json()["allowed_actions"] == []


def test_a_lower_systems_paper_form_replacing_its_default_replaces_it_here_once(
    client: Any, world: dict[str, Any], county: dict[str, Any], record_payload: Any
) -> None:
    """The county keys in a paper form that replaces a default it had uploaded: the row it sends
    again (replacesDefault) replaces the default here too, and the counts match the county's."""
    from haoping.exchange.models import CodeEntry, Endpoint, OutgoingRow
    from haoping.exchange.services import exchange_sweep
    from haoping.exchange.tests.test_exchange import _defaulted, _paper_form

    # A table that gives paper forms a pf of their own, so that they read back as paper.
    table = CodeTable.objects.get(slug="national-sms6")
    CodeEntry.objects.filter(table=table, field="pf", local="paper").update(code="8")
    county["system"].code_table = table
    county["system"].save(update_fields=["code_table"])
    # The county's own rows, made by the upload (its projectNo prefixed, so that its records and
    # the ones imported from it are told apart here).
    Endpoint.objects.create(
        region=world["city"], code_table=table, url="http://127.0.0.1:1/", data_source="165", project_no_prefix="XW-"
    )
    default = _defaulted(world, record_payload)
    exchange_sweep()
    before = [r.payload for r in OutgoingRow.objects.order_by("pk")]
    assert [r["pf"] for r in before if "assessNumber" in r] == ["7"]
    assert [r["status"] for r in results(post(client, county["key"], "evaluations", before))] == [201, 201]
    OutgoingRow.objects.update(status="sent")  # delivered: the push's own part is tested with the stand-in

    paper = _paper_form(world, default.record.record_no)
    exchange_sweep()
    update = [r.payload for r in OutgoingRow.objects.filter(source_key=f"evaluation:{paper.pk}")]
    assert update[0]["replacesDefault"] == "1"
    taken = results(post(client, county["key"], "evaluations", update))
    project = "XW-" + default.record.record_no
    assert [(r["status"], r["key"]) for r in taken] == [(201, f"evaluation:{project}:1:replacesDefault")]

    imported = Evaluation.objects.filter(record__record_no=project)
    here = imported.get(supersedes__isnull=False)
    assert (here.channel, here.level, here.source, here.origin) == ("paper", 2, "active", "玄武区好差评系统")
    assert here.supersedes == imported.get(supersedes__isnull=True)
    assert here.supersedes.source == "default"
    county_counts = annex_a_counts(Evaluation.objects.filter(record=default.record))
    assert annex_a_counts(imported) == county_counts
    assert (county_counts["total"], county_counts["active"], county_counts["defaults"]) == (1, 1, 0)
    # The bad paper rating holds its case here (the county works it).
    assert BadReviewCase.objects.filter(evaluation=here).count() == 1

    # Sent again (a lost answer), the update and the default change nothing.
    again = results(post(client, county["key"], "evaluations", before + update))
    assert [r["status"] for r in again] == [200, 200, 200]
    assert imported.count() == 2 and annex_a_counts(imported) == county_counts


def test_a_replacement_over_an_active_rating_or_a_second_one_is_refused(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    rows = [service_row("XW-7"), evaluation_row("XW-7")]  # an active rating (hall pad)
    assert [r["status"] for r in results(post(client, county["key"], "evaluations", rows))] == [201, 201]
    update = evaluation_row("XW-7", pf="1", satisfaction="2", writingEvaluation="慢", replacesDefault="1")
    refused = results(post(client, county["key"], "evaluations", [update]))
    assert (refused[0]["status"], refused[0]["field"]) == (409, "assessNumber")
    bad_flag = evaluation_row("XW-8", replacesDefault="yes")
    taken = results(post(client, county["key"], "evaluations", [service_row("XW-8"), bad_flag]))
    assert (taken[1]["status"], taken[1]["field"]) == (422, "replacesDefault")
    assert Evaluation.objects.filter(record__record_no="XW-7").count() == 1
    # No default came before it (the county replaced it before its upload): stored as any rating.
    alone = evaluation_row("XW-9", pf="1", satisfaction="4", replacesDefault="1")
    assert [r["status"] for r in results(post(client, county["key"], "evaluations", [service_row("XW-9"), alone]))] == [
        201,
        201,
    ]
    ev = Evaluation.objects.get(record__record_no="XW-9")
    assert (ev.channel, ev.level, ev.supersedes_id) == ("pc", 4, None)


def test_with_the_national_table_a_replacement_reads_back_as_a_paper_form(
    client: Any, world: dict[str, Any], county: dict[str, Any]
) -> None:
    # The national preset gives the default rating, kiosks and paper forms one pf, 5.
    default = evaluation_row("XW-5", pf="5", satisfaction="3")
    update = evaluation_row("XW-5", pf="5", satisfaction="1", writingEvaluation="材料被退回三次", replacesDefault="1")
    taken = results(post(client, county["key"], "evaluations", [service_row("XW-5"), default, update]))
    assert [r["status"] for r in taken] == [201, 201, 201]
    paper = Evaluation.objects.get(record__record_no="XW-5", supersedes__isnull=False)
    assert (paper.channel, paper.level, paper.source, paper.supersedes.source) == ("paper", 1, "active", "default")
    # Another pf is no paper form: a default marked as replacing one stays refused.
    default2 = evaluation_row("XW-6", pf="5", satisfaction="3")
    table = CodeTable.objects.get(slug="national")
    table.entries.filter(field="pf", local="paper").update(code="8")
    refused = results(
        post(
            client, county["key"], "evaluations", [service_row("XW-6"), default2, {**default2, "replacesDefault": "1"}]
        )
    )
    assert [(r["status"], r["field"]) for r in refused] == [(201, ""), (201, ""), (422, "pf")]


def test_r15_an_imported_rating_by_someone_in_the_registry_is_kept_and_counted_nowhere(
    client: Any, world: dict[str, Any], county: dict[str, Any], record_payload: Any
) -> None:
    from haoping.evaluations.models import BlockedEvaluator
    from haoping.evaluations.services import blocked_evaluator_add
    from haoping.fields import cert_key
    from haoping.rectification.tests.support import bad_case

    # Someone found malicious here (the record_payload's applicant, ID 320102199001011234) ...
    local = bad_case(world, record_payload, level=1)
    person = local.evaluator
    assert person is not None and person.cert_digest
    blocked_evaluator_add(
        region_id=world["district"].pk,
        phone_digest=person.phone_digest,
        id_digest=person.id_digest,
        cert_digest=person.cert_digest,
        case_id=local.pk,
        reason="恶意差评",
        added_by_label="管理员",
        now=timezone.now(),
    )
    assert BlockedEvaluator.objects.get().cert_digest == person.cert_digest
    # ... then rates through the county's system, which names them by certKey only; someone else
    # rates badly too. A certKey that is not an SM3 hash is refused, naming the field.
    rows = [
        service_row("XW-B1", certKey=cert_key("320102199001011234").upper()),
        evaluation_row("XW-B1", satisfaction="1", writingEvaluation="乱评"),
        service_row("XW-B2", certKey=cert_key("320102198502024321")),
        evaluation_row("XW-B2", satisfaction="1", writingEvaluation="态度差"),
        service_row("XW-B3", certKey="320102199001011234"),
    ]
    got = results(post(client, county["key"], "evaluations", rows))
    assert [r["status"] for r in got] == [201, 201, 201, 201, 422]
    assert got[4]["field"] == "certKey"

    blocked = Evaluation.objects.get(record__record_no="XW-B1")
    other = Evaluation.objects.get(record__record_no="XW-B2")
    assert (blocked.blocked, other.blocked) == (True, False)
    # Kept for audit, counted nowhere, and no case for it; the other one counts and has its case.
    assert not BadReviewCase.objects.filter(evaluation=blocked).exists()
    assert BadReviewCase.objects.filter(evaluation=other).exists()
    imported = annex_a_counts(Evaluation.objects.filter(record__record_no__in=["XW-B1", "XW-B2"]))
    assert (imported["total"], imported["bad"]) == (1, 1)
    # The ID number itself is stored nowhere, nor its unkeyed hash.
    applicant = ServiceRecord.objects.get(record_no="XW-B1").applicant
    assert applicant.cert_digest == person.cert_digest and not applicant.id_number
    assert cert_key("320102199001011234") not in str(ServiceRecord.objects.filter(record_no="XW-B1").values().get())
