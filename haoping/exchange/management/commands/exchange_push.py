from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from haoping.exchange.services import exchange_push, exchange_sweep


class Command(BaseCommand):
    help = "Make outgoing rows for what was stored since the last run and send every due row upward (R21)."

    def handle(self, *args: Any, **options: Any) -> None:
        swept = exchange_sweep()
        pushed = exchange_push()
        self.stdout.write(
            f"rows made {swept.created}; batches {pushed.batches}: sent {pushed.sent}, "
            f"rejected {pushed.rejected}, undelivered {pushed.transport_errors}"
        )
