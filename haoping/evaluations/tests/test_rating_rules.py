"""R1–R7 through the HTTP API, on every channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from conftest import iso, rating_writer
from haoping.evaluations.models import Evaluation

CHANNELS = ["pc", "mobile", "qrcode", "pad", "kiosk", "phone", "sms", "paper"]


@pytest.fixture(autouse=True, params=["fast path first", "Django only"])
def route(request: pytest.FixtureRequest, world: dict[str, Any]) -> None:
    """Every rule holds whichever way a rating is served (haoping.evaluations.fastpath)."""
    for name in ("api", "other_api", "city_api"):
        world[name].fast = request.param == "fast path first"


def token_of(url: str) -> str:
    return url.rstrip("/").split("/")[-1]


def register(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    res = api.post("/records", body)
    assert res.status_code == 201, res.json()
    return res.json()


def rate(api: Any, **body: Any) -> Any:
    body.setdefault("level", 5)
    body.setdefault("channel", "pad")
    return api.post("/evaluations", body)


def test_r1_five_levels_only(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    for bad in (0, 6, -1, "5", 4.5, True, None):
        res = rate(api, token=token, level=bad)
        assert res.status_code == 422, (bad, res.json())
        assert res.json()["error"] == "invalid"
        assert "level" in res.json()["detail"]
    assert Evaluation.objects.count() == 0
    assert rate(api, token=token, level=1, reasons=["attitude"]).status_code == 201


def test_r4_on_the_spot_record_rated_once_at_completion(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    body = record_payload(record_no="SPOT1", mode="onsite", on_the_spot=True, completed_at=None)
    register(api, body)
    visit = api.post("/records/SPOT1/visits", {"window_code": "W-XW-01", "staff_no": "S001", "at": iso(timezone.now())})
    assert visit.status_code == 201
    assert visit.json()["ratable"] is False and visit.json()["evaluation_url"] is None
    res = rate(api, record_no="SPOT1", visit_id=visit.json()["visit_id"])
    assert res.status_code == 409 and res.json()["error"] == "not_ratable"
    # Not completed yet: nothing to rate.
    assert rate(api, record_no="SPOT1").json()["error"] == "not_completed"
    done = api.post("/records/SPOT1/complete", {"completed_at": iso(timezone.now())})
    assert done.status_code == 200
    assert rate(api, record_no="SPOT1", level=4).status_code == 201
    (evaluation,) = api.get("/records/SPOT1").json()["evaluations"]
    rated_at = dt.datetime.fromisoformat(evaluation.pop("rated_at"))
    assert abs((timezone.now() - rated_at).total_seconds()) < 60
    assert evaluation == {"level": 4, "source": "active", "channel": "pad", "visit_id": None, "rated_by": "applicant"}


def test_r4_online_record_not_rated_per_visit(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    register(
        api,
        record_payload(
            record_no="ONL1",
            mode="online",
            on_the_spot=False,
            completed_at=None,
            institution_code=None,
            window_code=None,
            platform_code="P-WEB",
        ),
    )
    visit = api.post("/records/ONL1/visits", {"window_code": "W-XW-01", "at": iso(timezone.now())})
    assert visit.json()["ratable"] is False


@pytest.mark.parametrize(("on_the_spot", "ratable"), [(False, True), (True, False)])
def test_r4_onsite_record_rated_per_visit_unless_on_the_spot(
    world: dict[str, Any], record_payload: Any, on_the_spot: bool, ratable: bool
) -> None:
    api = world["api"]
    register(api, record_payload(record_no="ONS1", mode="onsite", on_the_spot=on_the_spot, completed_at=None))
    visit = api.post("/records/ONS1/visits", {"window_code": "W-XW-01", "at": iso(timezone.now())})
    assert visit.status_code == 201, visit.json()
    assert visit.json()["ratable"] is ratable


def test_r4_mixed_record_rated_per_visit_and_at_completion(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    register(
        api,
        record_payload(
            record_no="MIX1",
            mode="mixed",
            on_the_spot=False,
            completed_at=None,
            accepted_at=iso(now - dt.timedelta(days=2)),
        ),
    )
    v1 = api.post(
        "/records/MIX1/visits", {"window_code": "W-XW-01", "staff_no": "S001", "at": iso(now - dt.timedelta(days=1))}
    ).json()
    v2 = api.post(
        "/records/MIX1/visits", {"window_code": "W-XW-02", "staff_no": "S002", "at": iso(now - dt.timedelta(hours=3))}
    ).json()
    assert v1["ratable"] and v2["ratable"] and v1["evaluation_url"] != v2["evaluation_url"]
    completion = api.post("/records/MIX1/complete", {"completed_at": iso(now)}).json()["completion"]

    assert rate(api, token=token_of(v1["evaluation_url"]), level=5, channel="qrcode").status_code == 201
    assert rate(api, record_no="MIX1", visit_id=v2["visit_id"], level=4, channel="kiosk").status_code == 201
    assert rate(api, token=token_of(completion["evaluation_url"]), level=5, channel="mobile").status_code == 201
    evaluations = api.get("/records/MIX1").json()["evaluations"]
    assert sorted((e["visit_id"] or 0, e["level"]) for e in evaluations) == sorted(
        [(v1["visit_id"], 5), (v2["visit_id"], 4), (0, 5)]
    )
    # The rated staff member is the one of the visit, not of the record.
    staff = dict(Evaluation.objects.filter(visit__isnull=False).values_list("visit_id", "staff__staff_no"))
    assert staff == {v1["visit_id"]: "S001", v2["visit_id"]: "S002"}


@pytest.mark.parametrize("second_channel", CHANNELS)
def test_r4_second_rating_is_409_on_every_channel(
    world: dict[str, Any], record_payload: Any, second_channel: str
) -> None:
    api = world["api"]
    created = register(api, record_payload(record_no="TWICE"))
    token = token_of(created["completion"]["evaluation_url"])
    assert rate(api, token=token, level=5, channel="pad").status_code == 201
    by_token = rate(api, token=token, level=1, channel=second_channel, reasons=["attitude"])
    by_record = rate(api, record_no="TWICE", level=1, channel=second_channel, reasons=["attitude"])
    assert by_token.status_code == 409 and by_token.json()["error"] == "already_rated"
    assert by_record.status_code == 409
    assert list(Evaluation.objects.values_list("level", flat=True)) == [5]


def test_r5_batch_rating_applies_to_every_record(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    first = None
    for n in range(3):
        created = register(api, record_payload(record_no=f"B{n}", bundle={"kind": "batch", "bundle_no": "BATCH-1"}))
        first = first or created
    single = register(api, record_payload(record_no="SINGLE"))
    res = rate(api, record_no="B1", level=4, channel="pad")
    assert res.status_code == 201
    body = res.json()
    assert sorted(e["record_no"] for e in body["evaluations"]) == ["B0", "B1", "B2"]
    assert {e["level"] for e in body["evaluations"]} == {4}
    # One submission, one receipt; every record of the batch is now rated.
    assert Evaluation.objects.filter(receipt=body["receipt"]).count() == 3
    assert rate(api, token=token_of(first["completion"]["evaluation_url"])).status_code == 409
    assert rate(api, token=token_of(single["completion"]["evaluation_url"])).status_code == 201


def test_r5_batch_holds_one_item(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    register(api, record_payload(record_no="B0", bundle={"kind": "batch", "bundle_no": "BATCH-2"}))
    res = api.post(
        "/records",
        record_payload(record_no="B1", item_code="ITEM-002", bundle={"kind": "batch", "bundle_no": "BATCH-2"}),
    )
    assert res.status_code == 422 and "bundle" in res.json()["detail"]


def test_r6_theme_overall_rating_applies_to_every_linked_record(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    theme = {"kind": "theme", "bundle_no": "THEME-1"}
    register(api, record_payload(record_no="T1", bundle=theme))
    created = register(api, record_payload(record_no="T2", item_code="ITEM-002", bundle=theme))
    assert created["theme"]["evaluation_url"]
    res = rate(api, bundle_no="THEME-1", level=5, channel="mobile")
    assert res.status_code == 201
    assert sorted(e["record_no"] for e in res.json()["evaluations"]) == ["T1", "T2"]
    # Then nothing is left to rate: neither a record alone nor the theme again.
    assert rate(api, record_no="T1").status_code == 409
    assert rate(api, bundle_no="THEME-1").status_code == 409
    assert rate(api, token=token_of(created["theme"]["evaluation_url"])).status_code == 409
    assert Evaluation.objects.count() == 2


def test_r6_linked_records_rated_separately_never_double_count(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    theme = {"kind": "theme", "bundle_no": "THEME-2"}
    for n, item in enumerate(["ITEM-001", "ITEM-002", "ITEM-001"]):
        register(api, record_payload(record_no=f"T{n}", item_code=item, bundle=theme))
    assert rate(api, record_no="T0", level=2, reasons=["efficiency"]).status_code == 201
    overall = rate(api, bundle_no="THEME-2", level=5)
    assert overall.status_code == 201
    assert sorted(e["record_no"] for e in overall.json()["evaluations"]) == ["T1", "T2"]
    levels = dict(Evaluation.objects.values_list("record__record_no", "level"))
    assert levels == {"T0": 2, "T1": 5, "T2": 5}


def test_r6_batch_bundle_is_not_rated_by_bundle_no(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    register(api, record_payload(record_no="B0", bundle={"kind": "batch", "bundle_no": "BATCH-3"}))
    assert rate(api, bundle_no="BATCH-3").status_code == 422


@pytest.mark.parametrize("first", ["applicant", "agent"])
def test_r7_agent_and_applicant_share_one_rating(world: dict[str, Any], record_payload: Any, first: str) -> None:
    api = world["api"]
    agent = {"kind": "person", "name": "赵六", "phone": "13900001111", "id_number": "320102198001011111"}
    created = register(api, record_payload(record_no="AG1", agent=agent))
    token = token_of(created["completion"]["evaluation_url"])
    second = "agent" if first == "applicant" else "applicant"
    assert rate(api, token=token, rated_by=first, level=5).status_code == 201
    res = rate(api, token=token, rated_by=second, level=4, channel="mobile")
    assert res.status_code == 409
    assert api.get("/records/AG1").json()["evaluations"][0]["rated_by"] == first


@pytest.mark.parametrize("by", ["applicant", "agent"])
def test_r7_a_bad_ratings_case_names_whoever_rated(world: dict[str, Any], record_payload: Any, by: str) -> None:
    from haoping.rectification.models import BadReviewCase

    api = world["api"]
    agent = {"kind": "person", "name": "赵六", "phone": "13900001111", "id_number": "320102198001011111"}
    created = register(api, record_payload(record_no="AGBAD", agent=agent))
    res = rate(api, token=token_of(created["completion"]["evaluation_url"]), rated_by=by, level=1, reasons=["attitude"])
    assert res.status_code == 201
    case = BadReviewCase.objects.select_related("record").get(record__record_no="AGBAD")
    expected = case.record.agent_id if by == "agent" else case.record.applicant_id
    assert case.evaluator_id == expected and case.record.agent_id != case.record.applicant_id


@pytest.mark.parametrize(
    ("blocked", "by", "counted"),
    [("applicant", "agent", True), ("agent", "applicant", True), ("agent", "agent", False)]
    + [("applicant", "applicant", False)],
)
def test_r7_r15_only_the_evaluators_own_registry_entry_counts(
    world: dict[str, Any], record_payload: Any, blocked: str, by: str, counted: bool
) -> None:
    """Whoever rated, agent or applicant, is the one the registry is asked about, never the other."""
    from haoping.evaluations.models import BlockedEvaluator
    from haoping.records.models import ServiceRecord
    from haoping.rectification.models import BadReviewCase
    from haoping.rectification.tests.support import person

    api = world["api"]
    troll, clean = person(1), person(2)
    parties = {"applicant": troll, "agent": clean} if blocked == "applicant" else {"applicant": clean, "agent": troll}
    created = register(api, record_payload(record_no="AGREG", **parties))
    record = ServiceRecord.objects.select_related("applicant", "agent").get(record_no="AGREG")
    listed = record.applicant if blocked == "applicant" else record.agent
    BlockedEvaluator.objects.create(
        region=world["district"],
        phone_digest=listed.phone_digest,
        id_digest=listed.id_digest,
        case=_some_case(world, record_payload),
        reason="恶意差评",
        added_by_label="管理员",
        added_at=timezone.now(),
    )
    res = rate(api, token=token_of(created["completion"]["evaluation_url"]), rated_by=by, level=1, reasons=["attitude"])
    assert res.status_code == 201, res.json()
    assert Evaluation.objects.get(record__record_no="AGREG").blocked is not counted
    # R12 with R15: a counted bad rating opens its case, one from the registry none.
    assert BadReviewCase.objects.filter(record__record_no="AGREG").exists() is counted


def _some_case(world: dict[str, Any], record_payload: Any) -> Any:
    """A case for the registry entry to cite (whose it is does not matter here)."""
    from haoping.rectification.models import BadReviewCase

    body = record_payload(record_no="CITED")
    register(world["api"], body)
    assert rate(world["api"], record_no="CITED", level=1, reasons=["attitude"]).status_code == 201
    return BadReviewCase.objects.get(record__record_no="CITED")


def test_r7_rated_by_agent_needs_an_agent(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    created = register(api, record_payload(record_no="NOAG"))
    res = rate(api, token=token_of(created["completion"]["evaluation_url"]), rated_by="agent")
    assert res.status_code == 422 and res.json()["field"] == "rated_by"


def test_r8_bad_rating_on_a_screen_needs_a_reason(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    res = rate(api, token=token, level=2, channel="mobile")
    assert res.status_code == 422 and res.json()["error"] == "reason_required"
    assert rate(api, token=token, level=2, channel="mobile", reasons=["nonsense"]).status_code == 422
    ok = rate(api, token=token, level=2, channel="mobile", comment="排队两个小时", answers={"guide_clear": 2})
    assert ok.status_code == 201


def test_r8_phone_key_press_may_carry_a_bare_level(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    assert rate(api, token=token, level=1, channel="phone").status_code == 201


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_ratings_of_one_service_count_once(world: dict[str, Any], record_payload: Any) -> None:
    """The unique constraint, not a read-then-write check, keeps a service rated once."""
    import threading

    from django.db import connection

    from haoping.errors import Conflict
    from haoping.evaluations.services import evaluation_submit

    world["api"].post("/records", record_payload(record_no="RACE"))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def submit(level: int) -> None:
        try:
            barrier.wait()
            evaluation_submit(client=None, record_no="RACE", level=level, channel="phone")
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(level,)) for level in (5, 4, 2, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "conflict", "conflict", "conflict"]
    assert Evaluation.objects.count() == 1


def test_retry_with_client_ref_returns_the_first_submission(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    first = rate(api, token=token, level=5, client_ref="pad-7:0001")
    again = rate(api, token=token, level=5, client_ref="pad-7:0001")
    other = rate(api, token=token, level=5, client_ref="pad-7:0002")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["receipt"] == first.json()["receipt"]
    assert other.status_code == 409
    assert Evaluation.objects.count() == 1


def test_paper_form_carries_its_own_time(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    token = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    assert rate(api, token=token, channel="pad", rated_at=iso(now)).status_code == 422
    assert rate(api, token=token, channel="paper", rated_at=iso(now + dt.timedelta(days=1))).status_code == 422
    res = rate(api, token=token, channel="paper", rated_at=iso(now - dt.timedelta(minutes=30)))
    assert res.status_code == 201
    stored = Evaluation.objects.get()
    assert abs((stored.rated_at - (now - dt.timedelta(minutes=30))).total_seconds()) < 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_token_rating_is_one_lookup_and_one_insert(
    world: dict[str, Any], record_payload: Any, django_assert_num_queries: Any
) -> None:
    """The write path stays thin: nothing derived is computed inside the rating request."""
    api = world["api"]
    # The fast path's rating writer on this test's connection, whose queries are counted here.
    rating_writer(share=True)
    first = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    second = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    assert rate(api, token=first).status_code == 201  # the key is cached from here on
    with django_assert_num_queries(2):
        assert rate(api, token=second, level=4, channel="pad").status_code == 201
    # A bad rating also opens its case (R12), in the same transaction; still a short, fixed list.
    # The lookup, then BEGIN; the rating, the region's policy, the case, its history row, the
    # unit's notice (the outbox row is its delivery); COMMIT.
    third = token_of(register(api, record_payload())["completion"]["evaluation_url"])
    with django_assert_num_queries(8) as captured:
        assert rate(api, token=third, level=2, channel="pad", reasons=["efficiency"]).status_code == 201
    sql = [q["sql"] for q in captured.captured_queries]
    assert sql[1] == "BEGIN" and sql[-1] == "COMMIT"
    tables = " ".join(sql)
    assert "rectification_badreviewcase" in tables and "rectification_caseevent" in tables
