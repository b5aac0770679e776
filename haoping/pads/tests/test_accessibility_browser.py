"""axe-core (WCAG 2.1 A and AA rules) in Chromium on every page the public reaches: the rating
page (empty, with an error, in large text, from a kiosk), its receipt and state pages, the revisit
page, the SMS short link's and the error pages, the hall's page, and each state of the pad; each
also at 200 % zoom on a tablet, where nothing may need sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Platform
from haoping.pads.services import pad_register
from haoping.pads.tests.served import api_post, served
from haoping.rectification.links import revisit_token
from haoping.rectification.tests.support import bad_case, to_replied

PORT = 8173
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# A 10-inch tablet in landscape, and the same at 200 % zoom (half the CSS pixels, twice the density).
TABLET = {"viewport": {"width": 1280, "height": 800}, "has_touch": True, "bypass_csp": True}
ZOOMED = {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2, "has_touch": True, "bypass_csp": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "bypass_csp": True}


def _check(page: Any, name: str, found: dict[str, str]) -> None:
    """axe's violations on the page as it is now, and whether it scrolls sideways."""
    results = Axe().run(page, options=WCAG_21_AA)
    if results.violations_count:
        found[name] = results.generate_report()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        found[name + " (scrolls sideways)"] = f"{overflow}px"
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"), full_page=True)


def _walk(base: str, paths: dict[str, str], options: dict[str, Any], suffix: str, found: dict[str, str]) -> None:
    with chromium_page(**options) as page:
        for name, path in paths.items():
            page.goto(base + path)
            _check(page, f"{name}-{suffix}", found)
        # The rating form after a refused submission (its error messages are part of the page).
        page.goto(base + paths["rate"])
        page.locator("label[for=id_level_3]").click()  # 2 stars
        page.locator("button[type=submit]").last.click()
        page.locator("[role=alert]").first.wait_for()
        _check(page, f"rate-error-{suffix}", found)
        # Large text and high contrast.
        page.goto(base + paths["rate"])
        page.locator("#text-size").click()
        page.locator("body.large").wait_for()
        _check(page, f"rate-large-{suffix}", found)
        page.locator("#text-size").click()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_public_page_passes_axe(world: dict[str, Any], record_payload: Any, tmp_path: Path) -> None:
    api = world["api"]
    links = {}
    for no in ("A11Y-1", "A11Y-2"):
        answer = api.post("/records", record_payload(record_no=no)).json()
        links[no] = answer["completion"]["evaluation_url"].split("://", 1)[1].split("/", 1)[1]
    rated_receipt = api.post("/evaluations", {"record_no": "A11Y-2", "level": 5, "channel": "mobile"}).json()
    case = bad_case(world, record_payload, record_no="A11Y-CASE")
    to_replied(api, case.pk)
    home = "https://kiosk.example.gov.cn/"
    Platform.objects.create(code="K-A11Y", name="自助终端", kind="kiosk", region=world["city"], kiosk_return_urls=home)
    manager = Actor(label="周明", roles=frozenset({"manager"}), region=world["district"])
    _pad, code = pad_register(actor=manager, window=world["window"])
    rate = "/" + links["A11Y-1"]
    paths = {
        "rate": rate,
        "rate-kiosk": rate + "?return=" + quote(home, safe=""),
        "receipt": "/" + links["A11Y-2"] + f"done/{rated_receipt['receipt']}/",
        "rated": "/" + links["A11Y-2"],
        "link-unknown": "/r/nothing.here/",
        "short-link-unknown": "/s/ABCDEFGH/",
        "revisit": f"/v/{revisit_token(case.public_id)}/",
        "hall": "/h/H-XW/",
        "not-found": "/no-such-page/",
        "pad-unbound": "/pad/",
    }
    found: dict[str, str] = {}
    cookies: list[Any] = []
    with served(tmp_path, PORT) as base:
        _walk(base, paths, PHONE, "phone", found)
        _walk(base, paths, ZOOMED, "zoom200", found)
        for suffix, options in (("tablet", TABLET), ("zoom200", ZOOMED)):
            with chromium_page(**options) as page:
                page.goto(base + "/pad/")
                if suffix == "tablet":
                    page.locator("#code").fill(code)
                    page.get_by_role("button", name="绑定").click()
                else:
                    page.context.add_cookies(cookies)
                    page.goto(base + "/pad/")
                page.locator("#idle").wait_for()
                cookies = cookies or page.context.cookies()
                _check(page, f"pad-idle-{suffix}", found)
                no = f"A11Y-PAD-{suffix}"
                assert (
                    api_post(
                        base, api.key, "/records", record_payload(record_no=no, on_the_spot=False, completed_at=None)
                    )[0]
                    == 201
                )
                visit = {"window_code": "W-XW-01", "staff_no": "S001", "at": timezone.now().isoformat()}
                assert api_post(base, api.key, f"/records/{no}/visits", visit)[0] == 201
                page.locator("#rating").wait_for(timeout=5000)
                _check(page, f"pad-rating-{suffix}", found)
                page.locator("label[for=level-2]").click()
                page.locator("#submit-rating").click()
                page.locator("#pad-error").wait_for()
                _check(page, f"pad-rating-error-{suffix}", found)
                page.locator("label[for=reason-attitude]").click()
                page.locator("#submit-rating").click()
                page.locator("#thanks").wait_for()
                _check(page, f"pad-thanks-{suffix}", found)
                page.goto(base + "/pad/hall/")
                _check(page, f"pad-hall-{suffix}", found)
                page.goto(base + "/text-size/?large=1&next=/pad/")
                page.locator("body.large #idle").wait_for()
                _check(page, f"pad-idle-large-{suffix}", found)
                page.goto(base + "/text-size/?large=0&next=/pad/")
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", rated_receipt["receipt"])
