"""The closed loop's clock run by real processes: beat sends ``timers_sweep_task`` every
TIMER_SWEEP_SECONDS and a worker started as its own program runs it (no eager mode), on the
embedded broker and on Redis. A case left alone is warned, supervised and escalated on time and
once each; a worker SIGKILLed in the middle of a sweep of 1,000 due timers leaves nothing
half-done, and the next worker fires the rest, each once; a Redis restart while timers are due
loses none of them.

Each test has its own database, VAR_DIR and INSTANCE_NAME (tests/processes.py); the Redis
restart uses a redis-server of its own, never the shared one. The database is the source of
truth: every assertion reads rows."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from tests.processes import (
    CELERY,
    ROOT,
    as_utc,
    embedded_broker_wait,
    free_port,
    group_kill,
    group_stop,
    manage,
    process_env,
    query,
    redis_keys_removed,
    redis_url_or_skip,
    scratch_database,
    wait_for,
)

pytestmark = pytest.mark.processes

SWEEP_SECONDS = 1
# A stage must be seen done within one sweep interval plus this of its due time.
SLACK = timedelta(seconds=SWEEP_SECONDS + 5)
# Start-up of a worker and beat on a busy 2-core machine, and any other wait for a process.
START_TIMEOUT = 60

# The net, a matter type and the policies of a drill: accept in 4 s (warned at 50 %), a
# supervision answered in 4 s. Users in the roles the supervisions are addressed to, so that
# the warning and each supervision leave a Notification row.
SETUP_DRILL = """
from core.choices import Role
from enforcement.models import MatterType, SlaPolicy
from enforcement.permissions import access_grant
from tests.factories.grids import ComprehensiveCellFactory
from tests.factories.users import UserFactory

street = ComprehensiveCellFactory().community.parent
MatterType.objects.create(code="ZDJY", name="ZDJY", default_handling_mode="management")
defaults = SlaPolicy.objects.filter(matter_type=None, severity="", source="")
assert defaults.filter(stage="accept").update(amount=4, unit="seconds", warn_percent=50) == 1
assert defaults.filter(stage="supervision_response").update(
    amount=4, unit="seconds", warn_percent=0
) == 1
# Each granted the case's street (the district its district): notifications go to those who
# may see the case.
for username, role, container in [
    ("command", Role.COMMAND_CENTRE, street),
    ("leader", Role.STREET_LEADER, street),
    ("district", Role.DISTRICT_ADMIN, street.parent),
]:
    access_grant(user=UserFactory(username=username, roles=[role]), container=container)
"""

INTAKE = """
from enforcement.models import MatterType
from enforcement.services import case_intake
from tests.factories.grids import LAT, LNG

case = case_intake(
    source="grid_report", matter_type=MatterType.objects.get(), description="drill",
    lat=LAT, lng=LNG,
).case
print("case", case.pk)
"""

# __CASES__ cases whose own timers are stopped, and a supervision answer time longer than any test,
# so that only the timers DUE_TIMERS adds are swept.
SETUP_CASES = """
from django.utils import timezone
from enforcement.models import MatterType, SlaPolicy, Timer
from enforcement.services import case_intake
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory

ComprehensiveCellFactory()
matter = MatterType.objects.create(code="ZDJY", name="ZDJY", default_handling_mode="management")
SlaPolicy.objects.filter(stage="supervision_response").update(amount=60, unit="minutes")
for n in range(__CASES__):
    case_intake(
        source="grid_report", matter_type=matter, description=f"case {n}", lat=LAT, lng=LNG
    )
Timer.objects.update(state="cancelled", next_at=None, ended_at=timezone.now())
"""

# __COUNT__ accept timers, overdue by ten minutes, spread over the cases, in a known due order.
DUE_TIMERS = """
from datetime import timedelta
from django.utils import timezone
from enforcement.models import Case, SlaPolicy, Timer

now = timezone.now()
policy = SlaPolicy.objects.get(matter_type=None, severity="", source="", stage="accept")
cases = list(Case.objects.order_by("pk"))
timers = []
for n in range(__COUNT__):
    due = now - timedelta(minutes=10) + timedelta(milliseconds=n)
    timers.append(
        Timer(
            case=cases[n % len(cases)], stage="accept", policy=policy,
            started_at=due - timedelta(minutes=30), due_at=due, next_at=due,
        )
    )
Timer.objects.bulk_create(timers, batch_size=500)
print("timers", Timer.objects.filter(state="pending", stage="accept").count())
"""

HISTORY_VERIFY = """
from enforcement.events import history_verify

