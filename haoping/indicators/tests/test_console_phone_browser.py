"""In Chromium at 375 px (a phone) and at 1280 px: every console page a handler, a manager or a staff
member opens fits the width of the screen (wide tables scroll in their own box or become cards,
charts follow the width), and the navigation folds under a menu button that works without
JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.indicators.services import rollups_update
from haoping.rectification.models import BadReviewCase
from haoping.reports.models import MonthlyReport

PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LONG_COMMENT = "窗口工作人员一直让我回去补材料但是从来没有一次性告知到底缺什么" * 4


def user(username: str, **membership: Any) -> None:
    account = get_user_model().objects.create_user(username=username, password="demo-pass-123")
    Membership.objects.create(user=account, **membership)


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-pass-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def overflow(page: Any) -> int:
    """How far the page is wider than the screen (0 when it fits)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


@pytest.fixture
def console_world(world: dict[str, Any], district: dict[str, str], record_payload: Any) -> dict[str, Any]:
    api = world["api"]
    assert api.post("/records", record_payload(record_no="PHONE-LONG-RECORD-NUMBER-2024-000001")).status_code == 201
    body = {"record_no": "PHONE-LONG-RECORD-NUMBER-2024-000001", "level": 1, "channel": "pad", "comment": LONG_COMMENT}
    assert api.post("/evaluations", body).status_code == 201
    case = BadReviewCase.objects.get(record__record_no="PHONE-LONG-RECORD-NUMBER-2024-000001")
    appeal = api.post(f"/cases/{case.pk}/appeal", {"reasons": "办事群众所述情况与监控记录不符，" * 6})
    assert appeal.status_code in (200, 201), appeal.json()
    rollups_update()
    now = timezone.now()
    month = timezone.localdate().replace(day=1)
    MonthlyReport.objects.create(region=world["district"], month=month, state="done", progress=100, created_at=now)
    MonthlyReport.objects.create(
        region=world["district"], month=month - dt.timedelta(days=1), state="failed", progress=40, created_at=now
    )
    user("manager", role="manager", region=world["district"])
    user("handler", role="handler", department=Department.objects.get(code="D-MKT"))
    user("staff", role="staff", staff=world["staff"])
    period = f"from={district['from']}&to={district['to']}"
    return {"case": case, "period": period}


def pages(console_world: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(who, name, path) of each page checked."""
    case, period = console_world["case"], console_world["period"]
    return [
        ("handler", "queue", "/console/"),
        ("handler", "case", f"/console/cases/{case.pk}/"),
        ("handler", "messages", "/console/messages/"),
        ("manager", "overview", f"/console/indicators/?{period}"),
        ("manager", "hall", f"/console/indicators/institution/H-XW/?{period}"),
        ("manager", "rankings", f"/console/indicators/rankings/?{period}&by=staff&min=1"),
        ("manager", "problems", f"/console/indicators/problems/?{period}"),
        ("manager", "reports", "/console/reports/"),
        ("manager", "appeals", "/console/appeals/"),
        ("manager", "manager-case", f"/console/cases/{case.pk}/"),
        ("manager", "comments", "/console/comments/"),
        ("manager", "pads", "/console/pads/"),
        ("manager", "paper", "/console/paper/"),
        ("manager", "disclosure", "/console/disclosure/"),
        ("manager", "exchange", "/console/exchange/"),
        ("staff", "my-ratings", f"/console/my/?{period}"),
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_console_pages_fit_the_screen(console_world: dict[str, Any], live_server: Any, screen: str) -> None:
    width = 375 if screen == "phone" else 1280
    checked = pages(console_world)
    with chromium_page(**(PHONE if screen == "phone" else DESKTOP)) as page:
        signed_in = None
        for who, name, path in checked:
            if who != signed_in:
                page.context.clear_cookies()
                sign_in(page, live_server.url, who)
                signed_in = who
            page.goto(live_server.url + path)
            if name in ("overview", "hall"):
                page.wait_for_selector("#trend canvas")
                page.wait_for_timeout(300)  # the charts' resize after the first layout
            page.screenshot(path=str(ARTIFACTS / f"console-{width}-{name}.png"), full_page=True)
            # A phone widens its layout to fit a page that overflows: both widths must stay the screen's.
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            assert page.evaluate("window.innerWidth") == width, name
            if name == "overview":
                # Every chart is drawn within the screen.
                for chart in ("trend", "levels", "channels"):
                    box = page.locator(f"#{chart} canvas").bounding_box()
                    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, chart


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_menu_folds_on_a_phone_and_opens_without_javascript(
    console_world: dict[str, Any], live_server: Any
) -> None:
    with chromium_page(**PHONE, java_script_enabled=False) as page:
        sign_in(page, live_server.url, "manager")
        page.goto(live_server.url + "/console/")
        rankings = page.locator("header nav").get_by_role("link", name="排名")
        assert not rankings.is_visible()
        page.get_by_text("菜单").click()
        assert rankings.is_visible() and page.get_by_role("button", name="退出").is_visible()
        page.screenshot(path=str(ARTIFACTS / "console-375-menu.png"), full_page=True)
        assert overflow(page) <= 0
        rankings.click()
        assert "排名" in page.locator("h1").inner_text()
        assert not page.locator("header nav").get_by_role("link", name="排名").is_visible()
        # From the keyboard too.
        page.get_by_role("checkbox", name="菜单").focus()
        page.keyboard.press("Space")
        assert page.locator("header nav").get_by_role("link", name="堵点难点").is_visible()
    with chromium_page(**DESKTOP) as page:
        sign_in(page, live_server.url, "manager")
        page.goto(live_server.url + "/console/")
        # On a desktop the whole menu shows at once, and no menu button.
        assert page.locator("header nav").get_by_role("link", name="排名").is_visible()
        assert not page.get_by_text("菜单").is_visible()
