"""R14 on the case page: the rated staff member is offered the appeal form only while the 2
working days are running; after them the page says when the time closed. The case opens Tuesday
2026-09-29, so the 2 working days are 9/30 and 10/8 (the National Day holiday between)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.directory.models import Staff
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import at, bad_case

FORM = 'id="appeal-reasons"'


def staff_page(case: BadReviewCase) -> str:
    """The case page as the rated staff member sees it, signed in at the clock's time."""
    user, created = get_user_model().objects.get_or_create(username="wangfang")
    if created:
        Membership.objects.create(user=user, role="staff", staff=Staff.objects.get(staff_no="S001"))
    client = Client()
    client.force_login(user)
    res = client.get(f"/console/cases/{case.pk}/")
    assert res.status_code == 200
    return res.content.decode()


def test_the_form_is_offered_until_the_window_closes_then_the_page_says_when(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    assert case.staff is not None and case.staff.staff_no == "S001"
    clock.set(at(2026, 10, 8, 23, 30))
    page = staff_page(case)
    assert FORM in page and "可在 2026-10-08 23:59 前提出申诉（收到差评后 2 个工作日内）。" in page
    assert 'id="appeal-closed"' not in page

    clock.set(at(2026, 10, 9, 0, 0, 1))
    page = staff_page(case)
    assert FORM not in page and "提出申诉" not in page
    assert "申诉期限已于 2026-10-08 23:59 截止（收到差评后 2 个工作日）。" in page


def test_a_case_appealed_or_closed_shows_no_window(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = bad_case(world, record_payload)
    clock.set(at(2026, 10, 9, 9))
    BadReviewCase.objects.filter(pk=case.pk).update(state="closed")
    page = staff_page(case)
    assert FORM not in page and "申诉期限" not in page
