"""The console pages, through the browser's eyes: who may see and do what (owner, colleague
elsewhere, outsider), the audited reveal, evidence downloads and the evaluator's revisit page."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.audit.models import AuditEntry
from haoping.directory.models import Department, Staff
from haoping.rectification.links import revisit_token
from haoping.rectification.models import BadReviewCase, Evidence, Message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHONE = "13812345678"


def login(username: str, role: str, **scope: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw-" + username, first_name=username)
    if role:
        Membership.objects.create(user=user, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(world: dict[str, Any]) -> dict[str, Client]:
    return {
        "handler": login("handler", "handler", department=Department.objects.get(code="D-MKT")),
        "other_handler": login("other_handler", "handler", department=Department.objects.get(code="D-OTHER")),
        "manager": login("manager", "manager", region=world["district"]),
        "city_manager": login("city_manager", "manager", region=world["city"]),
        "other_manager": login("other_manager", "manager", region=world["other"]),
        "staff": login("staff", "staff", staff=Staff.objects.get(staff_no="S001")),
        "other_staff": login("other_staff", "staff", staff=Staff.objects.get(staff_no="S002")),
        "outsider": login("outsider", ""),
    }


@pytest.fixture
def case(world: dict[str, Any], record_payload: Any) -> BadReviewCase:
    api = world["api"]
    assert api.post("/records", record_payload(record_no="CON-1")).status_code == 201
    res = api.post(
        "/evaluations",
        {
            "record_no": "CON-1",
            "level": 1,
            "channel": "pad",
            "comment": f"态度差，请回电 {PHONE}",
            "reasons": ["attitude"],
        },
    )
    assert res.status_code == 201
    return BadReviewCase.objects.get(record__record_no="CON-1")


SEES = ["handler", "manager", "city_manager", "staff"]
BLIND = ["other_handler", "other_manager", "other_staff", "outsider"]


@pytest.mark.parametrize("who", SEES)
def test_the_case_is_in_the_queue_and_opens_for_those_it_concerns(
    people: dict[str, Client], case: BadReviewCase, who: str
) -> None:
    queue = people[who].get("/console/")
    assert queue.status_code == 200
    assert f"/console/cases/{case.pk}/" in queue.content.decode()
    page = people[who].get(f"/console/cases/{case.pk}/")
    assert page.status_code == 200
    assert "企业开办" in page.content.decode()


@pytest.mark.parametrize("who", BLIND)
def test_everyone_else_gets_404_on_every_case_page(people: dict[str, Client], case: BadReviewCase, who: str) -> None:
    client = people[who]
    assert f"/console/cases/{case.pk}/" not in client.get("/console/").content.decode()
    assert client.get(f"/console/cases/{case.pk}/").status_code == 404
    assert client.post(f"/console/cases/{case.pk}/act/contact/", {"note": "x"}).status_code == 404
    assert client.post(f"/console/cases/{case.pk}/reveal/", {"reason": "x"}).status_code == 404
    assert client.post(f"/console/cases/{case.pk}/appeal/", {"reasons": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.state == "open" and case.events.count() == 1


def test_signed_out_visitors_are_sent_to_the_login_page(case: BadReviewCase) -> None:
    res = Client().get(f"/console/cases/{case.pk}/")
    assert res.status_code == 302 and res["Location"].startswith("/console/login/")
    login_page = Client().get("/console/login/").content.decode()
    assert "登录" in login_page


def test_the_queue_marks_overdue_and_sorts_by_due_time(
    people: dict[str, Client], world: dict[str, Any], record_payload: Any, case: BadReviewCase
) -> None:
    api = world["api"]
    api.post("/records", record_payload(record_no="CON-2"))
    api.post("/evaluations", {"record_no": "CON-2", "level": 2, "channel": "phone"})
    late = BadReviewCase.objects.get(record__record_no="CON-2")
    BadReviewCase.objects.filter(pk=late.pk).update(due_at=case.due_at.replace(year=2026, month=1))  # type: ignore[union-attr]
    html = people["handler"].get("/console/").content.decode()
    assert html.index(f"/console/cases/{late.pk}/") < html.index(f"/console/cases/{case.pk}/")
    row = html[html.index(f"/console/cases/{late.pk}/") :].split("</tr>")[0]
    assert "逾期" in row
    overdue_only = people["manager"].get("/console/?overdue=1").content.decode()
    assert f"/console/cases/{late.pk}/" in overdue_only and f"/console/cases/{case.pk}/" not in overdue_only


def test_the_handler_works_the_case_from_its_page(
    people: dict[str, Client],
    case: BadReviewCase,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    handler = people["handler"]
    assert handler.post(f"/console/cases/{case.pk}/act/contact/", {"note": "已电话联系，情况属实"}).status_code == 302
    assert handler.post(f"/console/cases/{case.pk}/act/classify/", {"category": "general"}).status_code == 302
    evidence = io.BytesIO(PNG)
    evidence.name = "整改照片.png"
    with django_capture_on_commit_callbacks(execute=True):  # the file is written once the step commits
        res = handler.post(
            f"/console/cases/{case.pk}/act/rectify/", {"description": "已约谈窗口人员", "evidence": evidence}
        )
    assert res.status_code == 302
    case.refresh_from_db()
    assert case.state == "resolved"
    stored = Evidence.objects.get(case=case)
    assert handler.get(f"/console/evidence/{stored.pk}/").status_code == 200
    assert people["other_handler"].get(f"/console/evidence/{stored.pk}/").status_code == 404
    page = handler.get(f"/console/cases/{case.pk}/").content.decode()
    assert "整改照片.png" in page and "已约谈窗口人员" in page


def test_an_action_not_allowed_now_is_a_409_on_the_page_and_changes_nothing(
    people: dict[str, Client], case: BadReviewCase
) -> None:
    res = people["handler"].post(f"/console/cases/{case.pk}/act/reply/", {"answer": "已整改"})
    assert res.status_code == 409
    assert 'role="alert"' in res.content.decode()
    case.refresh_from_db()
    assert case.state == "open"


def test_a_form_error_names_the_problem(people: dict[str, Client], case: BadReviewCase) -> None:
    people["handler"].post(f"/console/cases/{case.pk}/act/contact/", {"note": "已联系"})
    res = people["handler"].post(f"/console/cases/{case.pk}/act/classify/", {"category": "whatever"})
    assert res.status_code == 422
    assert "category" in res.content.decode()


def test_contact_is_masked_and_a_reveal_is_audited(people: dict[str, Client], case: BadReviewCase) -> None:
    handler = people["handler"]
    page = handler.get(f"/console/cases/{case.pk}/").content.decode()
    assert PHONE not in page and "138****5678" in page
    assert handler.post(f"/console/cases/{case.pk}/reveal/", {"reason": ""}).status_code == 422
    assert not AuditEntry.objects.exists()
    shown = handler.post(f"/console/cases/{case.pk}/reveal/", {"reason": "回访核实需要联系"})
    assert shown.status_code == 200 and PHONE in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.reason) == ("handler", "reveal_personal_data", "回访核实需要联系")


def test_staff_never_see_who_rated_them(people: dict[str, Client], case: BadReviewCase) -> None:
    staff = people["staff"]
    page = staff.get(f"/console/cases/{case.pk}/").content.decode()
    assert PHONE not in page and "5678" not in page and "张" not in page
    assert "态度差，请回电 ***" in page
    assert "评价人联系方式" not in page
    assert staff.post(f"/console/cases/{case.pk}/reveal/", {"reason": "想知道"}).status_code == 403
    assert not AuditEntry.objects.exists()
    # Staff follow the outcome but do not work the case.
    assert staff.post(f"/console/cases/{case.pk}/act/contact/", {"note": "x"}).status_code == 403


def test_a_staff_member_appeals_and_the_manager_decides(people: dict[str, Client], case: BadReviewCase) -> None:
    assert (
        people["staff"].post(f"/console/cases/{case.pk}/appeal/", {"reasons": "当天系统故障，非本人原因"}).status_code
        == 302
    )
    appeal = case.appeals.get()
    assert f"/console/cases/{case.pk}/" in people["manager"].get("/console/appeals/").content.decode()
    assert people["other_manager"].post(f"/console/appeals/{appeal.pk}/decide/", {"upheld": "yes"}).status_code == 404
    assert (
        people["manager"]
        .post(f"/console/appeals/{appeal.pk}/decide/", {"upheld": "yes", "note": "核实属实"})
        .status_code
        == 302
    )
    case.refresh_from_db()
    assert (case.state, case.invalid, case.invalid_reason) == ("closed", True, "appeal")
    assert Message.objects.filter(case=case, kind="appeal", to_evaluator__isnull=False).exists()


def test_the_evaluator_answers_through_the_revisit_link(people: dict[str, Client], case: BadReviewCase) -> None:
    handler = people["handler"]
    for action, fields in [
        ("contact", {"note": "已联系"}),
        ("classify", {"category": "simple"}),
        ("rectify", {"description": "当场解决"}),
        ("reply", {"answer": "已当场为您办结，感谢监督。"}),
    ]:
        assert handler.post(f"/console/cases/{case.pk}/act/{action}/", fields).status_code == 302, action
    message = Message.objects.get(case=case, kind="answer")
    token = revisit_token(case.public_id)
    assert message.link.endswith(f"/v/{token}/")
    public = Client()
    page = public.get(f"/v/{token}/").content.decode()
    assert "已当场为您办结" in page
    assert public.get(f"/v/{token[:-2]}xx/").status_code == 404
    signed = {"form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]
    assert public.post(f"/v/{token}/", {**signed, "satisfied": "maybe"}).status_code == 422
    assert public.post(f"/v/{token}/", {**signed, "satisfied": "yes"}).status_code == 302
    case.refresh_from_db()
    assert (case.state, case.satisfied) == ("closed", True)
    assert re.search("满意", public.get(f"/v/{token}/").content.decode())


def test_the_admin_shows_cases_without_the_evaluator(case: BadReviewCase) -> None:
    admin = get_user_model().objects.create_superuser(username="root", password="x")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/rectification/badreviewcase/{case.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CON-1" in html and PHONE not in html and "138****5678" not in html
    assert client.get("/admin/evaluations/blockedevaluator/").status_code == 200
    assert client.get("/admin/accounts/membership/").status_code == 200
