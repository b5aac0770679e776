"""综合点评 by e-mail (R18): the inbox is read over IMAP (the standard library's imaplib); each
unread message becomes a comment, received once by its Message-ID, then is marked read."""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from haoping.directory.models import Region
from haoping.errors import DomainError
from haoping.feedback.models import SocialComment
from haoping.feedback.services import comment_receive

logger = logging.getLogger("haoping.feedback")
# Words in a subject that say what kind of comment it is; anything else is a comment.
KIND_WORDS = {"投诉": SocialComment.Kind.COMPLAINT, "建议": SocialComment.Kind.SUGGESTION}


@dataclass(frozen=True)
class MailBox:
    host: str
    port: int
    username: str
    password: str
    ssl: bool = True


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        from django.utils.html import strip_tags

        text = strip_tags(text)
    return str(text).strip()


def mail_fetch(*, box: MailBox, region: Region, limit: int = 200) -> int:
    """Read the unread messages of `box` into comments about `region`; returns how many were new.

    A message is marked read only once its comment is stored, so a failure leaves it for the next
    run, and a message read twice is stored once (its Message-ID)."""
    client: imaplib.IMAP4 = imaplib.IMAP4_SSL(box.host, box.port) if box.ssl else imaplib.IMAP4(box.host, box.port)
    created = 0
    try:
        client.login(box.username, box.password)
        client.select("INBOX")
        status, data = client.search(None, "UNSEEN")
        if status != "OK":
            return 0
        for number in data[0].split()[:limit]:
            status, parts = client.fetch(number.decode(), "(RFC822)")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status != "OK" or not isinstance(raw, bytes):
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            subject = str(message.get("Subject", ""))
            sender = parseaddr(str(message.get("From", "")))[1]
            ref = str(message.get("Message-ID", "")).strip() or f"{sender}|{message.get('Date', '')}|{subject}"
            text = "\n".join(t for t in (subject, _body(message)) if t)[:2000]
            kind = next((k for word, k in KIND_WORDS.items() if word in subject), SocialComment.Kind.COMMENT)
            try:
                _comment, new = comment_receive(
                    within=region,
                    channel=SocialComment.Channel.EMAIL,
                    kind=kind,
                    target=SocialComment.Target.REGION,
                    code="",
                    text=text,
                    contact=sender[:100],
                    source_ref=ref[:200],
                    entered_by_label="e-mail",
                )
            except DomainError as exc:
                # An empty message: nothing to store; marked read so that it is not read again.
                logger.info("mail %s not stored: %s", number.decode(), exc.code)
                new = False
            created += int(new)
            client.store(number.decode(), "+FLAGS", "(\\Seen)")
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return created


class MailNotConfigured(Exception):
    """The inbox's settings name no region that exists."""


def configured_fetch() -> int | None:
    """Read the inbox the settings name (HAOPING_COMMENT_IMAP_*), as the periodic job and the
    command do; None when no host is set (no inbox to read)."""
    if not settings.HAOPING_COMMENT_IMAP_HOST:
        return None
    region = Region.objects.filter(code=settings.HAOPING_COMMENT_IMAP_REGION).first()
    if region is None:
        raise MailNotConfigured(_("HAOPING_COMMENT_IMAP_REGION: no region has this code"))
    box = MailBox(
        host=settings.HAOPING_COMMENT_IMAP_HOST,
        port=settings.HAOPING_COMMENT_IMAP_PORT,
        username=settings.HAOPING_COMMENT_IMAP_USER,
        password=settings.HAOPING_COMMENT_IMAP_PASSWORD,
        ssl=settings.HAOPING_COMMENT_IMAP_SSL,
    )
    return mail_fetch(box=box, region=region)
