"""Writes to the directory. The bulk import checks the whole file before it writes anything."""

from __future__ import annotations

import io
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
    subtree_q,
)
from haoping.directory.signals import directory_changed
from haoping.errors import Invalid
from haoping.schemas import CONTROL_IN_TEXT

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
    return read_directory_upload(name=path.name, content=path.read_bytes())


def read_directory_upload(*, name: str, content: bytes) -> dict[str, list[dict[str, Any]]]:
    """The same, from a file's name and bytes (as the admin receives an upload)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportErrors([_("%(file)s: not valid JSON: %(error)s") % {"file": name, "error": exc}]) from exc
        if not isinstance(data, dict):
            raise ImportErrors([_("%(file)s: the top level must be an object") % {"file": name}])
        _control_characters_refused(name, data)
        return data
    if suffix == ".xlsx":
        workbook = _read_workbook(name, content)
        _control_characters_refused(name, workbook)
        return workbook
    raise ImportErrors([_("%(file)s: only .json and .xlsx files can be imported") % {"file": name}])


def _read_workbook(name: str, content: bytes) -> dict[str, list[dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike for a broken file
        raise ImportErrors([_("%(file)s: not a readable .xlsx workbook") % {"file": name}]) from exc
    data: dict[str, list[dict[str, Any]]] = {}
    try:
        # A read-only workbook parses each sheet as it is read: a broken sheet fails here.
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
    except Exception as exc:  # as above: whatever a damaged sheet raises
        raise ImportErrors([_("%(file)s: not a readable .xlsx workbook") % {"file": name}]) from exc
    return data


def _control_characters_refused(name: str, data: dict[str, Any]) -> None:
    """No name or code holds control characters (a NUL cannot even be compared in PostgreSQL)."""
    problems = []
    for section, rows in data.items():
        for number, row in enumerate(rows if isinstance(rows, list) else [], 1):
            for column, value in row.items() if isinstance(row, dict) else []:
                if isinstance(value, str) and CONTROL_IN_TEXT.search(value):
                    problems.append(
                        _("%(file)s: %(section)s row %(row)d, %(column)s: control characters are not allowed")
                        % {"file": name, "section": section, "row": number, "column": column}
                    )
    if problems:
        raise ImportErrors(problems)


def directory_import(*, data: dict[str, Any]) -> ImportReport:
    """Create or update every row of `data`; on any error, nothing is written.

    The whole file is checked first with reads only; then rows are written in dependency order,
    BATCH_ROWS to a short transaction, so the import never holds a lock for long. The writes are
    idempotent upserts: a second run of the same file changes nothing, and an import interrupted
    between batches (the process killed) is completed by running it again.
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

    plan = _validate(rows_by_section, errors)  # reads only: no write lock is taken
    if errors:
        raise ImportErrors(errors)
    report = ImportReport()
    try:
        _write(plan, report)
    finally:
        # Bulk writes send no signals; even an interrupted import may have committed batches.
        directory_changed()
    return report


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# The lock bound: a write transaction of the import covers at most this many rows, so it holds
# the database's write lock (SQLite) or its row locks (PostgreSQL) for well under 200 ms.
BATCH_ROWS = 200

MODELS: dict[str, Any] = {
    "regions": Region,
    "departments": Department,
    "institutions": Institution,
    "windows": Window,
    "platforms": Platform,
    "items": ServiceItem,
    "staff": Staff,
}
# Columns holding another row's code: column -> (model, section of the file that may define it).
REFERENCES: dict[str, dict[str, str]] = {
    "departments": {"region": "regions"},
    "institutions": {"region": "regions"},
    "windows": {"institution": "institutions", "department": "departments"},
    "platforms": {"region": "regions"},
    "items": {"department": "departments"},
    "staff": {"department": "departments", "institution": "institutions", "window": "windows"},
}


def _key(section: str) -> str:
    return "staff_no" if section == "staff" else "code"


