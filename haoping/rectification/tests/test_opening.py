"""R12 and R15: which ratings open a case, where, with which contact deadline; the registry of
malicious evaluators."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from haoping.directory.models import Department
from haoping.errors import Conflict, Forbidden
from haoping.evaluations.models import BlockedEvaluator, Evaluation
from haoping.evaluations.services import defaults_record
from haoping.rectification.models import BadReviewCase, CaseEvent, Message
from haoping.rectification.services import blocked_evaluator_add, blocked_evaluator_remove
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act_ok,
    at,
    console_actor,
    person,
    rate,
    rated,
    register,
    to_handling,
)


def test_only_active_ratings_of_level_1_and_2_open_a_case(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    by_level = {level: rated(api, record_payload, level=level, applicant=person(level)) for level in (1, 2, 3, 4, 5)}
    cases = {c.record.record_no: c for c in BadReviewCase.objects.select_related("record", "unit")}
    assert set(cases) == {by_level[1], by_level[2]}
    for level in (1, 2):
        case = cases[by_level[level]]
        assert case.level == level
        assert case.state == BadReviewCase.State.OPEN
        # 谁办理谁负责: the unit of the rated service.
        assert case.unit.code == "D-MKT"
        assert case.region == world["district"]
        assert case.staff == world["staff"] and case.window == world["window"]
        assert case.opened_at == case.dispatched_at == at(2026, 9, 29, 10)
        # National default: contact within 48 clock hours.
        assert case.contact_due == case.due_at == at(2026, 10, 1, 10)
        assert case.deadline_rules == "default"
        assert case.evaluation.record.record_no == by_level[level]
        assert list(case.events.values_list("action", "to_state")) == [("open", "open")]
        assert Message.objects.filter(case=case, kind=Message.Kind.DISPATCH, to_unit__code="D-MKT").count() == 1


def test_a_batch_rating_is_one_case(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    batch = {"kind": "batch", "bundle_no": "BATCH-BAD"}
    for n in range(3):
        register(api, record_payload(record_no=f"BB{n}", bundle=batch))
    res = rate(api, record_no="BB1", level=2)
    assert res.status_code == 201
    assert len(res.json()["evaluations"]) == 3
    case = BadReviewCase.objects.get()
    assert case.receipt == res.json()["receipt"]
    assert Evaluation.objects.filter(receipt=case.receipt).count() == 3
    assert case.events.get().data == {"records": 3}


def test_a_theme_rating_is_one_case(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    theme = {"kind": "theme", "bundle_no": "THEME-BAD"}
    register(api, record_payload(record_no="TB1", bundle=theme))
    register(api, record_payload(record_no="TB2", item_code="ITEM-002", bundle=theme))
    res = rate(api, bundle_no="THEME-BAD", level=1)
    assert res.status_code == 201
    assert sorted(e["record_no"] for e in res.json()["evaluations"]) == ["TB1", "TB2"]
    case = BadReviewCase.objects.get()
    assert case.receipt == res.json()["receipt"] and case.unit.code == "D-MKT"


def test_default_ratings_open_no_case(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    register(world["api"], record_payload(record_no="SILENT"))
    assert defaults_record(now=clock.now + dt.timedelta(days=8)) == 1
    assert Evaluation.objects.get().source == Evaluation.Source.DEFAULT
    assert not BadReviewCase.objects.exists()


def _invalidated_as_malicious(api: Any, case: BadReviewCase, decider: Any) -> None:
    to_handling(api, case.pk, "malicious")
    act_ok(api, case.pk, "request_invalidation", reason="评价人自述为报复性差评")
    act_ok(decider, case.pk, "approve_invalidation", note="同意")
    case.refresh_from_db()
    assert (case.state, case.invalid, case.invalid_reason) == ("closed", True, "malicious")


def test_r15_a_blocked_evaluator_opens_no_case_until_removed(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    manager = console_actor("manager", "manager", region=world["district"])
    troll = person(1, phone="13900000001", id_number="320102198001010011")
    first = BadReviewCase.objects.get(record__record_no=rated(api, record_payload, level=1, applicant=troll))
    _invalidated_as_malicious(api, first, world["manager_api"])
    entry = blocked_evaluator_add(actor=manager, case=first, reason="多次恶意差评")
    # Only keyed digests are kept; the clear phone number is nowhere in the entry.
    assert entry.phone_digest and entry.id_digest and entry.phone_digest != troll["phone"]
    assert list(first.events.values_list("action", flat=True))[-1] == "block_evaluator"

    # Matched by phone alone, and by ID number alone: stored, but flagged and without a case.
    same_phone = person(2, phone=troll["phone"])
    same_id = person(3, id_number=troll["id_number"])
    blocked = [
        rated(api, record_payload, level=1, applicant=same_phone),
        rated(api, record_payload, level=2, applicant=same_id),
        rated(api, record_payload, level=5, applicant=troll),
    ]
    assert list(
        Evaluation.objects.filter(record__record_no__in=blocked).order_by("record__record_no").values_list("blocked")
    ) == [(True,), (True,), (True,)]
    assert BadReviewCase.objects.filter(record__record_no__in=blocked).count() == 0
    # Someone else is not affected.
    other = rated(api, record_payload, level=1, applicant=person(4))
    assert Evaluation.objects.get(record__record_no=other).blocked is False
    assert BadReviewCase.objects.filter(record__record_no=other).count() == 1

    with pytest.raises(Conflict) as again:
        blocked_evaluator_add(actor=manager, case=first, reason="再次加入")
    assert again.value.code == "already_blocked"

    blocked_evaluator_remove(actor=manager, entry=entry, reason="经复核误判")
    assert BlockedEvaluator.objects.get().removed_at == clock.now
    after = rated(api, record_payload, level=1, applicant=troll)
    assert Evaluation.objects.get(record__record_no=after).blocked is False
    assert BadReviewCase.objects.filter(record__record_no=after).count() == 1


def test_r15_only_an_invalidated_malicious_rating_puts_its_evaluator_in_the_registry(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    manager = console_actor("manager", "manager", region=world["district"])
    case = BadReviewCase.objects.get(record__record_no=rated(api, record_payload, level=1, applicant=person(1)))
    with pytest.raises(Conflict) as open_case:
        blocked_evaluator_add(actor=manager, case=case, reason="恶意")
    assert open_case.value.code == "not_malicious"
    # A handler's classification is not a finding: the manager may still reject the invalidation.
    to_handling(api, case.pk, "malicious")
    act_ok(api, case.pk, "request_invalidation", reason="恶意差评")
    with pytest.raises(Conflict):
        blocked_evaluator_add(actor=manager, case=case, reason="恶意")
    act_ok(world["manager_api"], case.pk, "reject_invalidation", note="证据不足")
    with pytest.raises(Conflict):
        blocked_evaluator_add(actor=manager, case=case, reason="恶意")
    act_ok(api, case.pk, "request_invalidation", reason="补充了录音证据")
    act_ok(world["manager_api"], case.pk, "approve_invalidation")
    # Only managers, and only of the case's region.
    handler = console_actor("handler", "handler", department=Department.objects.get(code="D-MKT"))
    elsewhere = console_actor("elsewhere", "manager", region=world["other"])
    for outsider in (handler, elsewhere):
        with pytest.raises(Forbidden):
            blocked_evaluator_add(actor=outsider, case=case, reason="恶意")
    assert not BlockedEvaluator.objects.exists()
    entry = blocked_evaluator_add(actor=manager, case=case, reason="恶意")
    with pytest.raises(Forbidden):
        blocked_evaluator_remove(actor=elsewhere, entry=entry, reason="不在本辖区")
    assert BlockedEvaluator.objects.get().removed_at is None
    assert CaseEvent.objects.filter(case=case, action="block_evaluator").count() == 1
