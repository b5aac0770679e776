"""In Chromium: a handler takes one bad rating through contact → classify general → rectify with an
evidence file → answer; the evaluator says they are satisfied through the link they were sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase, Evidence, Message

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5277ede0000000049454e44ae426082"
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bad_rating_from_case_to_satisfied_evaluator(
    world: dict[str, Any], record_payload: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = live_server.url
    api = world["api"]
    assert api.post("/records", record_payload(record_no="PW-1")).status_code == 201
    rated = api.post(
        "/evaluations",
        {"record_no": "PW-1", "level": 1, "channel": "pad", "reasons": ["efficiency"], "comment": "排队两个小时"},
    )
    assert rated.status_code == 201
    case = BadReviewCase.objects.get()
    user = get_user_model().objects.create_user(
        username="wangli", password="demo-pass-123", last_name="王", first_name="丽"
    )
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    photo = tmp_path / "整改后窗口.png"
    photo.write_bytes(PNG)

    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(live_server.url + "/console/")
        page.get_by_label("用户名").fill("wangli")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name=f"#{case.pk}").click()
        assert "排队两个小时" in page.locator("main").inner_text()

        page.get_by_label("回访情况及核实结果").fill("已电话联系办事群众，核实当日取号后等候时间过长，情况属实。")
        page.get_by_role("button", name="联系核实").click()
        page.get_by_label("类别").select_option("general")
        page.get_by_role("button", name="定性分类").click()
        page.get_by_label("整改情况").fill("增开午间窗口，优化叫号规则，对窗口人员进行提醒谈话。")
        page.locator("input[type=file][name=evidence]").first.set_input_files(str(photo))
        page.get_by_role("button", name="整改", exact=True).click()
        page.get_by_label("反馈给评价人的内容（短信发送，附满意度回访链接）").fill(
            "您反映的等候时间过长问题已整改，感谢监督。"
        )
        page.get_by_role("button", name="反馈评价人").click()
        assert "待回访" in page.locator("h1").inner_text()
        page.locator("#timeline").screenshot(path=str(ARTIFACTS / "case-timeline-replied.png"))

        link = Message.objects.get(case=case, kind="answer").link
        page.goto(link)
        assert "您反映的等候时间过长问题已整改" in page.locator("main").inner_text()
        page.get_by_label("满意", exact=True).check()
        page.get_by_role("button", name="提交").click()
        assert "您对整改结果表示满意" in page.locator("main").inner_text()

        page.goto(live_server.url + f"/console/cases/{case.pk}/")
        assert "已办结" in page.locator("h1").inner_text()
        timeline = page.locator("#timeline").inner_text()
        for step in ("生成工单", "联系核实", "定性分类", "整改", "反馈评价人", "登记回访结果"):
            assert step in timeline, step
        page.locator("#timeline").screenshot(path=str(ARTIFACTS / "case-timeline.png"))
        page.screenshot(path=str(ARTIFACTS / "case-closed.png"), full_page=True)

    case.refresh_from_db()
    assert (case.state, case.category, case.satisfied) == ("closed", "general", True)
    assert list(case.events.values_list("action", flat=True)) == [
        "open",
        "contact",
        "classify",
        "rectify",
        "reply",
        "revisit",
    ]
    assert Evidence.objects.get(case=case).sha256
