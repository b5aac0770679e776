"""R18: a comment's answer reaches its sender by the contact they left: by e-mail, or by an SMS
(fixed template, through the message outbox) that links to the answer's page; and the inbox is
read by the huey consumer on its own."""

from __future__ import annotations

import logging
import os
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from haoping.feedback.models import SocialComment
from haoping.feedback.tests.imap_standin import Mailbox, imap_standin
from haoping.feedback.tests.test_comments import login
from haoping.ops.models import JobRun
from haoping.rectification.models import Message


def _keyed_in(handler: Client, contact: str) -> SocialComment:
    done = handler.post(
        "/console/comments/new/",
        {"kind": "complaint", "about": "department:D-MKT", "text": "窗口排队太久", "contact": contact},
    )
    assert done.status_code == 302
    return SocialComment.objects.latest("pk")


def _answer(handler: Client, comment: SocialComment, text: str) -> None:
    url = f"/console/comments/{comment.pk}/"
    assert handler.post(url, {"action": "accept"}).status_code == 302
    assert handler.post(url, {"action": "answer", "note": text}).status_code == 302


def test_a_sender_who_left_a_phone_gets_an_sms_linking_to_the_answer(
    world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = login("h", role="handler", department=world["window"].department)
    comment = _keyed_in(handler, "+86 139-1234-5678")
    _answer(handler, comment, "已增加两个综合窗口")

    message = Message.objects.get(kind=Message.Kind.COMMENT_ANSWER)
    assert message.to_evaluator is None and message.to_phone == "13912345678"
    assert message.template == "comment_answer" and message.sent_at is not None
    # A fixed template with the link, never the answer's own text.
    assert message.link and message.link in message.text and "已增加两个综合窗口" not in message.text
    assert comment.object_label[:15] in message.text
    # The number is stored encrypted in the outbox, and written to no log.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_phone FROM rectification_message WHERE id = %s", [message.pk])
        stored = cursor.fetchone()[0]
    assert "13912345678" not in stored and "5678" not in stored
    assert not any("13912345678" in r.getMessage() or "1234-5678" in r.getMessage() for r in caplog.records)

    comment.refresh_from_db()
    assert comment.answer_sent_at is not None and comment.public_id
    detail = handler.get(f"/console/comments/{comment.pk}/").content.decode()
    assert "短信" in detail and "13912345678" not in detail and "139-1234-5678" not in detail

    # The link shows the answer to anyone holding it, and nothing of the sender.
    path = urlsplit(message.link).path
    assert path.startswith("/c/")
    page = Client().get(path)
    body = page.content.decode()
    assert page.status_code == 200 and "已增加两个综合窗口" in body and "窗口排队太久" in body
    assert "5678" not in body and page["Cache-Control"] == "private, no-store"
    forged = Client().get(path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:])
    assert forged.status_code == 403
    assert Client().get("/c/nonsense/").status_code == 404


def test_the_phone_number_reaches_the_sms_gateway(world: dict[str, Any], settings: Any) -> None:
    from haoping.channels.gateways import _recipient

    handler = login("h", role="handler", department=world["window"].department)
    comment = _keyed_in(handler, "139 1234 5678")
    _answer(handler, comment, "已处理")
    message = Message.objects.get(kind=Message.Kind.COMMENT_ANSWER)
    os.environ["HAOPING_SMS_TEMPLATES"] = "comment_answer=SMS_900"
    try:
        phone, template, _signature = _recipient(message)  # type: ignore[misc]
    finally:
        del os.environ["HAOPING_SMS_TEMPLATES"]
    assert (phone, template) == ("13912345678", "SMS_900")


def test_a_contact_that_is_neither_gets_nothing_sent(world: dict[str, Any]) -> None:
    handler = login("h", role="handler", department=world["window"].department)
    comment = _keyed_in(handler, "请到大厅找我")
    _answer(handler, comment, "已处理")
    comment.refresh_from_db()
    assert comment.state == "answered" and comment.answer_sent_at is None
    assert not Message.objects.filter(kind=Message.Kind.COMMENT_ANSWER).exists()


