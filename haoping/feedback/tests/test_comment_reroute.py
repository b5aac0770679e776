"""R18 with 谁办理谁负责: a manager sends a comment that reached the wrong unit to the right one in
their region, with a reason; it starts again there with fresh deadlines, the old unit loses it,
and the step is in the comment's history and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from haoping.audit.models import AuditEntry
from haoping.directory.models import Department
from haoping.feedback.models import SocialComment
from haoping.feedback.services import comment_receive
from haoping.feedback.tests.test_comments import login


@pytest.fixture
def misrouted(world: dict[str, Any]) -> SocialComment:
    comment, _new = comment_receive(
        within=world["district"],
        channel="box",
        kind="complaint",
        target="department",
        code="D-MKT",
        text="医保报销要跑好几趟，电话13812345678",
        now=timezone.now() - dt.timedelta(days=3),
    )
    return comment


def test_a_city_manager_sends_a_comment_to_the_right_unit(world: dict[str, Any], misrouted: SocialComment) -> None:
    url = f"/console/comments/{misrouted.pk}/"
    old_unit = login("h", role="handler", department=world["window"].department)
    assert old_unit.post(url, {"action": "accept"}).status_code == 302
    old_due = SocialComment.objects.get(pk=misrouted.pk).answer_due
    city = login("m", role="manager", region=world["city"])
    page = city.get(url).content.decode()
    assert 'id="comment-reroute"' in page and "市医保局" in page
    # A handler cannot send it elsewhere; a reason is needed; a unit outside the region is unknown.
    assert "comment-reroute" not in old_unit.get(url).content.decode()
    assert old_unit.post(url, {"action": "reroute", "unit": "D-CITY", "reason": "x"}).status_code == 403
    assert city.post(url, {"action": "reroute", "unit": "D-CITY", "reason": " "}).status_code == 422
    assert city.post(url, {"action": "reroute", "unit": "NOPE", "reason": "医保事项"}).status_code == 422
    assert city.post(url, {"action": "reroute", "unit": "D-MKT", "reason": "医保事项"}).status_code == 422

    done = city.post(url, {"action": "reroute", "unit": "D-CITY", "reason": "医保报销属市医保局，联系人13812345678"})
    assert done.status_code == 302
    moved = SocialComment.objects.get(pk=misrouted.pk)
    assert (moved.unit.code, moved.region, moved.state, moved.accepted_at) == (
        "D-CITY",
        world["city"],
        "received",
        None,
    )
    # Deadlines start again from now, under the policy of the unit's region.
    assert moved.answer_due > old_due and moved.accept_due > timezone.now()
    # The old unit no longer has it; the new unit does.
    assert old_unit.get(url).status_code == 404
    assert f'href="{url}"' not in old_unit.get("/console/comments/").content.decode()
    new_unit = login("n", role="handler", department=Department.objects.get(code="D-CITY"))
    assert (
        new_unit.get(url).status_code == 200 and f'href="{url}"' in new_unit.get("/console/comments/").content.decode()
    )
    # In the history (the reason masked) and the audit log.
    history = city.get(url).content.decode().split('id="comment-history"')[1]
    assert "转交其他单位" in history and "市场监督管理局" in history and "市医保局" in history
    assert "13812345678" not in history
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REROUTE_COMMENT)
    assert entry.actor.username == "m" and str(misrouted.pk) in entry.target and "13812345678" not in entry.reason


def test_a_manager_of_another_region_cannot_reach_it(world: dict[str, Any], misrouted: SocialComment) -> None:
    other = login("o", role="manager", region=world["other"])
    url = f"/console/comments/{misrouted.pk}/"
    assert other.post(url, {"action": "reroute", "unit": "D-OTHER", "reason": "不是我们的"}).status_code == 404
    district = login("d", role="manager", region=world["district"])
    # A district manager cannot send it out of the district.
    assert district.post(url, {"action": "reroute", "unit": "D-OTHER", "reason": "秦淮区的事"}).status_code == 422
    # Nothing chosen is named as such; "-" is the region's managers.
    unchosen = district.post(url, {"action": "reroute", "unit": "", "reason": "由中心统一答复"})
    assert unchosen.status_code == 422 and "请选择转交给哪个单位" in unchosen.content.decode()
    page = district.get(url).content.decode()
    assert '<option value="" disabled selected>请选择单位</option>' in page and '<option value="-">' in page
    assert district.post(url, {"action": "reroute", "unit": "-", "reason": "由中心统一答复"}).status_code == 302
    moved = SocialComment.objects.get(pk=misrouted.pk)
    assert moved.unit is None and moved.region == world["district"]
    # With the district's managers already, they are not offered as where to send it.
    assert '<option value="-">' not in district.get(url).content.decode()


def test_an_answered_comment_stays_where_it_was_answered(world: dict[str, Any], misrouted: SocialComment) -> None:
    handler = login("h", role="handler", department=world["window"].department)
    url = f"/console/comments/{misrouted.pk}/"
    handler.post(url, {"action": "accept"})
    handler.post(url, {"action": "answer", "note": "已答复"})
    city = login("m", role="manager", region=world["city"])
    assert "comment-reroute" not in city.get(url).content.decode()
    assert city.post(url, {"action": "reroute", "unit": "D-CITY", "reason": "医保"}).status_code == 422
    assert SocialComment.objects.get(pk=misrouted.pk).unit.code == "D-MKT"
