"""In Chromium: a rating from a browser that keeps no cookie is stored; the QR code renders inside
<img> and reads back as the link; the public and error pages fit a phone and a desktop."""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

import pytest
import zxingcpp
from django.db import OperationalError
from django.test import override_settings
from PIL import Image

from haoping.browser import ARTIFACTS, PHONE, chromium_page
from haoping.evaluations.models import Evaluation
from haoping.rectification.links import revisit_token
from haoping.rectification.tests.support import bad_case, to_replied

WIDTHS = {
    "phone": {**PHONE, "viewport": {"width": 375, "height": 740}},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


def drop_cookies(route: Any) -> None:
    """Like WeChat's and privacy browsers: no cookie is sent, none is kept."""
    headers = {k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
    response = route.fetch(headers=headers, max_redirects=0)
    kept = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
    route.fulfill(response=response, headers=kept)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rate_with_cookies_blocked(world: dict[str, Any], record_payload: Any, live_server: Any) -> None:
    res = world["api"].post("/records", record_payload(record_no="NOCOOKIE-1"))
    path = res.json()["completion"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")
    with chromium_page(**PHONE) as page:
        page.context.route("**/*", drop_cookies)
        page.goto(live_server.url + path + "?via=qr")
        page.get_by_role("radio", name="不满意", exact=True).check()
        page.locator("input[name=reasons][value=efficiency]").check()
        page.locator("#id_comment").fill("没带材料被退回两次")
        page.get_by_role("button", name="提交评价").click()
        receipt = page.locator("#receipt").inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "rate-receipt-no-cookies.png"), full_page=True)
        assert page.context.cookies() == []
    stored = Evaluation.objects.get()
    assert (stored.receipt, stored.level, stored.comment) == (receipt, 2, "没带材料被退回两次")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("kind", ["svg", "png"])
def test_the_qr_code_renders_in_an_img_and_reads_back_as_the_link(
    world: dict[str, Any], record_payload: Any, live_server: Any, kind: str
) -> None:
    res = world["api"].post("/records", record_payload(record_no=f"QR-{kind}"))
    link = res.json()["completion"]["evaluation_url"]
    qr = res.json()["completion"]["qr_url"].removeprefix("http://127.0.0.1:8000").removesuffix(".svg") + "." + kind
    with chromium_page(viewport={"width": 600, "height": 600}) as page:
        page.goto(live_server.url + "/static/public/public.css")  # any page of the site, for its origin
        page.set_content(f'<body style="margin:0;background:#fff"><img id="qr" src="{live_server.url}{qr}"></body>')
        page.wait_for_function("document.getElementById('qr').complete")
        width, height = page.evaluate(
            "[document.getElementById('qr').naturalWidth, document.getElementById('qr').naturalHeight]"
        )
        assert width > 0 and height > 0
        shot = page.locator("#qr").screenshot(path=str(ARTIFACTS / f"qr-in-img.{kind}.png"))
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)).convert("L"))
    assert [code.text for code in decoded] == [link + "?via=qr"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_public_and_error_pages_fit_phone_and_desktop(
    world: dict[str, Any], record_payload: Any, live_server: Any, width: str
) -> None:
    res = world["api"].post("/records", record_payload(record_no=f"FIT-{width}"))
    path = res.json()["completion"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")
    case = bad_case(world, record_payload, record_no=f"FIT-CASE-{width}")
    to_replied(world["api"], case.pk)
    pages = {
        "rate": path,
        "revisit": f"/v/{revisit_token(case.public_id)}/",
        "404": "/no-such-page/",
        "404-console": "/console/no-such-page/",
        "405-console": "/console/logout/",
    }
    with chromium_page(**WIDTHS[width]) as page:
        for name, url in pages.items():
            page.goto(live_server.url + url)
            page.screenshot(path=str(ARTIFACTS / f"page-{name}-{width}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, name
            # The stylesheet applied: the header is the brand's colour, not the browser's default.
            assert (
                page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
                != "rgba(0, 0, 0, 0)"
            )
        # A busy database: the page comes back with the rating still filled in.
        page.goto(live_server.url + path)
        page.get_by_role("radio", name="非常不满意", exact=True).check()
        page.locator("#id_comment").fill("材料清单和窗口要求的不一致")
        with mock.patch("haoping.evaluations.views.evaluation_submit", side_effect=OperationalError("locked")):
            page.get_by_role("button", name="提交评价").click()
        assert "系统繁忙" in page.locator("#unstored").inner_text()
        assert page.locator("#id_comment").input_value() == "材料清单和窗口要求的不一致"
        assert page.get_by_role("radio", name="非常不满意", exact=True).is_checked()
        page.screenshot(path=str(ARTIFACTS / f"page-rate-busy-{width}.png"), full_page=True)
        rated = Evaluation.objects.filter(record__record_no=f"FIT-{width}")
        assert rated.count() == 0
        page.get_by_role("button", name="提交评价").click()
        assert page.locator("#receipt").is_visible() and rated.count() == 1
        # Over the rate: the 429 page.
        with override_settings(HAOPING_PUBLIC_RATE="1/m"):
            # Three requests within a second: a fixed one-minute window can start between two of
            # them, never between both pairs, so one of the last two is over the rate.
            statuses = [answer.status for answer in (page.goto(live_server.url + path) for _ in range(3)) if answer]
            assert statuses[0] == 200 and 429 in statuses[1:], statuses
            if statuses[-1] != 429:
                page.goto(live_server.url + path)
            page.screenshot(path=str(ARTIFACTS / f"page-429-{width}.png"), full_page=True)
            assert "访问过于频繁" in page.locator("main").inner_text()
