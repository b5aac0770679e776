"""The SMS texts of invitations and of answers to replies: fixed templates, like every text to an
evaluator (haoping.rectification.sms), never free text."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from haoping.rectification.sms import SmsTemplate

INVITATION = SmsTemplate(
    code="invitation",
    label=_("invitation to rate"),
    text=_(
        "Please rate “%(item)s”: reply 5 (very satisfied) to 1 (very dissatisfied), or open %(link)s Reply TD to stop."
    ),
    limits={"item": 16},
    choices={},
    link=True,
)
REMINDER = SmsTemplate(
    code="reminder",
    label=_("reminder to rate"),
    text=_("Reminder: “%(item)s” can still be rated for a few days. Reply 5 to 1, or open %(link)s Reply TD to stop."),
    limits={"item": 16},
    choices={},
    link=True,
)
REPLY_ANSWER = SmsTemplate(
    code="reply_answer",
    label=_("answer to an SMS reply"),
    text=_("%(answer)s"),
    limits={},
    choices={
        "answer": {
            "rated": _("Thank you: your rating is recorded."),
            "rated_already": _("This service has been rated already; thank you."),
            "closed": _("The rating period of this service has ended; thank you all the same."),
            "unclear": _("Please reply one digit from 5 (very satisfied) to 1 (very dissatisfied), then any comment."),
            "opted_out": _("You will receive no more rating invitations."),
            "no_invitation": _("We found no rating invitation for this number."),
            "refused": _("Your reply could not be recorded: please rate through the link instead."),
        }
    },
)
TEMPLATES = (INVITATION, REMINDER, REPLY_ANSWER)