print("broken", history_verify())
"""


def node_name(env: dict[str, str], name: str) -> str:
    return f"{name}-{env['INSTANCE_NAME']}@{socket.gethostname()}"


class Processes:
    """The processes a test started, each in a session of its own so that a prefork worker's
    children go with it; ``close`` ends every one of them. ``warm``: stop with SIGTERM and wait
    (about 6 s for a worker), so that a worker on the shared Redis hands back the message it
    holds; otherwise SIGKILL, as all the rest (the embedded or a private redis-server, the
    scratch database) goes with the test."""

    def __init__(self, tmp_path: Path, *, warm: bool):
        self.tmp_path = tmp_path
        self.warm = warm
        self.started: list[tuple[subprocess.Popen, object]] = []

    def start(self, log_name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.tmp_path / f"{log_name}.log", "w")  # noqa: SIM115 -- closed in close()
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((process, log))
        return process

    def worker(self, name: str, env: dict[str, str]) -> subprocess.Popen:
        node = node_name(env, name)
        return self.start(
            name, [CELERY, "-A", "config", "worker", "-l", "INFO", "-c", "1", "-n", node], env
        )

    def beat(self, env: dict[str, str]) -> subprocess.Popen:
        return self.start("beat", [CELERY, "-A", "config", "beat", "-l", "INFO"], env)

    def embedded_broker(self, env: dict[str, str]) -> subprocess.Popen:
        """The instance's embedded redis-server, as `make run` starts it."""
        process = self.start("redis", [sys.executable, "manage.py", "redis_embedded"], env)
        embedded_broker_wait(env, process, what=lambda: self.log("redis"))
        return process

    def log(self, name: str, tail: int = 6000) -> str:
        path = self.tmp_path / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"\n--- {name}.log (last {tail} characters) ---\n{text[-tail:]}"

    def logs(self) -> str:
        return "".join(self.log(Path(log.name).stem) for _, log in self.started)

    def close(self) -> None:
        for process, log in reversed(self.started):
            if self.warm:
                group_stop(process)
            else:
                group_kill(process)
            log.close()


