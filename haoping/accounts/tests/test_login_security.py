"""Console and admin sign-in as a 等保 2.0 level-3 review expects: repeated failures lock the
account and the address (with audit rows), passwords are validated, sessions end when idle, and
over HTTPS the cookies are Secure with HSTS on."""

from __future__ import annotations

import datetime as dt
import runpy
from http.cookies import Morsel
from typing import Any

import pytest
from axes import attempts as axes_attempts
from axes.handlers import proxy as axes_proxy
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

import haoping.settings as haoping_settings
from haoping.accounts.models import Membership

PASSWORD = "Qiye-Kaiban-2026"
LIMIT = 5  # HAOPING_LOGIN_FAILURE_LIMIT's default
ADDRESS_LIMIT = 30  # HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT's default


@pytest.fixture
def manager(world: dict[str, Any]) -> Any:
    user = get_user_model().objects.create_user(username="limin", password=PASSWORD, first_name="敏", last_name="李")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    return user


def sign_in(
    client: Client, username: str, password: str, *, address: str = "10.0.0.1", path: str = "/console/login/"
) -> Any:
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_an_account_is_locked_after_repeated_failures_from_any_address(manager: Any) -> None:
    for n in range(LIMIT - 1):
        res = sign_in(Client(), "limin", f"wrong-{n}", address=f"10.0.0.{n + 1}")
        assert res.status_code == 200 and "用户名或密码错误" in res.content.decode()
    # The fifth failure locks the account: it answers the lockout page, and so does the right
    # password afterwards, from yet another address.
    assert sign_in(Client(), "limin", "wrong-5", address="10.0.0.5").status_code == 429
    res = sign_in(Client(), "limin", PASSWORD, address="10.9.9.9")
    assert res.status_code == 429
    page = res.content.decode()
    assert "登录已锁定" in page and "30 分钟" in page
    assert "_auth_user_id" not in Client().session
    # axes keeps the audit trail: one failure row per attempt, the counter per user name.
    assert AccessFailureLog.objects.filter(username="limin").count() == LIMIT + 1
    assert AccessAttempt.objects.filter(username="limin").exists()
    assert not AccessLog.objects.filter(username="limin").exists()  # never signed in


def test_one_persons_failures_do_not_lock_others_at_the_same_address(manager: Any) -> None:
    # A hall's windows share one address: a colleague's typos lock only the colleague's account.
    for _ in range(LIMIT):
        sign_in(Client(), "colleague", "wrong", address="10.1.1.1")
    assert sign_in(Client(), "colleague", "wrong", address="10.1.1.1").status_code == 429
    assert sign_in(Client(), "limin", PASSWORD, address="10.1.1.1").status_code == 302


def test_an_address_is_locked_after_repeated_failures_for_any_account(manager: Any) -> None:
    for n in range(ADDRESS_LIMIT - 1):
        assert sign_in(Client(), f"guess{n}", "wrong", address="10.1.1.1").status_code == 200
    assert sign_in(Client(), "guess", "wrong", address="10.1.1.1").status_code == 429
    assert sign_in(Client(), "limin", PASSWORD, address="10.1.1.1").status_code == 429
    # The account itself is not locked: from another address it signs in.
    assert sign_in(Client(), "limin", PASSWORD, address="10.2.2.2").status_code == 302
    assert AccessLog.objects.filter(username="limin", ip_address="10.2.2.2").count() == 1


def test_the_admin_login_is_locked_the_same_way(manager: Any) -> None:
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    for _ in range(LIMIT - 1):
        assert sign_in(Client(), "limin", "wrong", path="/admin/login/").status_code == 200
    assert sign_in(Client(), "limin", "wrong", path="/admin/login/").status_code == 429
    res = sign_in(Client(), "limin", PASSWORD, path="/admin/login/")
    assert res.status_code == 429 and "登录已锁定" in res.content.decode()


