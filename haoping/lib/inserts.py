"""Single-row INSERTs whose SQL is written once per model and database.

`Model.save()` has the ORM write the INSERT statement anew for every row, which costs more CPU
than the database spends storing it. `insert()` stores the same values (each field's `pre_save`
and `get_db_prep_save`, as the ORM does) with SQL kept from the first time. It is for rows written
on a request's hot path, such as a bad rating's case; it sends no model signals, and takes plain
values only (no expressions such as `F()`). A row with its key already set, or of a model with
parents, is saved by the ORM.
"""

from __future__ import annotations

import functools
from typing import TypeVar

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin, Field

M = TypeVar("M", bound=models.Model)


@functools.cache
def _statement(model: type[models.Model], alias: str) -> tuple[str, tuple[Field, ...]] | None:
    """The INSERT … RETURNING pk for `model`; None where a field or the database needs the ORM."""
    connection = connections[alias]
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    pk = model._meta.pk
    if (
        not connection.features.can_return_columns_from_insert
        or not isinstance(pk, AutoFieldMixin)
        or model._meta.parents
        or any(hasattr(f, "get_placeholder") or f.has_db_default() or f.generated for f in fields)
    ):
        return None
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(str(pk.column))}"
    )
    return sql, fields


def insert(obj: M, using: str = "default") -> M:
    """Store the new row `obj` and set its primary key; as `obj.save(force_insert=True)`."""
    statement = _statement(type(obj), using)
    if statement is None or obj.pk is not None:
        obj.save(force_insert=True, using=using)
        return obj
    # As save(): a related object must be saved first, and its key is copied over (a method the
    # stubs do not declare).
    obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    sql, fields = statement
    connection = connections[using]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj
