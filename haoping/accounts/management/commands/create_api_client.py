from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from haoping.accounts.models import ApiClient
from haoping.accounts.services import api_client_create
from haoping.directory.models import Region


class Command(BaseCommand):
    help = "Create an API client for a region and print its key (last line of output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--region", required=True, help="division code of the region the key may reach")
        parser.add_argument(
            "--role",
            choices=ApiClient.Role.values,
            default=ApiClient.Role.BUSINESS,
            help="business (push records and ratings, work the unit's cases; the default), hotline (also "
            "send cases on to units) or manager (also decide appeals, invalidations and extensions)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(_("unknown region code %(code)s") % {"code": options["region"]})
        client, key = api_client_create(name=options["name"], region=region, role=options["role"])
        self.stdout.write(
            _("API client %(id)s (%(role)s) for %(region)s created; its key is shown only this once:")
            % {"id": client.pk, "role": client.get_role_display(), "region": region}
        )
        self.stdout.write(key)
