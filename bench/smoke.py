"""What every bench's ``--smoke`` run shares: the same code paths as the full run at the
smallest sizes, a time limit, and no figures (nothing printed as measured, nothing written to
docs/PERFORMANCE.md). tests/test_benches.py runs each bench's documented command with
``--smoke``, so that ``make test`` notices a bench that no longer runs."""

from __future__ import annotations

import signal

# A smoke run on PostgreSQL needs 25 to 35 s of CPU, most of it migrate and seed_demo; on a
# 2-core machine shared with other test runs (load average 6) one took up to 135 s. The limit
# is there to stop a bench that hangs, not to judge a slow machine.
SMOKE_LIMIT_S = 300
SMOKE_HELP = (
    "the same code paths at the smallest sizes, with scratch names of its own, in at most "
    f"{SMOKE_LIMIT_S} s; prints no figures and writes nothing to docs/PERFORMANCE.md; exits "
    "non-zero on any failure"
)


class SmokeTimeout(SystemExit):
    """Raised in the main thread when the time limit passes: a SystemExit, so that the bench's
    ``finally`` blocks still stop gunicorn, delete its Redis keys and drop its database, and
    the process exits with status 1."""


def smoke_deadline(seconds: int = SMOKE_LIMIT_S) -> None:
    """Make this process abort itself ``seconds`` from now (SIGALRM, main thread only)."""

    def expired(_signum, _frame):
        signal.alarm(0)
        raise SmokeTimeout(f"smoke run: not done after {seconds} s, aborted")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
