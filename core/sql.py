"""Hand-written statements of the hot paths (intake; the case, event and timer rows of every
transition): a cursor that prepares them once per database connection."""

from __future__ import annotations

import psycopg
from django.db import connection


class _PreparedCursor(psycopg.Cursor):
    """psycopg's server-binding cursor, preparing every statement it runs."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def cursor_prepared():
    """A cursor for statements run over and over (use it as a context manager). On PostgreSQL
    psycopg binds the values on the server and prepares each statement on its first run, so
    later runs on the connection skip parsing and planning, often most of a small statement's
    time in the server. Elsewhere Django's cursor. It is Django's cursor wrapper all the same:
    errors are Django's, and the statements show in connection.queries and test captures.

    Django leaves prepared statements off (a connection pooler in transaction mode may not keep
    them); this project's web and worker processes hold their own persistent connections. The
    values are typed by psycopg, so a None needs a place that gives its type: a VALUES list of
    an INSERT, a comparison with a column, or a cast."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    # What connection.cursor() does, with another cursor class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_PreparedCursor(connection.connection))
