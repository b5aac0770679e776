"""In Chromium: a district manager signs in, reads the overview (charts drawn, by day and by week),
drills down from the district to a hall, one of its windows and the staff member there, reads the
rankings, then has the month's report built and downloads its Excel workbook."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from openpyxl import load_workbook

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overview_and_drill_down(
    world: dict[str, Any], district: dict[str, str], live_server: Any, huey_immediate: Any
) -> None:
    user = get_user_model().objects.create_user(
        username="zhouming", password="demo-pass-123", last_name="周", first_name="明"
    )
    Membership.objects.create(user=user, role="manager", region=world["district"])
    period = f"from={district['from']}&to={district['to']}"
    with chromium_page(viewport={"width": 1366, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("zhouming")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_server.url + f"/console/indicators/?{period}")
        assert "玄武区 好差评总览" in page.locator("h1").inner_text()
        # ECharts drew the three charts.
        page.wait_for_selector("#trend canvas")
        assert page.locator("#levels canvas").count() == 1 and page.locator("#channels canvas").count() == 1
        assert page.locator('[data-rate="good_rate"]').inner_text() == "71.4%"
        page.screenshot(path=str(ARTIFACTS / "indicators-overview.png"), full_page=True)
        page.locator("#trend-toggle").get_by_role("link", name="按周").click()
        assert "每周趋势" in page.locator(".charts h2").first.inner_text()
        page.wait_for_selector("#trend canvas")
        assert page.locator('[data-rate="good_rate"]').inner_text() == "71.4%"
        page.get_by_role("link", name="玄武区政务服务中心").click()
        assert "玄武区政务服务中心" in page.locator("h1").inner_text()
        windows = page.locator("section", has_text="按窗口").inner_text()
        assert "1号窗口" in windows and "2号窗口" in windows
        page.screenshot(path=str(ARTIFACTS / "indicators-hall.png"), full_page=True)
        page.get_by_role("link", name="2号窗口").click()
        assert "2号窗口" in page.locator("h1").inner_text()
        # Window 2: R4 (not adopted), R5 (bad), R6 (default): 2 of 3 good.
        assert page.locator('[data-rate="good_rate"]').inner_text() == "66.7%"
        page.wait_for_selector("#trend canvas")
        page.screenshot(path=str(ARTIFACTS / "indicators-window.png"), full_page=True)
        page.get_by_role("link", name="李强").click()
        assert "李强" in page.locator("h1").inner_text()
        assert page.locator('[data-rate="good_rate"]').inner_text() == "66.7%"
        page.goto(live_server.url + f"/console/indicators/rankings/?{period}&by=staff&min=1")
        assert "排名" in page.locator("h1").inner_text()
        assert "李强" in page.locator("#ranking").inner_text()
        page.screenshot(path=str(ARTIFACTS / "indicators-rankings.png"), full_page=True)

        # The report of the fixture's month; huey runs the build at once, inside the request.
        page.get_by_role("link", name="月度报告").click()
        today = timezone.localdate()
        page.get_by_label("区域").select_option(label="玄武区（320102）")
        page.get_by_label("月份").fill(f"{today:%Y-%m}")
        page.screenshot(path=str(ARTIFACTS / "reports-list.png"), full_page=True)
        page.get_by_role("button", name="生成报告").click()
        page.wait_for_selector("#downloads", timeout=60_000)
        assert page.locator("#state").inner_text() == "已完成"
        with page.expect_download() as download:
            page.get_by_role("link", name="下载 Excel").click()
        assert download.value.suggested_filename == f"玄武区{today.year}年{today.month}月好差评月度报告.xlsx"
        with open(download.value.path(), "rb") as workbook:
            book = load_workbook(workbook)
        rates = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=4, values_only=True)}
        # Active good rate: R1 and R2 of the five adopted active ratings (R6, the default, is not one).
        assert rates["主动评价好评率"] == pytest.approx(0.4)
        halls = {row[0]: row for row in book["按政务服务机构"].iter_rows(min_row=4, values_only=True)}
        assert halls["玄武区政务服务中心"][-1] == 2
        page.screenshot(path=str(ARTIFACTS / "reports-done.png"), full_page=True)
