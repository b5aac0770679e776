"""Writes to the directory. The bulk import is all-or-nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from haoping.directory.models import (
    Department,
    Institution,
    Platform,
    Region,
    ServiceItem,
    Staff,
    Window,
)
from haoping.errors import Invalid

# Sheet / key order matters: later kinds refer to earlier ones.
SECTIONS: dict[str, list[str]] = {
    "regions": ["code", "name", "parent"],
    "departments": ["code", "name", "region"],
    "institutions": ["code", "name", "kind", "region"],
    "windows": ["code", "name", "institution", "department"],
    "platforms": ["code", "name", "kind", "region"],
    "items": ["code", "name", "type", "department", "legal_days", "promised_days"],
    "staff": ["staff_no", "name", "department", "institution", "window"],
}
REQUIRED: dict[str, set[str]] = {
    "regions": {"code", "name"},
    "departments": {"code", "name", "region"},
    "institutions": {"code", "name", "kind", "region"},
    "windows": {"code", "name", "institution"},
    "platforms": {"code", "name", "kind", "region"},
    "items": {"code", "name", "department"},
    "staff": {"staff_no", "name"},
}


def region_path(code: str, parent: Region | None) -> str:
    return (parent.path if parent else "/") + code + "/"


@transaction.atomic
def region_save(*, region: Region) -> Region:
    """Save a region with its path under its parent; a moved region carries its subtree along."""
    old_path = Region.objects.filter(pk=region.pk).values_list("path", flat=True).first() if region.pk else None
    if region.parent is not None and old_path and region.parent.path.startswith(old_path):
        raise Invalid("invalid", _("parent: a region cannot be placed under itself or its own subtree"), field="parent")
    region.path = region_path(region.code, region.parent)
    region.full_clean()
    region.save()
    if old_path and old_path != region.path:
        _move_descendants(old_path, region.path)
    return region


def region_create(*, code: str, name: str, parent: Region | None = None) -> Region:
    return region_save(region=Region(code=code, name=name, parent=parent))


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportErrors(Exception):
    errors: list[str]

    def __str__(self) -> str:
        return "\n".join(self.errors)


def read_directory_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Read a `.json` file of the documented shape, or an `.xlsx` workbook with a sheet per kind."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportErrors([_("%(file)s: not valid JSON: %(error)s") % {"file": path.name, "error": exc}]) from exc
        if not isinstance(data, dict):
            raise ImportErrors([_("%(file)s: the top level must be an object") % {"file": path.name}])
        return data
    if path.suffix.lower() == ".xlsx":
        return _read_workbook(path)
    raise ImportErrors([_("%(file)s: only .json and .xlsx files can be imported") % {"file": path.name}])


def _read_workbook(path: Path) -> dict[str, list[dict[str, Any]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    data: dict[str, list[dict[str, Any]]] = {}
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        names = [str(h).strip() if h is not None else "" for h in header]
        records = []
        for values in rows:
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            records.append({n: v for n, v in zip(names, values, strict=False) if n})
        data[sheet.title.strip()] = records
    return data


def directory_import(*, data: dict[str, Any]) -> ImportReport:
    """Create or update every row of `data`; on any error, nothing is written.

    Errors name the sheet (or JSON key), the row number (1 = first data row) and the field.
    """
    errors: list[str] = []
    for key in data:
        if key not in SECTIONS:
            errors.append(
                _("%(sheet)s: unknown sheet; expected one of %(known)s") % {"sheet": key, "known": ", ".join(SECTIONS)}
            )
    rows_by_section: dict[str, list[dict[str, Any]]] = {}
    for section, columns in SECTIONS.items():
        rows = data.get(section, [])
        if not isinstance(rows, list):
            errors.append(_("%(sheet)s: must be a list of rows") % {"sheet": section})
            continue
        cleaned = []
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                errors.append(_("%(sheet)s row %(row)d: must be an object") % {"sheet": section, "row": number})
                continue
            values = {c: _text(row.get(c)) for c in columns}
            for column in sorted(REQUIRED[section]):
                if not values[column]:
                    errors.append(
                        _("%(sheet)s row %(row)d, %(field)s: required")
                        % {"sheet": section, "row": number, "field": column}
                    )
            cleaned.append(values)
        rows_by_section[section] = cleaned
    if errors:
        raise ImportErrors(errors)

    report = ImportReport()
    with transaction.atomic():
        _import_rows(rows_by_section, report, errors)
        if errors:
            raise ImportErrors(errors)  # rolls the whole import back
    return report


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _import_rows(rows_by_section: dict[str, list[dict[str, str]]], report: ImportReport, errors: list[str]) -> None:
    def where(section: str, number: int, column: str) -> str:
        return _("%(sheet)s row %(row)d, %(field)s") % {"sheet": section, "row": number, "field": column}

    def resolve(model: Any, section: str, number: int, column: str, code: str, key: str = "code") -> Any:
        if not code:
            return None
        obj = model.objects.filter(**{key: code}).first()
        if obj is None:
            errors.append(where(section, number, column) + "：" + _("unknown code %(code)s") % {"code": code})
        return obj

    def upsert(model: Any, section: str, number: int, key: str, values: dict[str, Any]) -> Any:
        obj = model.objects.filter(**{key: values[key]}).first()
        created = obj is None
        if created:
            obj = model(**values)
        else:
            for attr, value in values.items():
                setattr(obj, attr, value)
        try:
            obj.full_clean(validate_unique=False)
        except Exception as exc:  # ValidationError carries a message per field
            for fname, messages in getattr(exc, "message_dict", {"": [str(exc)]}).items():
                errors.append(where(section, number, fname) + "：" + "; ".join(messages))
            return None
        obj.save()
        bucket = report.created if created else report.updated
        bucket[section] = bucket.get(section, 0) + 1
        return obj

    kinds = {
        "institutions": {c for c, _label in Institution.Kind.choices},
        "platforms": {c for c, _label in Platform.Kind.choices},
    }

    # Regions may list children before parents; place them in rounds.
    pending = list(enumerate(rows_by_section["regions"], start=1))
    while pending:
        placed = []
        for number, row in pending:
            parent = None
            if row["parent"]:
                parent = Region.objects.filter(code=row["parent"]).first()
                if parent is None:
                    continue
            path = region_path(row["code"], parent)
            old_path = Region.objects.filter(code=row["code"]).values_list("path", flat=True).first()
            placed.append(number)
            if parent is not None and old_path and parent.path.startswith(old_path):
                errors.append(
                    where("regions", number, "parent")
                    + "："
                    + _("a region cannot be placed under itself or its own subtree")
                )
                continue
            values = {"code": row["code"], "name": row["name"], "parent": parent, "path": path}
            region = upsert(Region, "regions", number, "code", values)
            if region is not None and old_path and old_path != path:
                _move_descendants(old_path, path)
        if not placed:
            for number, row in pending:
                errors.append(
                    where("regions", number, "parent") + "：" + _("unknown code %(code)s") % {"code": row["parent"]}
                )
            break
        pending = [(n, r) for n, r in pending if n not in placed]

    for number, row in enumerate(rows_by_section["departments"], start=1):
        region = resolve(Region, "departments", number, "region", row["region"])
        if region:
            upsert(
                Department, "departments", number, "code", {"code": row["code"], "name": row["name"], "region": region}
            )

    for section, model in (("institutions", Institution), ("platforms", Platform)):
        for number, row in enumerate(rows_by_section[section], start=1):
            if row["kind"] not in kinds[section]:
                errors.append(
                    where(section, number, "kind")
                    + "："
                    + _("unknown kind %(kind)s; expected one of %(known)s")
                    % {"kind": row["kind"], "known": ", ".join(sorted(kinds[section]))}
                )
                continue
            region = resolve(Region, section, number, "region", row["region"])
            if region:
                upsert(
                    model,
                    section,
                    number,
                    "code",
                    {"code": row["code"], "name": row["name"], "kind": row["kind"], "region": region},
                )

    for number, row in enumerate(rows_by_section["windows"], start=1):
        institution = resolve(Institution, "windows", number, "institution", row["institution"])
        department = resolve(Department, "windows", number, "department", row["department"])
        if institution and (department or not row["department"]):
            upsert(
                Window,
                "windows",
                number,
                "code",
                {"code": row["code"], "name": row["name"], "institution": institution, "department": department},
            )

    for number, row in enumerate(rows_by_section["items"], start=1):
        department = resolve(Department, "items", number, "department", row["department"])
        days: dict[str, int | None] = {}
        for column in ("legal_days", "promised_days"):
            days[column] = None
            if row[column]:
                if not (row[column].isascii() and row[column].isdigit()):
                    errors.append(where("items", number, column) + "：" + _("must be a whole number of days"))
                    continue
                days[column] = int(row[column])
        if department:
            upsert(
                ServiceItem,
                "items",
                number,
                "code",
                {"code": row["code"], "name": row["name"], "type": row["type"], "department": department, **days},
            )

    for number, row in enumerate(rows_by_section["staff"], start=1):
        department = resolve(Department, "staff", number, "department", row["department"])
        institution = resolve(Institution, "staff", number, "institution", row["institution"])
        window = resolve(Window, "staff", number, "window", row["window"])
        if window and institution and window.institution_id != institution.pk:
            errors.append(where("staff", number, "window") + "：" + _("the window belongs to another institution"))
            continue
        upsert(
            Staff,
            "staff",
            number,
            "staff_no",
            {
                "staff_no": row["staff_no"],
                "name": row["name"],
                "department": department,
                "institution": institution,
                "window": window,
            },
        )


def _move_descendants(old_path: str, new_path: str) -> None:
    for child in Region.objects.filter(path__startswith=old_path).exclude(path=new_path):
        child.path = new_path + child.path[len(old_path) :]
        child.save(update_fields=["path"])
