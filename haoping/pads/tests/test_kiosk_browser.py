"""In Chromium: a kiosk's applicant rates and the page goes back to the kiosk's home by itself."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Platform
from haoping.evaluations.models import Evaluation


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_the_rating_the_kiosk_gets_its_home_back(
    world: dict[str, Any], record_payload: Any, live_server: Any
) -> None:
    # The kiosk's home: any page on a listed host and path (here one of this server's).
    home = live_server.url + "/h/H-XW/"
    Platform.objects.create(code="K-1", name="自助终端", kind="kiosk", region=world["district"], kiosk_return_urls=home)
    answer = world["api"].post("/records", record_payload(record_no="KIOSK-B")).json()
    path = answer["completion"]["evaluation_url"].split("://", 1)[1].split("/", 1)[1]
    with chromium_page(viewport={"width": 1080, "height": 1920}, has_touch=True) as page:
        page.goto(f"{live_server.url}/{path}?return={quote(home, safe='')}")
        page.get_by_role("radio", name="非常满意", exact=True).check()
        page.get_by_role("button", name="提交评价").click()
        page.locator("#receipt").wait_for()
        page.screenshot(path=str(ARTIFACTS / "kiosk-receipt.png"))
        started = time.monotonic()
        page.wait_for_url(home, timeout=15_000)
        waited = time.monotonic() - started
    assert 8 < waited < 14, waited
    assert Evaluation.objects.get().channel == "kiosk"
