"""Bulk inserts for hot paths (the timer sweep writes thousands of rows per sweep)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import connection


def rows_insert(model, fields: list[str], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``, already what the database driver
    takes: ids for foreign keys, aware datetimes, strings) into ``model``'s table and return
    the new ids in row order.

    On PostgreSQL one ``INSERT … SELECT … FROM json_populate_recordset(NULL::table, %s) RETURNING
    id`` with the rows as one JSON parameter, without a model instance per row nor Django's
    per-value preparation, which are most of a bulk_create of simple rows; elsewhere
    ``bulk_create``. JSON field values go in as JSON. Fields left out get NULL on PostgreSQL:
    name every non-null field (Django's defaults are Python-side, not in the database)."""
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
    columns = [opts.get_field(name).column for name in fields]
    # One JSON text for the whole batch: json.dumps is C, where binding one array per column
    # made psycopg dump every value in Python (a fifth of a sweep's time).
    records = json.dumps(
        [dict(zip(columns, row, strict=True)) for row in rows],
        ensure_ascii=False,
        default=_json_value,
    )
    names = ", ".join(quote(column) for column in columns)
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({names}) "  # noqa: S608
        f"SELECT {names} FROM json_populate_recordset(NULL::{quote(opts.db_table)}, %s) "
        f"WITH ORDINALITY ORDER BY ordinality RETURNING {quote(opts.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [records])
        return [row[0] for row in cursor.fetchall()]


def _json_value(value):
    """What json.dumps cannot write itself, as PostgreSQL reads it back into the column."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"rows_insert cannot send {type(value).__name__} values")


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname
