"""In Chromium, at a desktop's 1280 px and a phone's 375 px: the level and channel charts name every
category with its count and share, say which ratings they count, and nothing on the overview is cut
off or pushed past the page's edge."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department

CHART = "id => { const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();"
CHART += " return {type: o.series[0].type, names: o.yAxis[0].data, values: o.series[0].data.map(d => d.value)}; }"
OVERFLOWING = """() => [...document.querySelectorAll('.scroll, .card, section')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className + ':' + e.scrollWidth + '>' + e.clientWidth)"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_charts_name_every_category_and_the_overview_fits(
    world: dict[str, Any], district: dict[str, str], live_server: Any, width: int
) -> None:
    # A unit with a long name, as real ones have: its row of bad reviews must still fit at 1280 px.
    Department.objects.filter(code="D-MKT").update(name="示例市自然资源和规划局（不动产登记中心）不动产登记受理窗口")
    user = get_user_model().objects.create_user(username="zhouming", password="demo-pass-123")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("zhouming")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_server.url + f"/console/indicators/?from={district['from']}&to={district['to']}")
        page.wait_for_selector("#channels canvas")
        # Levels of the six active ratings (R1 5, R2 4, R7 3, R3 2, R5 2, R4 1); the default R6 has none.
        levels = page.evaluate(CHART, "levels")
        assert levels == {
            "type": "bar",
            "names": ["非常满意", "满意", "基本满意", "不满意", "非常不满意"],
            "values": [1, 1, 1, 2, 1],
        }
        assert page.locator("#levels-base").inner_text() == "基数：主动评价 6 条（超时默认评价未选择等级，不计入）。"
        channels = page.evaluate(CHART, "channels")
        assert channels["type"] == "bar" and sum(channels["values"]) == 7
        assert set(channels["names"]) == {"窗口评价器", "移动端", "电话", "默认评价"}
        assert "全部评价 7 条，其中主动评价 6 条、超时默认评价 1 条" in page.locator("#channels-base").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width >= 1280:
            assert page.evaluate(OVERFLOWING) == []
        page.screenshot(path=str(ARTIFACTS / f"indicators-overview-{width}.png"), full_page=True)
