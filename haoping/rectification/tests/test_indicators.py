"""GB/T 39735 Annex A counts and rates over a small set, every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import defaults_record
from haoping.indicators.counting import annex_a_counts, annex_a_rates
from haoping.rectification.models import BadReviewCase
from haoping.rectification.services import blocked_evaluator_add
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act_ok,
    console_actor,
    person,
    rated,
    register,
    set_policy,
    to_handling,
    to_replied,
)


def case_of(record_no: str) -> BadReviewCase:
    return BadReviewCase.objects.get(record__record_no=record_no)


def test_annex_a_counts_and_rates(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    set_policy(world["district"], reopen_when_unsatisfied=False)
    api = world["api"]
    manager = console_actor("manager", "manager", region=world["district"])
    # Active ratings 5 and 4: good.
    rated(api, record_payload, level=5, applicant=person(1))
    rated(api, record_payload, level=4, applicant=person(2))
    # A 2 found malicious and not adopted; its evaluator goes into the registry.
    malicious = case_of(rated(api, record_payload, level=2, applicant=person(3)))
    to_handling(api, malicious.pk, "malicious")
    act_ok(api, malicious.pk, "request_invalidation", reason="恶意")
    act_ok(world["manager_api"], malicious.pk, "approve_invalidation")
    blocked_evaluator_add(actor=manager, case=malicious, reason="恶意差评")
    # A 1 answered, rectified and revisited: satisfied.
    satisfied = case_of(rated(api, record_payload, level=1, applicant=person(4)))
    to_replied(api, satisfied.pk)
    act_ok(api, satisfied.pk, "revisit", satisfied=True)
    # A 2 answered, rectified and revisited: not satisfied (this region closes it as is).
    unsatisfied = case_of(rated(api, record_payload, level=2, applicant=person(5)))
    to_replied(api, unsatisfied.pk)
    act_ok(api, unsatisfied.pk, "revisit", satisfied=False)
    # A 1 still being handled.
    pending = case_of(rated(api, record_payload, level=1, applicant=person(6)))
    to_handling(api, pending.pk)
    # The blocked evaluator rates again, badly and well: neither counts anywhere.
    blocked = [rated(api, record_payload, level=level, applicant=person(3)) for level in (1, 5)]
    assert Evaluation.objects.filter(record__record_no__in=blocked, blocked=True).count() == 2
    # One service is not rated at all and gets the default.
    register(api, record_payload(applicant=person(7)))
    assert defaults_record(now=clock.now + dt.timedelta(days=8)) == 1

    counts = annex_a_counts(Evaluation.objects.all())
    assert counts == {
        "total": 7,  # 6 active (5, 4, 2, 1, 2, 1) + 1 default; the blocked 1 and 5 are not counted
        "active": 6,
        "defaults": 1,
        "active_good": 2,  # the 5 and the 4
        "bad": 4,  # malicious, satisfied, unsatisfied, pending
        "invalid_bad": 1,  # malicious
        "valid_bad": 3,
        "replied": 2,  # satisfied, unsatisfied
        "rectified": 2,  # rectified and revisited: satisfied, unsatisfied
        "satisfied": 1,
    }
    rates = annex_a_rates(counts)
    assert rates == {
        "good_rate": pytest.approx(4 / 7),  # (7 − 3) / 7
        "active_good_rate": pytest.approx(2 / 5),  # 2 / (6 − 1)
        "unrated_rate": pytest.approx(2 / 7),  # (1 default + 1 invalid) / 7
        "reply_rate": pytest.approx(2 / 4),
        "rectification_rate": pytest.approx(2 / 3),
        "rectification_satisfaction_rate": pytest.approx(1 / 2),
    }
    # The blocked evaluator's ratings, on their own, count as nothing at all.
    nothing = annex_a_counts(Evaluation.objects.filter(record__record_no__in=blocked))
    assert set(nothing.values()) == {0}


def test_an_upheld_appeal_also_takes_the_rating_out_of_the_bad_counts(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    rated(api, record_payload, level=4, applicant=person(1))
    case = case_of(rated(api, record_payload, level=1, applicant=person(2)))
    before = annex_a_counts(Evaluation.objects.all())
    assert (before["bad"], before["invalid_bad"], before["valid_bad"]) == (1, 0, 1)
    assert annex_a_rates(before)["good_rate"] == pytest.approx(1 / 2)
    appeal_id = api.post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"}).json()["id"]
    assert world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": True}).status_code == 200
    after = annex_a_counts(Evaluation.objects.all())
    assert (after["bad"], after["invalid_bad"], after["valid_bad"]) == (1, 1, 0)
    rates = annex_a_rates(after)
    assert rates["good_rate"] == 1.0  # (2 − 0) / 2
    assert rates["active_good_rate"] == 1.0  # 1 / (2 − 1)
    assert rates["unrated_rate"] == pytest.approx(1 / 2)  # (0 + 1) / 2
    assert rates["rectification_rate"] is None  # no valid bad review left: no data, not 0% or 100%


def test_a_batch_bad_rating_counts_once_per_rated_record(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    batch = {"kind": "batch", "bundle_no": "BATCH-IND"}
    for n in range(3):
        register(api, record_payload(record_no=f"BI{n}", bundle=batch))
    assert api.post("/evaluations", {"record_no": "BI0", "level": 1, "channel": "pad", "reasons": ["attitude"]})
    case = BadReviewCase.objects.get()
    to_replied(api, case.pk)
    counts = annex_a_counts(Evaluation.objects.all())
    # One case answers all three ratings.
    assert (counts["total"], counts["bad"], counts["replied"], counts["rectified"]) == (3, 3, 3, 0)


def test_zero_denominators_are_no_data(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    empty = annex_a_counts(Evaluation.objects.none())
    assert set(empty.values()) == {0}
    assert annex_a_rates(empty) == dict.fromkeys(
        [
            "good_rate",
            "active_good_rate",
            "unrated_rate",
            "reply_rate",
            "rectification_rate",
            "rectification_satisfaction_rate",
        ]
    )
    # Good ratings only: the good rates are 100%, the bad-review rates have no data.
    rated(world["api"], record_payload, level=5)
    rates = annex_a_rates(annex_a_counts(Evaluation.objects.all()))
    assert rates == {
        "good_rate": 1.0,
        "active_good_rate": 1.0,
        "unrated_rate": 0.0,
        "reply_rate": None,
        "rectification_rate": None,
        "rectification_satisfaction_rate": None,
    }


def test_a_case_sent_back_counts_as_rectified_only_after_its_next_revisit(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = case_of(rated(api, record_payload, level=1, applicant=person(1)))
    to_replied(api, case.pk)

    def rectified_and_satisfied() -> tuple[int, int]:
        counts = annex_a_counts(Evaluation.objects.all())
        return counts["rectified"], counts["satisfied"]

    clock.advance(hours=1)
    act_ok(api, case.pk, "revisit", satisfied=False)  # back to the unit (the default policy)
    assert rectified_and_satisfied() == (0, 0)
    clock.advance(hours=1)
    act_ok(api, case.pk, "rectify", description="再次整改")
    # Rectified again, but that rectification has not been revisited yet.
    assert rectified_and_satisfied() == (0, 0)
    clock.advance(hours=1)
    act_ok(api, case.pk, "reply", answer="已再次整改")
    clock.advance(hours=1)
    act_ok(api, case.pk, "revisit", satisfied=True)
    assert rectified_and_satisfied() == (1, 1)
    # A failed spot check sends it back again: out of both counts until the next revisit.
    clock.advance(hours=1)
    act_ok(api, case.pk, "reopen", note="抽查不合格")
    clock.advance(hours=1)
    act_ok(api, case.pk, "rectify", description="第三次整改")
    assert rectified_and_satisfied() == (0, 0)
    assert annex_a_counts(Evaluation.objects.all())["replied"] == 1
