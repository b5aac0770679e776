"""In Chromium: a resident comments through the public form at a phone's width, the unit answers
it through the console, and axe-core finds no WCAG 2.1 AA violation on the public pages of
comments, 整改公示, the case library and the bulletin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, PHONE, chromium_page
from haoping.disclosure.services import case_study_create, case_study_publish
from haoping.disclosure.tests.test_public_browser import axe_violations
from haoping.disclosure.tests.test_public_results import manager, publish, this_month
from haoping.feedback.models import SocialComment
from haoping.rectification.models import BadReviewCase


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_comment_sent_from_a_phone_is_answered_in_the_console(
    world: dict[str, Any], district: dict[str, str], live_server: Any, settings: Any
) -> None:
    settings.HAOPING_COMMENT_MIN_SECONDS = 0
    actor = manager("m", world["district"])
    publish(actor, world["district"])
    study = case_study_create(
        actor=actor,
        title="效率问题整改",
        text="中心调整窗口排班后等候时间缩短。",
        source_case=BadReviewCase.objects.get(record__record_no="R3"),
    )
    case_study_publish(actor=actor, study=study)
    month = f"{this_month():%Y-%m}"
    with chromium_page(**PHONE) as page:
        for name, path in {
            "rectification": f"/gongkai/320102/{month}/rectification/",
            "cases": "/gongkai/320102/cases/",
            "bulletin": f"/gongkai/320102/bulletin/{month}/",
            "comment-region": "/gongkai/comment/",
        }.items():
            page.goto(live_server.url + path)
            page.screenshot(path=str(ARTIFACTS / f"gongkai-{name}-phone.png"), full_page=True)
            assert axe_violations(page) == [], name
        page.goto(live_server.url + "/gongkai/comment/?region=320102")
        assert axe_violations(page) == []
        page.locator("#kind").select_option("complaint")
        page.locator("#about").select_option("department:D-MKT")
        page.get_by_label("您的意见").fill("窗口告知的材料与网上指南不一致")
        page.get_by_label("联系方式（选填）").fill("resident@example.cn")
        a, b = re.search(r"(\d) \+ (\d)", page.locator("label[for=answer]").inner_text()).groups()  # type: ignore[union-attr]
        page.locator("#answer").fill(str(int(a) + int(b)))
        page.get_by_role("button", name="提交").click()
        assert "感谢您的点评" in page.locator("#comment-received").inner_text()
        page.screenshot(path=str(ARTIFACTS / "gongkai-comment-received-phone.png"), full_page=True)
    comment = SocialComment.objects.get()
    user = get_user_model().objects.create_user(username="handler", password="Hcp-test-2026!")
    Membership.objects.create(user=user, role="handler", department=comment.unit)
    with chromium_page(viewport={"width": 1280, "height": 800}) as page:
        page.goto(live_server.url + "/console/login/")
        page.locator("#id_username").fill("handler")
        page.locator("#id_password").fill("Hcp-test-2026!")
        page.locator("button[type=submit], input[type=submit]").first.click()
        page.goto(live_server.url + "/console/comments/")
        page.get_by_role("link", name=str(comment.pk), exact=True).click()
        page.locator("form.comment-action button").click()  # 受理
        page.locator("#note").fill("已统一窗口与网上指南的材料清单")
        page.locator("form.comment-action button").click()  # 答复
        assert page.locator("#comment-state").inner_text() == "已答复"
        page.locator("form.comment-action button").click()  # 办结
        assert page.locator("#comment-state").inner_text() == "已办结"
        page.screenshot(path=str(ARTIFACTS / "console-comment-closed.png"), full_page=True)
    comment.refresh_from_db()
    assert comment.state == "closed" and comment.answer == "已统一窗口与网上指南的材料清单"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sms_answers_page_and_the_paged_lists_read_on_a_phone(
    world: dict[str, Any], district: dict[str, str], live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit

    from haoping.accounts.access import actor_for_user
    from haoping.disclosure import views
    from haoping.feedback.services import comment_act, comment_receive
    from haoping.rectification.models import Message

    comment, _new = comment_receive(
        within=world["district"],
        channel="hotline",
        kind="complaint",
        target="department",
        code="D-MKT",
        text="周末无法办理，希望延长服务时间",
        contact="139 1234 5678",
        source_ref="12345-7",
    )
    user = get_user_model().objects.create_user(username="handler", password="x")
    Membership.objects.create(user=user, role="handler", department=comment.unit)
    actor = actor_for_user(user)
    assert actor is not None
    comment_act(actor=actor, comment=comment, action="accept")
    comment_act(actor=actor, comment=comment, action="answer", note="自下月起每周六上午开放综合窗口")
    link = Message.objects.get(kind=Message.Kind.COMMENT_ANSWER).link
    # Lists long enough to page: one item a page.
    monkeypatch.setattr(views, "RECTIFICATION_PAGE", 1)
    publish(manager("m", world["district"]), world["district"])
    month = f"{this_month():%Y-%m}"
    with chromium_page(**PHONE) as page:
        page.goto(live_server.url + urlsplit(link).path)
        assert "自下月起每周六上午开放综合窗口" in page.locator("#answer-text").inner_text()
        assert "5678" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "gongkai-comment-answer-phone.png"), full_page=True)
        assert axe_violations(page) == []
        page.goto(live_server.url + f"/gongkai/320102/{month}/rectification/")
        page.get_by_role("link", name="下一页").click()
        assert "第 2 页" in page.locator("nav.pages").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(ARTIFACTS / "gongkai-rectification-page-2-phone.png"), full_page=True)
        assert axe_violations(page) == []
