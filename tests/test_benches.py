"""No bench rots unnoticed: each bench's command, exactly as its section of docs/PERFORMANCE.md
gives it, runs with ``--smoke`` (every step of the bench at the smallest sizes, no figures) and
succeeds, leaves docs/PERFORMANCE.md as it was, says in counts what it did, and leaves nothing
behind (its scratch database, its VAR_DIR).

The benches on PostgreSQL and Redis at 127.0.0.1 (timers_sweep, api_intake) need those services
whatever DATABASE_URL the suite runs on, and are skipped, saying which is missing, only when one
of them does not answer. Each smoke run makes its own names (``…_smoke_<hex>``) and gunicorn
port, so two at once (xdist, or two ``make test`` on one machine) never meet.

Most of a smoke run on PostgreSQL is its ``migrate`` and ``seed_demo`` (about 25 s of CPU): run
one after the other they would take twice as long as side by side on two cores. Without xdist
the benches of the selected tests therefore all start when the first of them runs; under xdist
each test starts its own, and the workers run them side by side."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.scratch import scratch_var_dir
from bench.smoke import SMOKE_LIMIT_S

# The benches make their own databases, instances and names, whatever the suite runs on.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "PERFORMANCE.md"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Each bench, and whether it needs PostgreSQL and Redis on 127.0.0.1. Its test is named
# test_<bench>_smoke_…, which is how the benches of the selected tests are found.
BENCHES = {
    "grids_locate": False,
    "timers_sweep": True,
    "api_intake": True,
    "platform_soak": False,  # SQLite and the embedded broker, as `make run`
    "deadlines_recount": True,
    "web_pages": True,
    "field_pages": True,  # and Debian's Chromium at /usr/bin/chromium
    "assessment_kpis": True,
}
# What the suite's environment may hold for its own settings (DATABASE_URL, a test SECRET_KEY,
# DJANGO_SETTINGS_MODULE …): a bench sets what it needs itself, as on a developer's shell, so
# none of it is handed down.
SETTINGS_VARIABLES = {
    "ALLOWED_HOSTS",
    "API_THROTTLE_RATE",
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "DEBUG",
    "FIELD_ENCRYPTION_KEY",
    "INSTANCE_NAME",
    "LOG_LEVEL",
    "MEDIA_ROOT",
    "REDIS_URL",
    "SECRET_KEY",
    "TIMER_SWEEP_BATCH",
    "VAR_DIR",
}


def documented_command(name: str) -> tuple[dict[str, str], list[str]]:
    """The "Command:" line of bench ``name``'s section of docs/PERFORMANCE.md, as the variables
    it assigns and its argv, with ``.venv/bin/python`` run as this interpreter."""
    text = DOC.read_text()
    section = re.search(
        rf"<!-- bench:{name}:begin -->(.*?)<!-- bench:{name}:end -->", text, flags=re.S
    )
    assert section, f"no section {name} in {DOC}"
    command = re.search(r"^Command: `([^`]+)`", section.group(1), flags=re.M)
    assert command, f"no Command: line in the section {name}"
    words = shlex.split(command.group(1))
    assigned = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        variable, value = words.pop(0).split("=", 1)
        assigned[variable] = value
    assert words[:2] == [".venv/bin/python", f"bench/{name}.py"], command.group(1)
    return assigned, [sys.executable, *words[1:]]


class SmokeRun:
    """One bench's documented command with ``--smoke``, started from the project root in a
    clean copy of the environment, its output in files (no pipe to fill up)."""

    def __init__(self, name: str, folder: Path):
        self.name = name
        self.stdout_path = folder / f"{name}.out"
        self.stderr_path = folder / f"{name}.err"
        assigned, argv = documented_command(name)
        env = {
            variable: value
            for variable, value in os.environ.items()
            if variable not in SETTINGS_VARIABLES and not variable.startswith("DJANGO_")
        }
        env.update(assigned)
        self.doc_before = DOC.read_bytes()
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [*argv, "--smoke"],
                cwd=ROOT,
                env=env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # stopped as a group if it outlives its limit
            )

    def wait(self) -> int:
        try:
            # The bench stops itself after SMOKE_LIMIT_S; this is for a bench that cannot.
            return self.process.wait(timeout=SMOKE_LIMIT_S + 60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class SmokeRuns:
    """The smoke runs of this module: started on demand, or all at once (``start_all``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.runs: dict[str, SmokeRun] = {}

    def start(self, name: str) -> SmokeRun:
        if name not in self.runs:
            self.runs[name] = SmokeRun(name, self.folder)
        return self.runs[name]

    def lines(self, name: str) -> list[str]:
        """Wait for bench ``name``'s smoke run; check that it succeeded without touching
        docs/PERFORMANCE.md or printing figures, and return the lines it printed."""
        run = self.start(name)
        returncode = run.wait()
        stdout = run.stdout_path.read_text()
        output = f"--- stdout\n{stdout}\n--- stderr\n{run.stderr_path.read_text()[-4000:]}"
        assert returncode == 0, output
        assert DOC.read_bytes() == run.doc_before, "the smoke run changed docs/PERFORMANCE.md"
        assert "<!-- bench:" not in stdout, output
        assert not re.search(r"\d (ms|µs|s|/s|requests/s)\b", stdout), output
        return stdout.splitlines()

    def close(self) -> None:
        for run in self.runs.values():
            run.kill()


def services_missing() -> str | None:
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        return f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {exc}"
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=3):
            pass
    except OSError as exc:
        return f"Redis at 127.0.0.1:6379 is not reachable: {exc}"
    return None


