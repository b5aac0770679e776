"""Every error page is Chinese, phone-sized, on the rating page's layout, and says what to do next:
to applicants about their link, to staff in /console/ and /admin/ about their work."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from haoping import error_pages
from haoping.accounts.models import Membership
from haoping.evaluations.tests.test_rating_page import page_path

APPLICANT_HINTS = ("二维码", "12345")


def assert_branded(html: str) -> None:
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "public/public.css" in html and "<style" not in html and "<script" not in html
    assert 'lang="zh-hans"' in html and "好差评" in html


def assert_for_applicants(html: str) -> None:
    assert_branded(html)
    assert "政务服务“好差评”" in html and "返回工作台" not in html


def assert_for_staff(html: str) -> None:
    assert_branded(html)
    assert "好差评工作台" in html and ("返回工作台" in html or "返回管理后台" in html)
    for hint in APPLICANT_HINTS:
        assert hint not in html, hint


def test_not_found_for_applicants_and_for_staff(db: Any) -> None:
    public = Client().get("/no-such-page/")
    assert public.status_code == 404
    html = public.content.decode()
    assert_for_applicants(html)
    assert "页面不存在" in html and "请核对您收到的链接或二维码" in html
    console = Client().get("/console/no-such-page/")
    assert console.status_code == 404
    html = console.content.decode()
    assert_for_staff(html)
    assert "请从工作台首页重新进入" in html and 'href="/console/"' in html


def test_server_error_for_applicants_and_for_staff(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    with mock.patch("haoping.evaluations.views.slot_state", side_effect=RuntimeError("boom")):
        res = Client(raise_request_exception=False).get(url)
    assert res.status_code == 500
    html = res.content.decode()
    assert_for_applicants(html)
    assert "系统繁忙" in html and "请稍后重新打开评价链接再试" in html
    staff = error_pages.server_error(RequestFactory().get("/console/cases/1/"))
    assert staff.status_code == 500
    html = staff.content.decode()
    assert_for_staff(html)
    assert "系统管理员" in html
    admin = error_pages.server_error(RequestFactory().get("/admin/records/"))
    assert 'href="/admin/"' in admin.content.decode() and "返回管理后台" in admin.content.decode()


def test_a_signed_in_staff_member_gets_staff_pages_over_http(world: dict[str, Any]) -> None:
    user = get_user_model().objects.create_user(username="manager", password="x")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client(raise_request_exception=False)
    client.force_login(user)
    missing = client.get("/console/cases/987654/")
    assert missing.status_code == 404
    assert_for_staff(missing.content.decode())
    assert "请从工作台首页重新进入" in missing.content.decode()
    with mock.patch("haoping.rectification.views.case_list", side_effect=RuntimeError("boom")):
        failed = client.get("/console/")
    assert failed.status_code == 500
    html = failed.content.decode()
    assert_for_staff(html)
    assert "系统管理员" in html and "boom" not in html


def test_bad_request_and_permission_denied_pages(db: Any) -> None:
    factory = RequestFactory()
    for path, check in (("/r/x/", assert_for_applicants), ("/console/", assert_for_staff)):
        bad = error_pages.bad_request(factory.get(path), ValueError())
        assert bad.status_code == 400 and "无法" in bad.content.decode()
        check(bad.content.decode())
        denied = error_pages.permission_denied(factory.get(path), PermissionError())
        assert denied.status_code == 403
        check(denied.content.decode())
    assert "不在您的角色或辖区范围内" in error_pages.permission_denied(factory.get("/console/")).content.decode()
    assert "评价链接或二维码" in error_pages.permission_denied(factory.get("/r/x/")).content.decode()


def test_method_not_allowed_is_a_page_with_its_allow_header(world: dict[str, Any], record_payload: Any) -> None:
    res = Client().put(page_path(world, record_payload))
    assert res.status_code == 405 and res["Allow"] == "GET, HEAD, POST"
    html = res.content.decode()
    assert_for_applicants(html)
    assert "请重新打开您收到的评价链接" in html
    staff = Client().get("/console/logout/")
    assert staff.status_code == 405
    assert_for_staff(staff.content.decode())
    # The API keeps its JSON shape.
    assert Client().get("/api/v1/evaluations").json()["error"] == "method_not_allowed"


def test_an_oversized_rating_is_a_413_page(world: dict[str, Any], record_payload: Any, settings: Any) -> None:
    url = page_path(world, record_payload)
    res = Client().post(url, {"level": "2", "comment": "长" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    assert res.status_code == 413
    html = res.content.decode()
    assert_for_applicants(html)
    assert "缩短意见或建议" in html


@pytest.mark.django_db
def test_a_refused_csrf_check_in_the_console_speaks_to_staff() -> None:
    res = Client(enforce_csrf_checks=True).post("/console/login/", {"username": "a", "password": "b"})
    assert res.status_code == 403
    html = res.content.decode()
    assert_for_staff(html)
    assert "表单已过期" in html and "Cookie" in html and "CSRF" not in html


def test_a_rating_link_that_does_not_hold_says_what_to_do(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    for broken in (url[:-3] + "xx/", "/r/no-such-link/"):
        res = Client().get(broken)
        assert res.status_code in (403, 404)
        html = res.content.decode()
        assert_for_applicants(html)
        assert "请核对您收到的链接或二维码" in html and "12345" in html


def test_the_site_icon_is_served(db: Any) -> None:
    from django.contrib.staticfiles import finders

    res = Client().get("/favicon.ico")
    assert res.status_code == 301 and res["Location"] == "/static/favicon.svg"
    found = finders.find("favicon.svg")
    assert found is not None
    with open(str(found), encoding="utf-8") as icon:
        assert icon.read().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
