"""Records joining a rated batch or theme, retries, and hostile input on the rating path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import iso
from haoping.evaluations.chain import chain_verify
from haoping.evaluations.models import Evaluation
from haoping.evaluations.tests.test_tokens_and_chain import tamper


@pytest.fixture(autouse=True, params=["fast path first", "Django only"])
def route(request: pytest.FixtureRequest, world: dict[str, Any]) -> None:
    """Every rule holds whichever way a rating is served (haoping.evaluations.fastpath)."""
    for name in ("api", "other_api", "city_api"):
        world[name].fast = request.param == "fast path first"


def rate(api: Any, **body: Any) -> Any:
    body.setdefault("level", 5)
    body.setdefault("channel", "pad")
    return api.post("/evaluations", body)


def test_r5_record_completing_after_the_batch_was_rated_takes_that_rating(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    batch = {"kind": "batch", "bundle_no": "BATCH-LATE"}
    api.post("/records", record_payload(record_no="BL1", bundle=batch))
    api.post("/records", record_payload(record_no="BL2", bundle=batch, completed_at=None))
    first = rate(api, record_no="BL1", level=4)
    assert first.status_code == 201 and [e["record_no"] for e in first.json()["evaluations"]] == ["BL1"]
    assert api.post("/records/BL2/complete", {"completed_at": iso(timezone.now())}).status_code == 200
    assert rate(api, record_no="BL2", level=1, channel="phone").status_code == 409
    inherited = Evaluation.objects.get(record__record_no="BL2")
    assert (inherited.level, inherited.receipt) == (4, first.json()["receipt"])


def test_r6_record_completing_after_the_theme_overall_rating_takes_it(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    theme = {"kind": "theme", "bundle_no": "THEME-LATE"}
    api.post("/records", record_payload(record_no="TL1", bundle=theme))
    api.post("/records", record_payload(record_no="TL2", item_code="ITEM-002", bundle=theme, completed_at=None))
    api.post("/records", record_payload(record_no="TL3", bundle=theme, completed_at=None))
    overall = rate(api, bundle_no="THEME-LATE", level=5, client_ref="kiosk-1")
    assert overall.status_code == 201
    # The same request again is its retry, not a second rating.
    again = rate(api, bundle_no="THEME-LATE", level=5, client_ref="kiosk-1")
    assert again.status_code == 200 and again.json()["receipt"] == overall.json()["receipt"]
    api.post("/records/TL2/complete", {"completed_at": iso(timezone.now())})
    assert rate(api, bundle_no="THEME-LATE", level=1, channel="phone").status_code == 409
    assert rate(api, record_no="TL2", level=1, channel="phone").status_code == 409
    levels = dict(Evaluation.objects.values_list("record__record_no", "level"))
    assert levels == {"TL1": 5, "TL2": 5}
    # A record rated on its own does not pass its rating on.
    theme2 = {"kind": "theme", "bundle_no": "THEME-OWN"}
    api.post("/records", record_payload(record_no="TO1", bundle=theme2))
    api.post("/records", record_payload(record_no="TO2", bundle=theme2, completed_at=None))
    assert rate(api, record_no="TO1", level=2, channel="phone").status_code == 201
    api.post("/records/TO2/complete", {"completed_at": iso(timezone.now())})
    assert not Evaluation.objects.filter(record__record_no="TO2").exists()


def test_theme_page_before_any_completion_says_not_yet(world: dict[str, Any], record_payload: Any) -> None:
    res = world["api"].post(
        "/records", record_payload(record_no="TN1", bundle={"kind": "theme", "bundle_no": "T-N"}, completed_at=None)
    )
    assert res.json()["theme"]["evaluation_url"]
    path = res.json()["theme"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")
    page = Client().get(path).content.decode()
    assert "暂不能评价" in page and 'name="level"' not in page
    assert Client().post(path, {"level": "5"}).status_code == 409


def test_r7_agent_cannot_rate_a_theme_without_agents(world: dict[str, Any], record_payload: Any) -> None:
    world["api"].post("/records", record_payload(record_no="TA1", bundle={"kind": "theme", "bundle_no": "T-A"}))
    res = rate(world["api"], bundle_no="T-A", rated_by="agent")
    assert res.status_code == 422 and res.json()["field"] == "rated_by"


def test_client_ref_belongs_to_its_client_and_to_one_rating(world: dict[str, Any], record_payload: Any) -> None:
    api, city = world["api"], world["city_api"]
    api.post("/records", record_payload(record_no="CR1"))
    assert rate(api, record_no="CR1", client_ref="r-1").status_code == 201
    res = rate(api, record_no="CR1", level=1, channel="phone", client_ref="r-1")
    assert res.status_code == 409 and res.json()["error"] == "client_ref_reused"
    # Another client using the same reference is not the first one's retry.
    assert rate(city, record_no="CR1", client_ref="r-1").status_code == 409
    assert Evaluation.objects.count() == 1


def test_visit_retry_returns_the_first_visit(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    api.post("/records", record_payload(record_no="VR1", mode="mixed", on_the_spot=False, completed_at=None))
    body = {"window_code": "W-XW-01", "staff_no": "S001", "at": iso(timezone.now() - dt.timedelta(minutes=5))}
    first = api.post("/records/VR1/visits", body)
    again = api.post("/records/VR1/visits", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_visits_and_completion_may_arrive_out_of_order(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    now = timezone.now()
    api.post(
        "/records",
        record_payload(
            record_no="OO1",
            mode="mixed",
            on_the_spot=False,
            accepted_at=iso(now - dt.timedelta(days=2)),
            completed_at=iso(now - dt.timedelta(hours=1)),
        ),
    )
    late = api.post("/records/OO1/visits", {"window_code": "W-XW-01", "at": iso(now - dt.timedelta(days=1))})
    assert late.status_code == 201 and late.json()["ratable"]
    after = api.post("/records/OO1/visits", {"window_code": "W-XW-01", "at": iso(now)})
    assert after.status_code == 409
    api.post("/records", record_payload(record_no="OO2", mode="mixed", on_the_spot=False, completed_at=None))
    api.post("/records/OO2/visits", {"window_code": "W-XW-01", "at": iso(now - dt.timedelta(minutes=30))})
    early = api.post("/records/OO2/complete", {"completed_at": iso(now - dt.timedelta(hours=1))})
    assert early.status_code == 422 and early.json()["field"] == "completed_at"


def test_default_receipt_is_not_a_public_page(world: dict[str, Any], record_payload: Any) -> None:
    from django.core.management import call_command

    done = timezone.now() - dt.timedelta(days=8)
    res = world["api"].post(
        "/records", record_payload(accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done))
    )
    call_command("sweep")
    path = res.json()["completion"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")
    assert Client().get(path + "done/DEFAULT/").status_code == 404


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"comment": "坏\x00"}, "comment"),
        ({"client_ref": "a\x00"}, "client_ref"),
        ({"reasons": ["other\x00"]}, "reasons.0"),
        ({"answers": {"suggestion": "x\x00"}}, "answers"),
        ({"channel": "paper", "rated_at": "0001-01-01T00:00:00+08:00"}, "rated_at"),
        ({"level": 10**30}, "level"),
    ],
)
def test_hostile_rating_input_is_422(
    world: dict[str, Any], record_payload: Any, overrides: dict[str, Any], field: str
) -> None:
    world["api"].post("/records", record_payload(record_no="NUL"))
    res = rate(world["api"], record_no="NUL", **overrides)
    assert res.status_code == 422 and res.json()["field"] == field, res.json()
    assert Evaluation.objects.count() == 0


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"record_no": "A\x00B"}, "record_no"),
        ({"accepted_at": "0001-01-01T00:00:00+08:00", "completed_at": None}, "accepted_at"),
        ({"accepted_at": "1999-12-31T23:00:00+08:00", "completed_at": None}, "accepted_at"),
    ],
)
def test_hostile_record_input_is_422(
    world: dict[str, Any], record_payload: Any, overrides: dict[str, Any], field: str
) -> None:
    res = world["api"].post("/records", record_payload(**overrides))
    assert res.status_code == 422 and res.json()["field"] == field, res.json()


def test_nul_in_paths_is_refused(world: dict[str, Any]) -> None:
    res = world["api"].get("/records/A%00B")
    assert res.status_code == 422 and res.json()["field"] == "record_no"
    assert Client().get("/r/abc.def/done/%00/").status_code in (403, 404)


def test_chain_covers_who_was_rated(world: dict[str, Any], record_payload: Any) -> None:
    world["api"].post("/records", record_payload(record_no="WHO"))
    rate(world["api"], record_no="WHO", level=1, channel="phone")
    ev = Evaluation.objects.get()
    tamper("UPDATE evaluations_evaluation SET staff_id = %s WHERE id = %s", [world["staff2"].pk, ev.pk])
    problem = chain_verify()[1]
    assert problem is not None and problem.evaluation_id == ev.pk
