from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

from django.db import connection
from django.utils.translation import gettext as _

from haoping.directory.models import Platform, Region, RegionPolicy, path_within
from haoping.errors import Invalid


def region_contains(ancestor: Region, region: Region) -> bool:
    return path_within(region.path, ancestor.path)


def _policies_sql(count: int) -> str:
    qn = connection.ops.quote_name
    policy, region = qn(RegionPolicy._meta.db_table), qn(Region._meta.db_table)
    return (
        f"SELECT p.*, r.{qn('code')} AS region_code FROM {policy} p"
        f" JOIN {region} r ON r.{qn('id')} = p.{qn('region_id')} WHERE r.{qn('code')} IN ({', '.join(['%s'] * count)})"
    )


def policy_for_region(region: Region) -> RegionPolicy:
    """The nearest policy on the way up to the root; the national defaults if there is none.

    Read on every bad rating and every record registered: plain SQL, which the ORM need not write
    anew each time. The policy's `region` loads on first use.
    """
    codes = [code for code in region.path.strip("/").split("/") if code]
    if not codes:
        return RegionPolicy(region=region)
    found = RegionPolicy.objects.raw(_policies_sql(len(codes)), codes)
    policies = {getattr(p, "region_code"): p for p in found}  # noqa: B009 (the query's extra column)
    for code in reversed(codes):
        if code in policies:
            return policies[code]
    return RegionPolicy(region=region)


# What each column of an exported sheet reads from its row: a field, or a related row's code
# (the same columns `directory_import` takes, so an export can be edited and imported again).
EXPORT_COLUMNS: dict[str, dict[str, str]] = {
    "regions": {"code": "code", "name": "name", "parent": "parent__code"},
    "departments": {"code": "code", "name": "name", "region": "region__code"},
    "institutions": {"code": "code", "name": "name", "kind": "kind", "region": "region__code"},
    "windows": {"code": "code", "name": "name", "institution": "institution__code", "department": "department__code"},
    "platforms": {"code": "code", "name": "name", "kind": "kind", "region": "region__code"},
    "items": {
        "code": "code",
        "name": "name",
        "type": "type",
        "department": "department__code",
        "legal_days": "legal_days",
        "promised_days": "promised_days",
    },
    "staff": {
        "staff_no": "staff_no",
        "name": "name",
        "department": "department__code",
        "institution": "institution__code",
        "window": "window__code",
    },
}


def directory_rows() -> dict[str, list[dict[str, Any]]]:
    """The whole directory in the import's shape: a list of rows per section, references by code."""
    from haoping.directory.services import MODELS

    data: dict[str, list[dict[str, Any]]] = {}
    for section, columns in EXPORT_COLUMNS.items():
        # Regions parents first, the rest by code: a diff of two exports reads line by line.
        order = "path" if section == "regions" else ("staff_no" if section == "staff" else "code")
        rows = MODELS[section].objects.order_by(order).values_list(*columns.values())
        data[section] = [dict(zip(columns, row, strict=True)) for row in rows.iterator(chunk_size=2000)]
    return data


def directory_workbook(data: dict[str, list[dict[str, Any]]]) -> bytes:
    """An .xlsx workbook with a sheet per section, headed by the import's column names; with no
    rows it is the template to fill in."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from haoping.directory.services import SECTIONS

    book = Workbook(write_only=True)
    for section, columns in SECTIONS.items():
        sheet = book.create_sheet(section)
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in data.get(section, []):
            sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _return_matches(url: str, allowed: str) -> bool:
    """Same scheme, host and port, and a path under the allowed one (a whole path segment)."""
    got, base = urlsplit(url), urlsplit(allowed.strip())
    if base.scheme not in ("http", "https") or not base.netloc:
        return False
    if (got.scheme, got.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return False
    prefix = base.path or "/"
    path = got.path or "/"
    return path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


def kiosk_return_check(*, url: str, region: Region) -> str:
    """R22: the kiosk home a rating page may return to: an address listed by a self-service kiosk
    platform of the service's region or a region above it. Anything else is refused (400 naming
    `return`), so that a rating link can never send anyone to an address nobody listed."""
    if len(url) > 2000 or any(ord(ch) < 0x21 for ch in url) or "\\" in url:
        raise Invalid("invalid", _("return: not a valid address"), field="return", status=400)
    codes = [code for code in region.path.strip("/").split("/") if code]
    kiosks = Platform.objects.filter(kind=Platform.Kind.KIOSK, region__code__in=codes).exclude(kiosk_return_urls="")
    for listed in kiosks.values_list("kiosk_return_urls", flat=True):
        if any(_return_matches(url, line) for line in listed.splitlines() if line.strip()):
            return url
    raise Invalid(
        "return_not_allowed",
        _("return: this address is not on any self-service kiosk's list of return addresses"),
        field="return",
        status=400,
    )
