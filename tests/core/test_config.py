"""Settings come from the environment; a bad value stops start-up with one line naming it."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# What the test process's own environment must not lend the child: its database, broker, key
# and DEBUG, and the conftest's DJANGO_ALLOW_ASYNC_UNSAFE (for Playwright), which no deployment
# sets (`check --deploy` calls it async.E001).
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_manage(env_overrides: dict, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update({"VAR_DIR": str(tmp_path / "var")})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *(args or ("check",))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "true", "DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DEBUG": "true", "DATABASE_URL": "mysql://root@127.0.0.1/db"}, "DATABASE_URL"),
        ({"DEBUG": "true", "DATABASE_URL": "postgres://u@127.0.0.1:port/db"}, "DATABASE_URL"),
        ({"DEBUG": "true", "DATABASE_URL": "postgres://u@127.0.0.1:5432"}, "DATABASE_URL"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "true", "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"DEBUG": "true", "REDIS_URL": "redis://127.0.0.1:6379/zero"}, "REDIS_URL"),
        ({"DEBUG": "true", "HEARTBEAT_INTERVAL": "0"}, "HEARTBEAT_INTERVAL"),
        ({"DEBUG": "true", "HEARTBEAT_INTERVAL": "ten"}, "HEARTBEAT_INTERVAL"),
        ({"DEBUG": "true", "DB_CONN_MAX_AGE": "-1"}, "DB_CONN_MAX_AGE"),
        ({"DEBUG": "true", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DEBUG": "true", "INSTANCE_NAME": "a b"}, "INSTANCE_NAME"),
        (
            {"DEBUG": "true", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"},
            "SECURE_PROXY_SSL_HEADER",
        ),
        ({"DEBUG": "true", "SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS"),
        ({"DEBUG": "true", "SECURE_SSL_REDIRECT": "sometimes"}, "SECURE_SSL_REDIRECT"),
        ({"DEBUG": "true", "NUM_PROXIES": "-1"}, "NUM_PROXIES"),
        ({"DEBUG": "true", "NUM_PROXIES": "one"}, "NUM_PROXIES"),
    ],
)
def test_bad_value_stops_startup_with_one_line_naming_the_variable(overrides, variable, tmp_path):
    # given a bad value, when manage.py starts
    result = run_manage(overrides, tmp_path)

    # then it stops with status 2 and exactly one line on stderr, naming the variable
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable}: ")


def test_celery_stops_on_the_same_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update({"VAR_DIR": str(tmp_path / "var"), "DEBUG": "false"})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY: required when DEBUG is off "
        "(set it, or set DEBUG=true locally)"
    ]


def test_debug_run_generates_a_private_secret_key_once_and_keeps_it(tmp_path):
    # given no SECRET_KEY and DEBUG on, when two processes start one after the other
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage({"DEBUG": "true"}, tmp_path, "shell", "-c", script)
    second = run_manage({"DEBUG": "true"}, tmp_path, "shell", "-c", script)

    # then both use the key generated under VAR_DIR, readable by its owner only
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert first.stdout.strip().splitlines()[-1] == key
    assert second.stdout.strip().splitlines()[-1] == key
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_given_values_reach_the_settings(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS, s.DEBUG, s.HEARTBEAT_INTERVAL, s.CELERY_TASK_DEFAULT_QUEUE, "
        "s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    result = run_manage(
        {
            "DEBUG": "off",
            "SECRET_KEY": "x" * 40,
            "ALLOWED_HOSTS": "zf.example.cn, 10.0.0.5",
            "HEARTBEAT_INTERVAL": "7",
            "INSTANCE_NAME": "qinhuai",
            "DATABASE_URL": f"sqlite:///{tmp_path}/other.sqlite3",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        tmp_path,
        "shell",
        "-c",
        script,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        f"['zf.example.cn', '10.0.0.5'] False 7 qinhuai {tmp_path}/other.sqlite3 "
        "redis://127.0.0.1:6379/3 django.core.cache.backends.redis.RedisCache"
    )


def test_database_options_follow_the_backend(settings):
    database = settings.DATABASES["default"]
    assert database["CONN_HEALTH_CHECKS"] is True
    if database["ENGINE"].endswith("sqlite3"):
        # WAL and a busy timeout, so that web, worker and beat share the file
        assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
        assert database["OPTIONS"]["timeout"] == 20
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    else:
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert "init_command" not in database.get("OPTIONS", {})


def test_time_and_language_settings(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
    # the cache is chosen explicitly, never left to django-environ's guess
    expected = "RedisCache" if os.environ.get("REDIS_URL") else "FileBasedCache"
    assert settings.CACHES["default"]["BACKEND"].endswith(expected)


def test_a_malformed_field_encryption_key_stops_startup(tmp_path):
    result = run_manage({"DEBUG": "true", "FIELD_ENCRYPTION_KEY": "not-a-key"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: FIELD_ENCRYPTION_KEY: ")


# What the README's production layout sets: DEBUG off, a real key, the public host name, and
# session and CSRF cookies over HTTPS only (the TLS proxy).
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "zf.example.cn",
    "SECURE_COOKIES": "true",
}
HTTPS_IN_DJANGO = {
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def check_ids(output: str) -> set[str]:
    """The ids of the issues ``manage.py check`` printed: "?: (security.W004) You have …"."""
    return set(re.findall(r"^\S*: \(([\w.]+)\) ", output, flags=re.MULTILINE))


@pytest.mark.parametrize(
    ("overrides", "ids"),
    [
        # the proxy redirects to HTTPS and sends HSTS itself: Django says it does neither
        ({}, {"security.W004", "security.W008"}),
        # told to do both, with HSTS on subdomains and preloaded: nothing left to warn about
        (HTTPS_IN_DJANGO, set()),
    ],
    ids=["https-at-the-proxy", "https-in-django"],
)
def test_check_deploy_warns_only_about_https_left_to_the_proxy(overrides, ids, tmp_path):
    # Given production settings, when the deployment checks run (the schema is built too)
    result = run_manage({**PRODUCTION, **overrides}, tmp_path, "check", "--deploy")

    # Then they pass, naming exactly these issues: no drf-spectacular warning, no other
    assert result.returncode == 0, result.stderr
    assert check_ids(result.stdout + result.stderr) == ids, result.stderr


def test_https_settings_reach_django(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    given = run_manage({**PRODUCTION, **HTTPS_IN_DJANGO}, tmp_path, "shell", "-c", script)
    default = run_manage(PRODUCTION, tmp_path, "shell", "-c", script)

    assert given.returncode == default.returncode == 0, given.stderr + default.stderr
    assert given.stdout.strip().splitlines()[-1] == (
        "('HTTP_X_FORWARDED_PROTO', 'https') True 31536000 True True"
    )
    assert default.stdout.strip().splitlines()[-1] == "None False 0 False False"


def test_proxies_and_webhook_hosts_reach_the_settings(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.NUM_PROXIES, s.REST_FRAMEWORK['NUM_PROXIES'], s.WEBHOOK_ALLOWED_HOSTS)"
    )
    given = run_manage(
        {**PRODUCTION, "NUM_PROXIES": "2", "WEBHOOK_ALLOWED_HOSTS": ".gov.cn, 10.20.0.0/16"},
        tmp_path,
        "shell",
        "-c",
        script,
    )
    default = run_manage(PRODUCTION, tmp_path, "shell", "-c", script)

    assert given.returncode == default.returncode == 0, given.stderr + default.stderr
    assert given.stdout.strip().splitlines()[-1] == "2 2 ['.gov.cn', '10.20.0.0/16']"
    # no proxy trusted, and no webhook endpoint, until the administrator says otherwise
    assert default.stdout.strip().splitlines()[-1] == "0 0 []"
