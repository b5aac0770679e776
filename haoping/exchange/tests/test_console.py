"""/console/exchange/: a manager sees their region's delivery state and resends; others see nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.audit.models import AuditEntry
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.exchange.models import CodeTable, Endpoint, OutgoingRow
from haoping.records.models import ServiceRecord


def login(username: str, role: str, **scope: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(user=user, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows(world: dict[str, Any], record_payload: Any) -> dict[str, OutgoingRow]:
    """Rows of the district in each state, made directly: the page reads what the push left."""
    endpoint = Endpoint.objects.create(
        region=world["city"],
        code_table=CodeTable.objects.get(slug="national"),
        url="http://127.0.0.1:8899/hcp",
        app_mark="m",
        app_word="w",
        sign_private_key="1" * 64,
        sign_public_key="2" * 128,
        data_source="165",
    )
    body = record_payload()
    assert world["api"].post("/records", body).status_code == 201
    record = ServiceRecord.objects.get(record_no=body["record_no"])
    now = timezone.now()
    made: dict[str, OutgoingRow] = {}
    for n, (status, reason, age) in enumerate(
        [
            ("sent", "", 3),
            ("pending", "", 50),
            ("rejected", "事项编码不存在", 5),
            ("transport_error", "HTTP 503: service unavailable", 7),
        ]
    ):
        made[status] = OutgoingRow.objects.create(
            region=world["district"],
            endpoint=endpoint,
            kind="service",
            natural_key=f"service:{record.record_no}:{n + 1}",
            source_key=f"slot:{900 + n}",
            record=record,
            project_no=record.record_no,
            seq=(n + 1) * 100,
            payload={},
            status=status,
            reason=reason,
            created_at=now - dt.timedelta(minutes=age),
        )
    return made


def value(html: str, status: str) -> str:
    return html.split(f'data-status="{status}">')[1].split("<")[0]


def test_a_manager_sees_counts_reasons_and_the_oldest_wait(world: dict[str, Any], rows: Any) -> None:
    for client in (
        login("district", "manager", region=world["district"]),
        login("city", "manager", region=world["city"]),
    ):
        html = client.get("/console/exchange/").content.decode()
        assert [value(html, s) for s in ("pending", "sent", "rejected", "transport_error")] == ["1", "1", "1", "1"]
        assert "事项编码不存在" in html and "HTTP 503" in html
        # The pending row made 50 minutes ago is the oldest waiting.
        assert value(html, "oldest").replace("\xa0", " ").startswith("50")
        assert "向上级平台上报" in html and "Upload" not in html
        # The district's rows go to the city's platform: no word of a missing one.
        assert 'id="no-endpoint"' not in html


def test_other_regions_and_other_roles_see_nothing(world: dict[str, Any], rows: Any) -> None:
    html = login("other", "manager", region=world["other"]).get("/console/exchange/").content.decode()
    assert [value(html, s) for s in ("pending", "sent", "rejected", "transport_error")] == ["0"] * 4
    assert "事项编码不存在" not in html
    handler = login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    assert handler.get("/console/exchange/").status_code == 404
    assert handler.post("/console/exchange/", {"status": ["rejected"]}).status_code == 404


def test_resend_requeues_the_region_rows_and_is_audited(world: dict[str, Any], rows: Any) -> None:
    outsider = login("other", "manager", region=world["other"])
    assert outsider.post("/console/exchange/", {"status": ["rejected", "transport_error"]}).status_code == 302
    assert OutgoingRow.objects.get(pk=rows["rejected"].pk).status == "rejected"

    manager = login("district", "manager", region=world["district"])
    bad = manager.post("/console/exchange/", {"status": ["sent"]})
    assert bad.status_code == 400 and "请选择要重新上报的数据" in bad.content.decode()
    res = manager.post("/console/exchange/", {"status": ["rejected", "transport_error"]})

    assert res.status_code == 302
    assert set(OutgoingRow.objects.values_list("status", flat=True)) == {"pending", "sent"}
    entry = AuditEntry.objects.filter(action="exchange_resend").latest("pk")
    assert entry.actor is not None and entry.actor.username == "district"
    assert entry.target == "region:320102"


def test_resend_needs_the_csrf_token(world: dict[str, Any], rows: Any) -> None:
    user = get_user_model().objects.create_user(username="district", password="pw")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/console/exchange/", {"status": ["rejected"]}).status_code == 403
    assert OutgoingRow.objects.get(pk=rows["rejected"].pk).status == "rejected"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_fits_phone_and_desktop(world: dict[str, Any], rows: Any, live_server: Any, width: int) -> None:
    user = get_user_model().objects.create_user(username="kongwen", password="demo-pass-123")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("kongwen")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_server.url + "/console/exchange/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"exchange-{width}.png"), full_page=True)
        page.get_by_role("button", name="重新上报").click()
        page.wait_for_load_state()
        assert page.locator('[data-status="rejected"]').inner_text() == "0"


def test_a_region_with_no_platform_above_it_is_told_so(world: dict[str, Any]) -> None:
    html = login("district", "manager", region=world["district"]).get("/console/exchange/").content.decode()
    # The page says why nothing goes up, and where a platform is added.
    assert 'id="no-endpoint"' in html and "本辖区尚未配置上级平台" in html and "上级平台接口" in html
