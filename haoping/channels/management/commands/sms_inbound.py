from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from haoping.channels.models import InboundSms
from haoping.channels.services import sms_reply_receive


class Command(BaseCommand):
    help = "Take an SMS reply as the database outbox's gateway would receive it (the demo's and tests' inbound)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True, help="the number the reply came from")
        parser.add_argument("--text", required=True, help="what it says, e.g. 5 or 2 排队太久")

    def handle(self, *args: Any, **options: Any) -> None:
        inbound = sms_reply_receive(provider="outbox", phone=options["phone"], text=options["text"])
        outcome = InboundSms.Outcome(inbound.outcome).label
        line = _("reply stored: %(outcome)s") % {"outcome": outcome}
        if inbound.receipt:
            line += " " + _("(receipt %(receipt)s)") % {"receipt": inbound.receipt}
        self.stdout.write(line)
