"""On PostgreSQL, evaluations and chain seals can only be inserted: no UPDATE, no DELETE."""

from __future__ import annotations

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION haoping_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER evaluation_append_only BEFORE UPDATE OR DELETE ON evaluations_evaluation
    FOR EACH ROW EXECUTE FUNCTION haoping_append_only();
CREATE TRIGGER chainseal_append_only BEFORE UPDATE OR DELETE ON evaluations_chainseal
    FOR EACH ROW EXECUTE FUNCTION haoping_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS evaluation_append_only ON evaluations_evaluation;
DROP TRIGGER IF EXISTS chainseal_append_only ON evaluations_chainseal;
DROP FUNCTION IF EXISTS haoping_append_only();
"""


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