@contextmanager
def processes(tmp_path: Path, *, warm: bool = False):
    running = Processes(tmp_path, warm=warm)
    try:
        yield running
    finally:
        running.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port of 127.0.0.1, without persistence, so
    that a restart empties it as it would a production Redis without AOF. The shared Redis is
    never touched. Skips the test when the binary is missing."""

    def __init__(self, running: Processes, tmp_path: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("the redis-server binary is not installed")
        self.running = running
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.args = [
            binary,
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
        ]
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def ping(self) -> bool:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1) as client:
                return client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> PrivateRedis:
        self.starts += 1
        self.process = self.running.start(f"redis-{self.starts}", self.args, dict(os.environ))
        wait_for(self.ping, timeout=10, what=lambda: "redis-server up" + self.running.logs())
        return self

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)

    def queue_length(self, queue: str) -> int | str:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1) as client:
                return client.llen(queue)
        except redis.exceptions.RedisError as exc:
            return f"unknown ({exc})"


def alive(database_url: str, *, worker: str, since: datetime | None = None) -> bool:
    """Beat ticks and the worker named ``worker`` ran a heartbeat (after ``since``, if given)."""
    rows = query(database_url, "SELECT component, node, seen_at FROM core_heartbeat")
    seen = {(component, node): as_utc(at) for component, node, at in rows}
    worker_seen = seen.get(("worker", worker))
    return (
        ("beat", "") in seen and worker_seen is not None and (since is None or worker_seen > since)
    )


def wait_alive(database_url: str, running: Processes, *, worker: str) -> None:
    def check():
        for process, _log in running.started:
            assert process.poll() is None, running.logs()
        return alive(database_url, worker=worker)

    wait_for(check, timeout=START_TIMEOUT, what=lambda: "worker and beat alive" + running.logs())


def one(database_url: str, sql: str, *params):
    rows = query(database_url, sql, *params)
    return rows[0] if rows else None


def sweep_totals(log: str) -> tuple[int, int]:
    """What the worker's sweeps reported doing (enforcement.tasks logs each sweep that did
    something)."""
    found = re.findall(r"timers: (\d+) warned, (\d+) fired", log)
    return sum(int(w) for w, _ in found), sum(int(f) for _, f in found)


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_case_left_alone_is_warned_then_supervised_and_escalated_on_time_once_each(
    broker, tmp_path
):
    redis_url = redis_url_or_skip(broker)
    env = process_env(
        tmp_path, TIMER_SWEEP_SECONDS=str(SWEEP_SECONDS), HEARTBEAT_INTERVAL="1", LOG_LEVEL="INFO"
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    with (
        scratch_database(tmp_path) as database_url,
        redis_keys_removed(redis_url, env["INSTANCE_NAME"]),
        processes(tmp_path, warm=bool(redis_url)) as running,
    ):
        # given a drill's policies, a running worker and beat, and a case nobody touches
        if not redis_url:
            running.embedded_broker(env)
        env["DATABASE_URL"] = database_url
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "shell", "-c", SETUP_DRILL)
        running.worker("worker", env)
        running.beat(env)
        wait_alive(database_url, running, worker=node_name(env, "worker"))
        case = int(re.search(r"case (\d+)", manage(env, "shell", "-c", INTAKE)).group(1))

        def seen(due: datetime, what: str, sql: str, *params):
            """The row ``sql`` selects, polled until it shows; fails once ``due`` + SLACK has
            passed without it."""
            limit = max((due + SLACK - datetime.now(UTC)).total_seconds(), 0.0)
            return wait_for(
                lambda: one(database_url, sql, *params),
                timeout=limit,
                interval=0.1,
                what=lambda: f"{what} (due {due:%H:%M:%S.%f})" + running.logs(),
            )

        # when the warning point passes, then the accept timer is warned, on time
        accept_id, warn_at, due_at = one(
            database_url,
            "SELECT id, warn_at, due_at FROM enforcement_timer "
            "WHERE case_id = %s AND stage = 'accept'",
            case,
        )
        warn_at, due_at = as_utc(warn_at), as_utc(due_at)
        assert due_at - warn_at == timedelta(seconds=2)  # 50 % of 4 s
        (warned_at,) = seen(
            warn_at,
            "the accept timer warned",
            "SELECT warned_at FROM enforcement_timer WHERE id = %s AND warned_at IS NOT NULL",
            accept_id,
        )
        assert timedelta(0) <= as_utc(warned_at) - warn_at <= SLACK

        # when its deadline passes, then a level-1 supervision opens, then level 2, then 3,
        # each within a sweep (and slack) of the deadline of the timer that opened it
        openers = [accept_id]  # the timer that opened each level
        opener_due = due_at
        for level in (1, 2, 3):
            supervision_id, opened_at, opened_by = seen(
                opener_due,
                f"the level-{level} supervision",
                "SELECT id, opened_at, opened_by_id FROM enforcement_supervision "
                "WHERE case_id = %s AND level = %s",
                case,
                level,
            )
            assert opened_by == openers[-1]
            assert timedelta(0) <= as_utc(opened_at) - opener_due <= SLACK
            if level < 3:  # the district's supervision is the last: no answer clock
                answer_id, opener_due = one(
                    database_url,
                    "SELECT id, due_at FROM enforcement_timer WHERE supervision_id = %s",
                    supervision_id,
                )
                opener_due = as_utc(opener_due)
                assert opener_due - as_utc(opened_at) == timedelta(seconds=4)
                openers.append(answer_id)

        # and after a few more sweeps, nothing happened twice and nothing is left to do
        time.sleep(3 * SWEEP_SECONDS)
        assert query(
            database_url,
            "SELECT id, stage, state, warned_at IS NOT NULL, fired_at IS NOT NULL, next_at "
            "FROM enforcement_timer WHERE case_id = %s ORDER BY id",
            case,
        ) == [
            (openers[0], "accept", "fired", True, True, None),
            (openers[1], "supervision_response", "fired", False, True, None),
            (openers[2], "supervision_response", "fired", False, True, None),
        ]
        assert query(
            database_url,
            "SELECT level, state, opened_by_id FROM enforcement_supervision "
            "WHERE case_id = %s ORDER BY level",
            case,
        ) == [(1, "escalated", openers[0]), (2, "escalated", openers[1]), (3, "open", openers[2])]
        assert query(
            database_url,
            "SELECT COUNT(*) FROM enforcement_caseevent WHERE case_id = %s AND kind = %s",
            case,
            "supervision",
        ) == [(3,)]
        assert query(
            database_url,
            "SELECT u.username, n.kind FROM core_notification n "
            "JOIN auth_user u ON u.id = n.recipient_id ORDER BY n.id",
        ) == [
            ("command", "case_reported"),  # the intake's notice: command is granted the street
            ("command", "timer_warning"),
            ("command", "supervision"),
            ("leader", "supervision"),
            ("district", "supervision"),
        ]
        # what the sweeps themselves reported: one warning, three firings
        assert sweep_totals(running.log("worker", tail=10**7)) == (1, 3)


DUE = 1000


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_worker_killed_mid_sweep_leaves_nothing_half_done_and_the_next_fires_each_once(
    broker, tmp_path
):
    redis_url_or_skip(broker)
    # Small batches, one process: the kill lands inside a sweep, most likely inside a batch.
    env = process_env(
        tmp_path,
        TIMER_SWEEP_SECONDS=str(SWEEP_SECONDS),
        TIMER_SWEEP_BATCH="20",
        HEARTBEAT_INTERVAL="1",
    )
    with scratch_database(tmp_path) as database_url, processes(tmp_path) as running:
        if broker == "redis":
            # A redis-server of its own: the killed worker's unacknowledged message would
            # otherwise stay in the shared Redis, to be restored an hour later into a queue
            # nobody reads.
            env["REDIS_URL"] = PrivateRedis(running, tmp_path).start().url
        else:
            running.embedded_broker(env)
        # given 1,000 overdue timers on ten cases, and beat sending sweeps
        env["DATABASE_URL"] = database_url
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "shell", "-c", SETUP_CASES.replace("__CASES__", "10"))
        made = manage(env, "shell", "-c", DUE_TIMERS.replace("__COUNT__", str(DUE)))
        assert f"timers {DUE}" in made
        running.beat(env)

        # when a worker starts sweeping them and is SIGKILLed, children and all, part-way
        first = running.worker("worker", env)

        def partly_done():
            assert first.poll() is None, running.logs()
            (count,) = one(database_url, "SELECT COUNT(*) FROM enforcement_supervision")
            return count > 0

        wait_for(
            partly_done,
            timeout=START_TIMEOUT,
            interval=0.02,
            what=lambda: "a first supervision" + running.logs(),
        )
        group_kill(first)
        time.sleep(0.5)  # let the database finish with the dead connection

        # then what it committed is whole: each fired timer has its supervision, case event and
        # answer clock, and nothing else was written (one statement: one snapshot)
        supervisions, fired, events, answer_clocks = one(
            database_url,
            "SELECT (SELECT COUNT(*) FROM enforcement_supervision), "
            "(SELECT COUNT(*) FROM enforcement_timer WHERE stage = 'accept' AND state = 'fired'), "
            "(SELECT COUNT(*) FROM enforcement_caseevent WHERE kind = 'supervision'), "
            "(SELECT COUNT(*) FROM enforcement_timer WHERE stage = 'supervision_response')",
        )
        assert 0 < supervisions < DUE, f"the kill came after the sweep ended ({supervisions})"
        assert fired == events == answer_clocks == supervisions
        print(f"worker killed with {supervisions} of {DUE} timers fired")

        # when another worker starts, then every overdue timer fires, exactly once
        running.worker("worker2", env)
        wait_for(
            lambda: (
                one(
                    database_url,
                    "SELECT COUNT(*) FROM enforcement_timer "
                    "WHERE stage = 'accept' AND state IN ('pending', 'warned')",
                )
                == (0,)
            ),
            timeout=120,
            what=lambda: "every overdue timer fired" + running.logs(),
        )
        assert one(
            database_url,
            "SELECT COUNT(*), COUNT(DISTINCT opened_by_id), MIN(level), MAX(level) "
            "FROM enforcement_supervision",
        ) == (DUE, DUE, 1, 1)
        assert (
            query(
                database_url,
                "SELECT opened_by_id FROM enforcement_supervision "
                "GROUP BY opened_by_id HAVING COUNT(*) > 1",
            )
            == []
        )
        # the supervisions were opened by exactly the overdue timers, each now fired
        assert one(
            database_url,
            "SELECT COUNT(*) FROM enforcement_timer t JOIN enforcement_supervision s "
            "ON s.opened_by_id = t.id WHERE t.stage = 'accept' AND t.state = 'fired' "
            "AND t.fired_at IS NOT NULL",
        ) == (DUE,)
        assert one(
            database_url,
            "SELECT (SELECT COUNT(*) FROM enforcement_caseevent WHERE kind = 'supervision'), "
            "(SELECT COUNT(*) FROM enforcement_timer WHERE stage = 'supervision_response' "
            "AND state = 'pending')",
        ) == (DUE, DUE)
        # and no case's hash-chained history was broken by the kill
        assert "broken None" in manage(env, "shell", "-c", HISTORY_VERIFY)


REDIS_DUE = 200
# Long enough for the worker and beat to notice Redis gone and retry a few times.
REDIS_DOWN_SECONDS = 5
# From Redis back up to every due timer fired: reconnection (the worker retries after 2, 4,
# 6 … s), one sweep, 200 timers.
REDIS_RECOVERY_TIMEOUT = 60


def test_timers_due_while_redis_restarts_fire_once_each_when_it_is_back(tmp_path):
    redis_url_or_skip("redis")  # runs in CI's Redis run, but never touches the shared Redis
    env = process_env(
        tmp_path,
        TIMER_SWEEP_SECONDS=str(SWEEP_SECONDS),
        TIMER_SWEEP_BATCH="20",
        HEARTBEAT_INTERVAL="1",
    )
    queue = env["INSTANCE_NAME"]
    worker = node_name(env, "worker")
    with scratch_database(tmp_path) as database_url, processes(tmp_path) as running:
        # given a worker and beat on a Redis of their own, and nothing due
        redis = PrivateRedis(running, tmp_path).start()
        env.update(DATABASE_URL=database_url, REDIS_URL=redis.url)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "shell", "-c", SETUP_CASES.replace("__CASES__", "5"))
        running.worker("worker", env)
        running.beat(env)
        wait_alive(database_url, running, worker=worker)

        # when Redis stops, timers come due while it is down, and it starts again, empty
        redis.stop()
        went_down = time.monotonic()
        made = manage(env, "shell", "-c", DUE_TIMERS.replace("__COUNT__", str(REDIS_DUE)))
        assert f"timers {REDIS_DUE}" in made
        time.sleep(max(REDIS_DOWN_SECONDS - (time.monotonic() - went_down), 0))
        back_at = datetime.now(UTC)
        redis.start()

        # then, the database being the source of truth, each due timer fires exactly once
        def diagnosis() -> str:
            heartbeat = one(
                database_url,
                "SELECT seen_at FROM core_heartbeat WHERE component = 'worker' AND node = %s",
                worker,
            )
            beat = one(database_url, "SELECT seen_at FROM core_heartbeat WHERE component = 'beat'")
            due = one(
                database_url,
                "SELECT COUNT(*) FROM enforcement_timer "
                "WHERE stage = 'accept' AND state IN ('pending', 'warned')",
            )
            return (
                f"due timers fired after Redis came back at {back_at:%H:%M:%S}: {due[0]} still "
                f"due; worker heartbeat {heartbeat}, beat tick {beat}, "
                f"{redis.queue_length(queue)} messages waiting in the queue" + running.logs()
            )

        wait_for(
            lambda: (
                one(
                    database_url,
                    "SELECT COUNT(*) FROM enforcement_timer "
                    "WHERE stage = 'accept' AND state IN ('pending', 'warned')",
                )
                == (0,)
            ),
            timeout=REDIS_RECOVERY_TIMEOUT,
            what=diagnosis,
        )
        # none fired while Redis was down (no sweep could reach the worker)
        first_fired, last_fired = one(
            database_url,
            "SELECT MIN(fired_at), MAX(fired_at) FROM enforcement_timer WHERE stage = 'accept'",
        )
        assert as_utc(first_fired) >= back_at
        assert one(
            database_url,
            "SELECT COUNT(*), COUNT(DISTINCT opened_by_id) FROM enforcement_supervision",
        ) == (REDIS_DUE, REDIS_DUE)
        assert one(
            database_url,
            "SELECT COUNT(*) FROM enforcement_timer t JOIN enforcement_supervision s "
            "ON s.opened_by_id = t.id WHERE t.stage = 'accept' AND t.state = 'fired'",
        ) == (REDIS_DUE,)
        assert one(
            database_url, "SELECT COUNT(*) FROM enforcement_caseevent WHERE kind = 'supervision'"
        ) == (REDIS_DUE,)
        # and the worker goes on consuming: a heartbeat it ran after Redis came back
        wait_for(
            lambda: alive(database_url, worker=worker, since=back_at),
            timeout=10,
            what=diagnosis,
        )
        print(
            f"all {REDIS_DUE} fired {(as_utc(last_fired) - back_at).total_seconds():.1f} s "
            "after Redis was started again"
        )
