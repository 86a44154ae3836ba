"""/healthz: database, broker, the last beat tick and worker run; 503 when any is stale."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError, connection
from django.utils import timezone

from core.choices import Component
from core.services import heartbeat_record

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


@pytest.fixture
def worker_answers(monkeypatch):
    """A worker answers /healthz's ping (the real ping runs in test_processes.py)."""
    monkeypatch.setattr("core.selectors._worker_answers", lambda: True)


def beats_at(when, *components):
    with time_machine.travel(when, tick=False):
        for component in components:
            heartbeat_record(
                component=component, node="" if component == Component.BEAT else "w1@host"
            )


def test_healthy_when_beat_and_worker_are_fresh(client, settings, worker_answers):
    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=5), Component.BEAT, Component.WORKER)

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["beat"] == {
        "ok": True,
        "last_seen": (NOW - timedelta(seconds=5)).astimezone(UTC).isoformat(),
        "age_seconds": 5.0,
    }
    assert body["worker"]["age_seconds"] == 5.0
    assert body["worker"]["answers_ping"] is True
    assert body["stale_after_seconds"] == 20
    assert response["Cache-Control"].startswith("max-age=0")


def test_503_when_the_worker_is_older_than_two_intervals(client, settings, worker_answers):
    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=3), Component.BEAT)
    beats_at(NOW - timedelta(seconds=21), Component.WORKER)

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["beat"]["ok"] is True
    assert body["worker"] == {
        "ok": False,
        "last_seen": (NOW - timedelta(seconds=21)).astimezone(UTC).isoformat(),
        "age_seconds": 21.0,
        "answers_ping": True,
    }


def test_503_at_once_when_no_worker_answers_though_its_last_heartbeat_is_fresh(client, settings):
    # given a heartbeat a second old, and no worker running (this test process starts none):
    # the worker was killed after its last heartbeat
    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=1), Component.BEAT, Component.WORKER)

    # when /healthz is asked
    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    # then the worker is reported missing now, not twenty seconds later
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is True
    assert response.json()["worker"] == {
        "ok": False,
        "last_seen": (NOW - timedelta(seconds=1)).astimezone(UTC).isoformat(),
        "age_seconds": 1.0,
        "answers_ping": False,
    }


def test_503_when_beat_is_stale_even_if_a_worker_is_fresh(client, settings):
    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=60), Component.BEAT)
    beats_at(NOW - timedelta(seconds=1), Component.WORKER)

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["beat"]["ok"] is False


def test_503_when_nothing_ever_ran(client, worker_answers):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["beat"] == {"ok": False, "last_seen": None, "age_seconds": None}
    assert response.json()["worker"] == {
        "ok": False,
        "last_seen": None,
        "age_seconds": None,
        "answers_ping": True,
    }


def test_the_freshest_of_several_workers_counts(client, settings, worker_answers):
    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=2), Component.BEAT)
    beats_at(NOW - timedelta(seconds=300), Component.WORKER)
    with time_machine.travel(NOW - timedelta(seconds=4), tick=False):
        heartbeat_record(component=Component.WORKER, node="w2@other")

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"]["age_seconds"] == 4.0


def test_503_when_the_broker_is_unreachable(client, settings, monkeypatch, worker_answers):
    from config.celery import app

    settings.HEALTH_STALE_AFTER = 20
    beats_at(NOW - timedelta(seconds=1), Component.BEAT, Component.WORKER)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {"socket_connect_timeout": 1})

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == {
        "ok": False,
        "transport": "redis",
        "error": "broker unreachable",
    }
    assert "127.0.0.1" not in response.content.decode()
    assert response.json()["worker"]["answers_ping"] is False  # not asked: no broker to ask on


DRIVER_SAYS = (
    'connection to server at "10.20.0.7", port 5432 failed: FATAL:  password authentication '
    'failed for user "shaoxiang"'
)


def test_503_names_the_unreachable_database_without_the_drivers_words(client, monkeypatch, caplog):
    # given a database that refuses the connection, as PostgreSQL says it
    def refused(*args, **kwargs):
        raise OperationalError(DRIVER_SAYS)

    monkeypatch.setattr(connection, "cursor", refused)

    # when /healthz is asked
    response = client.get("/healthz")

    # then it says which part failed in fixed words; the driver's words are in the log only
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {
        "ok": False,
        "vendor": connection.vendor,
        "error": "database unreachable",
    }
    assert body["beat"] == body["worker"] == {"ok": False, "error": "database unavailable"}
    assert "10.20.0.7" not in response.content.decode()
    assert "shaoxiang" not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "core.views"]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("WARNING", f"/healthz: the database check failed: {DRIVER_SAYS}")
    ]


def test_healthz_accepts_only_get(client):
    assert client.post("/healthz").status_code == 405


def test_healthcheck_command_exits_1_when_stale_and_0_for_a_fresh_component(settings, capsys):
    from django.core.management import call_command

    settings.HEALTH_STALE_AFTER = 20
    beats_at(timezone.now() - timedelta(seconds=1), Component.BEAT)

    with pytest.raises(SystemExit) as exited:
        call_command("healthcheck")
    assert exited.value.code == 1

    call_command("healthcheck", component="beat")  # beat alone is fresh: no exit
    assert '"status": "fail"' in capsys.readouterr().out
