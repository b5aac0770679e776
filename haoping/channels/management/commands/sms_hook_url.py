from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from haoping.channels.hooks import PROVIDERS, hook_url


class Command(BaseCommand):
    help = "Print the reply-callback address to configure at each SMS provider (it carries the callback's key)."

    def handle(self, *args: Any, **options: Any) -> None:
        for provider in PROVIDERS:
            self.stdout.write(f"{provider}: {hook_url(provider)}")
