"""In Chromium at 375 px and 1280 px: the handler sees the time left and the counts, gets back what
they typed when a form fails, reads and marks messages; the manager supervises (督办) an escalated
case; the rated staff member's case page shows no record number and no minute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.indicators.tests.test_console_phone_browser import DESKTOP, PHONE, sign_in, user
from haoping.rectification.models import BadReviewCase, CaseEvent
from haoping.rectification.services import cases_sweep
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, at, bad_case


@pytest.fixture
def cases(world: dict[str, Any], record_payload: Any, clock: Clock) -> dict[str, BadReviewCase]:
    clock.set(at(2026, 11, 13, 10, 37))
    api = world["api"]
    late = bad_case(world, record_payload, record_no="BR-LATE-0001")
    clock.set(at(2026, 11, 16, 9))
    assert cases_sweep().overdue == 1
    working = bad_case(world, record_payload, record_no="BR-WORK-0002")
    act_ok(api, working.pk, "contact", note="已电话联系评价人")
    act_ok(api, working.pk, "classify", category="general")
    user("handler", role="handler", department=Department.objects.get(code="D-MKT"))
    user("manager", role="manager", region=world["district"])
    user("staff", role="staff", staff=world["staff"])
    late.refresh_from_db()
    working.refresh_from_db()
    return {"late": late, "working": working}


def fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_deadline_pressure_pages(
    cases: dict[str, BadReviewCase], live_server: Any, clock: Clock, screen: str, tmp_path: Path
) -> None:
    width = 375 if screen == "phone" else 1280
    big = tmp_path / "整改照片.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * settings.HAOPING_EVIDENCE_MAX_BYTES["image"])
    base = live_server.url
    working, late = cases["working"], cases["late"]
    with chromium_page(**(PHONE if screen == "phone" else DESKTOP)) as page:
        sign_in(page, base, "handler")
        page.goto(base + "/console/")
        page.screenshot(path=str(ARTIFACTS / f"deadline-{width}-queue.png"), full_page=True)
        fits(page, width)
        if screen == "phone":
            page.get_by_text("菜单").click()
        nav = page.locator("header nav")
        assert nav.locator("#nav-todo .badge").inner_text() == "2"
        assert nav.locator("#nav-overdue .badge").inner_text() == "1"
        assert nav.locator("#nav-messages .badge").inner_text() == "3"

        page.goto(base + f"/console/cases/{working.pk}/")
        assert "剩余" in page.locator("#time-left").inner_text()
        assert "按工作时间计" in page.locator("#time-left").inner_text()
        # A photo over 5 MB is refused: the description comes back as typed, the file is asked for again.
        page.locator("#rectify-description").fill("增开午间窗口，优化叫号规则")
        page.locator("#rectify-evidence").set_input_files(str(big))
        page.locator("#action-rectify button[type=submit]").click()
        assert "5 MB" in page.get_by_role("alert").inner_text()
        assert page.locator("#rectify-description").input_value() == "增开午间窗口，优化叫号规则"
        assert "请重新选择" in page.locator("#action-rectify").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"deadline-{width}-case-kept.png"), full_page=True)
        fits(page, width)

        page.goto(base + "/console/messages/")
        page.screenshot(path=str(ARTIFACTS / f"deadline-{width}-messages.png"), full_page=True)
        fits(page, width)
        page.get_by_role("button", name="本页全部标为已读").click()
        assert page.locator("tr.unread").count() == 0
        if screen == "phone":
            page.get_by_text("菜单").click()
        assert page.locator("#nav-messages .badge").inner_text() == "0"

        page.context.clear_cookies()
        sign_in(page, base, "manager")
        page.goto(base + f"/console/cases/{late.pk}/")
        page.locator("#supervise-instruction").fill("今日内联系评价人，说明逾期原因")
        page.locator("#supervise-by").fill("2026-11-18")
        page.locator("#action-supervise button[type=submit]").click()
        assert "限 2026-11-18 前办结" in page.locator("#timeline").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"deadline-{width}-supervised.png"), full_page=True)
        fits(page, width)

        page.context.clear_cookies()
        sign_in(page, base, "staff")
        page.goto(base + f"/console/cases/{late.pk}/")
        main = page.locator("main").inner_text()
        assert "BR-LATE-0001" not in main and "10:37" not in main and "2026-11-13" in main
        page.screenshot(path=str(ARTIFACTS / f"deadline-{width}-staff-case.png"), full_page=True)
        fits(page, width)
    assert CaseEvent.objects.filter(case=late, action="supervise").count() == 1
