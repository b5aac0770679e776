"""R12: each step of a case has its own deadline, named on the case page and in the queue; a step
done on time never makes the case late. The case opens Tuesday 2026-09-29 10:00 (contact due 48 h
later, 10/1 10:00); 10/1–7 are rest days, so one working day after a contact on 10/1 ends on 10/8."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.directory.models import Department, Staff
from haoping.rectification import deadlines
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.services import SweepResult, cases_sweep
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, at, bad_case, eod, set_policy

CONTACTED = at(2026, 10, 1, 9)  # an hour before the contact deadline


def handler_client(world: dict[str, Any]) -> Client:
    user, created = get_user_model().objects.get_or_create(username="handler-steps")
    if created:
        Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    client = Client()
    client.force_login(user)
    return client


def page(world: dict[str, Any], path: str) -> str:
    """A console page as the unit's handler sees it, signed in at the clock's time."""
    res = handler_client(world).get(path)
    assert res.status_code == 200
    return res.content.decode()


def test_a_case_contacted_on_time_is_not_late_while_it_is_classified(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    assert case.due_at == at(2026, 10, 1, 10)
    clock.set(CONTACTED)
    act_ok(world["api"], case.pk, "contact", note="已电话联系评价人，核实属实")
    case.refresh_from_db()
    # Classification runs against its own deadline, from the contact on: one working day → 10/8.
    assert (case.contact_due, case.classify_due, case.due_at) == (
        at(2026, 10, 1, 10),
        eod(2026, 10, 8),
        eod(2026, 10, 8),
    )
    assert case.step_started_at == CONTACTED

    # Past the contact deadline, the sweep leaves the case alone: its contact was on time.
    assert cases_sweep(now=at(2026, 10, 1, 10, 0, 1)).overdue == 0
    case.refresh_from_db()
    assert (case.overdue_at, case.escalated_at, case.was_overdue) == (None, None, False)
    assert not Message.objects.filter(case=case, kind__in=["overdue", "escalation"]).exists()

    # Not classified by the end of 10/8: late for the classification, and the messages say so.
    late = at(2026, 10, 9, 0, 0, 1)
    assert cases_sweep(now=late) == SweepResult(warned=0, overdue=1)
    case.refresh_from_db()
    assert (case.overdue_at, case.was_overdue) == (late, True)
    assert case.events.get(action="overdue").data["step"] == "classify"
    overdue = Message.objects.get(case=case, kind="overdue")
    assert overdue.text == f"工单 {case.pk} 已超时：分类定性时限为 2026-10-08 23:59。"


def test_the_warning_names_the_step(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = bad_case(world, record_payload)
    assert cases_sweep(now=at(2026, 9, 30, 22)).warned == 1
    assert Message.objects.get(case=case, kind="warning").text == (f"工单 {case.pk}：联系核实时限为 2026-10-01 10:00。")


def test_the_case_page_and_the_queue_name_each_steps_deadline(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    queue = page(world, "/console/")
    assert '<span class="step-name">联系核实</span> 2026-10-01 10:00' in queue

    clock.set(CONTACTED)
    act_ok(world["api"], case.pk, "contact", note="已电话联系评价人，核实属实")
    clock.set(at(2026, 10, 1, 11))
    text = page(world, f"/console/cases/{case.pk}/")
    assert '<dt>联系核实</dt><dd class="step" data-step="contact">2026-10-01 10:00' in text
    assert '2026-10-01 09:00 完成</span> <span class="tag ok">按时</span>' in text
    assert '<dt>分类定性</dt><dd class="step running" data-step="classify">2026-10-08 23:59' in text
    assert '<span class="tag">当前环节</span>' in text and "已超时" not in text
    # The handling deadline covers two steps, as the sources bundle them (整改反馈), and says so.
    assert '<dt>整改反馈</dt><dd class="step" data-step="handling"><span class="muted">上一环节完成后起算' in text
    assert "以下环节共用此时限：整改或解释说明、向评价人反馈" in text
    queue = page(world, "/console/")
    assert '<span class="step-name">分类定性</span> 2026-10-08 23:59' in queue
    assert "overdue" not in queue.split("<tbody>")[1]

    clock.set(at(2026, 10, 8, 9))
    # 5 working days: 10/9, Sat 10/10 (worked), 10/12, 10/13, 10/14.
    act_ok(world["api"], case.pk, "classify", category="general")
    text = page(world, f"/console/cases/{case.pk}/")
    assert '<dt>分类定性</dt><dd class="step" data-step="classify">2026-10-08 23:59' in text
    assert '<dt>整改反馈</dt><dd class="step running" data-step="handling">2026-10-14 23:59' in text
    assert '<span class="step-name">整改反馈</span> 2026-10-14 23:59' in page(world, "/console/")


def test_rules_that_give_contact_and_classification_one_deadline_say_so(
    world: dict[str, Any], record_payload: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = deadlines.Rules(
        deadlines.Span(48, "hours"),
        deadlines.AT_ONCE,
        deadlines.Span(5, "workdays"),
        deadlines.Span(15, "workdays"),
        classify=None,
    )
    monkeypatch.setitem(deadlines.PRESETS, "siping", bundled)
    set_policy(world["district"], case_deadlines="siping")
    case = bad_case(world, record_payload)
    assert '<span class="step-name">联系核实及分类定性</span> 2026-10-01 10:00' in page(world, "/console/")
    clock.set(CONTACTED)
    act_ok(world["api"], case.pk, "contact", note="已电话联系评价人，核实属实")
    case.refresh_from_db()
    assert (case.state, case.classify_due, case.due_at) == (BadReviewCase.State.CONTACTED, None, at(2026, 10, 1, 10))
    text = page(world, f"/console/cases/{case.pk}/")
    assert '<dt>联系核实及分类定性</dt><dd class="step running" data-step="contact">2026-10-01 10:00' in text
    assert "以下环节共用此时限：联系核实、分类定性" in text
    assert 'data-step="classify"' not in text
    assert '<span class="step-name">联系核实及分类定性</span> 2026-10-01 10:00' in page(world, "/console/")
    # Under these rules the contact alone does not stop the clock.
    assert cases_sweep(now=at(2026, 10, 1, 10, 0, 1)).overdue == 1


def test_a_contact_after_its_deadline_stays_late_in_the_history_but_the_next_step_starts_clean(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    assert cases_sweep(now=at(2026, 10, 1, 10, 0, 1)).overdue == 1
    clock.set(at(2026, 10, 1, 12))
    act_ok(world["api"], case.pk, "contact", note="已电话联系评价人，核实属实")
    case.refresh_from_db()
    assert (case.overdue_at, case.escalated_at, case.was_overdue, case.due_at) == (None, None, True, eod(2026, 10, 8))
    text = page(world, f"/console/cases/{case.pk}/")
    assert '2026-10-01 12:00 完成</span> <span class="tag late">超时完成</span>' in text


def test_the_rated_staff_member_reads_the_step_deadlines_by_the_day(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    """R10: the contact deadline is counted from the minute of the rating."""
    case = bad_case(world, record_payload)
    user = get_user_model().objects.create_user(username="wangfang")
    Membership.objects.create(user=user, role="staff", staff=Staff.objects.get(staff_no="S001"))
    client = Client()
    client.force_login(user)
    text = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert '<dt>联系核实</dt><dd class="step running" data-step="contact">2026-10-01\n' in text
    assert "2026-10-01 10:00" not in text