def test_a_success_clears_earlier_failures_and_the_lock_ends_after_the_cool_off(
    manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(LIMIT - 1):
        sign_in(Client(), "limin", "wrong")
    assert sign_in(Client(), "limin", PASSWORD).status_code == 302
    # The counter started again: four more failures do not lock.
    for _ in range(LIMIT - 1):
        sign_in(Client(), "limin", "wrong")
    assert sign_in(Client(), "limin", PASSWORD).status_code == 302
    for _ in range(LIMIT):
        sign_in(Client(), "limin", "wrong")
    assert sign_in(Client(), "limin", PASSWORD).status_code == 429
    later = timezone.now() + dt.timedelta(minutes=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(axes_attempts, "now", lambda: later)
    monkeypatch.setattr(axes_proxy, "now", lambda: later)
    assert sign_in(Client(), "limin", PASSWORD).status_code == 302


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAOPING_LOGIN_FAILURE_LIMIT", "3")
    monkeypatch.setenv("HAOPING_LOGIN_LOCKOUT_MINUTES", "15")
    monkeypatch.setenv("SESSION_COOKIE_AGE", "900")
    monkeypatch.setenv("HAOPING_PASSWORD_MIN_LENGTH", "12")
    fresh = runpy.run_path(haoping_settings.__file__)
    assert fresh["AXES_FAILURE_LIMIT"] == 3
    assert fresh["AXES_COOLOFF_TIME"] == dt.timedelta(minutes=15)
    assert fresh["SESSION_COOKIE_AGE"] == 900
    lengths = [v["OPTIONS"]["min_length"] for v in fresh["AUTH_PASSWORD_VALIDATORS"] if "MinimumLength" in v["NAME"]]
    assert lengths == [12]


# ---------------------------------------------------------------------------------------------
# Passwords


@pytest.fixture
def admin_client(db: Any) -> Client:
    admin = get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    ("username", "password", "says"),
    [
        ("wangfang", "84736291057", "只包含数字"),  # all digits
        ("wangfang", "wangfang-2026", "太相似"),  # like the user name
        ("wangfang", "Ab1!x", "太短"),  # shorter than 8
        ("wangfang", "password1!", "太常见"),  # a common password
        ("wangfang", "Shouli-Tongguo", "至少 1 个数字"),  # no digit
        ("wangfang", "Shouli2026Tongguo", "特殊符号"),  # no symbol
    ],
)
def test_the_admin_refuses_a_weak_password(admin_client: Client, username: str, password: str, says: str) -> None:
    res = admin_client.post(
        "/admin/auth/user/add/",
        {"username": username, "usable_password": "true", "password1": password, "password2": password},
    )
    assert res.status_code == 200, "the form comes back with the reason"
    assert says in res.content.decode()
    assert not get_user_model().objects.filter(username=username).exists()


def test_the_admin_accepts_a_strong_password(admin_client: Client) -> None:
    res = admin_client.post(
        "/admin/auth/user/add/",
        {"username": "wangfang", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert res.status_code == 302
    assert get_user_model().objects.get(username="wangfang").check_password(PASSWORD)


# ---------------------------------------------------------------------------------------------
# Sessions


def test_a_session_ends_after_30_minutes_without_use_and_lasts_while_used(
    manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    assert sign_in(client, "limin", PASSWORD).status_code == 302
    for minutes in (20, 45, 70):  # each request within 30 minutes of the one before
        clock["now"] = start + dt.timedelta(minutes=minutes)
        assert client.get("/console/").status_code == 200, minutes
    clock["now"] = start + dt.timedelta(minutes=70 + 31)
    res = client.get("/console/")
    assert res.status_code == 302 and res["Location"].startswith("/console/login/")


def test_browsing_writes_the_session_at_most_once_a_minute(manager: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    sign_in(client, "limin", PASSWORD)
    signed_in = Session.objects.get().expire_date
    for seconds in (1, 20, 59):
        clock["now"] = start + dt.timedelta(seconds=seconds)
        assert client.get("/console/").status_code == 200
        assert Session.objects.get().expire_date == signed_in
    clock["now"] = start + dt.timedelta(seconds=61)
    assert client.get("/console/").status_code == 200
    assert Session.objects.get().expire_date == clock["now"] + dt.timedelta(seconds=1800)


# ---------------------------------------------------------------------------------------------
# HTTPS


@pytest.fixture
def https(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings module as it reads HAOPING_HTTPS=1 behind a proxy that sets X-Forwarded-Proto."""
    monkeypatch.setenv("HAOPING_HTTPS", "1")
    monkeypatch.setenv("HAOPING_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    fresh = runpy.run_path(haoping_settings.__file__)
    for name, value in fresh.items():
        if name.startswith(("SESSION_", "CSRF_", "SECURE_")):
            setattr(settings, name, value)


def cookie(res: Any, name: str) -> Morsel[str]:
    return res.cookies[name]


def test_over_https_cookies_are_secure_httponly_samesite_and_hsts_is_on(https: None, manager: Any) -> None:
    client = Client()
    page = client.get("/console/login/", HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    csrf = cookie(page, "csrftoken")
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    res = client.post(
        "/console/login/",
        {"username": "limin", "password": PASSWORD},
        HTTP_X_FORWARDED_PROTO="https",
        REMOTE_ADDR="10.0.0.1",
    )
    assert res.status_code == 302
    session = cookie(res, "sessionid")
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == ""  # gone when the browser closes; the server ends it when idle


def test_over_https_plain_http_is_redirected(https: None) -> None:
    res = Client().get("/console/login/")
    assert res.status_code == 301 and res["Location"] == "https://testserver/console/login/"


def test_without_https_the_cookies_can_travel_over_http(db: Any) -> None:
    page = Client().get("/console/login/")
    assert not page.has_header("Strict-Transport-Security")
    csrf = cookie(page, "csrftoken")
    assert not csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
