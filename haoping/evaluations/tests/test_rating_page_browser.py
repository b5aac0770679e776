"""In Chromium at phone size: rate 2 with a reason, see the receipt, then the link says rated."""

from __future__ import annotations

from typing import Any

import pytest

from haoping.browser import ARTIFACTS, PHONE, chromium_page
from haoping.evaluations.models import Evaluation


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rate_on_a_phone(world: dict[str, Any], record_payload: Any, live_server: Any) -> None:
    res = world["api"].post("/records", record_payload(record_no="PHONE-1"))
    path = res.json()["completion"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")
    with chromium_page(**PHONE) as page:
        page.goto(live_server.url + path + "?via=qr")
        assert page.get_by_text("企业开办").is_visible()
        page.get_by_role("radio", name="不满意", exact=True).check()
        page.screenshot(path=str(ARTIFACTS / "rate-form-phone.png"), full_page=True)
        page.get_by_role("button", name="提交评价").click()
        # Without a reason the page asks for one, and nothing is stored.
        assert page.get_by_role("alert").first.inner_text().find("请选择原因或填写意见") >= 0
        assert Evaluation.objects.count() == 0
        page.get_by_role("radio", name="不满意", exact=True).check()
        page.locator("input[name=reasons][value=efficiency]").check()
        page.locator("#id_comment").fill("取号后等了一个多小时")
        page.get_by_role("button", name="提交评价").click()
        receipt = page.locator("#receipt").inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "rate-receipt-phone.png"), full_page=True)
        stored = Evaluation.objects.get()
        assert receipt == stored.receipt
        assert (stored.level, stored.channel, stored.reasons) == (2, "qrcode", ["efficiency"])
        assert page.locator("#rated-level").inner_text() == "不满意"

        page.goto(live_server.url + path)
        assert "已评价" in page.locator("main").inner_text()
        assert page.locator("input[name=level]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "rate-already-rated-phone.png"), full_page=True)
    assert Evaluation.objects.count() == 1
