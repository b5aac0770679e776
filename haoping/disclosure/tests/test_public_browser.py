"""In Chromium, at a phone's and a desktop's width: the published pages and a receipt check read
as they should (screenshots in test-artifacts/), and axe-core finds no WCAG 2.1 AA violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from haoping.browser import ARTIFACTS, PHONE, chromium_page
from haoping.disclosure.tests.test_public_results import manager, publish, this_month
from haoping.evaluations.chain import chain_seal
from haoping.evaluations.models import Evaluation

VIEWPORTS = {"phone": PHONE, "desktop": {"viewport": {"width": 1280, "height": 800}}}
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def axe_violations(page: Any) -> list[str]:
    results = Axe().run(page, options=WCAG_21_AA)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_public_pages_at_a_phone_and_a_desktop(
    world: dict[str, Any], district: dict[str, str], live_server: Any, viewport: str
) -> None:
    publish(manager("m", world["district"]), world["district"])
    chain_seal()
    month = f"{this_month():%Y-%m}"
    receipt = Evaluation.objects.get(record__record_no="R2").receipt
    pages = {
        "index": "/gongkai/",
        "region": f"/gongkai/320102/{month}/",
        "hall": f"/gongkai/320102/{month}/institutions/H-XW/",
        "receipt": "/gongkai/receipt/",
    }
    with chromium_page(**VIEWPORTS[viewport]) as page:
        for name, path in pages.items():
            page.goto(live_server.url + path)
            assert page.locator("h1").count() == 1
            page.screenshot(path=str(ARTIFACTS / f"gongkai-{name}-{viewport}.png"), full_page=True)
            assert axe_violations(page) == [], (name, viewport)
        page.goto(live_server.url + pages["region"])
        assert page.locator('#month [data-rate="good_rate"]').inner_text() == "71.4%"
        # Wide tables scroll in their own box: the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.get_by_role("link", name="玄武区政务服务中心").first.click()
        assert page.locator("h1").inner_text() == "玄武区政务服务中心"
        page.goto(live_server.url + pages["receipt"])
        page.get_by_label("回执码").fill(receipt)
        page.get_by_role("button", name="查验").click()
        assert page.locator("#receipt-level").inner_text() == "满意"
        assert page.locator("#receipt-chain").get_attribute("data-chain") == "sealed"
        page.screenshot(path=str(ARTIFACTS / f"gongkai-receipt-checked-{viewport}.png"), full_page=True)
        assert axe_violations(page) == []
