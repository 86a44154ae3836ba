"""The REST intake on PostgreSQL behind gunicorn, against a minimal create endpoint of the same
stack, and the bulk import of past cases.

    .venv/bin/python bench/api_intake.py                 # ~2 min; updates docs/PERFORMANCE.md
    .venv/bin/python bench/api_intake.py --seconds 5 --no-docs   # quick
    .venv/bin/python bench/api_intake.py --smoke   # every step at the smallest sizes; no figures

It drops and recreates its own database (``shaoxiang_bench_api`` on 127.0.0.1:5432, user
postgres), migrates it and loads the demo district (``seed_demo --cases 0``) with
``manage.py``, and makes an integration API key for the 12345 hotline
(``enforcement.api_keys.api_key_create``). It starts gunicorn on a free port of 127.0.0.1
(``bench.api_settings``: the project's settings with DEBUG off, persistent connections and one
more route, ``POST /bench/minimal/``, a DRF CreateAPIView inserting one notification), waits for
``/healthz``, and for each endpoint runs 16 concurrent clients (threads, each with its own
keep-alive http.client connection) for a warm-up and then ``--seconds`` measured seconds:

* ``POST /api/v1/cases/``: a 12345 work order (``external_id`` unique per request) at the
  representative point of one of the demo's comprehensive cells, round-robin over cells and
  matter types; every answer but 201 is an error;
* ``POST /bench/minimal/``: one notification; every answer but 201 is an error.

Then, in this process, the statements of one intake (CaptureQueriesContext around one request
through the test Client) and ``cases_import`` of IMPORT_ROWS generated past cases, with DEBUG off.
Celery messages, if any, go to Redis on 127.0.0.1:6379 under this bench's own queue name, which
nobody consumes; the bench deletes that queue, stops gunicorn (its whole process group) and drops
its database at the end, also after an error or Ctrl-C (``--keep-db`` keeps the database).
Everything the bench talks to is on 127.0.0.1. A ``--smoke`` run does every step (database made,
migrated, seeded and dropped; gunicorn with one worker of two threads; the three runs with two
clients for a second each; the in-process profile; an import of 500 rows) under names of its own
(``shaoxiang_bench_api_smoke_<hex>``), and checks every answer and count."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import section_write, verdict  # noqa: E402
from bench.scratch import (  # noqa: E402 -- after the path is set
    REDIS_URL,
    Scratch,
    database_recreate,
    scratch_clean,
    scratch_names,
)
from bench.smoke import SMOKE_HELP, smoke_deadline  # noqa: E402

# The database, the instance name (also the Celery queue name: nobody consumes it) and, under
# /tmp, the VAR_DIR of a full run; a smoke run's add _smoke_<hex>.
SCRATCH_BASE = "shaoxiang_bench_api"
COMMAND = ".venv/bin/python bench/api_intake.py"
SMOKE_NOTE = (
    "`--smoke` runs every step (its own database `shaoxiang_bench_api_smoke_<hex>`; gunicorn "
    "with one worker of two threads on a free port; two clients for a second in each run; the "
    "in-process profile; an import of 500 rows) and checks every answer and count, prints no "
    "figures and writes nothing here; `make test` runs it (tests/test_benches.py)."
)
HOST = "127.0.0.1"
IMPORT_ROWS = 50_000
# The latency run: the clients send on a fixed schedule, this many intakes a second in all:
# about 144,000 an hour, far above what a street's hotline, grid and video feed send at peak.
PACED_RATE = 40.0
PROFILE_TOP = 15


@dataclass(frozen=True)
class Sizes:
    clients: int
    warmup_s: float
    profile_requests: int  # in-process intakes timed, then as many profiled


FULL = Sizes(clients=16, warmup_s=3.0, profile_requests=50)
SMOKE = Sizes(clients=2, warmup_s=0.5, profile_requests=3)
# What a smoke run puts in place of the options' defaults.
SMOKE_OPTIONS = {
    "seconds": 1.0,
    "workers": 1,
    "worker_class": "gthread",
    "threads": 2,
    "import_rows": 500,
    "paced_rate": 4.0,
}
INTAKE_PATH = "/api/v1/cases/"
MINIMAL_PATH = "/bench/minimal/"

# Targets of the issue.
RATIO_MIN = 0.5  # intake requests/s ≥ half of the minimal endpoint's
P99_MAX_MS = 50.0
IMPORT_MIN_RATE = 10_000.0  # cases/s


def settings_environment(scratch: Scratch) -> None:
    """What this process, its manage.py commands and its gunicorn read their settings from."""
    os.environ.update(
        {
            "DATABASE_URL": scratch.database_url,
            "INSTANCE_NAME": scratch.instance,
            "REDIS_URL": REDIS_URL,
            "VAR_DIR": str(scratch.var_dir),
            "DEBUG": "false",
            # One key for this process and gunicorn: the bench runs with DEBUG off, as
            # production does.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            # The API throttle stays on (each request reads and writes its history in Redis, as
            # in production), with a rate the bench cannot reach.
            "API_THROTTLE_RATE": "100000/s",
        }
    )


# --- data ---


def demo_points() -> list[tuple[float, float]]:
    """(lat, lng) of the representative point of each comprehensive cell of the demo."""
    import shapely
    from shapely.geometry import shape

    from grids.choices import GridLevel
    from grids.models import GridCell

    points = []
    for geometry in GridCell.objects.filter(level=GridLevel.COMPREHENSIVE).values_list(
        "geometry", flat=True
    ):
        lng, lat = shapely.get_coordinates(shape(geometry).representative_point())[0]
        points.append((float(lat), float(lng)))
    return points


def matter_codes() -> list[str]:
    from enforcement.models import MatterType

    return list(MatterType.objects.order_by("code").values_list("code", flat=True))


def api_key_make() -> str:
    from enforcement.api_keys import api_key_create

    _key, secret = api_key_create(source="hotline_12345", name="api_intake bench")
    return secret


def intake_body(n: int, prefix: str, points, matters) -> dict:
    lat, lng = points[n % len(points)]
    return {
        "source": "hotline_12345",
        "matter_type": matters[n % len(matters)],
        "description": f"基准工单{n}：人行道占道经营",
        "lat": lat,
        "lng": lng,
        "external_id": f"{prefix}-{n}",
    }


def minimal_body(n: int, prefix: str, points, matters) -> dict:
    return {"kind": "bench", "title": f"基准{n}", "body": f"{prefix}-{n}"}


# --- gunicorn ---


def port_free() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_start(*, var_dir: Path, workers: int, worker_class: str, threads: int) -> tuple:
    """gunicorn in its own process group (stopped as a whole), answering on a free port."""
    port = port_free()
    (var_dir / "staticfiles").mkdir(parents=True, exist_ok=True)  # whitenoise warns if absent
    log = var_dir / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--preload",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api_settings"}
    process = subprocess.Popen(  # noqa: S603 -- fixed arguments, our own module
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            # Any answer means up: 503 included, logged by Django, since no Celery runs here.
            conn.getresponse().read()
            conn.close()
            return process, port, log
        except OSError:
            time.sleep(0.2)
    gunicorn_stop(process)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def gunicorn_stop(process) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- load ---


def load_run(
    *,
    port: int,
    path: str,
    auth: str,
    body,
    seconds: float,
    label: str,
    clients: int,
    warmup_s: float,
    rate: float | None = None,
) -> dict:
    """``clients`` threads post ``body(n, prefix, …)`` back to back for ``warmup_s`` +
    ``seconds``;
    what completes in the last ``seconds`` is measured. With ``rate`` (requests per second in
    all), each client instead sends on a fixed schedule (open loop) and a request's latency
    counts from its scheduled moment, so a server falling behind shows as latency, not as a
    slower client (no coordinated omission)."""
    from collections import Counter

    prefix = f"{label}-{secrets.token_hex(4)}"
    points, matters = demo_points(), matter_codes()
    started = time.monotonic()
    measure_from = started + warmup_s
    stop_at = measure_from + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter] = [Counter() for _ in range(clients)]
    samples: list[str] = []
    barrier = threading.Barrier(clients)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Api-Key {auth}",
        "Host": HOST,
    }

    interval = clients / rate if rate else 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        n = index
        barrier.wait(timeout=30)
        scheduled = time.perf_counter() + interval * index / clients
        while (now := time.monotonic()) < stop_at:
            payload = json.dumps(body(n, prefix, points, matters), ensure_ascii=False).encode()
            n += clients
            if interval:
                time.sleep(max(0.0, scheduled - time.perf_counter()))
                began, scheduled = scheduled, scheduled + interval
                now = time.monotonic()
            else:
                began = time.perf_counter()
            try:
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                content = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()  # a sync worker closes after each answer: reconnect
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, content = type(exc).__name__, b""
            elapsed = time.perf_counter() - began
            if now >= measure_from and time.monotonic() <= stop_at:
                latencies[index].append(elapsed)
                statuses[index][status] += 1
                if status != 201 and len(samples) < 5:
                    samples.append(f"{status}: {content[:300].decode(errors='replace')}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup_s + seconds + 60)
    measured = sorted(x * 1000 for each in latencies for x in each)
    total = Counter()
    for each in statuses:
        total.update(each)
    return {
        "label": label,
        "requests": len(measured),
        "rate": len(measured) / seconds,
        "p50": quantile(measured, 0.50),
        "p95": quantile(measured, 0.95),
        "p99": quantile(measured, 0.99),
        "max": measured[-1] if measured else 0.0,
        "errors": sum(count for status, count in total.items() if status != 201),
        "statuses": dict(total),
        "samples": samples,
    }


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


# --- in process ---


def intake_profile(auth: str, *, requests: int) -> dict:
    """One intake request through the test Client (the same code as under gunicorn, in this
    process), after requests naming every cell and matter type have warmed the caches: its
    statements and their time (CaptureQueriesContext), the median time of ``requests``
    requests, and where their time goes in the project's own functions (cProfile, cumulative,
    per request)."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    points, matters = demo_points(), matter_codes()
    client = Client(SERVER_NAME=HOST, HTTP_AUTHORIZATION=f"Api-Key {auth}")
    prefix = f"profile-{secrets.token_hex(4)}"

    def post(n: int):
        response = client.post(
            INTAKE_PATH, intake_body(n, prefix, points, matters), content_type="application/json"
        )
        if response.status_code != 201:
            raise SystemExit(f"in-process intake: {response.status_code} {response.content[:500]}")

    # Warm: every cell and matter type once, as a running server has them (each process keeps
    # what it read of them for a minute).
    warm = max(len(points), len(matters))
    for n in range(warm):
        post(n)
    with CaptureQueriesContext(connection) as captured:
        post(warm)
    statements = list(captured.captured_queries)  # read now: later requests reset the log
    timings = []
    first = warm + 1
    for n in range(first, first + requests):
        began = time.perf_counter()
        post(n)
        timings.append((time.perf_counter() - began) * 1000)
    profile = cProfile.Profile()
    profile.enable()
    for n in range(first + requests, first + 2 * requests):
        post(n)
    profile.disable()
    stats = pstats.Stats(profile).stats
    own = []
    for (filename, line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        path = Path(filename)
        if ROOT in path.parents and not {".venv", "bench"} & set(path.relative_to(ROOT).parts):
            own.append((cumulative, f"{path.relative_to(ROOT)}:{line} {name}"))
    own.sort(reverse=True)
    return {
        "count": len(statements),
        "sql": [query["sql"] for query in statements],
        "sql_ms": sum(float(query["time"]) for query in statements) * 1000,
        "ms": statistics.median(timings),
        "own": [(ms * 1000 / requests, where) for ms, where in own[:PROFILE_TOP]],
    }


def intake_work_check(prefix: str, *, queue: str) -> dict:
    """What the intakes of the runs whose work orders start with ``prefix`` left behind: their
    cases, accept timers, notifications to the command centre and deliveries, and how many of
    those deliveries reached the broker (the Celery messages waiting in this bench's queue,
    which nobody consumes): the intake measured is the whole intake."""
    import base64

    import redis

    from core.models import Notification, NotificationDelivery
    from enforcement.models import Case, Timer

    numbers = set(
        Case.objects.filter(external_id__startswith=prefix).values_list("number", flat=True)
    )
    timers = Timer.objects.filter(case__number__in=numbers, stage="accept").count()
    notices = Notification.objects.filter(kind="case_reported", reference__in=numbers)
    deliveries = set(
        NotificationDelivery.objects.filter(notification__in=notices).values_list("pk", flat=True)
    )
    queued: set[int] = set()
    client = redis.Redis.from_url(REDIS_URL)
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        body = base64.b64decode(message["body"])
        args = json.loads(body)[0]
        if message.get("headers", {}).get("task", "").endswith("deliveries_deliver_task"):
            queued.update(args[0])
    return {
        "cases": len(numbers),
        "timers": timers,
        "notifications": notices.count(),
        "deliveries": len(deliveries),
        "queued": len(deliveries & queued),
    }


def import_rows(count: int, points, matters) -> list[dict]:
    """``count`` closed 12345 work orders of last year, at the demo cells' points jittered by
    up to ~50 m (points near a cell's edge land in the neighbour: both are valid)."""
    rng = random.Random(7)  # noqa: S311 -- reproducible benchmark input
    year = datetime.now(UTC).year - 1
    start = datetime(year, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        lat, lng = points[n % len(points)]
        reported = start + timedelta(seconds=rng.randrange(360 * 86_400))
        rows.append(
            {
                "source": "hotline_12345",
                "external_id": f"HIST-{year}-{n:07d}",
                "matter_type": matters[n % len(matters)],
                "description": f"历史工单{n}：占道经营",
                "lat": lat + rng.uniform(-0.0004, 0.0004),
                "lng": lng + rng.uniform(-0.0004, 0.0004),
                "address": f"应天大街{n % 500}号",
                "reported_at": reported.isoformat(),
                "closed_at": (reported + timedelta(hours=rng.randrange(1, 72))).isoformat(),
                "result": "已劝离，恢复通行",
            }
        )
    return rows


def import_measure(count: int) -> dict:
    """cases_import of ``count`` generated rows: the rate, and the checks that make it count
    (every row created, numbers gap-free per street and year, a sample of histories intact)."""
    from django.db import connection
    from django.db.models import Count, Max

    from enforcement.events import history_verify
    from enforcement.imports import cases_import
    from enforcement.models import Case

    rows = import_rows(count, demo_points(), matter_codes())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before, backend_before = time.process_time(), process_cpu_seconds(backend)
    report = cases_import(iter(rows))
    cpu = time.process_time() - cpu_before
    backend_cpu = process_cpu_seconds(backend) - backend_before
    again = cases_import(iter(rows[:5_000]))
    imported = Case.objects.filter(external_id__startswith="HIST-")
    groups = imported.values("street", "year").annotate(n=Count("pk"), top=Max("sequence"))
    gap_free = all(group["n"] == group["top"] for group in groups)
    sample = imported.order_by("?")[:200]
    broken = history_verify(cases=Case.objects.filter(pk__in=[case.pk for case in sample]))
    return {
        "rows": count,
        "created": report.created,
        "errors": [str(error) for error in report.errors[:5]],
        "error_count": len(report.errors),
        "seconds": report.seconds,
        "rate": report.rate,
        "cpu_us": cpu * 1e6 / max(report.created, 1),
        "backend_cpu_us": backend_cpu * 1e6 / max(report.created, 1),
        "reimport_skipped": again.skipped,
        "reimport_seconds": again.seconds,
        "gap_free": gap_free,
        "history": "intact" if broken is None else str(broken),
    }


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process of this machine (Linux /proc): the database
    server's backend of this bench's connection."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- report ---


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured, per endpoint")
    # gthread keeps connections alive and overlaps one request's database waits with another's
    # Python: on this 2-core machine it served about twice the requests of 2 or 3 sync workers.
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS)
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=PACED_RATE,
        help="intakes per second in all, for the latency run on a fixed schedule",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument(
        "--smoke", action="store_true", help=SMOKE_HELP + " (the size options are ignored)"
    )
    args = parser.parse_args()
    if args.smoke:
        smoke_deadline()
        for name, value in SMOKE_OPTIONS.items():
            setattr(args, name, value)
    plan = SMOKE if args.smoke else FULL
    command = COMMAND + ("" if sys.argv[1:] == [] else " " + " ".join(sys.argv[1:]))
    scratch = scratch_names(SCRATCH_BASE, smoke=args.smoke)
    settings_environment(scratch)

    def progress(line: str) -> None:
        # A smoke run shows no figures: they would be read as measures.
        if not args.smoke:
            print(line, flush=True)

    bench_started = time.perf_counter()
    load_before = os.getloadavg()
    process = None
    try:
        database_recreate(scratch.database)
        import django

        django.setup()
        from django.db import connection

        auth = api_key_make()
        process, port, _log = gunicorn_start(
            var_dir=scratch.var_dir,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
        )
        progress(f"setup: {time.perf_counter() - bench_started:.1f} s, port {port}")
        runs = {}
        # The paced run first, on a quiet database (no autovacuum yet of what the runs back to
        # back write).
        for label, path, body, rate in (
            ("intake_paced", INTAKE_PATH, intake_body, args.paced_rate),
            ("intake", INTAKE_PATH, intake_body, None),
            ("minimal", MINIMAL_PATH, minimal_body, None),
        ):
            runs[label] = load_run(
                port=port,
                path=path,
                auth=auth,
                body=body,
                seconds=args.seconds,
                label=label,
                clients=plan.clients,
                warmup_s=plan.warmup_s,
                rate=rate,
            )
            progress(f"{label}: {summary(runs[label])}")
            for sample in runs[label]["samples"]:
                print(f"  {label}: {sample}", flush=True)
        gunicorn_stop(process)  # its workers send what their enqueuers hold as they exit
        work = intake_work_check("intake", queue=scratch.instance)
        progress(f"intake work: {work}")
        queries = intake_profile(auth, requests=plan.profile_requests)
        progress(
            f"one intake in process: {queries['ms']:.1f} ms, {queries['count']} statements "
            f"taking {queries['sql_ms']:.1f} ms:"
        )
        for sql in queries["sql"]:
            progress(f"  {sql[:160]}")
        progress("project functions, cumulative ms per intake (under cProfile):")
        for ms, where in queries["own"]:
            progress(f"  {ms:7.2f}  {where}")
        imported = import_measure(args.import_rows)
        progress(f"import: {imported}")
        server_version = connection.cursor().connection.info.server_version
    finally:
        gunicorn_stop(process)
        scratch_clean(scratch, keep_db=args.keep_db)
    total_s = time.perf_counter() - bench_started

    lines = report_lines(
        command=command,
        args=args,
        plan=plan,
        database=scratch.database,
        runs=runs,
        work=work,
        queries=queries,
        imported=imported,
        server_version=server_version,
        total_s=total_s,
        load=(load_before, os.getloadavg()),
    )
    if args.smoke:
        smoke_report(scratch=scratch, runs=runs, work=work, imported=imported, keep_db=args.keep_db)
    elif args.no_docs:
        print("\n".join(lines))
    else:
        section_write("api_intake", lines)


def smoke_report(*, scratch, runs, work, imported, keep_db) -> None:
    """What a smoke run checked, in counts, not times; raises SystemExit if any is wrong. The
    report's lines were built (their formatting is part of the bench) but are not shown: figures
    of two clients for a second are no measure of anything."""
    failures = [
        f"{label}: {run['requests']} requests, {run['errors']} errors {run['statuses']}"
        for label, run in runs.items()
        if not run["requests"] or run["errors"]
    ]
    counts = (work["cases"], work["timers"], work["notifications"], work["queued"])
    intakes = runs["intake"]["requests"] + runs["intake_paced"]["requests"]
    # The warm-ups' intakes are counted in the database, not among the requests measured.
    if len(set(counts)) != 1 or work["cases"] < intakes:
        failures.append(f"intake work: {work} for {intakes} intakes answered 201")
    reimported = min(5_000, imported["rows"])
    if (
        imported["created"] != imported["rows"]
        or imported["error_count"]
        or not imported["gap_free"]
        or imported["history"] != "intact"
        or imported["reimport_skipped"] != reimported
    ):
        failures.append(f"import: {imported}")
    if failures:
        raise SystemExit("smoke run failed:\n  " + "\n  ".join(failures))
    print(
        f"smoke ok: {intakes:,} intakes and {runs['minimal']['requests']:,} minimal creates "
        f"over HTTP, all 201; {work['cases']:,} cases with as many accept timers, notifications "
        f"and deliveries queued in Redis; imported {imported['created']:,} of "
        f"{imported['rows']:,} past cases, gap-free, histories intact, {reimported:,} skipped "
        f"when imported again; database {scratch.database} {'kept' if keep_db else 'dropped'}; "
        "no figures, docs/PERFORMANCE.md not written",
        flush=True,
    )


def _abridged(sql: str) -> str:
    """A statement on one line, without its column lists and values."""
    sql = " ".join(sql.split())
    sql = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", sql, count=1)
    sql = re.sub(r"^(INSERT INTO \S+) \([^)]*\)", r"\1 (…)", sql)
    sql = re.sub(r"VALUES \(.*\)( RETURNING|$)", r"VALUES (…)\1", sql)
    return sql if len(sql) <= 160 else sql[:159] + "…"


def summary(run: dict) -> str:
    return (
        f"{run['rate']:,.0f} requests/s, p50 {run['p50']:.1f} ms, p95 {run['p95']:.1f} ms, "
        f"p99 {run['p99']:.1f} ms, {run['errors']} errors {run['statuses']}"
    )


def report_lines(
    *, command, args, plan, database, runs, work, queries, imported, server_version, total_s, load
) -> list[str]:
    import django

    pg = f"{server_version // 10000}.{server_version % 10000}"
    intake, minimal, paced = runs["intake"], runs["minimal"], runs["intake_paced"]
    ratio = intake["rate"] / minimal["rate"] if minimal["rate"] else 0.0
    server = f"{args.workers} {args.worker_class} workers" + (
        f" × {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    import_ok = (
        imported["rate"] >= IMPORT_MIN_RATE
        and imported["created"] == imported["rows"]
        and imported["gap_free"]
        and imported["history"] == "intact"
    )
    lines = [
        "## REST intake and bulk import (`bench/api_intake.py`)",
        "",
        f"Command: `{command}` ({total_s:.0f} s; it creates, migrates, seeds and drops its own "
        f"database `{database}`).",
        "",
        SMOKE_NOTE,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Django {django.__version__}, PostgreSQL {pg} on "
        f"127.0.0.1; gunicorn ({server}, `--preload`, DEBUG off, persistent connections) and "
        f"the {plan.clients} client threads on the same machine; measured "
        f"{time.strftime('%Y-%m-%d')}, "
        f"with a load average (1 min) of {load[0][0]:.1f} before and {load[1][0]:.1f} after the "
        "run: the machine is shared, and every figure below scales with what else runs on it.",
        "",
        f"Load: {plan.clients} concurrent clients (threads of one process, each with its own "
        "keep-alive connection where the server keeps it) post back to back for "
        f"{plan.warmup_s:g} s of warm-up and {args.seconds:g} s measured, authenticated with an "
        "integration API key (`Authorization: Api-Key …`). The intake posts a 12345 work order "
        "(unique `external_id`) at the representative point of one of the demo's cells, "
        "round-robin over cells and matter types; the minimal endpoint (`bench/api_urls.py`) "
        "is a DRF CreateAPIView inserting one notification. Every answer but 201 is an error.",
        "",
        "Each intake is the whole intake: its street's next number, the case located in its "
        "cell, its first hash-chained event, its accept timer, a notification to the street's "
        "command centre with its delivery, all committed together, and the delivery queued for "
        f"the worker after commit. Counted after the runs: {work['cases']:,} cases, "
        f"{work['timers']:,} accept timers, {work['notifications']:,} notifications, "
        f"{work['deliveries']:,} deliveries, of which {work['queued']:,} are in the broker's "
        "queue (read back from Redis).",
        "",
        "| endpoint | requests/s | p50 | p95 | p99 | max | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, name in (
        (intake, f"`POST {INTAKE_PATH}`, back to back"),
        (minimal, f"`POST {MINIMAL_PATH}`, back to back"),
        (paced, f"`POST {INTAKE_PATH}`, {args.paced_rate:g}/s on a fixed schedule"),
    ):
        lines.append(
            f"| {name} | {run['rate']:,.0f} | {run['p50']:.1f} ms | {run['p95']:.1f} ms | "
            f"{run['p99']:.1f} ms | {run['max']:.1f} ms | {run['errors']:,} of "
            f"{run['requests']:,} |"
        )
    lines += [
        "",
        f"One intake request, in process through the test Client (DEBUG off): "
        f"{queries['ms']:.1f} ms (median of {plan.profile_requests}); {queries['count']} SQL "
        f"statements, {queries['sql_ms']:.1f} ms of it in the database round trips. The "
        "project's functions it spends the most in (cumulative, per request, under cProfile, "
        "which slows Python down):",
        "",
        "| function | ms per intake |",
        "| --- | ---: |",
        *[f"| `{where}` | {ms:.2f} |" for ms, where in queries["own"]],
        "",
        "Its statements, in order (abridged):",
        "",
        "```sql",
        *[_abridged(sql) for sql in queries["sql"]],
        "```",
        "",
        f"Bulk import: `cases_import` of {imported['rows']:,} generated closed work orders of "
        "last year (points jittered around the cells' representative points), chunks of "
        f"5,000: {imported['created']:,} created in {imported['seconds']:.2f} s, "
        f"{imported['error_count']:,} refused; numbers gap-free per street and year: "
        f"{'yes' if imported['gap_free'] else 'NO'}; history of 200 random imported cases: "
        f"{imported['history']}; importing the first 5,000 again skipped "
        f"{imported['reimport_skipped']:,} in {imported['reimport_seconds']:.2f} s. CPU per case "
        f"created: {imported['cpu_us']:.0f} µs in this process (its three threads), "
        f"{imported['backend_cpu_us']:.0f} µs in its PostgreSQL backend; they overlap only "
        "where the machine has a core to spare.",
        "",
        f"Reading: the {plan.clients} clients post back to back, so a request's mean latency is "
        f"{plan.clients} ÷ requests/s (Little's law): a p99 of {P99_MAX_MS:g} ms needs well over "
        f"{plan.clients * 1000 / P99_MAX_MS:,.0f} intakes/s, which on 2 cores means an intake of "
        "a few milliseconds of CPU, Python and PostgreSQL together. Back to back, the p99 "
        "measures the queue, not the intake; the latency target is therefore checked where "
        f"the clients send on a fixed schedule ({args.paced_rate:g} intakes/s in all, about "
        f"{args.paced_rate * 3600:,.0f} an hour, latency counted from each request's "
        "scheduled moment so that a server falling behind shows).",
        "",
        "### Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        f"| intake ≥ {RATIO_MIN:g}× the minimal endpoint's requests/s | "
        f"{intake['rate']:,.0f} / {minimal['rate']:,.0f} = {ratio:.2f}× | "
        f"{verdict(ratio >= RATIO_MIN)} |",
        f"| intake p99 ≤ {P99_MAX_MS:g} ms ({plan.clients} clients, {args.paced_rate:g}/s) | "
        f"{paced['p99']:.1f} ms (back to back: {intake['p99']:.1f} ms) | "
        f"{verdict(paced['p99'] <= P99_MAX_MS)} |",
        f"| every intake did all its work | {work['cases']:,} cases, {work['timers']:,} timers, "
        f"{work['notifications']:,} notifications, {work['queued']:,} deliveries queued | "
        f"{verdict(work['cases'] == work['timers'] == work['notifications'] == work['queued'])} |",
        f"| no errors | intake {intake['errors'] + paced['errors']:,}, minimal "
        f"{minimal['errors']:,} | "
        f"{verdict(intake['errors'] == minimal['errors'] == paced['errors'] == 0)} |",
        f"| bulk import ≥ {IMPORT_MIN_RATE:,.0f} cases/s | {imported['rate']:,.0f} cases/s | "
        f"{verdict(import_ok)} |",
    ]
    return lines


if __name__ == "__main__":
    main()
