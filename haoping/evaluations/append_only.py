"""The tables that only ever grow: evaluations and the chain that seals them.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE on them with triggers (migrations 0002 and 0005).
SQLite (the demo's database) gets row triggers too; it drops a table's triggers whenever a
migration rebuilds the table, so every such migration ends by calling `sqlite_forbid` again.
"""

from __future__ import annotations

from typing import Any

TABLES = ("evaluations_evaluation", "evaluations_chainseal", "evaluations_chaincheckpoint")
OPERATIONS = ("UPDATE", "DELETE")


def sqlite_trigger_name(table: str, operation: str) -> str:
    return f"{table}_no_{operation.lower()}"


def sqlite_forbid(cursor: Any) -> None:
    """Create (again) the SQLite triggers that refuse changing or deleting a row."""
    for table in TABLES:
        for operation in OPERATIONS:
            name = sqlite_trigger_name(table, operation)
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            cursor.execute(
                f'CREATE TRIGGER "{name}" BEFORE {operation} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
            )


def sqlite_allow(cursor: Any) -> None:
    for table in TABLES:
        for operation in OPERATIONS:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{sqlite_trigger_name(table, operation)}"')
