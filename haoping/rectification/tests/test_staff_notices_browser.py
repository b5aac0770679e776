"""In Chromium, on a phone and on a desk: the rated staff member reads the notices of a bad review and of
their appeal's decision, files an appeal on the case page, and finds it on their 申诉 page with its state
and deadline."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Staff
from haoping.rectification.models import BadReviewCase
from haoping.rectification.services import appeal_decide, cases_sweep
from haoping.rectification.tests.support import console_actor, rate, register


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_the_rated_staff_member_reads_notices_and_their_appeals(
    world: dict[str, Any], record_payload: Any, live_server: Any, width: int
) -> None:
    user = get_user_model().objects.create_user(username="wangfang", password="demo-pass-123", last_name="王")
    Membership.objects.create(user=user, role="staff", staff=Staff.objects.get(staff_no="S001"))
    body = record_payload()
    register(world["api"], body)
    rate(world["api"], record_no=body["record_no"], level=1, comment="我是张三，窗口人员一直在玩手机，态度很差")
    case = BadReviewCase.objects.get(record__record_no=body["record_no"])
    assert cases_sweep().told == 1

    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("wangfang")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()

        page.goto(live_server.url + "/console/appeals/")
        assert f"#{case.pk}" in page.locator("#appealable").inner_text()
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        page.locator("#appeal-reasons").fill("当时系统故障导致等待，非本人服务态度问题")
        page.get_by_role("button", name="提出申诉").click()

        manager = console_actor(f"zhou{width}", "manager", region=world["district"])
        appeal_decide(actor=manager, appeal=case.appeals.get(), upheld=False, note="经调取监控，张三反映属实")

        page.goto(live_server.url + "/console/messages/")
        text = page.locator("table").inner_text()
        assert "差评通知" in text and "申诉复核" in text and "张三" not in text and body["record_no"] not in text
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"staff-notices-{width}.png"), full_page=True)

        if width < 700:
            page.locator(".menu-button").click()  # the phone's menu
        page.locator("#nav-own-appeals").click()
        own = page.locator("#own-appeals").inner_text()
        assert "申诉不成立" in own and "张三" not in own
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"staff-appeals-{width}.png"), full_page=True)
