"""In Chromium: a manager given the permission reaches the background jobs' page from the console
menu and sees the late job flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.ops.jobs import CASES_SWEEP, EVALUATIONS_SWEEP, ROLLUPS_UPDATE
from haoping.ops.services import job_run_record


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_administrator_sees_each_job_and_the_late_one(world: dict[str, Any], live_server: Any) -> None:
    now = timezone.now()
    job_run_record(name=EVALUATIONS_SWEEP.name, at=now - dt.timedelta(minutes=2), duration=1.5)
    job_run_record(name=ROLLUPS_UPDATE.name, at=now - dt.timedelta(seconds=20), duration=0.2)
    job_run_record(name=CASES_SWEEP.name, at=now - dt.timedelta(hours=5), duration=0.8)
    job_run_record(name=CASES_SWEEP.name, at=now - dt.timedelta(minutes=1), failure="locked")
    user = get_user_model().objects.create_user(
        username="ops", password="demo-pass-123", last_name="周", first_name="敏"
    )
    Membership.objects.create(user=user, role="manager", region=world["city"])
    user.user_permissions.add(Permission.objects.get(codename="view_jobrun"))

    with chromium_page(viewport={"width": 1280, "height": 700}) as page:
        page.goto(live_server.url + "/console/")
        page.get_by_label("用户名").fill("ops")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="后台任务").click()
        page.wait_for_url("**/console/health/")
        late = page.locator(f'tr[data-job="{CASES_SWEEP.name}"]')
        assert "延迟" in late.inner_text() and "锁被占用" in late.inner_text()
        assert "overdue" in (late.get_attribute("class") or "")
        assert "正常" in page.locator(f'tr[data-job="{EVALUATIONS_SWEEP.name}"]').inner_text()
        page.screenshot(path=str(ARTIFACTS / "ops-health.png"), full_page=True)