@pytest.fixture(scope="module")
def smoke_runs(request, tmp_path_factory):
    runs = SmokeRuns(tmp_path_factory.mktemp("benches"))
    if "PYTEST_XDIST_WORKER" not in os.environ:
        missing = services_missing()
        selected = {
            name
            for item in request.session.items
            if item.module is request.module
            for name, needs_services in BENCHES.items()
            if item.name.startswith(f"test_{name}_smoke") and not (needs_services and missing)
        }
        for name in selected:
            runs.start(name)
    yield runs
    runs.close()


@pytest.fixture
def services():
    missing = services_missing()
    if missing:
        pytest.skip(f"this bench needs it: {missing}")


def smoke_line(lines: list[str]) -> str:
    found = [line for line in lines if line.startswith("smoke ok: ")]
    assert len(found) == 1, lines
    return found[0]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def assert_scratch_gone(line: str) -> None:
    database = re.search(r"database (\S+) dropped", line)
    assert database, line
    name = database.group(1)
    assert "_smoke_" in name
    with psycopg.connect(SERVER) as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchall()
    assert not scratch_var_dir(name).exists()


def test_grids_locate_smoke_finds_every_point_of_a_small_net(smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("grids_locate"))

    # then every lookup inside the net found its cell
    match = re.match(r"smoke ok: ([\d,]+) cells indexed; ([\d,]+) of ([\d,]+) lookups inside", line)
    assert match, line
    cells, found, lookups = (number(group) for group in match.groups())
    assert cells == 100
    assert found == lookups > 0


def test_timers_sweep_smoke_fires_every_due_timer_once(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("timers_sweep"))

    # then every timer made due fired, the two sweepers at once shared them without a double,
    # and its scratch database and VAR_DIR are gone
    fired = re.search(r"smoke ok: ([\d,]+) of ([\d,]+) due timers fired", line)
    assert fired, line
    assert number(fired.group(1)) == number(fired.group(2)) > 0
    two = re.search(r"two sweepers at once fired ([\d,]+) \+ ([\d,]+) = ([\d,]+) of ([\d,]+)", line)
    assert two, line
    first, second, total, due = (number(group) for group in two.groups())
    assert first + second == total == due > 0
    assert_scratch_gone(line)


def test_deadlines_recount_smoke_moves_every_deadline_once_and_back(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("deadlines_recount"))

    # then the notice moved every running deadline, the same notice again none, a typhoon day
    # some and its removal as many back, and its scratch database and VAR_DIR are gone
    found = re.search(
        r"smoke ok: ([\d,]+) running timers; the notice moved ([\d,]+), the same notice again "
        r"none, the typhoon day ([\d,]+) and its removal as many back",
        line,
    )
    assert found, line
    timers, moved, typhoon = (number(group) for group in found.groups())
    assert timers == moved > 0
    assert 0 < typhoon <= timers
    assert_scratch_gone(line)


def test_api_intake_smoke_answers_every_intake_and_imports_every_row(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("api_intake"))

    # then intakes and minimal creates went through gunicorn, each intake did all its work, the
    # import created every row, and its scratch database and VAR_DIR are gone
    http = re.search(
        r"smoke ok: ([\d,]+) intakes and ([\d,]+) minimal creates over HTTP, all 201; "
        r"([\d,]+) cases with as many",
        line,
    )
    assert http, line
    intakes, minimal, cases = (number(group) for group in http.groups())
    assert intakes > 0
    assert minimal > 0
    assert cases >= intakes
    imported = re.search(r"imported ([\d,]+) of ([\d,]+) past cases", line)
    assert imported, line
    assert number(imported.group(1)) == number(imported.group(2)) > 0
    assert_scratch_gone(line)


