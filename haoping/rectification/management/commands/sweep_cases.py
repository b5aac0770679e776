from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from haoping.rectification.services import cases_sweep


class Command(BaseCommand):
    help = "Warn handlers of cases nearly due, mark overdue cases and escalate them to their managers."

    def handle(self, *args: Any, **options: Any) -> None:
        result = cases_sweep()
        self.stdout.write(
            _("cases warned: %(warned)d; cases newly overdue and escalated: %(overdue)d")
            % {"warned": result.warned, "overdue": result.overdue}
        )
