"""What handlers under deadline pressure need from the console: a failed form keeps what was typed,
the case page says how long the step has left (in working time where the step counts working
days), the navigation counts what is due, messages have a read state, paging and filters, and the
queue finds a case by item name, receipt, record number or a phone's last four digits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haoping.directory.models import Department, Staff
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.selectors import case_time_left
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, at, bad_case, person
from haoping.rectification.tests.test_console import PNG, login
from haoping.workdays.selectors import workday_hours_between


@pytest.fixture
def handler(world: dict[str, Any]) -> Client:
    return login("handler", "handler", department=Department.objects.get(code="D-MKT"))


@pytest.fixture
def case(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    # Friday 2026-11-13 18:00: a weekend lies ahead.
    clock.set(at(2026, 11, 13, 18))
    return bad_case(world, record_payload, applicant=person(1, phone="13812345678"))


def text_of(res: Any) -> str:
    return re.sub(r"\s+", " ", res.content.decode())


def test_a_failed_form_keeps_everything_typed(handler: Client, case: BadReviewCase) -> None:
    url = f"/console/cases/{case.pk}/act/"
    assert handler.post(url + "contact/", {"note": "已电话联系"}).status_code == 302
    assert handler.post(url + "classify/", {"category": "general"}).status_code == 302
    # An evidence file over the limit: refused, and the description comes back as typed.
    big = SimpleUploadedFile(
        "整改照片.png", PNG + b"\x00" * settings.HAOPING_EVIDENCE_MAX_BYTES["image"], content_type="image/png"
    )
    res = handler.post(url + "rectify/", {"description": "已约谈窗口人员，调整了叫号规则", "evidence": big})
    assert res.status_code == 422
    page = res.content.decode()
    assert "大于 5 MB" in page or "5 MB" in page
    assert ">已约谈窗口人员，调整了叫号规则</textarea>" in page
    assert "请重新选择" in page  # the files, which the browser cannot keep
    # A number out of range: the number and the reason both come back.
    res = handler.post(url + "request_extension/", {"days": "99", "reason": "需协调市级部门"})
    assert res.status_code == 422
    page = res.content.decode()
    assert 'name="days" value="99"' in page and ">需协调市级部门</textarea>" in page
    # The form that failed is the one opened, and it is not the personal-data confirmation.
    assert re.search(r'<details class="action" id="action-request_extension" open>', page)
    assert 'name="personal_ok"' not in page
    case.refresh_from_db()
    assert case.state == "handling"


def test_an_appeal_that_fails_keeps_its_reasons(world: dict[str, Any], case: BadReviewCase, clock: Clock) -> None:
    clock.set(at(2026, 11, 16, 10))  # within the 2 working days
    staff = login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    # A file that is no evidence: refused, and the reasons come back as typed.
    wrong = SimpleUploadedFile("说明.txt", b"plain text", content_type="text/plain")
    res = staff.post(
        f"/console/cases/{case.pk}/appeal/", {"reasons": "系统故障导致延误，非本人原因", "evidence": wrong}
    )
    assert res.status_code == 422
    assert ">系统故障导致延误，非本人原因</textarea>" in res.content.decode()
    assert not case.appeals.exists()


def test_working_hours_between_two_moments(calendar: None) -> None:
    # Friday 18:00 to Monday 10:00: 6 hours of Friday and 10 of Monday; the weekend does not count.
    assert workday_hours_between(at(2026, 11, 13, 18), at(2026, 11, 16, 10)) == 16
    assert workday_hours_between(at(2026, 11, 16, 10), at(2026, 11, 13, 18)) == -16
    assert workday_hours_between(at(2026, 11, 14, 9), at(2026, 11, 15, 20)) == 0


def test_the_case_page_shows_the_time_left_in_the_step(
    world: dict[str, Any], handler: Client, case: BadReviewCase, clock: Clock
) -> None:
    # The contact step is 48 clock hours (default rules).
    page = text_of(handler.get(f"/console/cases/{case.pk}/"))
    assert "剩余 48 小时" in page and "按工作时间计" not in page
    act_ok(world["api"], case.pk, "contact", note="已联系")
    act_ok(world["api"], case.pk, "classify", category="general")
    # General: 5 working days, due Friday 2026-11-20 23:59:59. Left: Friday evening (6 h) and five
    # working days of 24 h, less a second; in clock hours it would be 174.
    case.refresh_from_db()
    left = case_time_left(case)
    assert left is not None and left.working and left.whole_hours == 126
    page = text_of(handler.get(f"/console/cases/{case.pk}/"))
    assert "剩余 126 小时" in page and "按工作时间计" in page
    # Monday 2026-11-23 10:00: the weekend is not counted, Monday morning is.
    clock.set(at(2026, 11, 23, 10))
    handler = login("handler2", "handler", department=Department.objects.get(code="D-MKT"))
    page = text_of(handler.get(f"/console/cases/{case.pk}/"))
    assert "已逾期 10 小时" in page
    # The rated staff member does not get it: it would tell the deadline, and so the rating's minute.
    staff = login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    page = text_of(staff.get(f"/console/cases/{case.pk}/"))
    assert 'id="time-left"' not in page and "已逾期 10 小时" not in page


def nav(client: Client) -> dict[str, str]:
    html = client.get("/console/").content.decode()
    found = {}
    for name in ("todo", "nearly", "overdue", "messages"):
        match = re.search(rf'id="nav-{name}"[^>]*>.*?<span class="badge[^"]*"[^>]*>(\d+)</span>', html, re.S)
        assert match, name
        found[name] = match.group(1)
    return found


def test_the_navigation_counts_what_is_due_and_unread(
    world: dict[str, Any], record_payload: Any, handler: Client, case: BadReviewCase, clock: Clock
) -> None:
    second = bad_case(world, record_payload, applicant=person(2))
    # Both new: to do, neither nearly due nor overdue; two dispatch notices unread.
    assert nav(handler) == {"todo": "2", "nearly": "0", "overdue": "0", "messages": "2"}
    # The first is past its warning point, the second past its deadline.
    BadReviewCase.objects.filter(pk=case.pk).update(warn_at=at(2026, 11, 13, 17))
    BadReviewCase.objects.filter(pk=second.pk).update(due_at=at(2026, 11, 13, 17))
    assert nav(handler) == {"todo": "2", "nearly": "1", "overdue": "1", "messages": "2"}
    assert f"/console/cases/{case.pk}/" in handler.get("/console/?nearly=1").content.decode()
    assert f"/console/cases/{second.pk}/" not in handler.get("/console/?nearly=1").content.decode()
    one = Message.objects.filter(to_unit__code="D-MKT").order_by("id").first()
    assert one is not None
    assert handler.post("/console/messages/", {"read": one.pk}).status_code == 302
    assert nav(handler)["messages"] == "1"


def test_messages_have_read_state_paging_filters_and_decisions(
    world: dict[str, Any], handler: Client, case: BadReviewCase, clock: Clock
) -> None:
    unit = Department.objects.get(code="D-MKT")
    for n in range(60):
        Message.objects.create(kind=Message.Kind.WARNING, to_unit=unit, text=f"提醒 {n}", created_at=at(2026, 11, 1))
    first = handler.get("/console/messages/").content.decode()
    assert "1 / 2" in first and first.count('class="unread"') == 50
    second = handler.get("/console/messages/?page=2").content.decode()
    assert second.count('class="unread"') == 11
    # Reading the first page leaves 11 unread; the filter shows only those.
    ids = re.findall(r'name="read" value="(\d+)"', first)
    handler.post("/console/messages/", {"read": ids})
    unread = handler.get("/console/messages/?unread=1").content.decode()
    assert unread.count('class="unread"') == 11 and "1 / 2" not in unread
    dispatch = handler.get("/console/messages/?kind=dispatch").content.decode()
    assert "新工单" in dispatch and "提醒 1" not in dispatch
    # A notice that asks the managers to decide says whether it was decided.
    manager = login("manager", "manager", region=world["district"])
    act_ok(world["api"], case.pk, "contact", note="已联系")
    act_ok(world["api"], case.pk, "classify", category="general")
    act_ok(world["api"], case.pk, "request_extension", days=3, reason="需协调")
    asking = manager.get("/console/messages/?kind=extension").content.decode()
    assert "待决定" in asking
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    decided = manager.get("/console/messages/?kind=extension").content.decode()
    assert "已决定" in decided


def test_the_queue_finds_a_case_by_name_receipt_record_or_phone_tail(
    world: dict[str, Any], record_payload: Any, handler: Client, case: BadReviewCase
) -> None:
    other = bad_case(world, record_payload, applicant=person(3, phone="13900001111"), item_code="ITEM-002")

    def found(client: Client, query: str) -> set[int]:
        html = client.get("/console/", {"q": query}).content.decode()
        return {int(n) for n in re.findall(r'href="/console/cases/(\d+)/"', html)}

    assert found(handler, "企业") == {case.pk}
    assert found(handler, "食品经营") == {other.pk}
    assert found(handler, case.receipt) == {case.pk}
    assert found(handler, case.record.record_no) == {case.pk}
    assert found(handler, "5678") == {case.pk}
    assert found(handler, "1111") == {other.pk}
    assert found(handler, "0000") == set()
    # R10: the rated staff member searches by item name only.
    staff = login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    assert found(staff, "企业") == {case.pk}
    assert found(staff, case.receipt) == set()
    assert found(staff, "5678") == set()
