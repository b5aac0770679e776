"""In Chromium: a handler asks for five natural days more; the manager sees the days asked, the due
time now and the due time if approved, approves, and the case's deadline is the one shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.support import bad_case, to_handling


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-pass-123")
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_manager_approves_an_extension_knowing_its_result(
    world: dict[str, Any], record_payload: Any, live_server: Any
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    users = get_user_model().objects
    handler = users.create_user(username="wangli", password="demo-pass-123", last_name="王", first_name="丽")
    Membership.objects.create(user=handler, role="handler", department=Department.objects.get(code="D-MKT"))
    manager = users.create_user(username="zhouming", password="demo-pass-123", last_name="周", first_name="明")
    Membership.objects.create(user=manager, role="manager", region=world["district"])
    due_now = timezone.localtime(BadReviewCase.objects.get(pk=case.pk).resolve_due).strftime("%Y-%m-%d %H:%M")

    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        sign_in(page, live_server.url, "wangli")
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        page.locator("details.action summary", has_text="申请延期").click()
        assert page.get_by_label("计日方式").input_value() == "workdays"  # the national default's unit
        page.get_by_label("延期天数").fill("5")
        page.get_by_label("计日方式").select_option("days")
        page.locator("#request_extension-reason").fill("需协调不动产登记中心补充材料")
        page.get_by_role("button", name="申请延期").click()
        page.context.clear_cookies()

        sign_in(page, live_server.url, "zhouming")
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        # The decision waiting is the first action, and its form is open.
        assert page.locator("details.action:has(#extension-outcome)").get_attribute("open") is not None
        outcome = page.locator("#extension-outcome")
        shown = outcome.inner_text()
        assert "5个自然日" in shown and due_now in shown, shown
        new_due = outcome.locator("strong").inner_text()
        page.locator("aside").screenshot(path=str(ARTIFACTS / "case-extension-approval.png"))
        page.get_by_role("button", name="同意延期").click()

    case.refresh_from_db()
    assert case.state == "handling"
    assert timezone.localtime(case.resolve_due).strftime("%Y-%m-%d %H:%M") == new_due != due_now
