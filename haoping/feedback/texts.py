"""The SMS to a comment's sender who left a phone number (R18): a fixed template, like every text
to an evaluator (haoping.rectification.sms); the answer itself is behind the link."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from haoping.rectification.sms import SmsTemplate

COMMENT_ANSWERED = SmsTemplate(
    code="comment_answer",
    label=_("answer to a social comment"),
    text=_("Your comment about “%(about)s” has been answered. Read the answer: %(link)s"),
    limits={"about": 16},
    choices={},
    link=True,
)
TEMPLATES = (COMMENT_ANSWERED,)
