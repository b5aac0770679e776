"""A paper form entered over the API (`POST /api/v1/evaluations`, channel paper with the form's date
as `rated_at`) is held to the same grace as the console's forms: within its region's grace it
replaces the default rating (once, with an audit row); after the grace it is refused with 410; an
applicant's own rating is never replaced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from haoping.audit.models import AuditEntry
from haoping.channels.models import ChannelPolicy
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import defaults_record


def served_days_ago(register: Any, days: float) -> Any:
    return register(timezone.now() - dt.timedelta(days=days))


def form_moment(days_ago: float) -> str:
    return (timezone.now() - dt.timedelta(days=days_ago)).isoformat()


def paper(world: dict[str, Any], slot: Any, days_ago: float, level: int = 4, **extra: Any) -> Any:
    body = {"record_no": slot.record.record_no, "level": level, "channel": "paper", "rated_at": form_moment(days_ago)}
    return world["api"].post("/evaluations", {**body, **extra})


def test_api_form_replaces_the_default_within_the_grace(world: dict[str, Any], register: Any) -> None:
    slot = served_days_ago(register, 9)  # the 7-day window closed two days ago
    assert defaults_record() == 1
    default = Evaluation.objects.get(slot=slot)
    res = paper(world, slot, 6, level=2, reasons=["efficiency"])
    assert res.status_code == 201, res.content
    replacement = Evaluation.objects.get(slot=slot, supersedes=default)
    assert (replacement.channel, replacement.level, replacement.source) == ("paper", 2, "active")
    assert res.json()["receipt"] == replacement.receipt
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REPLACE_DEFAULT)
    assert slot.record.record_no in entry.target and f"#{default.pk}" in entry.reason
    # The same submission again is a replay; another form for the service is refused.
    again = paper(world, slot, 6, level=2, reasons=["efficiency"], client_ref="box-1")
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    assert Evaluation.objects.filter(slot=slot).count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REPLACE_DEFAULT).count() == 1


def test_api_form_retry_is_not_a_second_replacement(world: dict[str, Any], register: Any) -> None:
    slot = served_days_ago(register, 9)
    defaults_record()
    first = paper(world, slot, 6, level=5, client_ref="box-7")
    assert first.status_code == 201, first.content
    retry = paper(world, slot, 6, level=5, client_ref="box-7")
    assert retry.status_code == 200 and retry.json()["receipt"] == first.json()["receipt"]
    assert Evaluation.objects.filter(slot=slot).count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REPLACE_DEFAULT).count() == 1


def test_api_form_after_the_grace_is_refused(world: dict[str, Any], register: Any) -> None:
    slot = served_days_ago(register, 12)  # closed five days ago
    defaults_record()
    ChannelPolicy.objects.create(region=world["district"], paper_grace_days=3)
    res = paper(world, slot, 10)
    assert res.status_code == 410 and res.json()["error"] == "grace_over"
    assert "纸质评价表" in res.json()["detail"]
    assert Evaluation.objects.filter(slot=slot).count() == 1
    # The grace is the region's: widened, the same form replaces the default.
    ChannelPolicy.objects.filter(region=world["district"]).update(paper_grace_days=6)
    assert paper(world, slot, 10).status_code == 201
    assert Evaluation.objects.filter(slot=slot, supersedes__isnull=False).count() == 1


def test_api_form_dated_after_the_window_is_refused(world: dict[str, Any], register: Any) -> None:
    slot = served_days_ago(register, 9)
    defaults_record()
    res = paper(world, slot, 1)  # dated after the window closed
    assert res.status_code == 410 and res.json()["error"] == "window_closed"
    assert Evaluation.objects.filter(slot=slot).count() == 1


def test_api_form_never_replaces_an_active_rating(world: dict[str, Any], register: Any) -> None:
    slot = served_days_ago(register, 3)
    rated = world["api"].post("/evaluations", {"record_no": slot.record.record_no, "level": 5, "channel": "mobile"})
    assert rated.status_code == 201, rated.content
    res = paper(world, slot, 2, level=1, reasons=["efficiency"])
    assert res.status_code == 409 and res.json()["error"] == "already_rated"
    # Nor later, once the window closed: the applicant's rating stands, no default is recorded.
    late = served_days_ago(register, 9)
    assert paper(world, late, 5, level=4).status_code == 201  # no default yet: the form is its rating
    assert defaults_record() == 0
    again = paper(world, late, 5, level=1, client_ref="box-9")
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    assert Evaluation.objects.filter(slot__in=[slot, late]).count() == 2
    assert not Evaluation.objects.filter(supersedes__isnull=False).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REPLACE_DEFAULT).exists()


def test_api_replacements_are_listed_for_spot_checks(world: dict[str, Any], register: Any) -> None:
    from haoping.channels.tests.test_paper import signed_in

    slot = served_days_ago(register, 9)
    untouched = served_days_ago(register, 9)
    defaults_record()
    assert paper(world, slot, 6, level=1, reasons=["efficiency"]).status_code == 201
    page = signed_in("hall-manager", "manager", region=world["district"]).get("/console/paper/").content.decode()
    section = page.split('id="replacements"')[1]
    assert slot.record.record_no in section and untouched.record.record_no not in section
    assert "业务系统接口录入" in section and "非常不满意" in section
    # Not another region's manager's.
    other = signed_in("other-manager", "manager", region=world["other"]).get("/console/paper/").content.decode()
    assert slot.record.record_no not in other and "尚无被替换的默认评价" in other
