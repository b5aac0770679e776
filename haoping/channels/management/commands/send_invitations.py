from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from haoping.channels.services import invitations_send


class Command(BaseCommand):
    help = "Send the SMS invitations and reminders that are due (R22), within sending hours and daily caps."

    def handle(self, *args: Any, **options: Any) -> None:
        result = invitations_send()
        self.stdout.write(
            _("invitations sent: %(invited)d; reminders sent: %(reminded)d; held for later: %(held)d")
            % {"invited": result.invited, "reminded": result.reminded, "held": result.held}
        )
