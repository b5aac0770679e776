"""A rating that meets a busy database ("database is locked" on SQLite) is tried again and stored
once; if the database stays busy, the answer says so and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from conftest import Api
from haoping.errors import Busy
from haoping.evaluations import services
from haoping.evaluations.models import Evaluation
from haoping.records.links import token_for
from haoping.records.models import RatingSlot
from haoping.rectification.models import BadReviewCase


@pytest.fixture
def flaky_store(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The rating's write fails with "database is locked" the first `fail` times."""
    calls = {"n": 0, "fail": 2}
    original = services._store

    def store(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= calls["fail"]:
            # As SQLite fails a write that waited past its busy timeout: before writing anything.
            raise OperationalError("database is locked")
        original(*args, **kwargs)

    monkeypatch.setattr(services, "_store", store)
    monkeypatch.setattr(services, "RETRY_PAUSES", (0.0, 0.0, 0.0))
    return calls


# Outside a test transaction, as a request runs: a write cannot be tried again inside a caller's
# transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("level", [5, 1])
def test_a_rating_that_meets_a_locked_database_is_stored_once(
    world: dict[str, Any], record_payload: Any, flaky_store: dict[str, int], level: int, monkeypatch: Any
) -> None:
    api = Api(world["api"].key, fast=False)
    assert api.post("/records", record_payload(record_no="B-1")).status_code == 201
    body: dict[str, Any] = {"record_no": "B-1", "level": level, "channel": "pad", "client_ref": "try-1"}
    if level <= 2:
        body["reasons"] = ["attitude"]
    res = api.post("/evaluations", body)
    assert res.status_code == 201, res.json()
    assert flaky_store["n"] == 3
    assert Evaluation.objects.filter(record__record_no="B-1").count() == 1
    assert BadReviewCase.objects.filter(record__record_no="B-1").count() == (1 if level <= 2 else 0)
    # The client's own retry of the same rating gets the same receipt, and nothing more is stored.
    again = api.post("/evaluations", body)
    assert again.status_code in (200, 201) and again.json()["receipt"] == res.json()["receipt"]
    assert Evaluation.objects.filter(record__record_no="B-1").count() == 1


def test_a_database_that_stays_locked_answers_busy_and_stores_nothing(
    world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_store", locked)
    monkeypatch.setattr(services, "RETRY_PAUSES", (0.0, 0.0, 0.0))
    api = Api(world["api"].key, fast=False)
    assert api.post("/records", record_payload(record_no="B-2")).status_code == 201
    res = api.post("/evaluations", {"record_no": "B-2", "level": 4, "channel": "pad"})
    assert res.status_code == 503
    assert res.json()["error"] == "busy"
    assert "重试" in res.json()["detail"]
    assert not Evaluation.objects.filter(record__record_no="B-2").exists()
    # The rating page calls the service, which raises the domain error its view answers.
    slot = RatingSlot.objects.get(record__record_no="B-2", kind="completion")
    with pytest.raises(Busy) as raised:
        services.evaluation_submit(client=None, token=token_for(slot.public_id), level=4, channel="mobile")
    assert raised.value.code == "busy" and raised.value.status == 503
    assert not Evaluation.objects.filter(record__record_no="B-2").exists()
