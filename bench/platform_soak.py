"""The embedded platform stays up: `make run`'s runner (manage.py platform_run: embedded broker,
web, worker, beat under supervisor) on SQLite, filing a case through the REST API every 2 s for
30 minutes, /healthz asked every 10 s.

    .venv/bin/python bench/platform_soak.py              # 30 min; updates docs/PERFORMANCE.md
    .venv/bin/python bench/platform_soak.py --minutes 2 --no-docs   # quick
    .venv/bin/python bench/platform_soak.py --smoke      # every step, 10 s of load; no figures

It makes an instance of its own under a temporary VAR_DIR (nothing of ./var is touched):
migrates, loads the demo district without cases (``seed_demo --cases 0``), makes a 12345
hotline API key, starts the runner on a free port of 127.0.0.1 and files cases with that key.
At the end it checks that every case filed exists, that every notification delivery the worker
was given (each intake announces the case to the command centre) was sent, that no process of
the runner had to be restarted, and that the log holds no unrecoverable error; then it stops the
runner with SIGINT, as Ctrl-C would, and removes the instance. Everything talks to 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xmlrpc.client
from contextlib import closing
from pathlib import Path
from socket import socket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from supervisor.xmlrpc import SupervisorTransport  # noqa: E402

from bench.report import section_write, verdict  # noqa: E402
from bench.smoke import SMOKE_HELP, smoke_deadline  # noqa: E402

COMMAND = ".venv/bin/python bench/platform_soak.py"
HOST = "127.0.0.1"
FILE_EVERY_S = 2.0
HEALTH_EVERY_S = 10.0
SMOKE_SECONDS = 10
# What the log must never say (the worker's death in kombu's file-system transport, or any
# process's critical error; supervisor's own start-up notices are "CRIT", not "CRITICAL").
FATAL_MARKS = ("Unrecoverable error", " CRITICAL ")

POINTS_AND_MATTERS = """
import json
from enforcement.models import MatterType
from grids.geometry import geometry_shape
from grids.models import GridCell
points = []
for cell in GridCell.objects.filter(level="comprehensive").order_by("code")[:20]:
    p = geometry_shape(cell.geometry).representative_point()
    points.append((p.y, p.x))
