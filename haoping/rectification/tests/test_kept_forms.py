"""Nothing typed is lost when a console form is refused: the page comes back with the error, that
form open, and every field as it was sent (files excepted, which a browser never refills: the form
says so)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department, Staff
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, at, bad_case, to_handling

FILES_AGAIN = "浏览器不保留已选文件，请重新选择附件。"


def signed_in(username: str, **membership: Any) -> Client:
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        Membership.objects.create(user=user, **membership)
    client = Client()
    client.force_login(user)
    return client


def handler() -> Client:
    return signed_in("wangli", role="handler", department=Department.objects.get(code="D-MKT"))


def not_a_photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("现场照片.jpg", b"this is not a jpeg at all", content_type="image/jpeg")


def refused(res: Any) -> str:
    assert res.status_code == 422, res.status_code
    text: str = html.unescape(res.content.decode())
    assert 'role="alert"' in text
    return text


def test_a_refused_rectification_keeps_the_description(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    typed = "已约谈窗口人员王芳，调整叫号规则，增设一个综合窗口"
    res = handler().post(f"/console/cases/{case.pk}/act/rectify/", {"description": typed, "evidence": not_a_photo()})
    text = refused(res)
    assert f'<textarea id="rectify-description" name="description" maxlength="2000" required>{typed}</textarea>' in text
    assert '<details class="action" id="action-rectify" open>' in text
    assert FILES_AGAIN in text
    assert BadReviewCase.objects.get(pk=case.pk).state == "handling"


def test_a_refused_explanation_keeps_the_explanation(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "no_legal_basis")
    typed = "该事项依据《市场主体登记管理条例》须本人到场核验，已向评价人说明"
    res = handler().post(f"/console/cases/{case.pk}/act/explain/", {"explanation": typed, "evidence": not_a_photo()})
    text = refused(res)
    assert f'name="explanation" maxlength="2000" required>{typed}</textarea>' in text
    assert '<details class="action" id="action-explain" open>' in text


def test_a_refused_extension_request_keeps_the_days_their_unit_and_the_reason(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    typed = "需协调不动产登记中心补充材料"
    res = handler().post(
        f"/console/cases/{case.pk}/act/request_extension/", {"days": "31", "days_unit": "days", "reason": typed}
    )
    text = refused(res)
    assert 'name="days" value="31" required>' in text
    # The unit chosen, not the step's own (working days under the national rules).
    form = text.split('id="action-request_extension"')[1].split("</form>")[0]
    assert '<option value="days" selected>' in form and '<option value="workdays" selected>' not in form
    assert f'name="reason" maxlength="2000" required>{typed}</textarea>' in form


def test_a_refused_appeal_keeps_its_reasons(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = bad_case(world, record_payload)
    client = signed_in("wangfang", role="staff", staff=Staff.objects.get(staff_no="S001"))
    typed = "当天叫号系统故障，等待时间过长并非本人原因"
    res = client.post(f"/console/cases/{case.pk}/appeal/", {"reasons": typed, "evidence": not_a_photo()})
    text = refused(res)
    assert f'<textarea id="appeal-reasons" name="reasons" required maxlength="2000">{typed}</textarea>' in text
    assert FILES_AGAIN in text
    assert not case.appeals.exists()


def test_a_refused_appeal_decision_keeps_the_note_and_the_choice(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    staff = signed_in("wangfang", role="staff", staff=Staff.objects.get(staff_no="S001"))
    assert staff.post(f"/console/cases/{case.pk}/appeal/", {"reasons": "当天系统故障"}).status_code == 302
    appeal = case.appeals.get()
    manager = signed_in("zhouming", role="manager", region=world["district"])
    typed = "经调取监控，窗口当时确有系统故障"
    # No choice made: refused, and the note comes back.
    text = refused(manager.post(f"/console/appeals/{appeal.pk}/decide/", {"note": typed}))
    form = text.split(f'id="decide-{appeal.pk}"')[1].split("</form>")[0]
    assert f">{typed}</textarea>" in form
    # A note that is too long: refused, and both the note and the choice come back.
    long_note = "核" * 2001
    text = refused(manager.post(f"/console/appeals/{appeal.pk}/decide/", {"upheld": "no", "note": long_note}))
    form = text.split(f'id="decide-{appeal.pk}"')[1].split("</form>")[0]
    assert f">{long_note}</textarea>" in form and 'value="no" checked>' in form


def test_a_refused_revisit_keeps_the_answer_chosen(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    act_ok(world["api"], case.pk, "rectify", description="已整改")
    act_ok(world["api"], case.pk, "reply", answer="您反映的问题已整改。")
    clock.set(at(2026, 10, 9, 9))
    typed = "核" * 2001
    text = refused(handler().post(f"/console/cases/{case.pk}/act/revisit/", {"satisfied": "no", "note": typed}))
    form = text.split('id="action-revisit"')[1].split("</form>")[0]
    assert 'value="no" checked>' in form and f">{typed}</textarea>" in form


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_in_chromium_a_refused_rectification_comes_back_as_typed(
    world: dict[str, Any], record_payload: Any, live_server: Any, tmp_path: Path, width: int
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    user = get_user_model().objects.create_user(username="wangli", password="demo-pass-123", last_name="王")
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    fake = tmp_path / "现场照片.jpg"
    fake.write_bytes(b"this is not a jpeg at all")
    typed = "已约谈窗口人员，调整叫号规则，增设一个综合窗口"

    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("wangli")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        page.locator("#rectify-description").fill(typed)
        page.locator("#rectify-evidence").set_input_files(str(fake))
        page.locator("#action-rectify button[type=submit]").click()
        assert page.get_by_role("alert").first.is_visible()
        assert page.locator("#rectify-description").input_value() == typed
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.locator("#action-rectify").screenshot(path=str(ARTIFACTS / f"case-refused-form-{width}.png"))
        page.screenshot(path=str(ARTIFACTS / f"case-refused-page-{width}.png"), full_page=True)
