"""Open311's api_key (a query parameter) never reaches a log line whole: Django's handlers and
gunicorn's access and error logs write ``api_key=[redacted]`` (config.log_redaction,
gunicorn.conf.py). caplog sees a record before the handlers' filters, so the lines are read where
the configured handlers write them."""

import io
import logging
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from config.log_redaction import SecretsRedacted, secrets_redact

ROOT = Path(__file__).resolve().parents[2]
KEY = "sx_ab12cd34_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
REQUEST_LINE = (
    f"GET /open311/v2/requests.json?jurisdiction_id=qinhuai&api_key={KEY}&page=2 HTTP/1.1"
)
REDACTED_LINE = (
    "GET /open311/v2/requests.json?jurisdiction_id=qinhuai&api_key=[redacted]&page=2 HTTP/1.1"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (REQUEST_LINE, REDACTED_LINE),
        (
            f"/open311/v2/services.json?api_key={KEY}",
            "/open311/v2/services.json?api_key=[redacted]",
        ),
        # percent-encoded, as Django decodes it into the same api_key
        (f"/x?api%5Fkey={KEY}&a=1", "/x?api%5Fkey=[redacted]&a=1"),
        (f"/x?API_KEY={KEY}", "/x?API_KEY=[redacted]"),
        (
            "/x?token=abc&key=def&access_token=ghi",
            "/x?token=[redacted]&key=[redacted]&access_token=[redacted]",
        ),
        # in a quoted referrer, up to the quote
        (
            f'"https://zf.example.cn/?api_key={KEY}" "curl/8"',
            '"https://zf.example.cn/?api_key=[redacted]" "curl/8"',
        ),
        # an empty value stays empty of secrets too
        ("/x?api_key=&b=2", "/x?api_key=[redacted]&b=2"),
        # other parameters, and names that merely end in "key", are left as they are
        ("/x?monkey=1&status=open&keyword=2", "/x?monkey=1&status=open&keyword=2"),
        ("api_key=outside-a-query-string", "api_key=outside-a-query-string"),
        ("no parameters at all", "no parameters at all"),
    ],
)
def test_secrets_redact(text, expected):
    assert secrets_redact(text) == expected


@pytest.fixture
def written():
    """What the configured handlers of the root logger and django.server write, from now on."""
    handlers = logging.getLogger().handlers + logging.getLogger("django.server").handlers
    # ours, "console" and "server" (settings.LOGGING), among pytest's own
    streams = [h for h in handlers if any(isinstance(f, SecretsRedacted) for f in h.filters)]
    assert len(streams) == 2
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in streams]
    try:
        yield buffer
    finally:
        for handler, stream in zip(streams, previous, strict=True):
            handler.setStream(stream)


def test_runservers_request_line_is_written_with_the_key_redacted(written, caplog):
    # given runserver's request handler, as it logs a request it served
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.log_date_time_string = lambda: "02/Dec/2026 14:00:00"

    # when it logs the request line
    handler.log_message('"%s" %s %s', REQUEST_LINE, "200", "512")

    # then the line holds every parameter but the key
    assert written.getvalue() == f'[02/Dec/2026 14:00:00] "{REDACTED_LINE}" 200 512\n'
    assert KEY not in written.getvalue()


def test_our_own_messages_are_written_with_the_key_redacted(written, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("enforcement.api.open311").warning("Open311 GET %s failed", REQUEST_LINE)

    # the record went out (caplog) and what the console wrote has no key
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert f"WARNING enforcement.api.open311 Open311 GET {REDACTED_LINE} failed" in (
        written.getvalue()
    )
    assert KEY not in written.getvalue()


def test_a_traceback_is_written_with_the_key_redacted(written):
    try:
        raise ValueError(f"cannot read /open311/v2/requests.json?api_key={KEY}")
    except ValueError:
        logging.getLogger("core").exception("failed")

    assert "?api_key=[redacted]" in written.getvalue()
    assert KEY not in written.getvalue()


# --- gunicorn ---


def gunicorn_logger(tmp_path, **settings):
    """The logger gunicorn.conf.py gives gunicorn, with that file's settings."""
    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("logger_class", conf["logger_class"])
    for name, value in settings.items():
        config.set(name, value)
    return config.logger_class(config)


def test_gunicorns_access_log_is_written_with_the_key_redacted(tmp_path):
    # given gunicorn's logger writing its access log to a file
    access = tmp_path / "access.log"
    log = gunicorn_logger(tmp_path, accesslog=str(access))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/open311/v2/requests.json?jurisdiction_id=qinhuai&api_key={KEY}&page=2",
        "PATH_INFO": "/open311/v2/requests.json",
        "QUERY_STRING": f"jurisdiction_id=qinhuai&api_key={KEY}&page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.4",
        "HTTP_REFERER": f"https://zf.example.cn/open311/v2/services.json?api_key={KEY}",
        "HTTP_USER_AGENT": "curl/8.5",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("USER-AGENT", "curl/8.5")])

    # when it logs a request in its default format (the request line and the referrer)
    log.access(response, request, environ, timedelta(milliseconds=12))
    for handler in log.access_log.handlers:
        handler.flush()

    # then the line is whole but for the key
    line = access.read_text()
    assert f'"{REDACTED_LINE}" 200 512' in line
    assert '"https://zf.example.cn/open311/v2/services.json?api_key=[redacted]"' in line
    assert KEY not in line


def test_gunicorns_error_log_is_written_with_the_key_redacted(tmp_path):
    errors = tmp_path / "error.log"
    log = gunicorn_logger(tmp_path, errorlog=str(errors))

    log.error("Error handling request %s", f"/open311/v2/requests.json?api_key={KEY}")
    for handler in log.error_log.handlers:
        handler.flush()

    assert "/open311/v2/requests.json?api_key=[redacted]" in errors.read_text()
    assert KEY not in errors.read_text()


def test_gunicorn_started_in_the_project_reads_gunicorn_conf(tmp_path):
    # Every gunicorn the platform starts runs in the project's directory (platform_run's
    # supervisor program, the image's WORKDIR) with no --config: gunicorn finds the file there.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update({"DEBUG": "true", "VAR_DIR": str(tmp_path / "var")})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "--print-config", "config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "SecretsRedactedLogger" in next(
        line for line in result.stdout.splitlines() if line.startswith("logger_class ")
    )