matters = MatterType.objects.order_by("code").values_list("code", flat=True)[:10]
print(json.dumps({"points": points, "matters": list(matters)}))
"""


def supervisor_pids(var_dir: Path) -> dict[str, int]:
    """The runner's processes and their pids, from supervisord's XML-RPC socket."""
    transport = SupervisorTransport(None, None, f"unix://{var_dir / 'supervisor.sock'}")
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    return {p["name"]: p["pid"] for p in proxy.supervisor.getAllProcessInfo()}


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 -- this interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, key: str = "") -> int | None:
    """The status of one request, or None when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 -- 127.0.0.1
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Api-Key {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_healthy(port: int, runner: subprocess.Popen, log: Path, timeout: float) -> float:
    started = time.monotonic()
    while http("GET", f"http://{HOST}:{port}/healthz") != 200:
        if runner.poll() is not None:
            raise SystemExit(f"the runner exited:\n{log.read_text()[-4000:]}")
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not healthy within {timeout} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    return time.monotonic() - started


def one(database: Path, sql: str) -> tuple:
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute(sql).fetchone()


def soak(seconds: float) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix="sx-soak-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DEBUG="true", VAR_DIR=str(var_dir), INSTANCE_NAME=f"soak{os.getpid()}")
    database = var_dir / "shaoxiang.sqlite3"
    log_path = var_dir / "platform.log"
    runner = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "--cases", "0")
        key = manage(env, "api_key_create", "--source", "hotline_12345").strip().splitlines()[-1]
        reference = json.loads(manage(env, "shell", "-c", POINTS_AND_MATTERS).splitlines()[-1])
        port = free_port()
        with open(log_path, "w") as log:
            runner = subprocess.Popen(  # noqa: S603 -- this interpreter and manage.py
                [sys.executable, "manage.py", "platform_run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        healthy_after = wait_healthy(port, runner, log_path, timeout=180)
        pids_before = supervisor_pids(var_dir)

        filed: dict[int | None, int] = {}
        health: dict[int | None, int] = {}
        started = time.monotonic()
        next_file = next_health = started
        n = 0
        while (now := time.monotonic()) - started < seconds:
            if now >= next_health:
                status = http("GET", f"http://{HOST}:{port}/healthz")
                health[status] = health.get(status, 0) + 1
                next_health += HEALTH_EVERY_S
            if now >= next_file:
                lat, lng = reference["points"][n % len(reference["points"])]
                body = {
                    "source": "hotline_12345",
                    "matter_type": reference["matters"][n % len(reference["matters"])],
                    "description": f"压力测试工单{n}：人行道占道经营",
                    "lat": lat,
                    "lng": lng,
                    "external_id": f"SOAK-{n:06d}",
                }
                status = http("POST", f"http://{HOST}:{port}/api/v1/cases/", body, key)
                filed[status] = filed.get(status, 0) + 1
                n += 1
                next_file += FILE_EVERY_S
            time.sleep(max(0.0, min(next_file, next_health) - time.monotonic()))

        # Give the worker a moment to send the last announcements, then count.
        deadline = time.monotonic() + 60
        while True:
            pending = one(
                database, "SELECT COUNT(*) FROM core_notificationdelivery WHERE state != 'sent'"
            )[0]
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        pids_after = supervisor_pids(var_dir)
        runner.send_signal(signal.SIGINT)
        runner_status = runner.wait(timeout=120)
        text = log_path.read_text(errors="replace")
        return {
            "seconds": seconds,
            "healthy_after_s": healthy_after,
            "filed": filed,
            "health": health,
            "posted": n,
            "cases": one(database, "SELECT COUNT(*) FROM enforcement_case")[0],
            "deliveries": one(database, "SELECT COUNT(*) FROM core_notificationdelivery")[0],
            "deliveries_pending": pending,
            "restarted": sorted(
                name for name in pids_before if pids_after[name] != pids_before[name]
            ),
            "fatal_lines": [
                line for line in text.splitlines() if any(m in line for m in FATAL_MARKS)
            ],
            "runner_status": runner_status,
        }
    finally:
        if runner is not None and runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)


def failures(result: dict) -> list[str]:
    problems = []
    if set(result["filed"]) != {201}:
        problems.append(f"intake answers {result['filed']} (all 201 expected)")
    if result["cases"] != result["posted"]:
        problems.append(f"{result['posted']} cases filed, {result['cases']} in the database")
    if set(result["health"]) != {200}:
        problems.append(f"/healthz answered {result['health']} (all 200 expected)")
    if result["deliveries_pending"]:
        problems.append(f"{result['deliveries_pending']} notification deliveries never sent")
    if result["deliveries"] < result["posted"]:
        problems.append(f"{result['deliveries']} deliveries for {result['posted']} intakes")
    if result["restarted"]:
        problems.append(f"processes restarted: {result['restarted']}")
    if result["fatal_lines"]:
        problems.append(f"fatal lines in the log: {result['fatal_lines'][:5]}")
    if result["runner_status"] != 0:
        problems.append(f"the runner exited {result['runner_status']} on SIGINT")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to file cases")
    parser.add_argument("--no-docs", action="store_true", help="do not update PERFORMANCE.md")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.minutes <= 0:
        parser.error("--minutes must be more than 0")
    if args.smoke:
        smoke_deadline()
    seconds = SMOKE_SECONDS if args.smoke else args.minutes * 60
    result = soak(seconds)
    problems = failures(result)
    if args.smoke:
        if problems:
            raise SystemExit("smoke run failed: " + "; ".join(problems))
        print(
            f"smoke ok: {result['posted']} cases filed, all 201, {result['cases']} in the "
            f"database; {result['deliveries']} deliveries sent, none left; no process restarted"
        )
        return
    load = os.getloadavg()[0]
    lines = [
        "## The embedded platform under a steady trickle (`bench/platform_soak.py`)",
        "",
        f"Command: `{COMMAND}` ({args.minutes:g} min of load, plus start and stop).",
        "",
        f"`--smoke` runs every step ({SMOKE_SECONDS} s of load) and checks every count, prints "
        "no figures and writes nothing here; `make test` runs it (tests/test_benches.py).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; SQLite and the embedded broker (`make run`'s layout); "
        f"measured {time.strftime('%Y-%m-%d')}, load average (1 min) {load:.1f} at the end.",
        "",
        "| what | figure | target | verdict |",
        "| --- | --- | --- | --- |",
        f"| runner start to green `/healthz` (migrated, demo district loaded) | "
        f"{result['healthy_after_s']:.1f} s | — | — |",
        f"| cases filed through the API, one every {FILE_EVERY_S:g} s | {result['posted']:,}, "
        f"all 201, all in the database | every one | "
        f"{verdict(set(result['filed']) == {201} and result['cases'] == result['posted'])} |",
        f"| `/healthz` every {HEALTH_EVERY_S:g} s | {result['health'].get(200, 0)} of "
        f"{sum(result['health'].values())} answered 200 | all 200 | "
        f"{verdict(set(result['health']) == {200})} |",
        f"| notification deliveries sent by the worker | {result['deliveries']:,}, "
        f"{result['deliveries_pending']} left | none left | "
        f"{verdict(not result['deliveries_pending'])} |",
        f"| processes restarted | {result['restarted'] or 'none'} | none | "
        f"{verdict(not result['restarted'])} |",
        f"| unrecoverable or critical errors in the log | {len(result['fatal_lines'])} | none | "
        f"{verdict(not result['fatal_lines'])} |",
    ]
    if not args.no_docs:
        section_write("platform_soak", lines)
    else:
        print("\n".join(lines))
    if problems:
        raise SystemExit("soak failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()
