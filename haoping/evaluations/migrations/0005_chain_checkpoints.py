"""Signed checkpoints of the chain; keyed links; TRUNCATE and DELETE refused on the chain's tables.

Links sealed before this migration keep their plain SM3 (`keyed` false); new links are keyed.
Row triggers are PostgreSQL's (0002) and now SQLite's too, for the demo; TRUNCATE fires no row
trigger, so PostgreSQL gets statement triggers for it. SQLite rebuilds a table (and drops its
triggers) when a later migration alters it: such a migration must create them again.
"""

from __future__ import annotations

from django.db import migrations, models

TABLES = ("evaluations_evaluation", "evaluations_chainseal", "evaluations_chaincheckpoint")

POSTGRESQL_FORBID = """
CREATE TRIGGER chaincheckpoint_append_only BEFORE UPDATE OR DELETE ON evaluations_chaincheckpoint
    FOR EACH ROW EXECUTE FUNCTION haoping_append_only();
CREATE TRIGGER evaluation_no_truncate BEFORE TRUNCATE ON evaluations_evaluation
    FOR EACH STATEMENT EXECUTE FUNCTION haoping_append_only();
CREATE TRIGGER chainseal_no_truncate BEFORE TRUNCATE ON evaluations_chainseal
    FOR EACH STATEMENT EXECUTE FUNCTION haoping_append_only();
CREATE TRIGGER chaincheckpoint_no_truncate BEFORE TRUNCATE ON evaluations_chaincheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION haoping_append_only();
"""
POSTGRESQL_ALLOW = """
DROP TRIGGER IF EXISTS chaincheckpoint_append_only ON evaluations_chaincheckpoint;
DROP TRIGGER IF EXISTS evaluation_no_truncate ON evaluations_evaluation;
DROP TRIGGER IF EXISTS chainseal_no_truncate ON evaluations_chainseal;
DROP TRIGGER IF EXISTS chaincheckpoint_no_truncate ON evaluations_chaincheckpoint;
"""


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORBID, params=None)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END",
                    params=None,
                )


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_ALLOW, params=None)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0004_lean_insert"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainCheckpoint",
            fields=[
                ("number", models.BigIntegerField(primary_key=True, serialize=False)),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField()),
                ("head", models.CharField(max_length=64)),
                ("region_counts", models.JSONField(default=dict)),
                ("prev_digest", models.CharField(max_length=64)),
                ("digest", models.CharField(max_length=64)),
                ("signature", models.CharField(max_length=128)),
                ("sealed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "chain checkpoint",
                "verbose_name_plural": "chain checkpoints",
            },
        ),
        migrations.AddField(
            model_name="chainseal",
            name="keyed",
            field=models.BooleanField(default=False),
        ),
        # Existing links are plain (false, above); every new one is keyed.
        migrations.AlterField(
            model_name="chainseal",
            name="keyed",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(forward, backward),
    ]
