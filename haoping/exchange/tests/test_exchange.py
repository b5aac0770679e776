"""Upload to the upper-level platform: each preset's codes written out by hand, the stand-in
upstream checking signatures, retries, refused rows, and rows never counted twice."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from haoping.directory.models import ServiceItem
from haoping.evaluations.models import Evaluation
from haoping.exchange.models import Batch, CodeEntry, CodeTable, Endpoint, OutgoingRow
from haoping.exchange.services import exchange_push, exchange_sweep
from haoping.exchange.tests.upstream import Upstream
from haoping.lib.gm import sm2_private_key, sm2_public_key

# A national item code: 31 characters (a 33-character one also names the handle item).
TASK_CODE = "11320102MB1234567X3000117009000"
ID_NUMBER = "320102199001011234"
APP_MARK, APP_WORD = "xuanwu-hcp", "s3cret-word"


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@pytest.fixture
def keys() -> dict[str, str]:
    ours, platform = sm2_private_key(os.urandom(32)), sm2_private_key(os.urandom(32))
    return {
        "private": ours,
        "public": sm2_public_key(ours),
        "platform_private": platform,
        "platform_public": sm2_public_key(platform),
    }


@pytest.fixture
def upstream(keys: dict[str, str]) -> Iterator[Upstream]:
    server = Upstream(app_mark=APP_MARK, app_word=APP_WORD, public_key=keys["public"])
    yield server
    server.stop()


@pytest.fixture
def national_item(world: dict[str, Any]) -> ServiceItem:
    return ServiceItem.objects.create(
        code=TASK_CODE, name="食品经营许可证核发", type="行政许可", department=world["item"].department, promised_days=5
    )


def endpoint_for(
    world: dict[str, Any], keys: dict[str, str], upstream: Upstream, preset: str, **extra: Any
) -> Endpoint:
    return Endpoint.objects.create(
        region=world["city"],
        code_table=CodeTable.objects.get(slug=preset),
        url=upstream.url,
        tenancy_id="320000000000",
        app_mark=APP_MARK,
        app_word=APP_WORD,
        sign_private_key=keys["private"],
        sign_public_key=keys["public"],
        data_source="165",
        **extra,
    )


def rated_record(world: dict[str, Any], record_payload: Any, **rating: Any) -> str:
    body = record_payload(item_code=TASK_CODE, on_the_spot=False)
    body["applicant"]["id_number"] = ID_NUMBER
    res = world["api"].post("/records", body)
    assert res.status_code == 201, res.json()
    rating = {"record_no": body["record_no"], "level": 5, "channel": "pad", **rating}
    res = world["api"].post("/evaluations", rating)
    assert res.status_code == 201, res.json()
    return str(body["record_no"])


# The codes each preset sends for one rating: SMS, level 2, reason "attitude", a natural person,
# a promised (承诺件) 行政许可 item handled on site. Written out from the sources (field notes §1c).
PRESETS = {
    "national": {"pf": "7", "satisfaction": "2", "userProp": "1", "promisetime": "2", "taskType": "01"},
    "national-sms6": {"pf": "6", "satisfaction": "2", "userProp": "1", "promisetime": "1", "taskType": "01"},
    "gbt39046": {"pf": "7", "satisfaction": "4", "userProp": "1", "promisetime": "2", "taskType": "01"},
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_rating_goes_up_with_the_codes_of_the_region_preset(
    world: dict[str, Any],
    record_payload: Any,
    keys: dict[str, str],
    upstream: Upstream,
    national_item: Any,
    preset: str,
) -> None:
    endpoint = endpoint_for(world, keys, upstream, preset)
    table = endpoint.code_table
    table.content_version = "2.0"
    table.save(update_fields=["content_version"])
    CodeEntry.objects.create(table=table, field="evalDetail", local="reason:attitude", code="601")
    record_no = rated_record(
        world,
        record_payload,
        level=2,
        channel="sms",
        reasons=["attitude"],
        comment="态度差，王师傅不理人，回电13812345678",
    )

    exchange_sweep()
    result = exchange_push(sleep=lambda s: None)

    assert (result.sent, result.rejected, result.transport_errors) == (2, 0, 0)
    assert upstream.headers[0]["C-Tenancy-Id"] == "320000000000"
    service = upstream.services[(record_no, "1")]
    evaluation = upstream.evaluations[(record_no, "1")]
    expected = PRESETS[preset]
    assert {k: evaluation[k] for k in ("pf", "satisfaction")} == {k: expected[k] for k in ("pf", "satisfaction")}
    assert evaluation["evalDetail"] == "601"
    assert {k: service[k] for k in ("userProp", "promisetime", "projectType", "taskType")} == {
        "userProp": expected["userProp"],
        "promisetime": expected["promisetime"],
        "projectType": expected["promisetime"],
        "taskType": expected["taskType"],
    }
    assert service["taskCode"] == TASK_CODE
    assert service["areaCode"] == "320102000000"
    assert service["deptCode"] == "D-MKT"
    assert service["proStatus"] == "3"
    assert service["serviceName"] == "办结"
    assert service["proChannel"] == "2"
    assert service["dataSource"] == "165"
    # The ID number only as its hash; the comment redacted.
    assert service["certKey"] == sm3_hex(ID_NUMBER.encode())
    assert ID_NUMBER not in json.dumps([*upstream.services.values(), *upstream.evaluations.values()])
    assert "13812345678" not in evaluation["writingEvaluation"]
    # R10: nobody named in a comment is named upward either.
    assert "王师傅" not in evaluation["writingEvaluation"]
    assert evaluation["writingEvaluation"].startswith("态度差")
    assert len(evaluation["assessTime"]) == 19 and evaluation["assessTime"][10] == " "
    row = OutgoingRow.objects.get(kind="evaluation")
    assert row.content_version == "2.0"


def test_self_built_items_are_not_pushed(world: dict[str, Any], record_payload: Any, keys: Any, upstream: Any) -> None:
    endpoint_for(world, keys, upstream, "national")
    # A self-built item: eight zeros where the national part of the code would be.
    ServiceItem.objects.create(
        code="11320102MB1234567X300000000XW01", name="自建事项", department=world["item"].department
    )
    body = record_payload(item_code="11320102MB1234567X300000000XW01")
    assert world["api"].post("/records", body).status_code == 201
    assert (
        world["api"].post("/evaluations", {"record_no": body["record_no"], "level": 5, "channel": "pad"}).status_code
        == 201
    )

    assert exchange_sweep().created == 0
    assert not OutgoingRow.objects.exists()


def test_the_upstream_fails_twice_then_takes_the_batch_once(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national", platform_public_key=keys["platform_public"])
    upstream.private_key = keys["platform_private"]  # the rows travel SM2-encrypted
    record_no = rated_record(world, record_payload)
    exchange_sweep()
    upstream.fail_next = 2
    waits: list[float] = []

    result = exchange_push(sleep=waits.append, base_delay=0.5)

    # Three tries for the service's batch, then one for its evaluation's (a row follows its service).
    assert upstream.calls == 4 and upstream.bad_signatures == 0
    assert len(waits) == 2 and 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0
    assert result.sent == 2
    assert upstream.received == 2
    assert set(upstream.services) == {(record_no, "1")} and set(upstream.evaluations) == {(record_no, "1")}
    first, second = Batch.objects.order_by("pk")
    assert (first.tries, first.outcome, first.message, second.tries) == (3, "ok", "success", 1)
    # A second run sends nothing more.
    exchange_sweep()
    assert exchange_push(sleep=lambda s: None).batches == 0
    assert upstream.calls == 4


def test_an_upstream_down_leaves_rows_waiting_with_the_error(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national")
    rated_record(world, record_payload)
    exchange_sweep()
    upstream.fail_next = 3

    result = exchange_push(sleep=lambda s: None)

    assert result.transport_errors == 1 and upstream.received == 0
    service, evaluation = OutgoingRow.objects.order_by("pk")
    assert service.status == "transport_error" and "503" in service.reason and service.next_attempt_at is not None
    assert service.reason.startswith("无法送达上级平台")
    # The evaluation waits for its service.
    assert evaluation.status == "pending"
    assert Batch.objects.get().outcome == "transport_error"
    # Not due yet: the next run leaves them alone.
    assert exchange_push(sleep=lambda s: None).batches == 0


def test_rows_refused_upstream_keep_the_reason_and_the_rest_go_through(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national")
    refused = rated_record(world, record_payload)
    accepted = rated_record(world, record_payload)
    upstream.refuse[f"service:{refused}:1"] = "事项编码不存在"
    exchange_sweep()

    result = exchange_push(sleep=lambda s: None)

    assert (result.sent, result.rejected) == (2, 1)
    service = OutgoingRow.objects.get(project_no=refused, kind="service")
    assert (service.status, service.reason) == ("rejected", "事项编码不存在")
    # Its evaluation waits for the service instead of being refused for want of it.
    assert OutgoingRow.objects.get(project_no=refused, kind="evaluation").status == "pending"
    assert (accepted, "1") in upstream.evaluations and (refused, "1") not in upstream.evaluations
    assert set(Batch.objects.values_list("outcome", flat=True)) == {"ok"}


def test_a_bad_rating_without_codes_or_text_is_held_back_with_the_reason(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national")
    rated_record(world, record_payload, level=1, channel="phone")  # a bare key-press, no reason

    exchange_sweep()

    row = OutgoingRow.objects.get(kind="evaluation")
    assert row.status == "rejected" and row.reason.startswith("evalDetail")


def test_sweeps_and_pushes_twice_make_and_send_each_row_once(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national")
    first = rated_record(world, record_payload)
    assert exchange_sweep().created == 2
    assert exchange_sweep().created == 0
    exchange_push(sleep=lambda s: None)
    # A batch whose answer was lost goes again with the same keys: the upstream keeps one of each.
    OutgoingRow.objects.update(status="pending")
    exchange_push(sleep=lambda s: None)
    second = rated_record(world, record_payload)
    exchange_sweep()
    exchange_push(sleep=lambda s: None)

    keys_made = list(OutgoingRow.objects.values_list("natural_key", flat=True))
    assert sorted(keys_made) == sorted(
        [f"service:{first}:1", f"evaluation:{first}:1", f"service:{second}:1", f"evaluation:{second}:1"]
    )
    assert set(upstream.services) == {(first, "1"), (second, "1")}
    assert len(upstream.evaluations) == 2


def test_case_steps_go_up_after_their_rating_with_what_the_upper_level_counts(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from haoping.rectification.models import BadReviewCase
    from haoping.rectification.tests.support import act_ok, to_handling, to_replied

    endpoint_for(world, keys, upstream, "national")
    api = world["api"]
    answered = rated_record(world, record_payload, level=1, reasons=["attitude"], comment="态度很差")
    invalid = rated_record(world, record_payload, level=2, reasons=["efficiency"], comment="乱评")
    exchange_sweep()
    case = BadReviewCase.objects.get(record__record_no=answered)
    to_replied(api, case.pk)
    act_ok(api, case.pk, "revisit", satisfied=False, note="仍不满意")
    other = BadReviewCase.objects.get(record__record_no=invalid)
    to_handling(api, other.pk, "malicious")
    act_ok(api, other.pk, "request_invalidation", reason="恶意")
    act_ok(world["manager_api"], other.pk, "approve_invalidation")

    exchange_sweep()
    assert exchange_sweep().created == 0
    exchange_push(sleep=lambda s: None)

    steps = {(s["projectNo"], s["handleStep"]): s for s in upstream.steps}
    assert set(steps) == {(answered, "replied"), (answered, "revisited"), (invalid, "invalidated")}
    assert steps[(answered, "revisited")]["revisitResult"] == "0"
    assert steps[(invalid, "invalidated")]["invalidType"] == "malicious"
    assert steps[(answered, "replied")]["assessNumber"] == "1"
    # The evaluation went before its steps.
    rows = list(OutgoingRow.objects.filter(project_no=answered).order_by("pk").values_list("kind", flat=True))
    assert rows[:2] == ["service", "evaluation"] and set(rows[2:]) == {"case_step"}
    assert not OutgoingRow.objects.exclude(status="sent").exists()


def test_the_command_and_the_scheduled_task_sweep_and_send_outside_the_rating(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any, huey_immediate: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from haoping.exchange.tasks import push_exchange

    endpoint = endpoint_for(world, keys, upstream, "national", every_minutes=30)
    first = rated_record(world, record_payload)
    # The rating itself made no row: the sweep does, later.
    assert not OutgoingRow.objects.exists()
    out = StringIO()
    call_command("exchange_push", stdout=out)
    assert "sent 2" in out.getvalue()
    assert set(upstream.evaluations) == {(first, "1")}

    second = rated_record(world, record_payload)
    endpoint.refresh_from_db()
    push_exchange()  # the endpoint sent a moment ago and sends every 30 minutes: rows made, not sent
    assert OutgoingRow.objects.filter(project_no=second, status="pending").count() == 2
    Endpoint.objects.filter(pk=endpoint.pk).update(last_run_at=None)
    push_exchange()
    assert set(upstream.evaluations) == {(first, "1"), (second, "1")}


def test_a_region_whose_province_hosts_the_rating_page_gets_signed_deep_links(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from django.core.exceptions import ValidationError

    from haoping.exchange.links import deep_link_input, rating_link
    from haoping.lib.gm import sm2_verify
    from haoping.records.models import RatingSlot

    endpoint = endpoint_for(world, keys, upstream, "national")
    body = record_payload(item_code=TASK_CODE)
    assert world["api"].post("/records", body).status_code == 201
    slot = RatingSlot.objects.get(record__record_no=body["record_no"], kind="completion")
    # No page named: our own rating page.
    assert "/r/" in rating_link(slot) and "sign=" not in rating_link(slot)

    endpoint.rating_link_pattern = "https://hcp.example.gov.cn/pj?projectNo={projectNo}&serviceNumber={serviceNumber}&areaCode={areaCode}&time={time}&sign={sign}"
    endpoint.full_clean()
    endpoint.save()
    link = rating_link(slot)

    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert link.startswith("https://hcp.example.gov.cn/pj?")
    assert (query["projectNo"], query["serviceNumber"], query["areaCode"]) == (body["record_no"], "1", "320102000000")
    signed = deep_link_input(query["projectNo"], "1", query["time"], APP_MARK)
    assert sm2_verify(keys["public"], signed, query["sign"])
    assert not sm2_verify(
        keys["public"], deep_link_input(query["projectNo"], "2", query["time"], APP_MARK), query["sign"]
    )
    # The service the page rates is the one the push sends, made once.
    assert rating_link(slot) and exchange_sweep().created == 0
    assert OutgoingRow.objects.filter(kind="service").count() == 1
    endpoint.rating_link_pattern = "https://hcp.example.gov.cn/pj?projectNo={projectNo}"
    with pytest.raises(ValidationError):
        endpoint.full_clean()


def test_a_code_fixed_in_the_table_goes_up_on_resend(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from django.contrib.auth import get_user_model

    from haoping.exchange.services import exchange_resend

    endpoint = endpoint_for(world, keys, upstream, "national")
    CodeEntry.objects.filter(table=endpoint.code_table, field="userProp", local="person").delete()
    record_no = rated_record(world, record_payload)
    exchange_sweep()
    exchange_push(sleep=lambda s: None)
    service = OutgoingRow.objects.get(kind="service")
    assert service.status == "rejected" and service.reason.startswith("userProp")
    assert upstream.calls == 0  # the evaluation waits for its service

    CodeEntry.objects.create(table=endpoint.code_table, field="userProp", local="person", code="1")
    user = get_user_model().objects.create_user(username="manager")
    assert exchange_resend(user=user, region=world["district"], statuses=["rejected"]) == 1
    exchange_push(sleep=lambda s: None)

    assert upstream.services[(record_no, "1")]["userProp"] == "1"
    assert (record_no, "1") in upstream.evaluations


def test_a_rating_held_back_holds_up_only_what_follows_it(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from django.utils import timezone

    endpoint_for(world, keys, upstream, "national")
    api = world["api"]
    body = record_payload(item_code=TASK_CODE, on_the_spot=False, completed_at=None)
    assert api.post("/records", body).status_code == 201
    now = timezone.now()
    visit = api.post(f"/records/{body['record_no']}/visits", {"window_code": "W-XW-01", "at": now.isoformat()})
    assert visit.status_code == 201, visit.json()
    # A bare key-press 1 on the phone: no reason, no text, so the platform would refuse it.
    rating = {"record_no": body["record_no"], "visit_id": visit.json()["visit_id"], "level": 1, "channel": "phone"}
    answered = api.post("/evaluations", rating)
    assert answered.status_code == 201, answered.json()
    done = api.post(f"/records/{body['record_no']}/complete", {"completed_at": now.isoformat()})
    assert done.status_code == 200, done.json()

    exchange_sweep()
    exchange_push(sleep=lambda s: None)

    record_no = body["record_no"]
    held = OutgoingRow.objects.get(kind="evaluation")
    assert held.status == "rejected" and held.reason.startswith("evalDetail")
    # The visit (申报) and the completion (办结) both went up; only the refused rating stayed.
    assert upstream.services[(record_no, "1")]["serviceName"] == "申报"
    assert upstream.services[(record_no, "2")]["serviceName"] == "办结"
    assert upstream.services[(record_no, "2")]["proStatus"] == "3"
    assert (
        upstream.services[(record_no, "1")]["proStatus"] == "2"
        and upstream.services[(record_no, "1")]["resultDate"] == ""
    )
    assert upstream.evaluations == {}


def test_two_pushes_at_once_never_take_the_same_rows(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from django.utils import timezone

    from haoping.exchange.services import _claim, _next_batch

    endpoint = endpoint_for(world, keys, upstream, "national")
    rated_record(world, record_payload)
    exchange_sweep()
    first = _next_batch(endpoint, timezone.now())
    second = _next_batch(endpoint, timezone.now())
    assert [r.kind for r in first] == [r.kind for r in second] == ["service"]

    assert len(_claim(first)) == 1
    assert _claim(second) == []
    assert _next_batch(endpoint, timezone.now()) == []


# The evaluation chain's signed checkpoints (docs/exchange.md, checkpoint rows).


def _two_checkpoints(world: dict[str, Any], record_payload: Any) -> list[dict[str, Any]]:
    from haoping.evaluations.chain import anchor_log_read, chain_seal

    rated_record(world, record_payload)
    rated_record(world, record_payload)
    assert chain_seal() == 2
    rated_record(world, record_payload)
    assert chain_seal() == 1
    entries = [e for e in anchor_log_read() if e is not None]
    assert [e["number"] for e in entries] == [1, 2]
    return entries


def test_the_chains_signed_checkpoints_go_up_in_order_to_an_endpoint_that_takes_them(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from haoping.keys import chain_public_key

    upstream.chain_public_key = chain_public_key()  # the key this system registered upstream
    endpoint_for(world, keys, upstream, "national", send_checkpoints=True)
    anchored = _two_checkpoints(world, record_payload)

    exchange_sweep()
    result = exchange_push(sleep=lambda s: None)

    # Each checkpoint exactly as the anchor log outside the database holds it, its signature
    # checked upstream with our registered key.
    assert upstream.checkpoints == {e["number"]: e for e in anchored}
    assert upstream.checkpoints[2]["regions"] == {str(world["district"].pk): 3}
    rows = list(OutgoingRow.objects.filter(kind="checkpoint").order_by("seq"))
    assert [(r.natural_key, r.seq, r.status, r.record_id) for r in rows] == [
        ("checkpoint:1", 1, "sent", None),
        ("checkpoint:2", 2, "sent", None),
    ]
    payload = rows[1].payload
    assert payload["rowKind"] == "chainCheckpoint" and payload["checkpointNumber"] == "2"
    assert payload["areaCodes"] == {str(world["district"].pk): "320102000000"}
    assert payload["dataSource"] == "165"
    assert result.sent == 3 * 2 + 2  # three services, three ratings, two checkpoints
    # Nothing twice: a second sweep makes no row, a second push sends nothing.
    assert exchange_sweep().created == 0
    assert exchange_push(sleep=lambda s: None).sent == 0


def test_an_endpoint_that_does_not_take_checkpoints_gets_none(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    endpoint_for(world, keys, upstream, "national")
    _two_checkpoints(world, record_payload)

    exchange_sweep()
    exchange_push(sleep=lambda s: None)

    assert not OutgoingRow.objects.filter(kind="checkpoint").exists()
    assert upstream.checkpoints == {} and len(upstream.evaluations) == 3


def _console_of_a_city_manager(world: dict[str, Any]) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from haoping.accounts.models import Membership

    user = get_user_model().objects.create_user(username="city-manager", password="pw-city-manager")
    Membership.objects.create(user=user, role=Membership.Role.MANAGER, region=world["city"])
    client = Client()
    client.force_login(user)
    return client


def test_a_checkpoint_refused_upstream_holds_up_the_later_ones_until_it_is_resent(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any
) -> None:
    from django.contrib.auth import get_user_model

    from haoping.evaluations.chain import chain_seal
    from haoping.exchange.services import exchange_resend
    from haoping.keys import chain_public_key

    upstream.chain_public_key = chain_public_key()
    upstream.refuse["checkpoint:1"] = "暂不接收"
    endpoint_for(world, keys, upstream, "national", send_checkpoints=True)
    _two_checkpoints(world, record_payload)
    exchange_sweep()
    exchange_push(sleep=lambda s: None)
    # The platform answered each row of the call: the first refused, the second taken.
    assert sorted(upstream.checkpoints) == [2]

    rated_record(world, record_payload)
    assert chain_seal() == 1
    exchange_sweep()
    exchange_push(sleep=lambda s: None)

    states = dict(OutgoingRow.objects.filter(kind="checkpoint").values_list("natural_key", "status"))
    assert states == {"checkpoint:1": "rejected", "checkpoint:2": "sent", "checkpoint:3": "pending"}
    assert sorted(upstream.checkpoints) == [2] and len(upstream.evaluations) == 4  # nothing else held up
    # The city's managers see the refused checkpoint, by its key, with the platform's reason.
    page = _console_of_a_city_manager(world).get("/console/exchange/")
    assert page.status_code == 200
    assert "评价链检查点 checkpoint:1" in page.content.decode() and "暂不接收" in page.content.decode()

    del upstream.refuse["checkpoint:1"]
    user = get_user_model().objects.create_user(username="manager")
    assert exchange_resend(user=user, region=world["city"], statuses=["rejected"]) == 1
    exchange_push(sleep=lambda s: None)
    assert sorted(upstream.checkpoints) == [1, 2, 3]


def test_a_checkpoint_row_is_taken_only_unaltered_and_signed_with_the_registered_key(
    world: dict[str, Any], record_payload: Any, national_item: Any
) -> None:
    from haoping.exchange import national
    from haoping.keys import chain_public_key

    entry = _two_checkpoints(world, record_payload)[1]
    codes = {str(world["district"].pk): "320102000000"}
    row = national.checkpoint_row(entry, area_codes=codes, data_source="165")
    parsed = national.parse_checkpoint_row(row, public_key=chain_public_key())
    assert (parsed.number, parsed.entry, parsed.area_codes) == (2, entry, codes)

    # Another system's key, the one the row carries replaced, a count lowered, a national row.
    stranger = sm2_public_key(sm2_private_key(os.urandom(32)))
    with pytest.raises(national.RowError, match="^checkpoint:"):
        national.parse_checkpoint_row(row, public_key=stranger)
    forged = {**row, "checkpoint": {**entry, "public_key": stranger}}
    with pytest.raises(national.RowError, match="^checkpoint:"):
        national.parse_checkpoint_row(forged, public_key=stranger)
    lowered = {**row, "checkpoint": {**entry, "regions": {str(world["district"].pk): 2}}}
    with pytest.raises(national.RowError, match="^checkpoint:"):
        national.parse_checkpoint_row(lowered, public_key=chain_public_key())
    with pytest.raises(national.RowError, match="^rowKind:"):
        national.parse_checkpoint_row({"projectNo": "X"}, public_key=chain_public_key())


# A paper form that replaces a default rating (R2 with R4; docs/exchange.md "A paper form replacing
# a default").


def _defaulted(world: dict[str, Any], record_payload: Any) -> Any:
    """A record completed nine days ago whose 7-day window closed unrated: its default rating."""
    from haoping.evaluations.services import defaults_record

    done = timezone.now() - dt.timedelta(days=9)
    body = record_payload(
        item_code=TASK_CODE,
        on_the_spot=False,
        accepted_at=(done - dt.timedelta(minutes=30)).isoformat(),
        completed_at=done.isoformat(),
    )
    res = world["api"].post("/records", body)
    assert res.status_code == 201, res.json()
    assert defaults_record() == 1
    return Evaluation.objects.get(record__record_no=body["record_no"])


def _paper_form(world: dict[str, Any], record_no: str) -> Evaluation:
    """Keyed in at the console: a form filled in six days ago, level 2, within the grace."""
    from haoping.channels.paper import PaperRow, paper_form_record
    from haoping.rectification.tests.support import console_actor
    from haoping.rectification.tests.test_evidence import png_1x1

    manager = console_actor("paper-manager", "manager", region=world["district"])
    form = paper_form_record(
        actor=manager,
        row=PaperRow(
            record_no=record_no,
            form_date=timezone.localdate(timezone.now() - dt.timedelta(days=6)),
            level=2,
            reasons=["efficiency"],
            comment="等了很久",
            photo=SimpleUploadedFile("form.png", png_1x1(), content_type="image/png"),
        ),
    )
    assert form.replaced is not None
    return form.evaluation


@pytest.mark.parametrize("takes_replacements", [True, False], ids=["upper-system", "national"])
def test_a_paper_form_replacing_an_uploaded_default_goes_up_under_the_same_key(
    world: dict[str, Any],
    record_payload: Any,
    keys: Any,
    upstream: Upstream,
    national_item: Any,
    takes_replacements: bool,
) -> None:
    upstream.takes_replacements = takes_replacements
    # national-sms6: the paper form's pf (5) differs from the default rating's (7).
    endpoint_for(world, keys, upstream, "national-sms6")
    default = _defaulted(world, record_payload)
    project = default.record.record_no
    exchange_sweep()
    exchange_push(sleep=lambda s: None)
    assert (upstream.evaluations[(project, "1")]["pf"], upstream.evaluations[(project, "1")]["satisfaction"]) == (
        "7",
        "3",
    )

    paper = _paper_form(world, project)
    assert exchange_sweep().created == 1
    exchange_push(sleep=lambda s: None)

    rows = list(OutgoingRow.objects.filter(kind="evaluation").order_by("pk"))
    assert [(r.natural_key, r.source_key) for r in rows] == [
        (f"evaluation:{project}:1", f"evaluation:{default.pk}"),
        (f"evaluation:{project}:1:replacesDefault", f"evaluation:{paper.pk}"),
    ]
    assert rows[1].payload == {
        "projectNo": project,
        "assessNumber": "1",
        "serviceNumber": "1",
        "pf": "5",
        "satisfaction": "2",
        "evalDetail": "",
        "writingEvaluation": "等了很久",
        "assessTime": timezone.localtime(paper.rated_at).strftime("%Y-%m-%d %H:%M:%S"),
        "dataSource": "165",
        "replacesDefault": "1",
    }
    held = upstream.evaluations[(project, "1")]
    assert len(upstream.evaluations) == 1
    if takes_replacements:
        # The receiver holds the paper rating for that assessNumber, once; the default is gone.
        assert held == rows[1].payload
        assert [r["pf"] for r in upstream.replaced] == ["7"]
        assert rows[1].status == "sent"
    else:
        # The national platform answers "already exists" and keeps the default: shown as refused.
        assert held["pf"] == "7"
        assert rows[1].status == "rejected" and "请勿重复评价" in rows[1].reason
    # Pushing again makes and sends nothing; a lost answer's batch sent again changes nothing.
    assert exchange_sweep().created == 0
    assert exchange_push(sleep=lambda s: None).batches == 0
    OutgoingRow.objects.update(status="pending")
    exchange_push(sleep=lambda s: None)
    assert len(upstream.evaluations) == 1 and upstream.evaluations[(project, "1")] == held


@pytest.mark.parametrize("swept", [False, True], ids=["never-swept", "swept-not-sent"])
def test_a_paper_form_replacing_a_default_not_yet_sent_goes_up_alone(
    world: dict[str, Any], record_payload: Any, keys: Any, upstream: Upstream, national_item: Any, swept: bool
) -> None:
    endpoint_for(world, keys, upstream, "national-sms6")
    default = _defaulted(world, record_payload)
    project = default.record.record_no
    if swept:
        exchange_sweep()  # the default's row is made, not sent

    paper = _paper_form(world, project)
    exchange_sweep()
    result = exchange_push(sleep=lambda s: None)

    row = OutgoingRow.objects.get(kind="evaluation")
    assert (row.natural_key, row.source_key, row.status) == (
        f"evaluation:{project}:1",
        f"evaluation:{paper.pk}",
        "sent",
    )
    assert "replacesDefault" not in row.payload
    assert result.sent == 2  # the service and the paper rating
    assert upstream.evaluations == {(project, "1"): row.payload}
    assert (row.payload["pf"], row.payload["satisfaction"]) == ("5", "2")
    assert upstream.replaced == []
    assert exchange_sweep().created == 0
