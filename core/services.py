"""Writes of the platform plumbing: heartbeats, the beat lease, the calendar alert."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import Component, Role
from core.models import CalendarAlert, Heartbeat, Notification

User = get_user_model()


def heartbeat_record(*, component: Component, node: str, holder: str = "") -> None:
    """Upsert the row of this process with the current time. Idempotent; one statement in the
    common case, so a worker's heartbeat never waits behind anything long."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(component=component, node=node).update(
        seen_at=now, holder=holder
    )
    if updated:
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(component=component, node=node, holder=holder, seen_at=now)
    except IntegrityError:  # another process created it between our UPDATE and INSERT
        Heartbeat.objects.filter(component=component, node=node).update(seen_at=now, holder=holder)


def beat_holder_name() -> str:
    """Names this beat process in the lease: host and pid, so a crash on this host is detectable."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_dead_here(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone (a beat killed by SIGKILL
    never released its lease; waiting out the TTL would only delay the restart)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def beat_lease_acquire(*, holder: str, ttl: timedelta) -> str | None:
    """Claim the beat lease for ``holder``.

    Returns None when claimed, or the name of the live holder that keeps it. The claim is a
    conditional UPDATE on the values just read, so of two beats starting together exactly one
    wins, on SQLite as on PostgreSQL. A lease is free when released, expired (not renewed for
    ``ttl``) or held by a process of this host that no longer exists."""
    now = timezone.now()
    row, _ = Heartbeat.objects.get_or_create(
        component=Component.BEAT, node="", defaults={"holder": "", "seen_at": now - ttl}
    )
    free = (
        not row.holder
        or row.holder == holder
        or row.seen_at <= now - ttl
        or _holder_is_dead_here(row.holder)
    )
    if not free:
        return row.holder
    claimed = Heartbeat.objects.filter(pk=row.pk, holder=row.holder, seen_at=row.seen_at).update(
        holder=holder, seen_at=now
    )
    if claimed != 1:
        return Heartbeat.objects.get(pk=row.pk).holder
    return None


def beat_lease_renew(*, holder: str) -> bool:
    """Record a beat tick. False when ``holder`` no longer holds the lease (it was taken over
    after this beat stalled past the TTL): that beat must stop."""
    return (
        Heartbeat.objects.filter(component=Component.BEAT, node="", holder=holder).update(
            seen_at=timezone.now()
        )
        == 1
    )


def beat_lease_release(*, holder: str) -> None:
    """Give the lease up on a clean stop, so a restarted beat need not wait for the TTL. The last
    tick time stays, so /healthz goes on reporting its true age."""
    Heartbeat.objects.filter(component=Component.BEAT, node="", holder=holder).update(holder="")


def calendar_alert_send(today=None) -> int:
    """Tell the district administrators, once per year, that the year's holiday notice is
    missing (core.calendar.calendar_warning: from 1 November of the year before). Returns how
    many were told (0 when there is nothing to say, or they were told already). Idempotent:
    the CalendarAlert row of the year is written in the same transaction, and its unique year
    makes a second sender fail and roll back instead of sending twice."""
    from core.calendar import calendar_missing_year, calendar_warning
    from core.notifications import notification_send

    today = today or timezone.localdate()
    year = calendar_missing_year(today)
    if year is None:
        return 0
    if CalendarAlert.objects.filter(year=year).exists():
        return 0
    admins = User.objects.filter(groups__name=Role.DISTRICT_ADMIN, is_active=True).distinct()
    try:
        with transaction.atomic():
            CalendarAlert.objects.create(year=year)
            sent = notification_send(
                recipients=list(admins),
                kind="calendar_provisional",
                title=_("Holiday notice for %(year)s missing") % {"year": year},
                body=calendar_warning(today),
                reference=str(year),
            )
    except IntegrityError:
        return 0  # another sender wrote the year's alert first
    return len(sent)


def notification_read(*, user, pk: int) -> Notification:
    """Mark one of ``user``'s notifications read (idempotent: a read one keeps its first read
    time). Raises Notification.DoesNotExist for another user's message."""
    notification = Notification.objects.get(pk=pk, recipient=user)
    if notification.read_at is None:
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_read_all(*, user) -> int:
    """Mark every unread notification of ``user`` read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
