"""The rated staff member is told when a bad review of their service arrives (by the sweep, outside the
rating's request), when its case closes and when their appeal is decided; nothing in these notices
identifies the rater (R10). Their 申诉 page lists
what they may still appeal and their own appeals with state and deadlines (R14).

The case opens Tuesday 2026-09-29 10:00; the 2 working days to appeal are 9/30 and 10/8."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.access import Actor
from haoping.directory.models import Staff
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.services import appeal_decide, cases_sweep
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act_ok,
    at,
    console_actor,
    rate,
    register,
    to_handling,
    to_replied,
)

COMMENT = "我是张三，手机13812345678，窗口人员态度很差，让我跑了三趟"


def staff_actor() -> Actor:
    return console_actor("wangfang", "staff", staff=Staff.objects.get(staff_no="S001"))


def bad_rating(world: dict[str, Any], record_payload: Any, **extra: Any) -> tuple[str, BadReviewCase]:
    body = record_payload(**extra)
    register(world["api"], body)
    res = rate(world["api"], record_no=body["record_no"], level=1, channel="sms", comment=COMMENT)
    assert res.status_code == 201, res.json()
    return body["record_no"], BadReviewCase.objects.get(record__record_no=body["record_no"])


def signed_in(actor: Actor) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=actor.user.pk))
    return client


def test_the_rated_staff_member_learns_of_a_bad_review_without_who_gave_it(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    staff = staff_actor()
    record_no, case = bad_rating(world, record_payload)
    assert not Message.objects.filter(kind="review").exists()
    # The sweep tells them, once; the day named is the rating's, not the sweep's.
    clock.set(at(2026, 9, 30, 0, 4))
    assert cases_sweep().told == 1
    assert cases_sweep().told == 0
    notice = Message.objects.get(case=case, kind="review")
    assert notice.to_user_id == staff.user.pk and notice.to_unit_id is None and notice.to_evaluator_id is None
    assert notice.text == (
        "您办理的“企业开办”于 2026-09-29 收到一条差评（非常不满意）。"
        "评价内容：我是***，手机***，窗口人员态度很差，让我跑了三趟 如有异议，可在 2026-10-08 当天结束前提出申诉。"
    )
    for secret in (record_no, "张三", "13812345678", "10:00", "短信", case.receipt):
        assert secret not in notice.text
    # In the inbox, by the day only: a notice's minute is the rating's.
    page = signed_in(staff).get("/console/messages/").content.decode()
    assert "差评通知" in page and "2026-09-30</td>" in page and "00:04" not in page


def test_no_notice_without_a_rated_staff_member_with_a_login(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    _record_no, case = bad_rating(world, record_payload)  # S001 has no console login yet
    _record_no, other = bad_rating(world, record_payload, staff_no=None, window_code=None)
    assert other.staff_id is None
    assert cases_sweep().told == 0
    assert not Message.objects.filter(kind="review").exists()
    # Told once: a login made later does not bring the old review up again.
    staff_actor()
    assert cases_sweep().told == 0


def test_the_staff_member_is_told_when_the_case_closes(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    staff = staff_actor()
    _record_no, rectified = bad_rating(world, record_payload)
    to_replied(world["api"], rectified.pk)
    assert not Message.objects.filter(case=rectified, kind="closed").exists()
    act_ok(world["api"], rectified.pk, "revisit", satisfied=True, note="")
    closed = Message.objects.get(case=rectified, kind="closed")
    assert closed.to_user_id == staff.user.pk
    assert closed.text == f"您办理的“企业开办”收到的差评（工单 {rectified.pk}）已办结：已整改，评价人表示满意。"

    _record_no, mistaken = bad_rating(world, record_payload)
    to_handling(world["api"], mistaken.pk, "mistaken")
    act_ok(world["api"], mistaken.pk, "request_invalidation", reason="评价人误选等级，本人已确认")
    act_ok(world["manager_api"], mistaken.pk, "approve_invalidation", note="同意")
    text = Message.objects.get(case=mistaken, kind="closed").text
    assert text.endswith("已办结：该评价不予采纳（误评）。")


def test_the_staff_member_is_told_when_their_appeal_is_decided(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    staff = staff_actor()
    manager = console_actor("zhouming", "manager", region=world["district"])
    _record_no, case = bad_rating(world, record_payload)
    clock.set(at(2026, 9, 30, 9))
    res = signed_in(staff).post(f"/console/cases/{case.pk}/appeal/", {"reasons": "当天系统故障，非本人原因"})
    assert res.status_code == 302
    appeal = case.appeals.get()
    clock.set(at(2026, 10, 9, 10))
    appeal_decide(actor=manager, appeal=appeal, upheld=True, note="经核查系统日志，张三反映的延误系系统故障")
    told = Message.objects.filter(case=case, to_user=staff.user).exclude(kind="review").order_by("id")
    assert [m.kind for m in told] == ["closed", "appeal"]
    assert told[0].text.endswith("已办结：该评价不予采纳（申诉成立）。")
    assert told[1].text == (
        f"工单 {case.pk} 的申诉复核结果：成立，评价不予采纳。复核意见：经核查系统日志，***反映的延误系系统故障"
    )


def test_the_staff_members_appeal_page_lists_what_they_may_appeal_and_their_appeals(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    staff = staff_actor()
    colleague = console_actor("lili", "staff", staff=Staff.objects.get(staff_no="S002"))
    manager = console_actor("zhouming", "manager", region=world["district"])
    _record_no, case = bad_rating(world, record_payload)
    _record_no, theirs = bad_rating(world, record_payload, staff_no="S002", window_code="W-XW-02")
    clock.set(at(2026, 9, 30, 9))
    page = signed_in(staff).get("/console/appeals/").content.decode()
    assert "我的申诉" in page
    appealable = page.split('id="appealable"')[1].split("</table>")[0]
    assert f"#{case.pk}" in appealable and "2026-10-08 当天结束前" in appealable
    assert f"#{theirs.pk}" not in page
    assert "您尚未提出申诉。" in page

    signed_in(staff).post(f"/console/cases/{case.pk}/appeal/", {"reasons": "当天系统故障，非本人原因"})
    signed_in(colleague).post(f"/console/cases/{theirs.pk}/appeal/", {"reasons": "非本人办理"})
    page = signed_in(staff).get("/console/appeals/").content.decode()
    own = page.split('id="own-appeals"')[1]
    # Decided within 5 working days of filing: 10/8, 10/9, Sat 10/10 (worked), 10/12, 10/13.
    assert f"#{case.pk}" in own and "待复核" in own and "2026-10-13" in own and f"#{theirs.pk}" not in own
    assert f"#{case.pk}" not in page.split('id="appealable"')[1].split("</table>")[0]
    assert "2026-09-30 09:00" not in page  # the day only

    clock.set(at(2026, 10, 14, 9))
    appeal_decide(actor=manager, appeal=case.appeals.get(), upheld=False, note="经核实服务过程无误")
    own = signed_in(staff).get("/console/appeals/").content.decode().split('id="own-appeals"')[1]
    assert "申诉不成立" in own or "驳回" in own
    assert "2026-10-14 · 经核实服务过程无误" in own and "逾期" in own


def test_managers_still_see_the_appeals_awaiting_decision(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    staff = staff_actor()
    manager = console_actor("zhouming", "manager", region=world["district"])
    _record_no, case = bad_rating(world, record_payload)
    signed_in(staff).post(f"/console/cases/{case.pk}/appeal/", {"reasons": "当天系统故障"})
    page = signed_in(manager).get("/console/appeals/").content.decode()
    assert "我的申诉" not in page and f"#{case.pk}" in page
