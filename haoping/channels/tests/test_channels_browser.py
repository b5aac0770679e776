"""In Chromium: an SMS invitation's short link opened on a phone and rated there (stored on channel
sms, R22); paper forms keyed in at the console on a desktop and on a phone. Screenshots go to the
test's tmp dir."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from haoping.accounts.models import Membership
from haoping.browser import PHONE, chromium_page
from haoping.channels.models import Invitation, PaperForm
from haoping.channels.services import invitations_send
from haoping.channels.tests.test_invitations import day_at
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import Message
from haoping.rectification.tests.test_evidence import png_1x1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sms_short_link_rated_on_a_phone(register: Any, live_server: Any, tmp_path: Path) -> None:
    served_at = timezone.now() - dt.timedelta(hours=1)
    slot = register(served_at)
    invitations_send(now=day_at(served_at, 1, 10))
    code = Invitation.objects.get(slot=slot).code
    [text] = Message.objects.filter(kind=Message.Kind.INVITATION).values_list("text", flat=True)
    assert f"/s/{code}/" in text
    with chromium_page(**PHONE) as page:
        page.goto(f"{live_server.url}/s/{code}/")
        assert "/r/" in page.url and page.url.endswith("?via=sms")
        assert page.get_by_text("企业开办").first.is_visible()
        # Nothing sticks out sideways at phone width.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "sms-1-rating-page.png"), full_page=True)
        page.get_by_text("不满意", exact=True).first.tap()
        assert page.get_by_role("radio", name="不满意", exact=True).is_checked()
        page.locator("label", has=page.locator("input[name=reasons][value=efficiency]")).tap()
        assert page.locator("input[name=reasons][value=efficiency]").is_checked()
        page.screenshot(path=str(tmp_path / "sms-2-bad-with-reason.png"), full_page=True)
        page.get_by_role("button", name="提交评价").tap()
        receipt = page.locator("#receipt").inner_text().strip()
        page.screenshot(path=str(tmp_path / "sms-3-receipt.png"), full_page=True)
        # The short link again: rated already.
        page.goto(f"{live_server.url}/s/{code}/")
        assert "已评价" in page.locator("main").inner_text()
    stored = Evaluation.objects.get(slot=slot)
    assert (stored.channel, stored.level, stored.reasons, stored.receipt) == ("sms", 2, ["efficiency"], receipt)
    assert stored.source == "active" and stored.rated_by == "applicant"
    assert list(tmp_path.glob("sms-*.png"))


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(base + "/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/**")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_paper_forms_keyed_in_at_the_console(
    world: dict[str, Any], register: Any, live_server: Any, settings: Any, tmp_path: Path, width: int
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    first = register(timezone.now() - dt.timedelta(days=2), record_no="PAPER-B-1")
    second = register(timezone.now() - dt.timedelta(days=2), record_no="PAPER-B-2", phone="13900001111")
    user = get_user_model().objects.create_user(username="zhouming", password="demo-pass-123", last_name="周明")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    photo = tmp_path / "表格照片.png"
    photo.write_bytes(png_1x1())
    form_date = timezone.localdate(timezone.now() - dt.timedelta(days=1)).isoformat()
    options: dict[str, Any] = PHONE if width == 390 else {"viewport": {"width": 1280, "height": 900}}
    with chromium_page(**options) as page:
        _login(page, live_server.url, "zhouming", "demo-pass-123")
        page.goto(live_server.url + "/console/paper/")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"paper-{width}-1-empty.png"), full_page=True)
        # Row 1 with its photo; row 2 without one: the page says so and keeps row 2 as entered.
        page.get_by_label("办件编号 1", exact=True).fill("PAPER-B-1")
        page.get_by_label("评价表日期 1", exact=True).fill(form_date)
        page.get_by_label("评价等级 1", exact=True).select_option("5")
        page.get_by_label("评价表照片 1", exact=True).set_input_files(str(photo))
        page.get_by_label("办件编号 2", exact=True).fill("PAPER-B-2")
        page.get_by_label("评价表日期 2", exact=True).fill(form_date)
        page.get_by_label("评价等级 2", exact=True).select_option("2")
        page.get_by_role("group", name="理由 2", exact=True).locator("input[value=efficiency]").check()
        page.get_by_label("具体意见 2", exact=True).fill("等候时间太长")
        with page.expect_navigation():
            page.get_by_role("button", name="保存评价表").click()
        assert "已保存 1 张评价表" in page.get_by_role("status").inner_text()
        alert = page.locator("tr.has-error p.error").inner_text()
        assert "照片" in alert
        assert page.get_by_label("办件编号 2", exact=True).input_value() == "PAPER-B-2"
        assert page.get_by_role("group", name="理由 2", exact=True).locator("input[value=efficiency]").is_checked()
        assert page.get_by_label("具体意见 2", exact=True).input_value() == "等候时间太长"
        page.screenshot(path=str(tmp_path / f"paper-{width}-2-one-missing-photo.png"), full_page=True)
        page.get_by_label("评价表照片 2", exact=True).set_input_files(str(photo))
        with page.expect_navigation():
            page.get_by_role("button", name="保存评价表").click()
        assert "已保存 1 张评价表" in page.get_by_role("status").inner_text()
        assert page.locator("tr.has-error").count() == 0
        listed = page.locator("#recent").inner_text()
        assert "PAPER-B-1" in listed and "PAPER-B-2" in listed
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"paper-{width}-3-listed.png"), full_page=True)
        # The photo opens from the list.
        href = page.locator("#recent a").first.get_attribute("href")
        answer = page.request.get(live_server.url + href)
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    got = {
        f.record_no: (f.evaluation.level, f.evaluation.channel) for f in PaperForm.objects.select_related("evaluation")
    }
    assert got == {"PAPER-B-1": (5, "paper"), "PAPER-B-2": (2, "paper")}
    assert Evaluation.objects.get(slot=second).reasons == ["efficiency"]
    assert Evaluation.objects.get(slot=first).comment == ""
