"""综合点评 (R18): from the web form (rate limit, own challenge), an IMAP inbox, the 12345 hotline's
API and the suggestion box, into one inbox routed to the unit, worked accept → answer → close
against the region's deadlines, and counted by object and month."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from haoping.accounts.models import Membership
from haoping.feedback.mail import MailBox, mail_fetch
from haoping.feedback.models import SocialComment
from haoping.feedback.tests.imap_standin import Mailbox, imap_standin
from haoping.workdays.selectors import add_hours, add_workdays


def login(username: str, **membership: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="x")
    Membership.objects.create(user=user, **membership)
    client = Client()
    client.force_login(user)
    return client


def form_post(client: Client, **fields: str) -> Any:
    page = client.get("/gongkai/comment/?region=320102").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page)
    question = re.search(r"(\d) \+ (\d)", page)
    assert token and question
    answer = str(int(question.group(1)) + int(question.group(2)))
    body = {"region": "320102", "token": token.group(1), "answer": answer, "kind": "complaint", **fields}
    return client.post("/gongkai/comment/", body)


@pytest.fixture
def quick(settings: Any) -> None:
    settings.HAOPING_COMMENT_MIN_SECONDS = 0


def test_anyone_comments_through_the_web_form(world: dict[str, Any], quick: None) -> None:
    client = Client()
    assert "玄武区" in client.get("/gongkai/comment/").content.decode()
    page = client.get("/gongkai/comment/?region=320102").content.decode()
    assert "市场监督管理局" in page and "玄武区政务服务中心" in page and "企业开办" in page
    sent = form_post(client, about="department:D-MKT", text="材料清单与窗口要求不一致", contact="reader@example.cn")
    assert sent.status_code == 201 and "comment-received" in sent.content.decode()
    comment = SocialComment.objects.get()
    assert (comment.channel, comment.kind, comment.unit, comment.region) == (
        "web",
        "complaint",
        world["window"].department,
        world["district"],
    )
    # R12's national default: accepted within 48 hours, answered within 5 working days.
    assert comment.accept_due == add_hours(comment.received_at, 48).at
    assert comment.answer_due == add_workdays(comment.received_at, 5).at
    assert comment.contact == "reader@example.cn"


def test_the_challenge_the_hidden_field_and_the_rate_limit(world: dict[str, Any], quick: None, settings: Any) -> None:
    client = Client()
    page = client.get("/gongkai/comment/?region=320102").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    wrong = client.post(
        "/gongkai/comment/",
        {"region": "320102", "token": token, "answer": "99", "kind": "comment", "about": "region:320102", "text": "好"},
    )
    assert wrong.status_code == 400 and "新的" in wrong.content.decode()
    forged = client.post(
        "/gongkai/comment/",
        {
            "region": "320102",
            "token": token + "x",
            "answer": "2",
            "kind": "comment",
            "about": "region:320102",
            "text": "好",
        },
    )
    assert forged.status_code == 400
    bot = form_post(client, about="region:320102", text="广告", website="http://spam")
    assert bot.status_code == 400
    empty = form_post(client, about="region:320102", text="  ")
    assert empty.status_code == 422 and "您的意见" in empty.content.decode()
    settings.HAOPING_COMMENT_MIN_SECONDS = 60
    too_fast = form_post(client, about="region:320102", text="太快了")
    assert too_fast.status_code == 400
    settings.HAOPING_COMMENT_MIN_SECONDS = 0
    settings.HAOPING_COMMENT_RATE = "2/h"
    answers = [form_post(client, about="institution:H-XW", text=f"第{i}条意见").status_code for i in range(3)]
    assert answers == [201, 201, 429]
    assert SocialComment.objects.count() == 2
    assert SocialComment.objects.first().unit is None  # a hall's comments go to the region's managers


def message(n: int, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"市民{n} <citizen{n}@example.cn>"
    msg["To"] = "hcp@example.gov.cn"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<m{n}@example.cn>"
    msg.set_content(body)
    return bytes(msg)


def test_the_email_inbox_is_read_over_imap(world: dict[str, Any]) -> None:
    box = Mailbox(
        "hcp", "secret", [message(1, "投诉：大厅空调坏了", "二楼等候区太热"), message(2, "建议", "增加周末服务")]
    )
    with imap_standin(box) as port:
        standin = MailBox("127.0.0.1", port, "hcp", "secret", ssl=False)
        assert mail_fetch(box=standin, region=world["district"]) == 2
        assert box.seen == {1, 2}
        assert mail_fetch(box=standin, region=world["district"]) == 0
        # A message offered again (its flag lost) is still stored once.
        box.seen.clear()
        assert mail_fetch(box=standin, region=world["district"]) == 0
        with pytest.raises(Exception, match="AUTHENTICATIONFAILED|wrong"):
            mail_fetch(box=MailBox("127.0.0.1", port, "hcp", "nope", ssl=False), region=world["district"])
    kinds = dict(SocialComment.objects.values_list("source_ref", "kind"))
    assert kinds == {"<m1@example.cn>": "complaint", "<m2@example.cn>": "suggestion"}
    first = SocialComment.objects.get(source_ref="<m1@example.cn>")
    assert first.channel == "email" and first.contact == "citizen1@example.cn" and "二楼等候区太热" in first.text


def test_the_hotline_passes_comments_on_once(world: dict[str, Any]) -> None:
    hotline = world["hotline_api"]
    body = {
        "ticket_no": "12345-0001",
        "kind": "suggestion",
        "target": "item",
        "code": "ITEM-001",
        "text": "网上申报页面太复杂",
    }
    first = hotline.post("/comments", body)
    assert first.status_code == 201, first.json()
    again = hotline.post("/comments", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["unit"] == "市场监督管理局"
    unknown = hotline.post("/comments", {**body, "ticket_no": "12345-0002", "code": "NOPE"})
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
    bad = hotline.post("/comments", {**body, "ticket_no": "12345-0003", "target": "window"})
    assert bad.status_code == 422
    assert world["business_api"].post("/comments", {**body, "ticket_no": "12345-0004"}).status_code == 403
    assert (
        world["other_api"]
        .post("/comments", {**body, "ticket_no": "12345-0005", "target": "department", "code": "D-MKT"})
        .status_code
        == 422
    )
    assert SocialComment.objects.count() == 1


def test_a_unit_accepts_answers_and_closes_a_keyed_in_comment(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    dept = world["window"].department
    handler = login("h", role="handler", department=dept)
    keyed = handler.post(
        "/console/comments/new/",
        {
            "kind": "suggestion",
            "about": "department:D-MKT",
            "text": "意见箱：希望增加自助打印机",
            "contact": "box@example.cn",
        },
    )
    assert keyed.status_code == 302
    comment = SocialComment.objects.get()
    assert comment.channel == "box" and comment.unit == dept
    url = f"/console/comments/{comment.pk}/"
    assert handler.post(url, {"action": "answer", "note": "已增加"}).status_code == 422
    assert handler.post(url, {"action": "accept"}).status_code == 302
    assert handler.post(url, {"action": "answer", "note": ""}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        assert handler.post(url, {"action": "answer", "note": "已在大厅增加两台自助打印机"}).status_code == 302
    comment.refresh_from_db()
    assert comment.state == "answered" and comment.answer_sent_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["box@example.cn"]
    assert handler.post(url, {"action": "close"}).status_code == 302
    comment.refresh_from_db()
    assert comment.state == "closed"
    assert [e.action for e in comment.events.all()] == ["receive", "accept", "answer", "close"]
    other_unit = login("o", role="handler", department=world["window"].department.__class__.objects.get(code="D-OTHER"))
    assert other_unit.get(url).status_code == 404
    inbox = login("m", role="manager", region=world["city"]).get("/console/comments/").content.decode()
    assert 'id="comment-counts"' in inbox and "市场监督管理局" in inbox


def test_the_staff_member_has_no_inbox(world: dict[str, Any]) -> None:
    staff = login("s", role="staff", staff=world["staff"])
    assert staff.get("/console/comments/").status_code == 404


def test_the_indicators_overview_shows_the_comments_beside_the_ratings(world: dict[str, Any]) -> None:
    from haoping.feedback.services import comment_receive

    for kind, code in (("complaint", "D-MKT"), ("suggestion", "D-MKT")):
        comment_receive(within=world["district"], channel="box", kind=kind, target="department", code=code, text="意见")
    comment_receive(within=world["other"], channel="box", kind="complaint", target="region", code="", text="别处")
    page = login("m", role="manager", region=world["district"]).get("/console/indicators/").content.decode()
    assert "本期综合点评 2 条（投诉 1 条；未办结 2 条，已超期 0 条）" in page
