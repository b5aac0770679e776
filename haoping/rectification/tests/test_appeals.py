"""R14 through the API: file within 2 working days of the case reaching the unit, decide within 5;
upheld means not adopted. The case opens Tuesday 2026-09-29, the day before the National Day
holiday, so the 2 working days are 9/30 and 10/8."""

from __future__ import annotations

from typing import Any

import pytest

from haoping.errors import Forbidden
from haoping.rectification.models import Appeal, BadReviewCase, Message
from haoping.rectification.services import appeal_decide, appeal_file
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act_ok,
    at,
    bad_case,
    console_actor,
    detail,
    eod,
    parse,
    to_handling,
    to_replied,
)


def file(api: Any, case_id: int, reasons: str = "当天系统故障，非窗口人员原因") -> Any:
    return api.post(f"/cases/{case_id}/appeal", {"reasons": reasons})


def test_an_appeal_is_filed_within_two_working_days_of_the_case_reaching_the_unit(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    in_time = bad_case(world, record_payload)
    too_late = bad_case(world, record_payload)
    clock.set(at(2026, 10, 8, 23, 30))
    res = file(api, in_time.pk)
    assert res.status_code == 201, res.json()
    body = res.json()
    assert (body["state"], body["late"], body["decided_at"]) == ("pending", False, None)
    assert parse(body["filed_at"]) == at(2026, 10, 8, 23, 30)
    # 5 working days after 10/8: 10/9, Sat 10/10 (worked), 10/12, 10/13, 10/14.
    assert parse(body["decide_due"]) == eod(2026, 10, 14)
    assert Message.objects.filter(case=in_time, kind="appeal", to_region=world["district"]).count() == 1
    assert detail(api, in_time.pk)["history"][-1]["action"] == "appeal"
    # One appeal per case.
    assert file(api, in_time.pk).json()["error"] == "already_appealed"

    clock.set(at(2026, 10, 9, 0, 0, 1))
    late = file(api, too_late.pk)
    assert late.status_code == 409
    assert late.json()["error"] == "appeal_too_late"
    assert "2026-10-08 23:59" in late.json()["detail"]
    assert not Appeal.objects.filter(case=too_late).exists()


def test_the_deadline_runs_from_a_dispatch_to_the_new_unit(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    from haoping.directory.models import Department

    Department.objects.create(code="D-TAX", name="玄武区税务局", region=world["district"])
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(at(2026, 10, 12, 9))
    act_ok(api, case.pk, "dispatch", unit="D-TAX")
    clock.set(at(2026, 10, 14, 18))  # two working days after 10/12
    assert file(api, case.pk).status_code == 201


def test_an_upheld_appeal_closes_the_case_as_not_adopted(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk)
    filed = file(api, case.pk).json()
    appeal_id = filed["id"]
    # Filed 9/29: 5 working days are 9/30, 10/8, 10/9, Sat 10/10 (worked), 10/12.
    assert parse(filed["decide_due"]) == eod(2026, 10, 12)
    clock.set(at(2026, 10, 12, 23, 59))
    res = world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": True, "note": "经核实系统故障"})
    assert res.status_code == 200, res.json()
    assert (res.json()["state"], res.json()["late"]) == ("upheld", False)
    body = detail(api, case.pk)
    assert (body["state"], body["invalid"], body["invalid_reason"]) == ("closed", True, "appeal")
    assert parse(body["closed_at"]) == at(2026, 10, 12, 23, 59)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in body["history"][-1:]] == [
        ("uphold_appeal", "handling", "closed")
    ]
    (listed,) = body["appeals"]
    assert (listed["id"], listed["state"], listed["late"]) == (appeal_id, "upheld", False)
    assert parse(listed["decided_at"]) == at(2026, 10, 12, 23, 59)
    # Both sides are told: the appellant (an API client, so its unit) and the evaluator.
    told = Message.objects.filter(case=case, kind="appeal").exclude(to_region__isnull=False)
    assert sorted((m.to_unit_id is not None, m.to_evaluator_id == case.evaluator_id) for m in told) == [
        (False, True),
        (True, False),
    ]
    # Decided once.
    again = world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": False})
    assert (again.status_code, again.json()["error"]) == (409, "already_decided")
    # And not undone by reopening the case.
    reopened = api.post(f"/cases/{case.pk}/actions", {"action": "reopen", "note": "重新处理"})
    assert (reopened.status_code, reopened.json()["error"]) == (409, "appeal_upheld")
    assert detail(api, case.pk)["invalid"] is True


def test_a_rejected_appeal_lets_the_case_go_on_and_a_late_decision_says_so(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk)
    appeal_id = file(api, case.pk).json()["id"]
    clock.set(at(2026, 10, 13, 0, 0, 1))  # past 10/12, the 5th working day after filing on 9/29
    res = world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": False, "note": "差评属实"})
    assert res.status_code == 200
    assert (res.json()["state"], res.json()["late"]) == ("rejected", True)
    body = detail(api, case.pk)
    assert (body["state"], body["invalid"], body["invalid_reason"]) == ("handling", False, "")
    last = body["history"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("reject_appeal", "", "")
    assert last["data"] == {"appeal": appeal_id, "late": True}
    assert Message.objects.filter(case=case, kind="appeal", to_evaluator=case.evaluator).count() == 1
    assert Message.objects.filter(case=case, kind="appeal", to_unit=case.unit).count() == 1
    # The case goes on.
    assert act_ok(api, case.pk, "rectify", description="已整改")["state"] == "resolved"


def test_an_appeal_upheld_after_the_case_closed_still_makes_the_rating_not_adopted(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    appeal_id = file(api, case.pk).json()["id"]
    to_replied(api, case.pk)
    act_ok(api, case.pk, "revisit", satisfied=True)
    assert world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": True}).status_code == 200
    case.refresh_from_db()
    assert (case.state, case.invalid, case.invalid_reason) == ("closed", True, "appeal")
    assert case.events.order_by("-id").values_list("action", flat=True)[0] == "uphold_appeal"


def test_who_may_appeal_and_decide(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    from haoping.directory.models import Department, Staff

    case = bad_case(world, record_payload)
    rated_staff = console_actor("rated", "staff", staff=world["staff"])
    colleague = console_actor("colleague", "staff", staff=Staff.objects.get(staff_no="S002"))
    other_unit = console_actor("qh", "handler", department=Department.objects.get(code="D-OTHER"))
    for outsider in (colleague, other_unit):
        with pytest.raises(Forbidden):
            appeal_file(actor=outsider, case=case, reasons="不是我")
    appeal = appeal_file(actor=rated_staff, case=case, reasons="当天系统故障")
    assert appeal.filed_by == rated_staff.user
    elsewhere = console_actor("elsewhere", "manager", region=world["other"])
    for cannot in (rated_staff, elsewhere):
        with pytest.raises(Forbidden):
            appeal_decide(actor=cannot, appeal=appeal, upheld=True)
    assert Appeal.objects.get().state == "pending"
    manager = console_actor("manager", "manager", region=world["district"])
    assert appeal_decide(actor=manager, appeal=appeal, upheld=True).state == "upheld"
    # The staff member who appealed is told in person.
    assert Message.objects.filter(case=case, kind="appeal", to_user=rated_staff.user).count() == 1
    assert BadReviewCase.objects.get(pk=case.pk).invalid is True
