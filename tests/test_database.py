"""Proves which database the suite ran on: CI's second run must really be PostgreSQL."""

import os

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_suite_runs_on_the_database_that_was_asked_for():
    url = os.environ.get("DATABASE_URL", "")
    asked = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    expected_by_ci = os.environ.get("SHAOXIANG_EXPECT_DB_VENDOR")

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL ")
        else:
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0].count(".") == 2

    assert connection.vendor == asked
    if expected_by_ci:
        assert connection.vendor == expected_by_ci