def _mail(n: int) -> bytes:
    m = EmailMessage()
    m["From"] = f"citizen{n}@example.cn"
    m["To"] = "hcp@example.cn"
    m["Subject"] = "建议"
    m["Message-ID"] = f"<job{n}@example.cn>"
    m.set_content("周六也开放")
    return bytes(m)


def test_the_huey_consumer_reads_the_inbox_on_its_schedule(world: dict[str, Any], settings: Any) -> None:
    from huey.contrib.djhuey import HUEY

    from haoping.feedback.tasks import comment_mail_fetch
    from haoping.ops.jobs import COMMENT_MAIL

    assert "comment_mail_fetch" in {task.__name__ for task in HUEY._registry._periodic_tasks}
    assert COMMENT_MAIL.every_minutes == 5 and COMMENT_MAIL.schedule() is not None

    # Without a host there is nothing to read, and the run is still recorded.
    settings.HAOPING_COMMENT_IMAP_HOST = ""
    assert comment_mail_fetch.call_local() == 0

    box = Mailbox("hcp", "secret", [_mail(1), _mail(2)])
    with imap_standin(box) as port:
        settings.HAOPING_COMMENT_IMAP_HOST = "127.0.0.1"
        settings.HAOPING_COMMENT_IMAP_PORT = port
        settings.HAOPING_COMMENT_IMAP_SSL = False
        settings.HAOPING_COMMENT_IMAP_USER = "hcp"
        settings.HAOPING_COMMENT_IMAP_PASSWORD = "secret"
        settings.HAOPING_COMMENT_IMAP_REGION = world["district"].code
        assert comment_mail_fetch.call_local() == 2
        box.seen.clear()
        assert comment_mail_fetch.call_local() == 0
    assert SocialComment.objects.filter(channel="email").count() == 2
    assert JobRun.objects.filter(name=COMMENT_MAIL.name).exists()


def test_the_answer_sms_fits_the_segments_allowed_with_the_longest_values(settings: Any) -> None:
    from haoping.feedback.texts import COMMENT_ANSWERED
    from haoping.rectification.sms import SIGNATURE_MAX, sms_segments

    longest = COMMENT_ANSWERED.longest(signature="政" * SIGNATURE_MAX)
    assert sms_segments(longest) <= settings.HAOPING_SMS_MAX_SEGMENTS


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Collected:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        return "250 OK"


def test_an_address_gets_the_answer_through_an_smtp_server(
    world: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import email
    import email.policy

    from aiosmtpd.controller import Controller

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "hcp@example.gov.cn"
    handler = login("h", role="handler", department=world["window"].department)
    collected = _Collected()
    controller = Controller(collected, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        comment = _keyed_in(handler, "citizen@example.cn")
        with django_capture_on_commit_callbacks(execute=True):
            _answer(handler, comment, "已增加两个综合窗口")
    finally:
        controller.stop()
    assert len(collected.envelopes) == 1
    envelope = collected.envelopes[0]
    assert envelope.rcpt_tos == ["citizen@example.cn"] and envelope.mail_from == "hcp@example.gov.cn"
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "市场监督管理局" in str(sent["Subject"]) and "已增加两个综合窗口" in sent.get_body().get_content()
    comment.refresh_from_db()
    assert comment.answer_sent_at is not None

    # With the server gone, the answer stands, is shown as not sent, and no address is logged.
    settings.EMAIL_PORT = _free_port()
    later = _keyed_in(handler, "other@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        _answer(handler, later, "已处理")
    later.refresh_from_db()
    assert later.state == "answered" and later.answer_sent_at is None
    # (The stand-in server's own log, `mail.log`, is not ours.)
    ours = [r for r in caplog.records if r.name != "mail.log"]
    assert ours and not [(r.name, r.getMessage()) for r in ours if "example.cn" in r.getMessage()]


def test_the_admin_shows_the_answer_sms_without_the_number(world: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    handler = login("h", role="handler", department=world["window"].department)
    _answer(handler, _keyed_in(handler, "13912345678"), "已处理")
    message = Message.objects.get(kind=Message.Kind.COMMENT_ANSWER)
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))
    page = admin.get(f"/admin/rectification/message/{message.pk}/change/")
    assert page.status_code == 200 and message.link in page.content.decode()
    assert "13912345678" not in page.content.decode() and "5678" not in page.content.decode()
