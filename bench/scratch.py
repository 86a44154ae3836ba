"""What every benchmark does around its measurements: its own PostgreSQL database on
127.0.0.1 (made, migrated and loaded with the demo district without its cases; dropped at the
end) and the Redis keys of its own instance name (deleted at the end)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"


def database_recreate(name: str) -> None:
    """Drop and create database ``name``, migrate it and run ``seed_demo --cases 0`` (through
    manage.py, with this process's environment: DATABASE_URL must name ``name``)."""
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    for command in (["migrate", "-v0"], ["seed_demo", "--cases", "0"]):
        subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
            [sys.executable, str(ROOT / "manage.py"), *command],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )


def database_drop(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_instance_clean(instance: str) -> None:
    """Delete the Celery queue named ``instance`` (nobody consumes a bench's queue), kombu's
    bindings of it, and the cache entries prefixed with it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = [
        instance,
        *client.scan_iter(match=f"_kombu.binding.{instance}*"),
        *client.scan_iter(match=f"{instance}:*"),
    ]
    client.delete(*keys)