def _validate(rows_by_section: dict[str, list[dict[str, str]]], errors: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Check every row against the file and the database, with reads only; return the rows to
    write per section (regions parents first), references still as codes."""

    def where(section: str, number: int, column: str) -> str:
        return _("%(sheet)s row %(row)d, %(field)s") % {"sheet": section, "row": number, "field": column}

    def unknown(section: str, number: int, column: str, code: str) -> None:
        errors.append(where(section, number, column) + "：" + _("unknown code %(code)s") % {"code": code})

    in_file = {s: {row[_key(s)] for row in rows} for s, rows in rows_by_section.items()}
    in_db: dict[str, set[str]] = {}
    # Codes referred to by any row, looked up in the database in one read per kind.
    asked: dict[str, set[str]] = {s: set(in_file[s]) for s in MODELS}
    for section, refs in REFERENCES.items():
        for row in rows_by_section[section]:
            for column, target in refs.items():
                if row[column]:
                    asked[target].add(row[column])
    for section, model in MODELS.items():
        key = _key(section)
        found: set[str] = set()
        codes = sorted(asked[section])
        for i in range(0, len(codes), 1000):
            found.update(model.objects.filter(**{f"{key}__in": codes[i : i + 1000]}).values_list(key, flat=True))
        in_db[section] = found

    def known(section: str, code: str) -> bool:
        return code in in_file[section] or code in in_db[section]

    kinds = {
        "institutions": {c for c, _label in Institution.Kind.choices},
        "platforms": {c for c, _label in Platform.Kind.choices},
    }
    plan: dict[str, list[dict[str, Any]]] = {s: [] for s in MODELS}
    for section, rows in rows_by_section.items():
        seen: set[str] = set()
        model = MODELS[section]
        fks = [f.name for f in model._meta.get_fields() if f.is_relation and f.many_to_one]
        for number, row in enumerate(rows, start=1):
            key = row[_key(section)]
            if key in seen:
                errors.append(where(section, number, _key(section)) + "：" + _("appears twice in this sheet"))
            seen.add(key)
            ok = True
            for column, target in REFERENCES.get(section, {}).items():
                if row[column] and not known(target, row[column]):
                    unknown(section, number, column, row[column])
                    ok = False
            if section in kinds and row["kind"] not in kinds[section]:
                errors.append(
                    where(section, number, "kind")
                    + "："
                    + _("unknown kind %(kind)s; expected one of %(known)s")
                    % {"kind": row["kind"], "known": ", ".join(sorted(kinds[section]))}
                )
                ok = False
            values: dict[str, Any] = {c: row[c] for c in SECTIONS[section] if c not in REFERENCES.get(section, {})}
            if section == "regions":
                values.pop("parent")
                values["path"] = "/" + row["code"] + "/"
            if section == "items":
                for column in ("legal_days", "promised_days"):
                    values[column] = None
                    if row[column]:
                        if not (row[column].isascii() and row[column].isdigit()):
                            errors.append(where("items", number, column) + "：" + _("must be a whole number of days"))
                            ok = False
                            continue
                        values[column] = int(row[column])
            try:
                model(**values).full_clean(exclude=fks + ["path"], validate_unique=False)
            except Exception as exc:  # ValidationError carries a message per field
                for fname, messages in getattr(exc, "message_dict", {"": [str(exc)]}).items():
                    errors.append(where(section, number, fname) + "：" + "; ".join(messages))
                ok = False
            if ok:
                plan[section].append({**row, **values, "_number": number})
    _order_regions(rows_by_section["regions"], plan, errors, where, known)
    _check_staff_windows(rows_by_section, errors, where)
    return plan


def _order_regions(
    rows: list[dict[str, str]], plan: dict[str, list[dict[str, Any]]], errors: list[str], where: Any, known: Any
) -> None:
    """Parents before children; a region is never placed under itself or its own subtree."""
    parents: dict[str, str | None] = dict(Region.objects.values_list("code", "parent__code"))
    for row in rows:
        parents[row["code"]] = row["parent"] or None
    depth: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        if row["parent"] and not known("regions", row["parent"]):
            where_ = where("regions", number, "parent")
            errors.append(where_ + "：" + _("unknown code %(code)s") % {"code": row["parent"]})
            continue
        chain = [row["code"]]
        code = parents.get(row["code"])
        while code is not None and code not in chain:
            chain.append(code)
            code = parents.get(code)
        if code is not None:
            errors.append(
                where("regions", number, "parent")
                + "："
                + _("a region cannot be placed under itself or its own subtree")
            )
            continue
        depth[row["code"]] = len(chain)
    plan["regions"] = sorted((r for r in plan["regions"] if r["code"] in depth), key=lambda r: depth[r["code"]])
    for r in plan["regions"]:
        r["_depth"] = depth[r["code"]]


def _check_staff_windows(rows_by_section: dict[str, list[dict[str, str]]], errors: list[str], where: Any) -> None:
    windows = {
        code: institution
        for code, institution in Window.objects.filter(
            code__in={r["window"] for r in rows_by_section["staff"] if r["window"]}
        ).values_list("code", "institution__code")
    }
    windows.update({r["code"]: r["institution"] for r in rows_by_section["windows"]})
    for number, row in enumerate(rows_by_section["staff"], start=1):
        if (
            row["window"]
            and row["institution"]
            and windows.get(row["window"], row["institution"]) != row["institution"]
        ):
            errors.append(where("staff", number, "window") + "：" + _("the window belongs to another institution"))


def _write(plan: dict[str, list[dict[str, Any]]], report: ImportReport) -> None:
    """Upsert the checked rows in dependency order, BATCH_ROWS to a short transaction.

    Every batch is idempotent: a row already as the file says is left alone, so a second run of
    the same file changes nothing, and an import cut off between batches is completed by running
    it again.
    """
    for section, rows in plan.items():
        if section == "regions":  # a batch never mixes depths: parents are committed first
            groups: list[list[dict[str, Any]]] = []
            for row in rows:
                if not groups or groups[-1][0]["_depth"] != row["_depth"] or len(groups[-1]) >= BATCH_ROWS:
                    groups.append([])
                groups[-1].append(row)
        else:
            groups = [rows[i : i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
        for group in groups:
            with transaction.atomic():
                _write_batch(section, group, report)


def _write_batch(section: str, rows: list[dict[str, Any]], report: ImportReport) -> None:
    model = MODELS[section]
    key = _key(section)
    refs = dict(REFERENCES.get(section, {}))
    if section == "regions":
        refs["parent"] = "regions"
    targets = {
        column: MODELS[target].objects.in_bulk({r[column] for r in rows if r[column]}, field_name=_key(target))
        for column, target in refs.items()
    }
    existing = model.objects.in_bulk([r[key] for r in rows], field_name=key)
    new, changed, moves = [], [], []
    fields = [c for c in SECTIONS[section] if c != key]
    if section == "regions":
        fields.append("path")
    for row in rows:
        values = {c: row[c] for c in fields if c not in refs and c != "path"}
        values.update({column: targets[column].get(row[column]) for column in refs})
        if section == "regions":
            values["path"] = region_path(row["code"], values["parent"])
        obj = existing.get(row[key])
        if obj is None:
            new.append(model(**{key: row[key]}, **values))
            continue
        if any(getattr(obj, f) != v for f, v in values.items()):
            if section == "regions" and obj.path != values["path"]:
                moves.append((obj.path, values["path"]))
            for f, v in values.items():
                setattr(obj, f, v)
            changed.append(obj)
        report.updated[section] = report.updated.get(section, 0) + 1
    model.objects.bulk_create(new)
    if changed:
        model.objects.bulk_update(changed, fields)
    for old_path, new_path in moves:
        _move_descendants(old_path, new_path)
    if new:
        report.created[section] = report.created.get(section, 0) + len(new)


def _move_descendants(old_path: str, new_path: str) -> None:
    for child in Region.objects.filter(subtree_q(old_path, field="")).exclude(path=new_path):
        child.path = new_path + child.path[len(old_path) :]
        child.save(update_fields=["path"])
