"""In Chromium, on a phone and on a desk: a case contacted on time shows each step's deadline by name,
the contact done on time and the classification running; the queue names the step its due time is for."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.rectification.tests.support import act_ok, bad_case


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_each_steps_deadline_is_named_on_the_case_page_and_in_the_queue(
    world: dict[str, Any], record_payload: Any, live_server: Any, width: int
) -> None:
    case = bad_case(world, record_payload)
    act_ok(world["api"], case.pk, "contact", note="已电话联系评价人，核实属实")
    user = get_user_model().objects.create_user(username="wangli", password="demo-pass-123", last_name="王")
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))

    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("wangli")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        card = page.locator("section.card", has_text="办理时限")
        assert card.locator('dd[data-step="contact"]').inner_text().count("按时") == 1
        assert "当前环节" in card.locator('dd[data-step="classify"].running').inner_text()
        handling = card.locator('dd[data-step="handling"]').inner_text()
        assert "以下环节共用此时限：整改或解释说明、向评价人反馈" in handling
        # Nothing in the card runs past the page on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        card.screenshot(path=str(ARTIFACTS / f"case-step-deadlines-{width}.png"))
        page.goto(f"{live_server.url}/console/")
        row = page.locator("tbody tr").first
        assert "分类定性" in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"queue-step-deadlines-{width}.png"))
