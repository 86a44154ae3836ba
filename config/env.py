"""Typed readers for the environment that stop start-up with one line naming the variable.

Settings call these and nothing else reads ``os.environ``. A bad value is reported as
``Configuration error: NAME: reason`` on stderr and the process exits with status 2: that line is
the whole message whether the process is ``manage.py``, gunicorn or Celery, so whoever deploys
sees at once which variable to fix instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn
from urllib.parse import urlsplit

import environ

# Every variable the settings asked for, set or not: what an instance's environment consists of
# (config.instance keeps the set ones of `make run` for later manage.py commands).
VARIABLES_READ: set[str] = set()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def config_fail(name: str, reason: str) -> NoReturn:
    """Print the one line and stop. SystemExit passes through Django's and Celery's handlers."""
    sys.stderr.write(f"Configuration error: {name}: {reason}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def env_str(name: str, default: str | None = None) -> str | None:
    VARIABLES_READ.add(name)
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    VARIABLES_READ.add(name)
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    config_fail(name, f"expected true/false, 1/0, yes/no or on/off, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        config_fail(name, f"expected a whole number, got {value!r}")
    if minimum is not None and number < minimum:
        config_fail(name, f"must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Schemes we support; django-environ knows more (MySQL, Oracle …) that the project does not test.
_DATABASE_SCHEMES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
}


def env_database(name: str, default: str) -> dict:
    """Parse a database URL (``sqlite:////abs/path`` or ``postgres://user@host:port/db``)."""
    url = env_str(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in _DATABASE_SCHEMES:
        known = ", ".join(sorted(_DATABASE_SCHEMES))
        config_fail(name, f"unsupported or unparseable URL {url!r} (scheme must be one of {known})")
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for malformed URLs
        config_fail(name, f"unparseable URL {url!r}: {exc}")
    if config.get("ENGINE") != _DATABASE_SCHEMES[scheme] or not config.get("NAME"):
        config_fail(name, f"unparseable URL {url!r}: no database name")
    if scheme != "sqlite":
        try:
            port = urlsplit(url).port
        except ValueError:
            config_fail(name, f"unparseable URL {url!r}: bad port")
        if port is not None and not 0 < port < 65536:
            config_fail(name, f"unparseable URL {url!r}: bad port")
    return config


def env_redis_url(name: str) -> str | None:
    url = env_str(name)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        config_fail(name, f"expected redis://host:port/db, got {url!r}")
    try:
        parts.port  # noqa: B018 -- raises ValueError on a non-numeric port
        database = parts.path.lstrip("/")
        if database and not database.isdigit():
            raise ValueError
    except ValueError:
        config_fail(name, f"expected redis://host:port/db, got {url!r}")
    return url
