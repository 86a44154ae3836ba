import os
import subprocess
import time

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told. Tests only, never settings (NOTES.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _embedded_broker(tmp_path_factory):
    """On the embedded default (no REDIS_URL) the suite's broker is an embedded redis-server of
    its own (one per xdist worker), started as `make run` starts one, so that tests never
    publish into a running instance's queue under ./var."""
    from django.conf import settings

    from config.celery import app
    from core.embedded_redis import redis_server_args

    if settings.REDIS_URL:
        yield
        return
    directory = tmp_path_factory.mktemp("broker")
    socket = directory / "redis.sock"
    server = subprocess.Popen(
        redis_server_args(directory=directory, socket=socket),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the suite's embedded redis-server did not start")
        time.sleep(0.02)
    url = f"redis+socket://{socket}"
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def demo(db):
    """The demo district as `make run` shows it, without its cases (see ``demo_cases``).

    ``seed_demo`` goes through the services (about 3 s; a hundred and fifty tests use it): the
    first use in a process seeds it and keeps the rows it added, and each later use in the same
    process writes those rows again, when the database it starts from is the same (each
    table's row count and largest id, and the demo's key file), or seeds again otherwise."""
    from django.core.management import call_command

    from tests.demo_snapshot import DemoSnapshot

    global _demo_snapshot
    if _demo_snapshot is not None and _demo_snapshot.restore():
        return
    baseline = DemoSnapshot.baseline_read(full=True)
    call_command("seed_demo", cases=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    _demo_snapshot = DemoSnapshot.taken(baseline)


_demo_snapshot = None


@pytest.fixture
def demo_cases(db):
    """The demo district with a few of its cases (make run makes 300; the generator is the
    same, only fewer of them)."""
    from django.core.management import call_command

    call_command("seed_demo", cases=DEMO_CASES_IN_TESTS, stdout=open(os.devnull, "w"))  # noqa: SIM115


DEMO_CASES_IN_TESTS = 60


def pytest_configure(config):
    """Tests render pages without a prior collectstatic: plain storage instead of the hashed
    manifest (test_static.py runs collectstatic with the real storage into a temporary folder),
    and a fast password hasher."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns if missing
    # PBKDF2's deliberate slowness buys nothing in tests (a login hashes once per call).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The throttle counts in the shared cache (var/cache, or Redis), which holds other test
    # runs' request histories under the same user ids: out of the way, except where a test of
    # the throttle sets its own rate.
    settings.API_THROTTLE_RATE = "1000000/min"
    # seed_demo keeps the demo's API keys in a file: this process's own, never the running
    # instance's under ./var.
    import tempfile

    settings.DEMO_KEYS_FILE = Path(tempfile.mkdtemp(prefix="sx-demo-keys-")) / "keys.json"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _isolated_process_state():
    """Each test starts in the default language with no locate index: the test client's
    LocaleMiddleware leaves the last request's language active in this thread, and the locate
    index is per process, possibly built from an earlier test's rolled-back cells; so are the
    business calendar's cached overrides and the kept matter types, SLA policies, cells and
    command centres."""
    from django.conf import settings
    from django.utils import translation

    from core.calendar import calendar_cache_clear
    from enforcement.permissions import street_command_centre
    from enforcement.selectors import matter_type_by_code, matter_types_all
    from enforcement.timers import stage_policies
    from grids.locate import cell_index_reset
    from grids.permissions import _streets_of
    from grids.selectors import cell_with_street

    def forget():
        cell_index_reset()
        calendar_cache_clear()
        for kept in (
            matter_type_by_code,
            matter_types_all,
            stage_policies,
            cell_with_street,
            street_command_centre,
            _streets_of,
        ):
            kept.cache_clear()

    translation.activate(settings.LANGUAGE_CODE)
    forget()
    yield
    translation.deactivate()
    forget()
