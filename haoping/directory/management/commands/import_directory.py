from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.directory.services import SECTIONS, ImportErrors, directory_import, read_directory_file


class Command(BaseCommand):
    help = "Load the directory from an .xlsx workbook (a sheet per kind) or a .json file; all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": path})
        try:
            report = directory_import(data=read_directory_file(path))
        except ImportErrors as exc:
            raise CommandError(_("Nothing was imported:") + "\n" + "\n".join(exc.errors)) from exc
        audit_record(actor="manage.py import_directory", action=AuditEntry.Action.IMPORT_DIRECTORY, target=path.name)
        for section in SECTIONS:
            if section not in report.created and section not in report.updated:
                continue
            counts = {"section": section, "new": report.created.get(section, 0), "old": report.updated.get(section, 0)}
            self.stdout.write(_("%(section)s: %(new)d created, %(old)d updated") % counts)
