from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from haoping.evaluations.chain import ChainBroken, chain_seal
from haoping.evaluations.services import defaults_record


class Command(BaseCommand):
    help = "Record default ratings (level 3) for services whose rating window has closed, then seal the chain."

    def handle(self, *args: Any, **options: Any) -> None:
        defaults = defaults_record()
        try:
            sealed = chain_seal()
        except ChainBroken as exc:
            raise CommandError(
                _(
                    "default ratings recorded: %(defaults)d; sealing stopped because the database no longer "
                    "holds what the anchor log holds (%(reason)s): run verify_chain"
                )
                % {"defaults": defaults, "reason": exc}
            ) from exc
        self.stdout.write(
            _("default ratings recorded: %(defaults)d; evaluations sealed into the chain: %(sealed)d")
            % {"defaults": defaults, "sealed": sealed}
        )
