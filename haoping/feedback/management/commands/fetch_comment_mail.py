from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haoping.directory.models import Region
from haoping.feedback.mail import MailBox, mail_fetch


class Command(BaseCommand):
    help = "Read the comment inbox over IMAP (HAOPING_COMMENT_IMAP_*): each unread message becomes a social comment."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.HAOPING_COMMENT_IMAP_HOST:
            self.stdout.write("HAOPING_COMMENT_IMAP_HOST is not set: no inbox to read.")
            return
        region = Region.objects.filter(code=settings.HAOPING_COMMENT_IMAP_REGION).first()
        if region is None:
            raise CommandError("HAOPING_COMMENT_IMAP_REGION: no region has this code")
        box = MailBox(
            host=settings.HAOPING_COMMENT_IMAP_HOST,
            port=settings.HAOPING_COMMENT_IMAP_PORT,
            username=settings.HAOPING_COMMENT_IMAP_USER,
            password=settings.HAOPING_COMMENT_IMAP_PASSWORD,
            ssl=settings.HAOPING_COMMENT_IMAP_SSL,
        )
        self.stdout.write(f"{mail_fetch(box=box, region=region)} new comments")
