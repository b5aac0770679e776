"""`/api/docs` works on a network that reaches nothing but this server (政务外网, intranets): in
Chromium, with every request to another host refused, Swagger UI loads from our own static files
under a policy without 'unsafe-inline', and shows every operation with its Chinese description."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from haoping.api import api
from haoping.browser import ARTIFACTS, chromium_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_api_docs_render_offline_in_chinese(live_server: Any) -> None:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    operations = [op for item in schema["paths"].values() for op in item.values()]
    own = urlsplit(live_server.url).netloc
    refused: list[str] = []
    problems: list[str] = []
    with chromium_page(viewport={"width": 1366, "height": 900}) as page:

        def only_this_server(route: Any) -> None:
            if urlsplit(route.request.url).netloc == own:
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        response = page.goto(live_server.url + "/api/docs")
        assert response is not None and response.url == live_server.url + "/api/v1/docs"
        policy = response.headers["content-security-policy"]
        assert "style-src 'self';" in policy and "unsafe-inline" not in policy
        assert page.title() == "接口文档 · 好差评 API"
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        # Every operation, under its Chinese tag, with its Chinese summary.
        assert page.locator(".swagger-ui .opblock").count() == len(operations)
        for tag in ("办件", "评价", "差评工单", "评价指标"):
            assert page.locator(f".swagger-ui .opblock-tag[data-tag='{tag}']").count() == 1
        for operation in operations:
            assert page.locator(".opblock-summary-description", has_text=operation["summary"]).count() == 1
        assert "好差评系统的 JSON 接口" in page.locator(".swagger-ui .info").inner_text()
        page.screenshot(path=str(ARTIFACTS / "api-docs-offline-top.png"), full_page=False)
        # An operation opened: its description, its parameters' descriptions and the code list.
        page.locator(".opblock-summary-description", has_text="查询工单列表").click()
        block = page.locator(".opblock.is-open")
        block.locator(".parameters").wait_for()
        text = block.inner_text()
        assert "密钥所属区划及其下级区划的工单" in text
        assert "只返回该办件编号的工单" in text and "open 待联系核实" in text
        page.screenshot(path=str(ARTIFACTS / "api-docs-offline.png"), full_page=False)
        # The request body's example of a main operation.
        page.locator(".opblock-summary-description", has_text="登记办件").click()
        page.get_by_text("320102-2026-000123").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "api-docs-offline-example.png"), full_page=False)
    assert refused == []
    assert problems == []
