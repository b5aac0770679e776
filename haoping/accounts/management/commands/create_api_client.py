from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

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
            raise CommandError(_("unknown region code %(code)s") % {"code": options["region"]})
        client, key = api_client_create(name=options["name"], region=region)
        self.stdout.write(
            _("API client %(id)s for %(region)s created; its key is shown only this once:")
            % {"id": client.pk, "region": region}
        )
        self.stdout.write(key)
