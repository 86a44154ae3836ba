"""Bulk inserts for hot paths (the timer sweep writes thousands of rows per sweep)."""

from __future__ import annotations

import json

from django.db import connection


def rows_insert(model, fields: list[str], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``, already what the database driver
    takes: ids for foreign keys, aware datetimes, strings) into ``model``'s table and return
    the new ids in row order.

    On PostgreSQL one ``INSERT … SELECT * FROM unnest(%s::type[], …) RETURNING id``, without a
    model instance per row nor Django's per-value preparation, which are most of a bulk_create
    of simple rows; elsewhere ``bulk_create``. Fields left out get NULL on PostgreSQL: name every
    non-null field (Django's defaults are Python-side, not in the database)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(
            model(**{_attname(model, name): value for name, value in zip(fields, row, strict=True)})
            for row in rows
        )
        return [obj.pk for obj in created]
    quote = connection.ops.quote_name
    opts = model._meta
    columns, casts, values = [], [], []
    for name, column in zip(fields, zip(*rows, strict=True), strict=True):
        field = opts.get_field(name)
        columns.append(quote(field.column))
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        casts.append(f"%s::{db_type}[]")
        if field.get_internal_type() == "JSONField":
            # sent as text, cast to jsonb by the database
            column = tuple(json.dumps(value, ensure_ascii=False) for value in column)
        values.append(list(column))
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT * FROM unnest({', '.join(casts)}) RETURNING {quote(opts.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [row[0] for row in cursor.fetchall()]


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname
