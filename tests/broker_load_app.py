"""A Celery app for tests/core/test_broker_load.py: the project's broker and options, exactly
(``config_from_object`` on Django settings, as config/celery.py does), and one trivial task that
records each of its runs in a ledger, so that a lost or a doubled run shows.

The ledger is append-only files under ``BROKER_LOAD_LEDGER``, one per worker process
(``ran-<pid>.txt``, one task number a line), not keys in the broker: it must tell the truth
about the broker even when the broker is what fails.

Also a sender: ``python -m tests.broker_load_app send INDEX SENDERS TOTAL`` publishes the
numbers ``INDEX, INDEX + SENDERS, …`` below ``TOTAL`` as fast as it can, one ``apply_async``
each, and prints how many it sent."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("broker_load")
app.config_from_object("django.conf:settings", namespace="CELERY")

# One descriptor per process: a prefork child opens its own file after the fork.
_ledgers: dict[int, int] = {}


@app.task(name="tests.broker_load_app.ledger_record_task")
def ledger_record_task(number: int) -> None:
    """Append ``number`` to this process's ledger file. Deliberately not idempotent: every run
    leaves a line, so a task delivered twice is counted twice. One ``write`` of a whole line to
    a file opened ``O_APPEND``: a reader sees whole lines only (a last line without its newline
    is one still being written)."""
    pid = os.getpid()
    if pid not in _ledgers:
        path = Path(os.environ["BROKER_LOAD_LEDGER"]) / f"ran-{pid}.txt"
        _ledgers[pid] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(_ledgers[pid], f"{number}\n".encode())


def send(index: int, senders: int, total: int) -> None:
    started = time.monotonic()
    sent = 0
    for number in range(index, total, senders):
        ledger_record_task.apply_async((number,))
        sent += 1
    print(f"sent {sent} in {time.monotonic() - started:.2f} s", flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command != "send":
        sys.exit(f"unknown command {command!r}")
    send(*map(int, args))
