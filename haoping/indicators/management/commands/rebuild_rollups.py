from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from haoping.indicators.services import rollups_rebuild


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


class Command(BaseCommand):
    help = "Recount the daily indicator rollups from the evaluations and cases, for all dates or a range."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", type=_date, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="last", type=_date, help="last day (YYYY-MM-DD)")

    def handle(self, *args: Any, first: dt.date | None, last: dt.date | None, **options: Any) -> None:
        if first and last and last < first:
            raise CommandError(_("--to must not be before --from"))
        rows = rollups_rebuild(first=first, last=last)
        self.stdout.write(_("rollup rows written: %(rows)d") % {"rows": rows})
