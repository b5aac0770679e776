from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from haoping.evaluations.chain import chain_seal
from haoping.evaluations.services import defaults_record


class Command(BaseCommand):
    help = "Record default ratings (level 3) for services whose rating window has closed, then seal the chain."

    def handle(self, *args: Any, **options: Any) -> None:
        defaults = defaults_record()
        sealed = chain_seal()
        self.stdout.write(f"default ratings recorded: {defaults}; evaluations sealed: {sealed}")
