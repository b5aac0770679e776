"""R12 extensions say their unit and their result: a request counts in working or natural days (the
step's unit unless the handler chooses the other), and the manager sees the days asked, the due
time now and the due time if approved before deciding."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act, act_ok, at, bad_case, eod, set_policy, to_handling
from haoping.rectification.tests.test_console import login

CLASSIFIED = at(2026, 9, 30, 10)  # general, 5 working days: due 10/13 (a Tuesday) under the national default


def handling(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    clock.set(at(2026, 9, 29, 10))
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(world["api"], case.pk, "general")
    case.refresh_from_db()
    assert case.resolve_due == eod(2026, 10, 13)
    return case


def signed_in_handler() -> Client:
    """The unit's handler, signed in now (the console ends a session left idle while the clock moves)."""
    user, created = get_user_model().objects.get_or_create(username="handler")
    if created:
        Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    client = Client()
    client.force_login(user)
    return client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def selected_unit(html: str) -> str:
    form = html[html.index('action="/console/cases/') :]
    select = form[form.index('name="days_unit"') :]
    return re.search(r'<option value="(\w+)" selected>', select[: select.index("</select>")]).group(1)  # type: ignore[union-attr]


def test_the_request_form_offers_the_unit_of_the_policy(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = handling(world, record_payload, clock)
    page = signed_in_handler().get(f"/console/cases/{case.pk}/").content.decode()
    assert "计日方式" in page and "工作日" in page and "自然日" in page
    assert selected_unit(page) == "workdays"
    set_policy(world["district"], case_deadlines="ezhou_rules")  # Ezhou rules: natural days
    case.deadline_rules = "ezhou_rules"
    case.save(update_fields=["deadline_rules"])
    assert selected_unit(signed_in_handler().get(f"/console/cases/{case.pk}/").content.decode()) == "days"


def test_the_manager_sees_the_days_asked_and_both_due_times_before_approving(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = handling(world, record_payload, clock)
    res = signed_in_handler().post(
        f"/console/cases/{case.pk}/act/request_extension/", {"days": "5", "days_unit": "days", "reason": "需协调第三方"}
    )
    assert res.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.extension_days, case.extension_unit) == ("extension_requested", 5, "days")
    manager = login("manager", "manager", region=world["district"])
    page = text(manager.get(f"/console/cases/{case.pk}/").content.decode())
    # 10/13 and 5 natural days: Sunday 10/18 (5 working days would have reached 10/20).
    assert "申请延期天数 5个自然日" in page
    assert "现截止时间 2026-10-13 23:59" in page
    assert "批准后截止时间 2026-10-18 23:59" in page
    assert "待批延期 5个自然日，批准后截止于 2026-10-18 23:59" in page
    assert manager.post(f"/console/cases/{case.pk}/act/approve_extension/", {"note": "同意"}).status_code == 302
    case.refresh_from_db()
    assert (case.state, case.resolve_due, case.due_at) == ("handling", eod(2026, 10, 18), eod(2026, 10, 18))
    assert (case.extension_days, case.extension_unit) == (None, "")
    granted = case.events.filter(action="approve_extension").get().data
    assert granted == {"days": 5, "unit": "days", "resolve_due": eod(2026, 10, 18).isoformat()}


def test_working_days_chosen_under_a_natural_day_policy(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    set_policy(world["district"], case_deadlines="ezhou_rules")  # general: 5 natural days, 10/5
    clock.set(at(2026, 9, 29, 10))
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(world["api"], case.pk, "general")
    signed_in_handler().post(
        f"/console/cases/{case.pk}/act/request_extension/", {"days": "2", "days_unit": "workdays", "reason": "需协调"}
    )
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    case.refresh_from_db()
    # 10/5 falls in the National Day holiday: the first two working days after it are 10/8 and 10/9.
    assert case.resolve_due == eod(2026, 10, 9)


def test_a_request_without_a_unit_counts_in_the_step_unit_and_a_bad_unit_is_refused(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = handling(world, record_payload, clock)
    res = signed_in_handler().post(
        f"/console/cases/{case.pk}/act/request_extension/", {"days": "5", "days_unit": "weeks", "reason": "需协调"}
    )
    assert res.status_code == 422 and "days_unit：workdays（工作日）或 days（自然日）" in res.content.decode()
    assert BadReviewCase.objects.get(pk=case.pk).state == "handling"
    act_ok(world["api"], case.pk, "request_extension", days=5, reason="需协调")
    assert BadReviewCase.objects.get(pk=case.pk).extension_unit == "workdays"
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    assert BadReviewCase.objects.get(pk=case.pk).resolve_due == eod(2026, 10, 20)


def test_reclassifying_keeps_each_extension_in_its_own_unit(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = handling(world, record_payload, clock)
    signed_in_handler().post(
        f"/console/cases/{case.pk}/act/request_extension/", {"days": "5", "days_unit": "days", "reason": "需协调"}
    )
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    clock.set(at(2026, 10, 14, 9))
    act_ok(world["api"], case.pk, "classify", category="complex")
    case.refresh_from_db()
    # 15 working days from 9/30 → 10/27, then the 5 natural days granted → Sunday 11/1 (not 11/3).
    assert case.resolve_due == case.due_at == eod(2026, 11, 1)


def test_the_api_says_the_unit_too(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = handling(world, record_payload, clock)
    res = act(world["api"], case.pk, "request_extension", days=5, days_unit="weeks", reason="需协调")
    assert res.status_code == 422 and "days_unit" in str(res.json())
    act_ok(world["api"], case.pk, "request_extension", days=5, days_unit="days", reason="需协调")
    assert BadReviewCase.objects.get(pk=case.pk).extension_unit == "days"
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    # Five natural days after 10/13.
    assert BadReviewCase.objects.get(pk=case.pk).resolve_due == eod(2026, 10, 18)
