"""R10: phone and ID numbers typed into free text never leave the system in full, and nothing that
identifies the evaluator reaches the rated staff member."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.directory.models import Department, Staff
from haoping.evaluations.chain import chain_verify, row_mac
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import Appeal, BadReviewCase, CaseEvent, Message
from haoping.rectification.tests.support import act_ok, detail

PHONE_STYLES = [
    "138-1234-5678",
    "138 1234 5678",
    "+86 138 1234 5678",
    "１３８１２３４５６７８",
    "138.1234.5678",
    "0086-138-1234-5678",
    "138 - 1234 - 5678",
]
ID_STYLES = ["320102 19900101 123X", "３２０１０２１９９００１０１１２３Ｘ", "320102.19900101.123X"]
# A run of 7 or more digits (ASCII or full-width, however grouped) is a number shown in full.
IN_FULL = re.compile(r"[0-9０-９](?:[\s\-－.．/_]{0,3}[0-9０-９]){6,}")


def test_case_api_masks_comments_and_notes(world: dict[str, Any], record_payload: Any) -> None:
    body = record_payload()
    api = world["api"]
    assert api.post("/records", body).status_code == 201
    comment = "窗口态度差，请回电 " + "，或 ".join(PHONE_STYLES)
    res = api.post("/evaluations", {"record_no": body["record_no"], "level": 1, "channel": "pc", "comment": comment})
    assert res.status_code == 201, res.content
    case_id = api.get("/cases").json()[0]["id"]
    note = "已电话联系评价人 " + PHONE_STYLES[1] + "，身份证 " + "、".join(ID_STYLES)
    act_ok(api, case_id, "contact", note=note)
    shown = detail(api, case_id)
    assert shown["comment"].count("138****5678") == len(PHONE_STYLES)
    contact = next(h for h in shown["history"] if h["action"] == "contact")
    assert "138****5678" in contact["note"] and contact["note"].count("3201**********123X") == len(ID_STYLES)
    texts = [shown["comment"], *(h["note"] for h in shown["history"])]
    assert not any(IN_FULL.search(t) for t in texts), texts
    # Stored masked, the note as written encrypted beside it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT note, note_sealed FROM rectification_caseevent WHERE action = 'contact'")
        stored, sealed = cursor.fetchone()
    assert stored == contact["note"] and sealed.startswith("sm4gcm1:")
    assert CaseEvent.objects.get(action="contact").note_sealed == note


def _login(username: str, role: str, **scope: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw-" + username, first_name=username)
    Membership.objects.create(user=user, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


def test_the_rated_staff_member_sees_no_personal_data_in_any_free_text(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    body = record_payload()  # the applicant is 张三, 13812345678, 320102199001011234
    assert api.post("/records", body).status_code == 201
    comment = "张三反映态度差，电话 138-1234-5678"
    rated = {"record_no": body["record_no"], "level": 1, "channel": "pc", "comment": comment}
    assert api.post("/evaluations", rated).status_code == 201
    case = BadReviewCase.objects.get()
    handler = _login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    staff = _login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    personal = "张三（+86 138 1234 5678，身份证 320102 19900101 1234）"
    steps = [
        ("contact", {"note": f"已电话联系评价人{personal}"}),
        ("classify", {"category": "general"}),
        ("rectify", {"description": f"已向{personal}说明并整改"}),
        ("reply", {"answer": f"{personal}您好，问题已整改"}),
    ]
    for action, fields in steps:
        url = f"/console/cases/{case.pk}/act/{action}/"
        res = handler.post(url, fields)
        if action != "classify":
            # A warning first, the text kept for a second look, nothing saved yet.
            page = res.content.decode()
            assert res.status_code == 200 and "身份证号" in page and 'name="personal_ok"' in page
            assert next(iter(fields.values())) in page
            assert not case.events.filter(action=action).exists()
            res = handler.post(url, {**fields, "personal_ok": "1"})
        assert res.status_code == 302, (action, res.content.decode()[:2000])
    filed = api.post(f"/cases/{case.pk}/appeal", {"reasons": f"评价人{personal}所述不实"})
    assert filed.status_code == 201, filed.content
    Message.objects.create(
        kind=Message.Kind.DISPATCH,
        case=case,
        to_user=get_user_model().objects.get(username="staff"),
        text=f"新差评：{personal}",
        created_at=timezone.now(),
    )

    page = staff.get(f"/console/cases/{case.pk}/").content.decode()
    inbox = staff.get("/console/messages/").content.decode()
    for html in (page, inbox):
        assert "张三" not in html and not IN_FULL.search(html.replace("2026", "")), html
        assert "138****5678" not in html and "3201" not in html
    assert page.count("***") >= 6 and "新差评：***" in inbox

    # The handler may learn who rated: numbers masked, the name kept.
    seen = handler.get(f"/console/cases/{case.pk}/").content.decode()
    assert "138****5678" in seen and "3201**********1234" in seen and "张三" in seen
    assert "138 1234 5678" not in seen and "320102 19900101" not in seen


def test_a_note_without_personal_data_is_saved_at_once(world: dict[str, Any], record_payload: Any) -> None:
    body = record_payload()
    world["api"].post("/records", body)
    world["api"].post("/evaluations", {"record_no": body["record_no"], "level": 1, "channel": "pad", "comment": "差"})
    case = BadReviewCase.objects.get()
    handler = _login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    res = handler.post(
        f"/console/cases/{case.pk}/act/contact/", {"note": "已联系评价人，核实属实，办结日期 2026-11-21"}
    )
    assert res.status_code == 302 and case.events.filter(action="contact").exists()


@pytest.mark.parametrize("fast", [True, False])
def test_comments_are_stored_masked_with_the_original_encrypted(
    world: dict[str, Any], record_payload: Any, fast: bool
) -> None:
    body = record_payload()
    api = world["api"]
    api.fast = fast
    api.post("/records", body)
    comment = "请回电 138 1234 5678，身份证 320102199001011234"
    res = api.post("/evaluations", {"record_no": body["record_no"], "level": 2, "channel": "pc", "comment": comment})
    assert res.status_code == 201, res.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT comment, comment_sealed FROM evaluations_evaluation")
        stored, sealed = cursor.fetchone()
    assert stored == "请回电 138****5678，身份证 3201**********1234"
    assert sealed.startswith("sm4gcm1:") and "1234" not in sealed
    ev = Evaluation.objects.get()
    assert (ev.comment, ev.comment_sealed) == (stored, comment)
    assert chain_verify()[1] is None
    plain = record_payload()
    api.post("/records", plain)
    api.post("/evaluations", {"record_no": plain["record_no"], "level": 5, "channel": "pc", "comment": "很好"})
    assert Evaluation.objects.get(record__record_no=plain["record_no"]).comment_sealed == ""


@pytest.mark.parametrize("fast", [True, False])
def test_suggestions_are_stored_masked_with_the_original_encrypted(
    world: dict[str, Any], record_payload: Any, fast: bool
) -> None:
    body = record_payload()
    api = world["api"]
    api.fast = fast
    api.post("/records", body)
    suggestion = "有问题请打 13812345678 找我"
    answers = {"guide_clear": 4, "suggestion": suggestion}
    res = api.post("/evaluations", {"record_no": body["record_no"], "level": 5, "channel": "pc", "answers": answers})
    assert res.status_code == 201, res.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers, suggestion_sealed FROM evaluations_evaluation")
        stored, sealed = cursor.fetchone()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert stored == {"guide_clear": 4, "suggestion": "有问题请打 138****5678 找我"}
    assert sealed.startswith("sm4gcm1:") and "5678" not in sealed
    ev = Evaluation.objects.get()
    assert (ev.answers["suggestion"], ev.suggestion_sealed) == (stored["suggestion"], suggestion)
    # The row MAC covers the masked questionnaire as stored.
    assert ev.row_mac == row_mac(ev)
    assert chain_verify()[1] is None
    plain = record_payload()
    api.post("/records", plain)
    api.post(
        "/evaluations",
        {"record_no": plain["record_no"], "level": 5, "channel": "pc", "answers": {"suggestion": "很好"}},
    )
    ev = Evaluation.objects.get(record__record_no=plain["record_no"])
    assert (ev.answers, ev.suggestion_sealed) == ({"suggestion": "很好"}, "")


def test_appeal_texts_are_stored_masked_with_the_originals_encrypted(
    world: dict[str, Any], record_payload: Any
) -> None:
    body = record_payload()
    api = world["api"]
    assert api.post("/records", body).status_code == 201
    res = api.post("/evaluations", {"record_no": body["record_no"], "level": 1, "channel": "pc", "comment": "差"})
    assert res.status_code == 201, res.content
    case_id = api.get("/cases").json()[0]["id"]
    reasons = "当天系统故障，已回电 " + PHONE_STYLES[0]
    appeal = api.post(f"/cases/{case_id}/appeal", {"reasons": reasons})
    assert appeal.status_code == 201, appeal.content
    note = "经核实，评价人身份证 " + ID_STYLES[0]
    decided = world["manager_api"].post(f"/appeals/{appeal.json()['id']}/decide", {"upheld": False, "note": note})
    assert decided.status_code == 200, decided.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT reasons, reasons_sealed, decision_note, decision_note_sealed FROM rectification_appeal")
        stored_reasons, sealed_reasons, stored_note, sealed_note = cursor.fetchone()
    assert "138****5678" in stored_reasons and not IN_FULL.search(stored_reasons)
    assert "3201**********123X" in stored_note and not IN_FULL.search(stored_note)
    assert sealed_reasons.startswith("sm4gcm1:") and sealed_note.startswith("sm4gcm1:")
    stored = Appeal.objects.get()
    assert (stored.reasons_sealed, stored.decision_note_sealed) == (reasons, note)


def test_registry_spot_check_and_audit_texts_are_stored_masked_with_the_originals_encrypted(
    world: dict[str, Any], record_payload: Any
) -> None:
    from haoping.audit.models import AuditEntry
    from haoping.evaluations.models import BlockedEvaluator
    from haoping.rectification.models import SpotCheck, SpotCheckItem
    from haoping.rectification.services import blocked_evaluator_add, blocked_evaluator_remove, spot_check_record
    from haoping.rectification.tests.support import act_ok, console_actor, to_handling

    api = world["api"]
    body = record_payload()
    assert api.post("/records", body).status_code == 201
    rating = {"record_no": body["record_no"], "level": 1, "channel": "pc", "comment": "差"}
    assert api.post("/evaluations", rating).status_code == 201
    case = BadReviewCase.objects.get()
    to_handling(api, case.pk, "malicious")
    act_ok(api, case.pk, "request_invalidation", reason="报复性差评")
    act_ok(world["manager_api"], case.pk, "approve_invalidation", note="同意")
    manager = console_actor("xw", "manager", region=world["district"])
    reason = "该号码 " + PHONE_STYLES[4] + " 多次恶意差评"
    entry = blocked_evaluator_add(actor=manager, case=case, reason=reason)
    removal = "经复核，身份证 " + ID_STYLES[2] + " 另有其人"
    blocked_evaluator_remove(actor=manager, entry=entry, reason=removal)
    check = SpotCheck.objects.create(
        region=world["district"],
        drawn_by_label="xw",
        drawn_at=timezone.now(),
        closed_from=timezone.localdate(),
        closed_to=timezone.localdate(),
        population=1,
    )
    note = "已回访 " + PHONE_STYLES[5] + "，整改属实"
    spot_check_record(
        actor=manager, item=SpotCheckItem.objects.create(spot_check=check, case=case), passed=True, note=note
    )

    entry = BlockedEvaluator.objects.get()
    item = SpotCheckItem.objects.get()
    audits = list(AuditEntry.objects.filter(action__in=["block_evaluator", "unblock_evaluator"]).order_by("pk"))
    stored = [entry.reason, entry.removed_reason, item.note, *(a.reason for a in audits)]
    assert stored == [
        "该号码 138****5678 多次恶意差评",
        "经复核，身份证 3201**********123X 另有其人",
        "已回访 138****5678，整改属实",
        "该号码 138****5678 多次恶意差评",
        "经复核，身份证 3201**********123X 另有其人",
    ]
    sealed = [entry.reason_sealed, entry.removed_reason_sealed, item.note_sealed, *(a.reason_sealed for a in audits)]
    assert sealed == [reason, removal, note, reason, removal]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason_sealed, removed_reason_sealed FROM rectification_blockedevaluator")
        assert all(value.startswith("sm4gcm1:") for value in cursor.fetchone())
        cursor.execute("SELECT note_sealed FROM rectification_spotcheckitem")
        assert cursor.fetchone()[0].startswith("sm4gcm1:")
        cursor.execute("SELECT reason_sealed FROM audit_auditentry WHERE reason_sealed <> ''")
        assert all(value.startswith("sm4gcm1:") for (value,) in cursor.fetchall())
    # The registry page shows the reasons masked.
    page = _login("xw2", "manager", region=world["district"]).get("/console/blocked/").content.decode()
    assert "该号码 138****5678 多次恶意差评" in page and "3201**********123X" in page
    assert not IN_FULL.search(page.replace("2026", "")), page
