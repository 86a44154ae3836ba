"""Helpers of the tests that start real processes (Celery worker and beat, redis-server): a
scratch database of their own, an environment that points them at it, and stopping them.

Used by tests/core/test_processes.py and tests/enforcement/test_timer_processes.py. Every test
builds its own database (a SQLite file, or a fresh PostgreSQL database when the suite runs on
PostgreSQL), VAR_DIR and INSTANCE_NAME, so it never touches the suite's or a running instance's."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))


@contextmanager
def scratch_database(tmp_path: Path):
    """A database URL of its own, removed afterwards."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgres", "pgsql")):
        yield f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
        return
    parts = urlsplit(suite_url)
    name = f"shaoxiang_e2e_{uuid.uuid4().hex[:10]}"
    server = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, *params) -> list[tuple]:
    """The rows of ``sql`` on the scratch database; ``params`` fill its ``%s`` placeholders."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(urlsplit(database_url).path)) as conn:
            return conn.execute(sql.replace("%s", "?") if params else sql, params).fetchall()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute(sql, params or None).fetchall()


def as_utc(value) -> datetime | None:
    """A timestamp column as an aware datetime: psycopg returns one; SQLite returns the text
    Django stored, in UTC."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def group_kill(process: subprocess.Popen) -> None:
    """SIGKILL a process started with ``start_new_session=True`` and everything in its group
    (a prefork worker's pool children), and reap it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def group_stop(process: subprocess.Popen) -> int:
    """SIGTERM the leader (a warm shutdown), then SIGKILL whatever of its group is left."""
    status = stop(process)
    group_kill(process)
    return status


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a scratch instance: its own VAR_DIR and INSTANCE_NAME (its own queue
    and control exchange on a shared Redis), no DATABASE_URL or REDIS_URL inherited."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env.update(
        DEBUG="true", VAR_DIR=str(tmp_path / "var"), INSTANCE_NAME=f"e2e{uuid.uuid4().hex[:8]}"
    )
    env.update(extra)
    return env


def redis_url_or_skip(broker: str) -> str | None:
    """The suite's REDIS_URL for the Redis case (None for the embedded broker); skips the Redis
    case when it is unset, and fails it when CI expects it."""
    redis_url = os.environ.get("REDIS_URL")
    if broker == "redis" and not redis_url:
        if os.environ.get("SHAOXIANG_EXPECT_BROKER") == "redis":
            pytest.fail("CI expects the Redis run, but REDIS_URL is not set")
        pytest.skip("REDIS_URL is not set: the Redis case runs in CI's second run")
    return redis_url if broker == "redis" else None


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run manage.py in the scratch instance; its standard output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def embedded_broker_wait(env: dict[str, str], process: subprocess.Popen, *, what) -> None:
    """Wait until the embedded redis-server of the instance ``env`` describes (started by
    ``manage.py redis_embedded``) answers on its socket."""
    path = Path(env["VAR_DIR"]).resolve() / "redis.sock"

    def answers() -> bool:
        assert process.poll() is None, what()
        try:
            with redis.Redis(unix_socket_path=str(path), socket_connect_timeout=1) as client:
                return client.ping()
        except (redis.exceptions.ConnectionError, FileNotFoundError):
            return False

    wait_for(answers, timeout=30, what=what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what, interval: float = 0.2):
    """Poll ``predicate`` until it returns something true, and return that. Fails after
    ``timeout`` seconds with ``what`` (a string, or a callable returning one: logs are read only
    on failure)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what() if callable(what) else what}")
        time.sleep(interval)
    return result


@contextmanager
def redis_keys_removed(redis_url: str | None, instance: str):
    """Afterwards, remove what a scratch instance left in a shared Redis: every key named after
    its INSTANCE_NAME (its queue, kombu's bindings of it, its cache keys). Nothing when
    ``redis_url`` is None."""
    try:
        yield
    finally:
        if redis_url:
            with redis.Redis.from_url(redis_url) as client:
                keys = list(client.scan_iter(match=f"*{instance}*", count=1000))
                if keys:
                    client.delete(*keys)
