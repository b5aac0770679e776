"""SQLite dropped the evaluations table's triggers when 0009 rebuilt it: create them again.

PostgreSQL keeps its triggers through ALTER TABLE, so this does nothing there.
"""

from __future__ import annotations

from django.db import migrations

from haoping.evaluations.append_only import sqlite_forbid


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            sqlite_forbid(cursor)


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0011_imported_evaluations")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
