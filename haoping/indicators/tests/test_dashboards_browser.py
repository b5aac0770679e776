"""In Chromium: a district manager signs in, reads the overview (charts drawn) and drills down from
the district to a hall, its windows and a staff member."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overview_and_drill_down(world: dict[str, Any], district: dict[str, str], live_server: Any) -> None:
    user = get_user_model().objects.create_user(
        username="zhouming", password="demo-pass-123", last_name="周", first_name="明"
    )
    Membership.objects.create(user=user, role="manager", region=world["city"])
    period = f"from={district['from']}&to={district['to']}"
    with chromium_page(viewport={"width": 1366, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("zhouming")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_server.url + f"/console/indicators/?{period}")
        assert "示例市 好差评总览" in page.locator("h1").inner_text()
        # ECharts drew the three charts.
        page.wait_for_selector("#trend canvas")
        assert page.locator("#levels canvas").count() == 1 and page.locator("#channels canvas").count() == 1
        page.get_by_role("link", name="玄武区", exact=True).click()
        assert "玄武区 好差评总览" in page.locator("h1").inner_text()
        assert page.locator('[data-rate="good_rate"]').inner_text() == "71.4%"
        page.screenshot(path=str(ARTIFACTS / "indicators-overview.png"), full_page=True)
        page.get_by_role("link", name="玄武区政务服务中心").click()
        assert "玄武区政务服务中心" in page.locator("h1").inner_text()
        windows = page.locator("section", has_text="按窗口").inner_text()
        assert "1号窗口" in windows and "2号窗口" in windows
        page.screenshot(path=str(ARTIFACTS / "indicators-hall.png"), full_page=True)
        page.get_by_role("link", name="李强").click()
        assert page.locator('[data-rate="good_rate"]').inner_text() == "66.7%"
