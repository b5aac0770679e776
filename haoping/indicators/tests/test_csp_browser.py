"""In Chromium, at phone width and on a desktop, with the Content-Security-Policy on: every page a
person uses works and the browser reports no policy violation (nor any other script error)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.rectification.models import BadReviewCase
from haoping.reports.models import MonthlyReport

PASSWORD = "Qiye-Kaiban-2026"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1366, "height": 900}}


class Console:
    """The browser's console errors and uncaught script errors, page by page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.where = ""
        page.on("console", self.message)
        page.on("pageerror", lambda e: self.errors.append(f"{self.where}: {e}"))

    def message(self, message: Any) -> None:
        # The browser's own request for /favicon.ico (there is none) is no error of a page.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"{self.where}: {message.text} ({message.location.get('url')})")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_pages_work_under_the_policy_without_violations(
    world: dict[str, Any], district: dict[str, str], record_payload: Any, live_server: Any, size: str
) -> None:
    user = get_user_model().objects.create_user(
        username="zhouming", password=PASSWORD, last_name="周", first_name="明", is_staff=True, is_superuser=True
    )
    Membership.objects.create(user=user, role="manager", region=world["district"])
    res = world["api"].post("/records", record_payload(record_no="CSP-R"))
    rate_path = urlsplit(res.json()["completion"]["evaluation_url"]).path
    case = BadReviewCase.objects.order_by("id").first()
    assert case is not None
    report = MonthlyReport.objects.create(
        region=world["district"],
        month=timezone.localdate().replace(day=1),
        requested_by=user,
        created_at=timezone.now(),
    )
    period = f"from={district['from']}&to={district['to']}"
    with chromium_page(viewport=VIEWPORTS[size]) as page:
        console = Console(page)
        url = live_server.url

        def visit(path: str) -> None:
            console.where = path
            response = page.goto(url + path)
            assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]

        # The applicant's rating page.
        visit(rate_path)
        assert page.locator("form").count() >= 1
        page.screenshot(path=str(ARTIFACTS / f"csp-rate-{size}.png"), full_page=True)

        visit("/console/login/")
        page.get_by_label("用户名").fill("zhouming")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(url + "/console/")
        visit("/console/")
        visit(f"/console/cases/{case.pk}/")
        assert case.record.record_no in page.content()

        # The charts, drawn by static/js/charts.js from the page's JSON.
        visit(f"/console/indicators/?{period}")
        page.wait_for_selector("#trend canvas")
        assert page.locator("#levels canvas").count() == 1 and page.locator("#channels canvas").count() == 1
        page.locator("#trend canvas").hover()  # a tooltip, which ECharts builds as styled HTML
        page.screenshot(path=str(ARTIFACTS / f"csp-overview-{size}.png"), full_page=True)

        # A report being built: static/js/report_progress.js follows its status.
        with page.expect_response(lambda r: r.url.endswith(f"/console/reports/{report.pk}/status")):
            visit(f"/console/reports/{report.pk}/")
        MonthlyReport.objects.filter(pk=report.pk).update(state="running", progress=40, step="cases")
        expect(page.locator("#percent")).to_have_text("40%", timeout=15_000)

        # The admin and the API documentation (Swagger UI from our static files).
        visit("/admin/")
        assert page.locator("#site-name").count() == 1
        visit("/admin/auth/user/add/")
        visit("/api/v1/docs")
        page.wait_for_selector(".swagger-ui .info", timeout=30_000)
        assert "好差评" in page.locator(".swagger-ui .info").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"csp-api-docs-{size}.png"))

    assert console.errors == []
