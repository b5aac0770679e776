"""An overdue case escalated to the manager gets the manager's actions, rows of the one workflow
table: 督办 (a dated instruction that notifies the unit and shows in the timeline), reassignment to
another unit, and a comment."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase, CaseEvent, Message
from haoping.rectification.selectors import case_allowed_actions
from haoping.rectification.services import cases_sweep
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import at, bad_case, console_actor, detail
from haoping.rectification.tests.test_console import login

MANAGER_ACTIONS = {"supervise", "reassign", "comment"}


@pytest.fixture
def escalated(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    clock.set(at(2026, 11, 13, 10))
    case = bad_case(world, record_payload)
    # 48 hours to contact; on Monday the sweep finds it overdue and escalates it.
    clock.set(at(2026, 11, 16, 9))
    assert cases_sweep().overdue == 1
    case.refresh_from_db()
    assert case.escalated_at is not None
    return case


@pytest.fixture
def manager(world: dict[str, Any]) -> Client:
    return login("manager", "manager", region=world["district"])


def offered(client: Client, case: BadReviewCase) -> list[str]:
    html = client.get(f"/console/cases/{case.pk}/").content.decode()
    return re.findall(rf'action="/console/cases/{case.pk}/act/(\w+)/"', html)


def test_the_manager_actions_come_with_escalation_only(
    world: dict[str, Any], record_payload: Any, manager: Client, escalated: BadReviewCase
) -> None:
    fresh = bad_case(world, record_payload)
    assert not MANAGER_ACTIONS & set(offered(manager, fresh))
    actions = offered(manager, escalated)
    assert MANAGER_ACTIONS <= set(actions)
    # Reassigning takes the place of dispatching; 督办 comes first.
    assert "dispatch" not in actions and actions[0] == "supervise"
    # The unit's handler has none of them.
    handler = login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    assert not MANAGER_ACTIONS & set(offered(handler, escalated))
    assert handler.post(f"/console/cases/{escalated.pk}/act/comment/", {"note": "x"}).status_code == 403
    # The case API offers only what it can take.
    api_actor = detail(world["api"], escalated.pk)["allowed_actions"]
    assert not MANAGER_ACTIONS & set(api_actor) and "dispatch" in api_actor


def test_supervising_sends_a_dated_instruction_to_the_unit(
    manager: Client, escalated: BadReviewCase, clock: Clock
) -> None:
    url = f"/console/cases/{escalated.pk}/act/supervise/"
    # A day in the past is refused, and what was typed comes back.
    res = manager.post(url, {"instruction": "立即联系评价人并说明情况", "by": "2026-11-01"})
    assert res.status_code == 422
    assert ">立即联系评价人并说明情况</textarea>" in res.content.decode()
    assert manager.post(url, {"instruction": "立即联系评价人并说明情况", "by": "2026-11-18"}).status_code == 302
    escalated.refresh_from_db()
    assert escalated.state == "open"  # the case stays where it is
    event = CaseEvent.objects.get(case=escalated, action="supervise")
    assert event.data == {"by": "2026-11-18"} and event.note == "立即联系评价人并说明情况"
    notice = Message.objects.get(case=escalated, kind=Message.Kind.SUPERVISION)
    assert notice.to_unit is not None and notice.to_unit.code == "D-MKT"
    assert "2026-11-18" in notice.text and "立即联系评价人并说明情况" in notice.text
    page = re.sub(r"\s+", " ", manager.get(f"/console/cases/{escalated.pk}/").content.decode())
    assert "督办" in page and "限 2026-11-18 前办结" in page


def test_reassigning_sends_the_case_to_another_unit_with_a_reason(
    world: dict[str, Any], manager: Client, escalated: BadReviewCase
) -> None:
    Department.objects.create(code="D-TAX", name="玄武区税务局", region=world["district"])
    url = f"/console/cases/{escalated.pk}/act/reassign/"
    res = manager.post(url, {"unit": "D-TAX", "note": ""})
    assert res.status_code == 422
    assert manager.post(url, {"unit": "D-TAX", "note": "该事项由税务局办理"}).status_code == 302
    escalated.refresh_from_db()
    assert escalated.unit.code == "D-TAX" and escalated.state == "open" and escalated.escalated_at is None
    event = CaseEvent.objects.get(case=escalated, action="reassign")
    assert event.data["reassigned"] is True and event.data["to_unit"] == "D-TAX"
    assert Message.objects.filter(case=escalated, kind=Message.Kind.DISPATCH, to_unit__code="D-TAX").exists()
    # No longer escalated: the manager's actions are gone until it is overdue again.
    assert not MANAGER_ACTIONS & set(offered(manager, escalated))


def test_a_comment_is_on_the_timeline_and_in_the_units_inbox(
    world: dict[str, Any], manager: Client, escalated: BadReviewCase
) -> None:
    assert manager.post(f"/console/cases/{escalated.pk}/act/comment/", {"note": "请本周内办结"}).status_code == 302
    assert CaseEvent.objects.filter(case=escalated, action="comment", note="请本周内办结").exists()
    assert Message.objects.filter(case=escalated, kind=Message.Kind.SUPERVISION, text__contains="请本周内办结").exists()
    actor = console_actor("m2", "manager", region=world["district"])
    assert "comment" in case_allowed_actions(actor=actor, case=escalated)
