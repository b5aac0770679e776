from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haoping.accounts.services import api_client_create
from haoping.directory.models import Region


class Command(BaseCommand):
    help = "Create an API client for a region and print its key (last line of output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--region", required=True, help="division code of the region the key may reach")

    def handle(self, *args: Any, **options: Any) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"unknown region code {options['region']}")
        client, key = api_client_create(name=options["name"], region=region)
        self.stdout.write(f"API client {client.pk} for {region.code} created; its key is shown once:")
        self.stdout.write(key)
