"""``manage.py platform_run``: the whole platform of one machine in the foreground, under
supervisor: the embedded broker (unless ``REDIS_URL`` is set), web (gunicorn), one Celery
worker and beat. ``make run`` ends with it.

Supervisor restarts a process that dies (a worker killed by the kernel, a beat that lost its
database) within a few seconds while the others go on; Ctrl-C (SIGINT) or SIGTERM stops them
all, the worker with a warm shutdown. Its configuration is written to ``VAR_DIR/supervisord.conf``
at each start, and ``VAR_DIR/supervisor.sock`` (this user only) answers ``supervisorctl -c
VAR_DIR/supervisord.conf status``. Every process's output goes to this terminal."""

from __future__ import annotations

import getpass
import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.embedded_redis import redis_server_args

# Seconds a process must stay up to count as started; one that dies sooner is retried with a
# growing pause (1 s, 2 s, 3 s …) up to START_RETRIES times, then given up on (FATAL).
START_SECONDS = 3
START_RETRIES = 30


def _program(name: str, command: list[str], *, priority: int, stop_seconds: int) -> str:
    return f"""
[program:{name}]
command={shlex.join(command)}
directory={settings.BASE_DIR}
priority={priority}
autostart=true
autorestart=true
startsecs={START_SECONDS}
startretries={START_RETRIES}
stopsignal=TERM
stopwaitsecs={stop_seconds}
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""


def supervisord_conf(*, port: int) -> str:
    """The configuration of this instance's supervisord."""
    var_dir: Path = settings.VAR_DIR
    bin_dir = Path(sys.executable).parent
    celery = str(bin_dir / "celery")
    node = f"{settings.INSTANCE_NAME}-worker@%%h"  # %% : supervisor's own interpolation
    conf = f"""; Written by `manage.py platform_run` at each start; edits are lost.
[supervisord]
nodaemon=true
; Whoever runs `make run` (said, so that supervisor does not warn when that is root).
user={getpass.getuser()}
logfile={var_dir / "supervisord.log"}
logfile_maxbytes=5MB
logfile_backups=2
pidfile={var_dir / "supervisord.pid"}
childlogdir={var_dir}

[unix_http_server]
file={var_dir / "supervisor.sock"}
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{var_dir / "supervisor.sock"}
"""
    if not settings.REDIS_URL:
        # Started first, stopped last: the others reconnect to it if it restarts. The binary
        # itself, as `manage.py redis_embedded` would exec it, without Django's start-up.
        settings.EMBEDDED_REDIS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        conf += _program(
            "redis",
            redis_server_args(
                directory=settings.EMBEDDED_REDIS_DIR, socket=settings.EMBEDDED_REDIS_SOCKET
            ),
            priority=10,
            stop_seconds=30,
        )
    conf += _program(
        "worker",
        [
            celery,
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            f"--hostname={node}",
        ],
        priority=20,
        # A warm shutdown lets running tasks finish (their time limit is 300 s; a task cut
        # short is redelivered: acks_late).
        stop_seconds=60,
    )
    conf += _program(
        "beat", [celery, "-A", "config", "beat", "--loglevel=INFO"], priority=20, stop_seconds=20
    )
    conf += _program(
        "web",
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi",
            "--preload",
            *("--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--worker-class", "gthread", "--threads", "4"),
            *("--timeout", "60", "--access-logfile", "-", "--error-logfile", "-"),
        ],
        priority=30,
        stop_seconds=20,
    )
    return conf


class Command(BaseCommand):
    help = (
        "Run web, worker, beat (and the embedded broker without REDIS_URL) in the foreground "
        "under supervisor, restarting any that dies; Ctrl-C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="Port of the web process on 127.0.0.1 (default: $PORT or 8000).",
        )

    def handle(self, *args, **options):
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1 to 65535, got {port}.")
        path = settings.VAR_DIR / "supervisord.conf"
        path.write_text(supervisord_conf(port=port), encoding="utf-8")
        path.chmod(0o600)
        supervisord = str(Path(sys.executable).parent / "supervisord")
        self.stdout.write(
            f"Shaoxiang: http://127.0.0.1:{port}/   health: http://127.0.0.1:{port}/healthz   "
            "(Ctrl-C stops all)"
        )
        self.stdout.flush()
        os.execv(supervisord, [supervisord, "--configuration", str(path)])  # noqa: S606
