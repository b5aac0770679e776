"""Each periodic job's last success: recorded by its task, read by `manage.py health` and the console."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from huey.exceptions import TaskLockedException

from haoping.accounts.models import Membership
from haoping.ops import queue
from haoping.ops.jobs import CASES_SWEEP, EVALUATIONS_SWEEP, JOBS, ROLLUPS_UPDATE, recorded
from haoping.ops.models import JobRun
from haoping.ops.services import job_run_record


def _all_succeeded(ago: dt.timedelta = dt.timedelta(seconds=30)) -> None:
    for job in JOBS:
        job_run_record(name=job.name, at=timezone.now() - ago, duration=0.25)


@pytest.mark.django_db
def test_each_periodic_task_records_its_success() -> None:
    from haoping.evaluations.tasks import sweep
    from haoping.indicators.tasks import update_rollups_periodically
    from haoping.rectification.tasks import sweep_cases

    before = timezone.now()
    sweep.call_local()
    update_rollups_periodically.call_local()
    sweep_cases.call_local()
    runs = {run.name: run for run in JobRun.objects.all()}
    assert set(runs) == {EVALUATIONS_SWEEP.name, ROLLUPS_UPDATE.name, CASES_SWEEP.name}
    for run in runs.values():
        assert run.last_success_at is not None and run.last_success_at >= before
        assert run.last_duration is not None and run.last_duration >= 0
        assert run.last_failure_at is None


@pytest.mark.django_db
def test_a_run_locked_out_or_failing_is_recorded_as_a_failure_and_still_raised() -> None:
    @recorded(CASES_SWEEP)
    def locked_out() -> None:
        raise TaskLockedException("unable to acquire lock cases-sweep")

    @recorded(ROLLUPS_UPDATE)
    def failing() -> None:
        raise ZeroDivisionError("a text that is never stored")

    with pytest.raises(TaskLockedException):
        locked_out()
    with pytest.raises(ZeroDivisionError):
        failing()
    assert JobRun.objects.get(name=CASES_SWEEP.name).last_failure == "locked"
    rollups = JobRun.objects.get(name=ROLLUPS_UPDATE.name)
    assert rollups.last_failure == "ZeroDivisionError" and rollups.last_success_at is None


@pytest.mark.django_db
def test_health_passes_when_every_job_succeeded_lately() -> None:
    _all_succeeded()
    out = _health()
    for job in JOBS:
        assert f"{job.name}: ok, last success" in out


@pytest.mark.django_db
def test_health_fails_when_a_job_is_late_or_never_ran() -> None:
    _all_succeeded()
    # The rollups run every minute: late after three; the sweeps every five: late after fifteen.
    job_run_record(name=ROLLUPS_UPDATE.name, at=timezone.now() - dt.timedelta(minutes=3, seconds=5), duration=1)
    job_run_record(name=EVALUATIONS_SWEEP.name, at=timezone.now() - dt.timedelta(minutes=14), duration=1)
    job_run_record(name=CASES_SWEEP.name, at=timezone.now(), failure="locked")
    with pytest.raises(CommandError, match="late: rollups-update$"):
        _health()
    JobRun.objects.filter(name=CASES_SWEEP.name).delete()
    with pytest.raises(CommandError, match="late: rollups-update, cases-sweep$"):
        _health()


def _health() -> str:
    import io

    out = io.StringIO()
    try:
        call_command("health", stdout=out)
    finally:
        print(out.getvalue())
    return out.getvalue()


@pytest.mark.django_db
def test_the_console_page_shows_each_job_and_flags_the_late_one(world: dict[str, Any]) -> None:
    _all_succeeded()
    job_run_record(name=CASES_SWEEP.name, at=timezone.now() - dt.timedelta(hours=2), duration=1)
    job_run_record(name=CASES_SWEEP.name, at=timezone.now(), failure="locked")
    admin = get_user_model().objects.create_superuser(username="root", password="pw-root")
    client = Client()
    client.force_login(admin)
    page = client.get("/console/health/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "后台任务" in html and "工单时限巡检" in html and "锁被占用" in html
    rows = {job.name: html.split(f'data-job="{job.name}"')[1].split("</tr>")[0] for job in JOBS}
    assert "延迟" in rows[CASES_SWEEP.name] and "正常" not in rows[CASES_SWEEP.name]
    assert "正常" in rows[EVALUATIONS_SWEEP.name] and "延迟" not in rows[EVALUATIONS_SWEEP.name]
    assert "每 5 分钟" in rows[EVALUATIONS_SWEEP.name] and "每 1 分钟" in rows[ROLLUPS_UPDATE.name]


@pytest.mark.django_db
def test_the_console_page_is_for_administrators_only(world: dict[str, Any]) -> None:
    manager = get_user_model().objects.create_user(username="mgr", password="pw-mgr")
    Membership.objects.create(user=manager, role="manager", region=world["city"])
    client = Client()
    assert client.get("/console/health/").status_code == 302  # to the login page
    client.force_login(manager)
    assert client.get("/console/health/").status_code == 403
    assert "/console/health/" not in client.get("/console/").content.decode()
    # An administrator may give the view permission in the admin.
    manager.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    manager = get_user_model().objects.get(pk=manager.pk)
    client.force_login(manager)
    assert client.get("/console/health/").status_code == 200
    assert "/console/health/" in client.get("/console/").content.decode()


def test_sqlite_locks_expire_after_their_time_to_live(tmp_path: Path, monkeypatch: Any) -> None:
    huey = queue.ExpiringLockSqliteHuey("t", filename=str(tmp_path / "q.sqlite3"))
    lock = huey.lock_task("sweep", ttl=60)
    assert lock.acquire()
    with pytest.raises(TaskLockedException):
        lock.acquire()
    now = time.time()
    monkeypatch.setattr(queue.time, "time", lambda: now + 61)
    assert lock.acquire()  # the first holder's lock has expired
    # A lock left by a consumer without expiry (the value huey writes) counts as expired too.
    huey.storage.put_data("t.lock.old", b"1")
    assert huey.lock_task("old", ttl=60).acquire()
    # Without a time to live, huey's own behaviour.
    plain = huey.lock_task("plain")
    assert plain.acquire()
    with pytest.raises(TaskLockedException):
        plain.acquire()


def test_redis_locks_expire_after_their_time_to_live() -> None:
    redis = pytest.importorskip("redis")
    from huey import RedisExpireHuey

    huey = RedisExpireHuey("haoping-test-ops", url="redis://127.0.0.1:6379/6")
    try:
        huey.storage.conn.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    huey.flush_locks("sweep")
    lock = huey.lock_task("sweep", ttl=EVALUATIONS_SWEEP.lock_ttl)
    assert lock.acquire()
    with pytest.raises(TaskLockedException):
        lock.acquire()
    left = huey.storage.conn.ttl(huey.storage.result_key("haoping-test-ops.lock.sweep"))
    assert 0 < left <= EVALUATIONS_SWEEP.lock_ttl
    assert huey.flush_locks() == {"sweep"}  # what the consumer does when it starts


def test_the_consumer_clears_locks_when_it_starts() -> None:
    from django.conf import settings

    assert settings.HUEY["consumer"]["flush_locks"] is True