def test_web_pages_smoke_answers_every_page_at_both_sizes(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("web_pages"))

    # then every page answered at both sizes, the generated cases came with their events,
    # timers, calls and supervisions, each case page showed an intact chain, the dashboard's
    # first load was counted, and its scratch database and VAR_DIR are gone
    found = re.search(
        r"smoke ok: ([\d,]+) pages at ([\d,]+) and ([\d,]+) cases, ([\d,]+) requests, all 200; "
        r"([\d,]+) cases with as many intake events, ([\d,]+) live timers, ([\d,]+) department "
        r"calls, ([\d,]+) open supervisions; every case page showed an intact chain; the "
        r"dashboard's first load counted ([\d,]+) files",
        line,
    )
    assert found, line
    pages, small, large, requests, cases, timers, calls, supervisions, files = (
        number(group) for group in found.groups()
    )
    assert pages == 7
    assert 0 < small < large == cases
    assert requests > 2 * pages
    assert timers > 0
    assert calls > 0
    assert supervisions > 0
    assert files >= 3
    assert_scratch_gone(line)


# In Debian's Chromium: run by `make test-browser`, which installs it where it is missing.
@pytest.mark.browser
def test_field_pages_smoke_loads_the_task_list_and_queues_a_photo(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("field_pages"))

    # then the task list's first load was counted with the service worker's install, every
    # repeat load (slow 3G, 400 ms latency, offline) was answered by the service worker and
    # drawn, the 12-megapixel photo was scaled and queued, and its scratch database and
    # VAR_DIR are gone
    found = re.search(
        r"smoke ok: the task list's first load counted ([\d,]+) requests \(([\d,]+) by the "
        r"service worker\), all 200, ([\d,]+) of ([\d,]+) tasks shown; ([\d,]+) repeat "
        r"load\(s\) on slow 3G, ([\d,]+) repeat load\(s\) at 400-ms latency, ([\d,]+) repeat "
        r"load\(s\) offline, all answered by the service worker and drawn; ([\d,]+) photo\(s\) "
        r"of 4000×3000 scaled to at most 2,000,000 pixels and queued in the outbox",
        line,
    )
    assert found, line
    requests, by_worker, shown, made, slow, latency, offline, photos = (
        number(group) for group in found.groups()
    )
    assert requests > by_worker > 0
    assert shown == made > 0
    assert slow == latency == offline >= 1
    assert photos >= 1
    assert_scratch_gone(line)


def test_platform_soak_smoke_files_cases_on_the_running_platform(smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("platform_soak"))

    # then make run's runner took every case filed through the API, its worker sent every
    # announcement, and no process had to be restarted
    match = re.match(
        r"smoke ok: ([\d,]+) cases filed, all 201, ([\d,]+) in the database; "
        r"([\d,]+) deliveries sent, none left; no process restarted",
        line,
    )
    assert match, line
    filed, stored, delivered = (number(group) for group in match.groups())
    assert filed == stored > 0
    assert delivered >= filed


def test_assessment_kpis_smoke_rolls_up_a_month_equal_to_the_raw_figures(services, smoke_runs):
    # given the documented command; when it runs with --smoke
    line = smoke_line(smoke_runs.lines("assessment_kpis"))

    # then the generated cases came with their histories, every day of the month was rolled
    # up, every KPI from rollups (in two statements) equals the one computed from the raw
    # tables, the panels (once they exist) answered, and its scratch database and VAR_DIR are
    # gone
    found = re.search(
        r"smoke ok: ([\d,]+) cases with ([\d,]+) events, ([\d,]+) timers, ([\d,]+) calls, "
        r"([\d,]+) callbacks; ([\d,]+) days rolled up; ([\d,]+) KPIs from rollups in ([\d,]+) "
        r"statements equal the raw figures \(([\d,]+) with a denominator\); "
        r"(?:([\d,]+) panels answered 200|no panels yet)",
        line,
    )
    assert found, line
    cases, events, timers, calls, callbacks, days, kpis, statements, counted = (
        number(group) for group in found.groups()[:9]
    )
    assert cases == 2_000
    assert events > 5 * cases
    assert timers > cases
    assert calls > 0
    assert callbacks > 0
    assert 28 <= days <= 31
    assert statements == 2
    assert 0 < counted <= kpis
    assert_scratch_gone(line)


def test_every_bench_has_a_smoke_test_here():
    # given the bench scripts that write a section of docs/PERFORMANCE.md, and its sections
    scripts = {
        path.stem
        for path in (ROOT / "bench").glob("*.py")
        if re.search(r"^\s+section_write\(", path.read_text(), flags=re.M)
        and 'if __name__ == "__main__":' in path.read_text()
    }
    sections = set(re.findall(r"<!-- bench:(\w+):begin -->", DOC.read_text()))
    tests = {name for name in BENCHES if any(t.startswith(f"test_{name}_smoke") for t in globals())}

    # then each has its smoke test in this module
    assert scripts | sections == set(BENCHES) == tests, (
        "a bench without a smoke test rots unnoticed: give it a section with a Command: line "
        "in docs/PERFORMANCE.md, a --smoke mode that prints a 'smoke ok: …' line, an entry in "
        "BENCHES and a test_<bench>_smoke_… test here"
    )
