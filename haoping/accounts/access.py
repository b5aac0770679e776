"""What an API client may touch: its region's subtree. Every scope check goes through here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from haoping.accounts.models import ApiClient
from haoping.directory.models import Region, ServiceItem, Staff
from haoping.directory.selectors import region_contains
from haoping.errors import Forbidden, NotFound


def _outside(field: str) -> Forbidden:
    return Forbidden(
        "out_of_region", _("%(field)s: outside the region this API key may reach") % {"field": field}, field=field
    )


def access_region(client: ApiClient, region: Region, field: str) -> None:
    if not region_contains(client.region, region):
        raise _outside(field)


def access_item(client: ApiClient, item: ServiceItem, field: str) -> None:
    """Items of the client's own subtree or of a level above it (a city's item served in a district)."""
    region = item.department.region
    if not (region_contains(client.region, region) or region_contains(region, client.region)):
        raise _outside(field)


def access_staff(client: ApiClient, staff: Staff, field: str) -> None:
    home = staff.institution.region if staff.institution else staff.department.region if staff.department else None
    if home is None or not region_contains(client.region, home):
        raise _outside(field)


def access_visible(client: ApiClient | None, region: Region, what: str) -> None:
    """Data outside the client's region does not exist for it (404, not 403)."""
    if client is not None and not region_contains(client.region, region):
        raise NotFound("not_found", _("%(what)s not found") % {"what": what})
