"""R2/R3: a service is ratable for the policy's window; then the sweep records a default 3."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from conftest import iso
from haoping.directory.models import RegionPolicy
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import defaults_record
from haoping.records.models import RatingSlot


@pytest.fixture(autouse=True, params=["fast path first", "Django only"])
def route(request: pytest.FixtureRequest, world: dict[str, Any]) -> None:
    """Every rule holds whichever way a rating is served (haoping.evaluations.fastpath)."""
    for name in ("api", "other_api", "city_api"):
        world[name].fast = request.param == "fast path first"


def completed_days_ago(api: Any, record_payload: Any, record_no: str, days: float) -> str:
    done = timezone.now() - dt.timedelta(days=days)
    body = record_payload(record_no=record_no, accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done))
    res = api.post("/records", body)
    assert res.status_code == 201, res.json()
    return res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]


def test_r3_rating_added_later_within_seven_days(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = completed_days_ago(api, record_payload, "LATE6", 6.9)
    assert api.post("/evaluations", {"token": token, "level": 4, "channel": "sms"}).status_code == 201


def test_r2_after_seven_days_rating_is_gone_and_sweep_records_default(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    token = completed_days_ago(api, record_payload, "OLD", 7.01)
    fresh = completed_days_ago(api, record_payload, "FRESH", 1)
    res = api.post("/evaluations", {"token": token, "level": 5, "channel": "mobile"})
    assert res.status_code == 410 and res.json()["error"] == "window_closed"

    call_command("sweep")
    old = api.get("/records/OLD").json()["evaluations"]
    assert len(old) == 1
    assert old[0]["level"] == 3 and old[0]["source"] == "default" and old[0]["channel"] is None
    slot = RatingSlot.objects.get(record__record_no="OLD")
    assert Evaluation.objects.get(record__record_no="OLD").rated_at == slot.closes_at
    assert api.get("/records/FRESH").json()["evaluations"] == []
    # After the default, a late rating is "already rated", and the sweep is idempotent.
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "mobile"}).status_code == 409
    assert defaults_record() == 0
    assert Evaluation.objects.count() == 1
    assert api.post("/evaluations", {"token": fresh, "level": 5, "channel": "mobile"}).status_code == 201


def test_r2_window_is_a_region_policy(world: dict[str, Any], record_payload: Any) -> None:
    RegionPolicy.objects.create(region=world["city"], rating_window_days=3)
    api = world["api"]
    token = completed_days_ago(api, record_payload, "P3", 3.5)
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "pad"}).status_code == 410
    # The nearest policy wins: the district's own overrides the city's.
    RegionPolicy.objects.create(region=world["district"], rating_window_days=10)
    token = completed_days_ago(api, record_payload, "P10", 8)
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "pad"}).status_code == 201


def test_r2_closing_time_is_fixed_when_the_service_happens(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = completed_days_ago(api, record_payload, "FIXED", 5)
    RegionPolicy.objects.create(region=world["city"], rating_window_days=3)  # changed afterwards
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "pad"}).status_code == 201


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sweep_twice_at_once_records_one_default_each(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    for n in range(30):
        completed_days_ago(api, record_payload, f"S{n}", 8)
    now = timezone.now()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    counts: list[int] = []

    def run(offset: int) -> None:
        try:
            barrier.wait()
            counts.append(defaults_record(now=now + dt.timedelta(microseconds=offset), batch_size=7))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) == 30  # each default counted by the sweep that wrote it
    assert Evaluation.objects.filter(source="default").count() == 30
    assert Evaluation.objects.values("slot").distinct().count() == 30


def test_periodic_huey_task_runs_the_same_sweep(world: dict[str, Any], record_payload: Any) -> None:
    from haoping.evaluations.tasks import sweep

    api = world["api"]
    completed_days_ago(api, record_payload, "HUEY", 9)
    assert sweep.call_local() == (1, 1)
    assert sweep.call_local() == (0, 0)
    assert Evaluation.objects.get().source == "default"
