from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from haoping.errors import DomainError
from haoping.workdays.services import calendar_seed, default_seed_years


class Command(BaseCommand):
    help = (
        "Fill the working-day calendar from chinesecalendar (weekends only, unconfirmed, for years it does not "
        "cover yet). Administrators' edits are kept. Default: 2020 through the year after the library's last."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", nargs="+", type=int, metavar="YEAR")

    def handle(self, *args: Any, **options: Any) -> None:
        years = options["years"] or list(default_seed_years())
        try:
            written = calendar_seed(years=years)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(_("%(count)d days written") % {"count": written})
