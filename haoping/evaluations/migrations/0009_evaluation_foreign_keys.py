"""The evaluation table's foreign keys to the directory rows it names (item, department,
institution, platform, window, staff, bundle), checked again by the database.

On a table of millions of ratings, adding a checked foreign key scans the table while holding a
lock that stops every rating. On PostgreSQL each key is therefore added `NOT VALID` (a short lock:
only new rows are checked from then on) and validated after, in a transaction of its own that reads
the table without blocking writes. Elsewhere (SQLite: the demo) Django's AlterField rebuilds the
table as usual.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


class AddForeignKeyNotValid(migrations.AlterField):
    """AlterField from `db_constraint=False` to a checked foreign key, PostgreSQL's way for big tables."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        suffix = "_fk_%(to_table)s_%(to_column)s"
        name = str(schema_editor._fk_constraint_name(model, field, suffix))
        table = model._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s", [table, name]
            )
            exists = cursor.fetchone() is not None
        if not exists:  # a run stopped between the two steps added it already
            schema_editor.execute(f"{schema_editor._create_fk_sql(model, field, suffix)} NOT VALID")
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} VALIDATE CONSTRAINT {schema_editor.quote_name(name)}"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        # AlterField's own way back (it drops the constraint), not the forwards above.
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    # Each statement commits on its own: the validation must not run inside the transaction that
    # took the lock to add the constraint.
    atomic = False

    dependencies = [
        ("directory", "0003_policy_decided_by"),
        ("evaluations", "0008_suggestion_sealed"),
        ("records", "0001_initial"),
    ]

    operations = [
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="bundle",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="records.bundle",
                verbose_name="bundle",
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="department",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, to="directory.department", verbose_name="department"
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="institution",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="directory.institution",
                verbose_name="institution",
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, to="directory.serviceitem", verbose_name="service item"
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="platform",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="directory.platform",
                verbose_name="platform",
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="staff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="directory.staff",
                verbose_name="staff member",
            ),
        ),
        AddForeignKeyNotValid(
            model_name="evaluation",
            name="window",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="directory.window",
                verbose_name="window",
            ),
        ),
    ]
