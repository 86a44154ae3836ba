"""`make run`'s runner (manage.py platform_run: supervisor over the embedded broker, web, worker
and beat): a worker killed with SIGKILL is restarted while web keeps answering, /healthz is 503
while it is missing and 200 again when it is back, and Ctrl-C still stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path

import pytest
from supervisor.xmlrpc import SupervisorTransport

from tests.processes import ROOT, free_port, manage, process_env, scratch_database, wait_for

# make run's layout: its own instance on SQLite and the embedded broker, whatever the suite runs on.
pytestmark = [pytest.mark.processes, pytest.mark.once]

# Acceptance (issue 12): /healthz back to 200 within 60 s of the worker's SIGKILL.
BACK_WITHIN = 60


def supervisor(var_dir: Path):
    """supervisord's XML-RPC interface on the instance's socket (what supervisorctl uses)."""
    transport = SupervisorTransport(None, None, f"unix://{var_dir / 'supervisor.sock'}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor


def pids(var_dir: Path) -> dict[str, int]:
    return {p["name"]: p["pid"] for p in supervisor(var_dir).getAllProcessInfo() if p["pid"]}


def health(port: int) -> int | None:
    """/healthz's status, or None when web does not answer at all."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_worker_comes_back_while_web_answers_and_ctrl_c_stops_all(tmp_path):
    env = process_env(tmp_path, HEARTBEAT_INTERVAL="1")
    var_dir = Path(env["VAR_DIR"])
    port = free_port()
    with scratch_database(tmp_path) as database_url:
        env["DATABASE_URL"] = database_url
        manage(env, "migrate", "--noinput", "-v0")
        log_path = tmp_path / "platform.log"
        with open(log_path, "w") as log:
            runner = subprocess.Popen(
                [sys.executable, "manage.py", "platform_run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the runner alone, as in a terminal
            )
        logs = log_path.read_text
        try:
            # given the platform up and healthy
            wait_for(lambda: health(port) == 200, timeout=120, what=lambda: "healthy\n" + logs())
            before = pids(var_dir)
            assert set(before) == {"redis", "web", "worker", "beat"}

            # when the worker is killed with SIGKILL, while a client keeps asking /healthz
            seen: list[tuple[float, int | None]] = []
            stop_asking = threading.Event()

            def ask() -> None:
                while not stop_asking.is_set():
                    status = health(port)  # timed when answered
                    seen.append((time.monotonic(), status))
                    time.sleep(0.25)

            asker = threading.Thread(target=ask)
            asker.start()
            killed_at = time.monotonic()
            os.kill(before["worker"], signal.SIGKILL)
            try:
                wait_for(
                    lambda: any(status == 503 for _, status in seen),
                    timeout=BACK_WITHIN,
                    what=lambda: f"a 503 after the kill: {seen[-5:]}\n" + logs(),
                )
                wait_for(
                    lambda: seen and seen[-1][1] == 200 and seen[-1][0] > killed_at,
                    timeout=BACK_WITHIN,
                    what=lambda: f"200 again: {seen[-5:]}\n" + logs(),
                )
            finally:
                stop_asking.set()
                asker.join()

            # then web answered every request throughout, and a new worker runs
            assert None not in [status for _, status in seen], seen
            back_at = next(t for t, status in seen if status == 200 and t > killed_at)
            first_503 = next(t for t, status in seen if status == 503)
            assert first_503 < back_at
            assert back_at - killed_at < BACK_WITHIN
            after = pids(var_dir)
            assert after["worker"] != before["worker"]
            assert {name: after[name] for name in ("redis", "web", "beat")} == {
                name: before[name] for name in ("redis", "web", "beat")
            }
            print(
                f"503 {first_503 - killed_at:.1f} s after the kill, "
                f"200 again after {back_at - killed_at:.1f} s"
            )

            # and Ctrl-C stops everything
            running = list(after.values())
            runner.send_signal(signal.SIGINT)
            assert runner.wait(timeout=90) == 0, logs()
            wait_for(
                lambda: not any(alive(pid) for pid in running),
                timeout=10,
                what=lambda: f"every process gone: {[p for p in running if alive(p)]}",
            )
            assert "Unrecoverable error" not in logs()
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait(timeout=10)
