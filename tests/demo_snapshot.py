"""The rows ``seed_demo --cases 0`` adds, kept per process and written again for the next test
that wants the demo (tests/conftest.py: ``demo``). A snapshot is used only on the database it
was taken from: the same row count and largest id in every table, the same demo key file;
otherwise the fixture seeds anew. The rows seeding added or changed are written again (a
changed one deleted first), with the times of the first seeding; a seeding that removed a row
it found is not kept."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction


def _tables() -> list[str]:
    return sorted(connection.introspection.table_names())


_HAS_ID: dict[tuple[str, str], bool] = {}


def _has_id(cursor, table: str) -> bool:
    key = (connection.settings_dict["NAME"], table)
    if key not in _HAS_ID:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
        _HAS_ID[key] = "id" in columns
    return _HAS_ID[key]


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass
class Baseline:
    """Per table: (row count, largest id) for tables with an id, the rows themselves for the
    few without (and for every table when read ``full``); and the demo key file's text."""

    shape: dict[str, tuple] = field(default_factory=dict)
    contents: dict[str, list] = field(default_factory=dict)
    keys_file: str | None = None


def _keys_file_text() -> str | None:
    path = settings.DEMO_KEYS_FILE
    return path.read_text() if path.exists() else None


def _rows(cursor, table: str, where: str = "", params=()) -> list:
    if connection.vendor == "postgresql":
        cursor.execute(
            f"SELECT row_to_json(t)::text FROM {_quoted(table)} AS t {where} ORDER BY 1",  # noqa: S608
            params,
        )
        return [row[0] for row in cursor.fetchall()]
    cursor.execute(f"SELECT * FROM {_quoted(table)} {where}", params)  # noqa: S608
    return sorted(cursor.fetchall(), key=repr)


class DemoSnapshot:
    def __init__(self, baseline: Baseline, after: Baseline, added: dict[str, tuple]):
        self.baseline = baseline
        self.after = after
        self.added = added  # table -> (columns, rows) on SQLite, (None, JSON rows) on PostgreSQL

    @staticmethod
    def baseline_read(*, full: bool = False) -> Baseline:
        """The shape of the database; ``full``: with every row of every table (once, before
        the seeding a snapshot is taken of, to find the rows it changed)."""
        baseline = Baseline(keys_file=_keys_file_text())
        with connection.cursor() as cursor:
            for table in _tables():
                if _has_id(cursor, table):
                    cursor.execute(f"SELECT count(*), max(id) FROM {_quoted(table)}")  # noqa: S608
                    baseline.shape[table] = tuple(cursor.fetchone())
                if full or not _has_id(cursor, table):
                    baseline.contents[table] = _rows(cursor, table)
        return baseline

    @classmethod
    def taken(cls, baseline: Baseline) -> DemoSnapshot | None:
        """The snapshot of what seeding added or changed since ``baseline`` (read with
        ``full``); None when seeding removed a row it found."""
        after = cls.baseline_read()
        added = {}
        with connection.cursor() as cursor:
            for table, (count, largest) in baseline.shape.items():
                old_rows = baseline.contents[table]
                if largest is None:
                    rows, kept = _rows(cursor, table), []
                else:
                    rows = _rows(cursor, table, "WHERE id > %s", [largest])
                    kept = _rows(cursor, table, "WHERE id <= %s", [largest])
                if after.shape[table][0] != count + len(rows):
                    return None  # seeding removed a row
                # Rows of the baseline seeding changed (the net's version): written again whole.
                found = set(old_rows)
                rows = rows + [row for row in kept if row not in found]
                if rows:
                    if connection.vendor == "postgresql":
                        added[table] = (None, rows)
                    else:
                        cursor.execute(f"SELECT * FROM {_quoted(table)} LIMIT 0")  # noqa: S608
                        added[table] = ([d[0] for d in cursor.description], rows)
            for table in set(baseline.contents) - set(baseline.shape):
                if baseline.contents[table] != after.contents[table]:
                    return None
        baseline.contents = {t: r for t, r in baseline.contents.items() if t not in baseline.shape}
        return cls(baseline, after, added)

    def restore(self) -> bool:
        """Write the demo's rows again; False (nothing written) when the database is not the
        one the snapshot was taken from."""
        now = self.baseline_read()
        if now.shape != self.baseline.shape or now.contents != self.baseline.contents:
            return False
        if now.keys_file not in (self.baseline.keys_file, self.after.keys_file):
            return False  # a test changed the demo's keys: seed again
        # One transaction (a savepoint inside a test's): the foreign keys are checked at its end,
        # whatever the order of the tables; a transactional test has no transaction of its own.
        with transaction.atomic(), connection.cursor() as cursor:
            for table, (columns, rows) in self.added.items():
                if columns is None:
                    ids = [json.loads(row)["id"] for row in rows]
                else:
                    ids = [row[columns.index("id")] for row in rows]
                cursor.execute(
                    f"DELETE FROM {_quoted(table)} WHERE id IN ({', '.join(['%s'] * len(ids))})",  # noqa: S608
                    ids,
                )
                if columns is None:
                    cursor.execute(
                        f"INSERT INTO {_quoted(table)} SELECT * FROM "  # noqa: S608
                        f"json_populate_recordset(NULL::{_quoted(table)}, %s::json)",
                        [json.dumps([json.loads(row) for row in rows])],
                    )
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    names = ", ".join(_quoted(c) for c in columns)
                    cursor.executemany(
                        f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})",  # noqa: S608
                        rows,
                    )
            if connection.vendor == "postgresql":
                from django.apps import apps

                models = [m for m in apps.get_models() if m._meta.db_table in self.added]
                for statement in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
        if self.after.keys_file is not None:
            settings.DEMO_KEYS_FILE.write_text(self.after.keys_file)
        return True
