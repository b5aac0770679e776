from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from haoping.feedback.mail import MailNotConfigured, configured_fetch


class Command(BaseCommand):
    help = (
        "Read the comment inbox over IMAP (HAOPING_COMMENT_IMAP_*): each unread message becomes a social "
        "comment. The huey consumer does the same every five minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = configured_fetch()
        except MailNotConfigured as exc:
            raise CommandError(str(exc)) from exc
        if created is None:
            self.stdout.write(_("HAOPING_COMMENT_IMAP_HOST is not set: there is no inbox to read."))
            return
        self.stdout.write(_("%(n)d new comments") % {"n": created})
