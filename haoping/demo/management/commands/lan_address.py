from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from haoping.demo.lan import lan_address


class Command(BaseCommand):
    help = "Print this machine's IPv4 address on the local network (what `./scripts/demo --lan` serves at)."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        address = lan_address()
        if address is None:
            raise CommandError(_("This machine has no address on a local network; connect it to one and try again."))
        self.stdout.write(address)
