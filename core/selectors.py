"""Reads of the platform plumbing: the health report, a user's roles, notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from config.celery import app as celery_app
from core.calendar import calendar_official_until, calendar_provisional_years, calendar_warning
from core.choices import Component, Role
from core.models import Heartbeat, Notification


@dataclass
class HealthReport:
    """What /healthz and ``manage.py healthcheck`` show. ``ok`` is False when any part is down or
    stale (older than two heartbeat intervals)."""

    database: dict = field(default_factory=dict)
    broker: dict = field(default_factory=dict)
    beat: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)
    # A warning, never a failure: a provisional year still counts its statutory holidays.
    calendar: dict = field(default_factory=dict)
    stale_after_seconds: int = 0

    @property
    def ok(self) -> bool:
        return all(part.get("ok") for part in (self.database, self.broker, self.beat, self.worker))

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.ok else "fail",
            "database": self.database,
            "broker": self.broker,
            "beat": self.beat,
            "worker": self.worker,
            "calendar": self.calendar,
            "stale_after_seconds": self.stale_after_seconds,
        }


def _database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach the database is the answer, not an error
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor}


def _broker_check() -> dict:
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            conn.default_channel  # noqa: B018 -- opening a channel proves the transport works
    except Exception as exc:  # unreachable broker: report it, do not raise
        return {"ok": False, "transport": transport, "error": str(exc)[:200]}
    return {"ok": True, "transport": transport}


def _age(seen_at: datetime | None, now: datetime, stale_after: int) -> dict:
    if seen_at is None:
        return {"ok": False, "last_seen": None, "age_seconds": None}
    age = (now - seen_at).total_seconds()
    return {
        "ok": age <= stale_after,
        "last_seen": seen_at.isoformat(),
        "age_seconds": round(age, 1),
    }


# Seconds /healthz waits for a worker to answer a ping: it returns at the first answer, so
# this is paid only when no worker answers.
WORKER_PING_SECONDS = 1.0


def _worker_answers() -> bool:
    """A worker answers a ping through the broker now. The heartbeat proves that a worker
    consumes tasks, but only within two intervals; the ping tells at once that none is there
    (killed, or being restarted), which a heartbeat at most twenty seconds old cannot."""
    try:
        return bool(celery_app.control.ping(timeout=WORKER_PING_SECONDS, limit=1))
    except Exception:  # the broker failed between its check and the ping: nobody answers
        return False


def health_report() -> HealthReport:
    """Database, broker, the last beat tick, and the freshest worker heartbeat of a worker that
    also answers a ping now."""
    stale_after = settings.HEALTH_STALE_AFTER
    report = HealthReport(stale_after_seconds=stale_after)
    report.database = _database_check()
    report.broker = _broker_check()
    if not report.database["ok"]:
        report.beat = {"ok": False, "error": "database unavailable"}
        report.worker = {"ok": False, "error": "database unavailable"}
        report.calendar = {"ok": True, "error": "database unavailable"}
        return report
    report.calendar = calendar_report()
    now = timezone.now()
    last = Heartbeat.objects.aggregate(
        beat=Max("seen_at", filter=Q(component=Component.BEAT)),
        worker=Max("seen_at", filter=Q(component=Component.WORKER)),
    )
    report.beat = _age(last["beat"], now, stale_after)
    report.worker = _age(last["worker"], now, stale_after)
    answers = report.broker["ok"] and _worker_answers()
    report.worker["answers_ping"] = answers
    report.worker["ok"] = report.worker["ok"] and answers
    return report


def calendar_report(today: date | None = None) -> dict:
    """The calendar part of the health report: how far official holiday data reaches, the
    provisional years among this one and the next, and the warning (``ok`` stays true: a
    provisional year is counted by rule, and the warning is for people to act on)."""
    today = today or timezone.localdate()
    warning = calendar_warning(today)
    return {
        "ok": True,
        "official_until": calendar_official_until(today).isoformat(),
        "provisional_years": calendar_provisional_years(today),
        "warning": warning,
    }


def role_names(user) -> set[str]:
    """The names of the groups ``user`` is in (a role is a group named by its Role value), read
    once per user object: every permission check of a request asks it. Empty for anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_shaoxiang_roles", None)
    if cached is None:
        cached = user._shaoxiang_roles = set(user.groups.values_list("name", flat=True))
    return cached


def user_roles(*, user) -> list[Role]:
    """The roles (groups named after a Role) the user holds, in Role's order."""
    names = role_names(user)
    return [role for role in Role if role.value in names]


def notifications_unread(*, user) -> QuerySet[Notification]:
    """The user's unread notifications, newest first (served by core_notif_unread_idx). Only the
    user's own: there is no reading another user's messages."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
        "-created_at", "-pk"
    )
