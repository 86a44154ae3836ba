"""Inserts for hot paths: bulk rows (the timer sweep writes thousands of rows per sweep) and
single instances (every intake and transition writes a case, an event, a timer)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import connection
from django.db.models import NOT_PROVIDED

from core.sql import cursor_prepared

# (model, database vendor) -> the INSERT statement of one instance and the fields it sends.
_INSERT_STATEMENTS: dict[tuple, tuple[str, list]] = {}


def instance_insert(obj) -> None:
    """Insert the unsaved model instance ``obj`` as ``obj.save(force_insert=True)`` would, and
    set its primary key: one ``INSERT … VALUES … RETURNING id`` (PostgreSQL and SQLite ≥ 3.35)
    written once per model and prepared once per connection (core.sql.cursor_prepared),
    values prepared by each field as Django prepares them
    (``pre_save``: auto_now stamps; ``get_db_prep_save``: time zones, JSON). Django's save
    compiles the same statement again for every row, which was most of an intake's time.
    No pre_save/post_save signals are sent: use it only for models nobody listens to (none
    of the project's is). Raises IntegrityError as save does."""
    model = type(obj)
    key = (model, connection.vendor)
    if key not in _INSERT_STATEMENTS:
        _INSERT_STATEMENTS[key] = _insert_statement(model)
    sql, fields = _INSERT_STATEMENTS[key]
    values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with cursor_prepared() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def _insert_statement(model) -> tuple[str, list]:
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    special = [
        field.name
        for field in fields
        if getattr(field, "generated", False) or field.db_default is not NOT_PROVIDED
    ]
    if special or opts.pk.column != "id":
        raise TypeError(f"instance_insert cannot insert {model.__name__} ({special})")
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(opts.db_table)} "  # noqa: S608 -- names from the model
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(opts.pk.column)}"
    )
    return sql, fields


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


def rows_copy(model, fields: list[str], rows: list[tuple]) -> list[int]:
    """``rows_insert`` for back-fills of many thousands of rows: the same arguments, result and
    contract. On PostgreSQL the ids are drawn from the table's sequence with one statement and
    the rows go in with COPY, which skips the per-row work of an INSERT (its executor, and the
    JSON the rows would travel in); psycopg writes COPY's text in C. Elsewhere rows_insert."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return rows_insert(model, fields, rows)
    quote = connection.ops.quote_name
    opts = model._meta
    model_fields = [opts.get_field(name) for name in fields]
    columns = ", ".join(quote(f.column) for f in [opts.pk, *model_fields])
    json_at = [i + 1 for i, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                values = [pk, *row]
                for i in json_at:
                    values[i] = json.dumps(values[i], ensure_ascii=False, default=_json_value)
                copy.write_row(values)
    return ids


def json_records(records) -> str:
    """``records`` (dicts of column -> value, or a list of them) as JSON for PostgreSQL's
    json_populate_record(set): what json.dumps cannot write itself as PostgreSQL reads it back
    into the column (times in ISO 8601, durations in seconds)."""
    return json.dumps(records, ensure_ascii=False, default=_json_value)


def _json_value(value):
    """What json.dumps cannot write itself, as PostgreSQL reads it back into the column."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds()} seconds"
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"rows_insert cannot send {type(value).__name__} values")


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname
