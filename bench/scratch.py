"""What every benchmark does around its measurements: its own PostgreSQL database on
127.0.0.1 (made, migrated and loaded with the demo district without its cases; dropped at the
end) and the Redis keys of its own instance name (deleted at the end)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Scratch:
    """The names one bench run owns: its database, its instance name (the Redis cache prefix
    and the Celery queue, which nobody consumes) and its VAR_DIR."""

    database: str
    instance: str
    var_dir: Path
    smoke: bool

    @property
    def database_url(self) -> str:
        return f"{SERVER_URL}/{self.database}"


def scratch_names(base: str, *, smoke: bool) -> Scratch:
    """A full run's names are ``base`` (database, instance) and /tmp/``base``_var, the same every
    run. A smoke run's are ``base``_smoke_<8 hex digits>, new each run: never a full run's,
    never the test suite's (``test_…``, ``shaoxiang_e2e_…``), never another smoke run's that
    runs at the same time (two ``make test`` on one machine, or two xdist workers)."""
    name = f"{base}_smoke_{secrets.token_hex(4)}" if smoke else base
    return Scratch(database=name, instance=name, var_dir=scratch_var_dir(name), smoke=smoke)


def scratch_var_dir(name: str) -> Path:
    """The VAR_DIR of the run whose database is ``name``."""
    return Path("/tmp") / f"{name}_var"  # noqa: S108 -- the bench's own scratch dir


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
    bindings of it (``_kombu.binding.…``, and ``_kombu.binding_permanent.…``, which kombu 5.7 adds),
    and the cache entries prefixed with it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = [
        instance,
        *client.scan_iter(match=f"_kombu.binding.{instance}*"),
        *client.scan_iter(match=f"_kombu.binding_permanent.{instance}*"),
        *client.scan_iter(match=f"{instance}:*"),
    ]
    client.delete(*keys)


def scratch_clean(scratch: Scratch, *, keep_db: bool = False) -> None:
    """Everything the run made, gone: its Redis keys, its database (unless ``keep_db``) and,
    after a smoke run, its VAR_DIR (a full run's stays, as before: its generated secret key and
    gunicorn's log). Each step runs even if the one before failed."""
    try:
        redis_instance_clean(scratch.instance)
    finally:
        try:
            if not keep_db:
                database_drop(scratch.database)
        finally:
            if scratch.smoke:
                shutil.rmtree(scratch.var_dir, ignore_errors=True)
