"""Notifications: in-app messages to users, and their sending by outside channels.

``notification_send`` writes one Notification per recipient and one NotificationDelivery per
enabled channel, and enqueues ``notification_deliver_task`` for each delivery after commit. The
task calls ``notification_delivery_attempt`` and, when it keeps failing, retries with backoff and
ends with ``notification_delivery_fail``. Sending is at least once: a worker lost in the middle
of a send (acks_late) sends that message again."""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.bulk import rows_insert
from core.choices import DeliveryState
from core.models import Notification, NotificationDelivery

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
# Longest wait between two tries of a delivery (seconds); 2**attempts reaches it after 8 failures.
RETRY_COUNTDOWN_CAP = 300
# Deliveries sent by one task of a bulk send; a failed one is retried by a task of its own.
DELIVERY_CHUNK = 50
# Stranded deliveries re-enqueued per run of the requeue task.
REQUEUE_BATCH = 1000


class Channel:
    """One way of sending a notification outside the application. ``send`` returns once the
    message is handed over and raises on any failure; the caller records it and retries."""

    name: str = ""

    @classmethod
    def is_configured(cls) -> bool:
        """False when settings lack what the channel needs; it is then left out of sends."""
        return True

    def send(self, notification: Notification) -> None:
        raise NotImplementedError


def _phone_mask(phone: str) -> str:
    # Same shape as grids.selectors.phone_mask (138****5678); core may not import from grids.
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


class LoggingSmsChannel(Channel):
    """SMS without a gateway: logs the message it would send. The recipient is shown by a masked
    phone number when the user model has a ``phone``, else by username (PIPL: no whole numbers
    in logs)."""

    name = "sms"

    def send(self, notification: Notification) -> None:
        user = notification.recipient
        phone = str(getattr(user, "phone", "") or "").strip()
        to = _phone_mask(phone) if phone else user.get_username()
        logger.info(
            "SMS to %s (notification %s, %s): %s %s",
            to,
            notification.pk,
            notification.kind,
            notification.title,
            notification.body,
        )


class _RedirectRefused(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a GET without the body and reports success: refuse
    # redirects, so that the 3xx is a failure that shows in last_error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WebhookChannel(Channel):
    """POSTs the notification as JSON to settings.NOTIFY_WEBHOOK_URL: ``id``, ``recipient``
    (username), ``kind``, ``title``, ``body``, ``reference``, ``created_at`` (ISO 8601). Any
    answer but 2xx, a redirect included, is a failure."""

    name = "webhook"

    @classmethod
    def is_configured(cls) -> bool:
        return bool(getattr(settings, "NOTIFY_WEBHOOK_URL", ""))

    def send(self, notification: Notification) -> None:
        url = getattr(settings, "NOTIFY_WEBHOOK_URL", "")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"NOTIFY_WEBHOOK_URL must be an http(s) URL, got {url!r}")
        payload = {
            "id": notification.pk,
            "recipient": notification.recipient.get_username(),
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "reference": notification.reference,
            "created_at": notification.created_at.isoformat(),
        }
        request = urllib.request.Request(  # noqa: S310 -- scheme checked above
            url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        opener = urllib.request.build_opener(_RedirectRefused)
        # urllib raises HTTPError for 4xx and 5xx answers itself.
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered HTTP {response.status}")


# Channel name -> class. NotificationDelivery.channel holds a key of this dict.
CHANNELS: dict[str, type[Channel]] = {
    channel.name: channel for channel in (LoggingSmsChannel, WebhookChannel)
}


def channels_enabled() -> list[str]:
    """Names of the channels a send goes out by: settings.NOTIFY_CHANNELS (default ["sms"]) in
    order, without those not configured (webhook without NOTIFY_WEBHOOK_URL). Raises
    ImproperlyConfigured for a name that is no channel."""
    names = list(dict.fromkeys(getattr(settings, "NOTIFY_CHANNELS", ["sms"])))
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ImproperlyConfigured(
            f"NOTIFY_CHANNELS: unknown channel(s) {unknown}; known: {sorted(CHANNELS)}"
        )
    return [name for name in names if CHANNELS[name].is_configured()]


def notification_send(
    *, recipients: Iterable, kind: str, title: str, body: str, reference: str = ""
) -> list[Notification]:
    """Write one Notification per distinct recipient (None skipped) and one pending
    NotificationDelivery per enabled channel, in one transaction, and enqueue the deliveries
    after commit, so nothing goes out for a change that is rolled back.

    Not idempotent: calling it twice sends the message twice. A caller that may run again (a
    retried task, a repeated request) must make sure itself, e.g. by sending only from a
    workflow step that changes nothing when repeated. Returns the notifications, in the order
    of first appearance of their recipients. A delivery whose enqueueing fails after commit
    (broker down) is logged and stays pending, for ``notification_deliveries_requeue``."""
    ids = notifications_send(
        messages=[
            NotificationMessage(
                recipients=recipients, kind=kind, title=title, body=body, reference=reference
            )
        ]
    )
    rows = Notification.objects.in_bulk(ids)
    return [rows[pk] for pk in ids]


@dataclass
class NotificationMessage:
    """One message of ``notifications_send``: the arguments of one ``notification_send``."""

    recipients: Iterable
    kind: str
    title: str
    body: str
    reference: str = ""


def notifications_send(
    *, messages: Iterable[NotificationMessage], batched: bool = False
) -> list[int]:
    """``notification_send`` for many messages at once, as the timer sweeper sends them: one
    Notification per distinct recipient of each message, one pending delivery per enabled
    channel, written with two bulk INSERTs, and one after-commit callback that enqueues every
    delivery over one broker connection. Not idempotent either. If enqueueing fails after
    commit (broker down), the error is logged and the deliveries not enqueued stay pending,
    for ``notification_deliveries_requeue``. Returns the new notifications' ids (no model
    instance per row: a sweep sends thousands). ``batched``: see deliveries_enqueue_on_commit."""
    channels = channels_enabled()
    now = timezone.now()
    rows = [
        (recipient_id, message.kind, message.title, message.body, message.reference, now)
        for message in messages
        for recipient_id in dict.fromkeys(
            user.pk for user in message.recipients if user is not None
        )
    ]
    if not rows:
        return []
    # No savepoint inside the caller's transaction (two more round trips for every intake):
    # an error here fails the caller's transaction as a whole anyway.
    with transaction.atomic(savepoint=False):
        ids = rows_insert(
            Notification, ["recipient", "kind", "title", "body", "reference", "created_at"], rows
        )
        delivery_ids = rows_insert(
            NotificationDelivery,
            ["notification", "channel", "state", "attempts", "last_error", "created_at"],
            [
                (pk, channel, DeliveryState.PENDING, 0, "", now)
                for pk in ids
                for channel in channels
            ],
        )
        deliveries_enqueue_on_commit(delivery_ids, batched=batched)
    return ids


def deliveries_enqueue_on_commit(delivery_ids: list[int], *, batched: bool = False) -> None:
    """Enqueue the deliveries once the current transaction commits (at once outside one). For
    whoever writes Notification and NotificationDelivery rows itself (case_intake on
    PostgreSQL writes them in the statement that writes the case). ``batched``: hand them to
    this process's enqueuer, which sends the deliveries of many requests in one message
    within ENQUEUE_BATCH_SECONDS (a busy path: every intake)."""
    if not delivery_ids:
        return

    # robust: the change is already committed; a broker outage must not turn the caller's
    # success into an error. (A named function: Django logs a failing robust callback by its
    # __qualname__, which a functools.partial lacks.)
    def deliveries_enqueue() -> None:
        from core.tasks import notification_deliveries_deliver_task

        if batched and not notification_deliveries_deliver_task.app.conf.task_always_eager:
            _enqueuer.add(delivery_ids)
        else:
            _deliveries_enqueue(delivery_ids)

    transaction.on_commit(deliveries_enqueue, robust=True)


# How long this process's enqueuer gathers deliveries before it sends them (seconds).
ENQUEUE_BATCH_SECONDS = 0.05


class _Enqueuer:
    """Deliveries of this process waiting for the broker. A thread of its own sends what has
    gathered every ENQUEUE_BATCH_SECONDS, with one message per DELIVERY_CHUNK: a broker
    message costs about a millisecond of Python, as much as all the rows of an intake, and
    a busy web process sends one for many intakes. Started on first use in each process, and
    forgotten in a forked child (its parent sends what it held). Deliveries a dying process
    had not sent stay pending and never tried, which notification_deliveries_requeue sends;
    at a normal exit the rest is sent."""

    def __init__(self):
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[int] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, delivery_ids: list[int]) -> None:
        with self._lock:
            self._waiting.extend(delivery_ids)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="notification-enqueuer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(ENQUEUE_BATCH_SECONDS)
            # What is added from here on sets the event again, so it is sent now or next.
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            delivery_ids, self._waiting = self._waiting, []
        if not delivery_ids:
            return
        try:
            _deliveries_enqueue(delivery_ids)
        except Exception:  # the broker is down: the deliveries wait for the requeue
            logger.exception(
                "Could not enqueue %d notification deliveries; they stay pending for the requeue",
                len(delivery_ids),
            )


_enqueuer = _Enqueuer()
os.register_at_fork(after_in_child=_enqueuer._reset)
atexit.register(_enqueuer.flush)


def _deliveries_enqueue(delivery_ids: list[int]) -> None:
    """One broker message per DELIVERY_CHUNK deliveries: a message costs about half a
    millisecond, more than writing the rows, and a sweep may send thousands."""
    from core.tasks import notification_deliveries_deliver_task

    app = notification_deliveries_deliver_task.app
    chunks = [
        delivery_ids[start : start + DELIVERY_CHUNK]
        for start in range(0, len(delivery_ids), DELIVERY_CHUNK)
    ]
    if app.conf.task_always_eager:
        for chunk in chunks:
            notification_deliveries_deliver_task.delay(chunk)
        return
    # One producer (one broker connection and channel) for all.
    with app.producer_or_acquire() as producer:
        for chunk in chunks:
            notification_deliveries_deliver_task.apply_async((chunk,), producer=producer)


class DeliveryFailed(Exception):
    """One try to send a delivery failed. ``attempts`` is the delivery's count of failed tries,
    this one included."""

    def __init__(self, message: str, *, attempts: int):
        super().__init__(message)
        self.attempts = attempts

    def __reduce__(self):
        # Picklable despite the keyword-only argument, should Celery ship it between processes.
        return (_delivery_failed_rebuild, (str(self), self.attempts))


def _delivery_failed_rebuild(message: str, attempts: int) -> DeliveryFailed:
    return DeliveryFailed(message, attempts=attempts)


def delivery_retry_countdown(*, attempts: int) -> int:
    """Seconds to wait before the next try after ``attempts`` failures: 2**attempts, capped."""
    return min(2**attempts, RETRY_COUNTDOWN_CAP)


def notification_delivery_attempt(*, delivery_id: int) -> None:
    """Try once to send a delivery by its channel. Does nothing when the delivery is already
    sent or no longer exists; a failed one is tried again (a re-enqueued delivery). On success
    the delivery becomes sent. On any failure ``attempts`` goes up by one, ``last_error`` keeps
    the error, and DeliveryFailed is raised; the state stays as it was."""
    delivery = (
        NotificationDelivery.objects.select_related("notification__recipient")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.state == DeliveryState.SENT:
        return
    try:
        CHANNELS[delivery.channel]().send(delivery.notification)
    except Exception as exc:  # any failure of a channel is recorded and retried, whatever it is
        error = f"{type(exc).__name__}: {exc}"[:2000]
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1, last_error=error
        )
        attempts = NotificationDelivery.objects.values_list("attempts", flat=True).get(
            pk=delivery.pk
        )
        logger.warning("Delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
        raise DeliveryFailed(error, attempts=attempts) from exc
    NotificationDelivery.objects.filter(pk=delivery.pk).exclude(state=DeliveryState.SENT).update(
        state=DeliveryState.SENT, sent_at=timezone.now()
    )


def notification_delivery_fail(*, delivery_id: int) -> None:
    """Give a delivery up after its last retry: pending becomes failed. A sent delivery stays
    sent (a conditional UPDATE, so a concurrent success is never overwritten)."""
    NotificationDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED
    )


def notification_deliveries_requeue(*, older_than: timedelta) -> int:
    """Enqueue again each delivery still pending and never tried that was created more than
    ``older_than`` ago: its enqueueing was lost (the broker was down at commit, or restarted
    without persistence before a worker took it). Returns how many. Sending stays at least
    once: a delivery merely waiting in a long queue may go out twice, which ``older_than``
    (minutes, far beyond a normal queue) makes rare."""
    stale = list(
        NotificationDelivery.objects.filter(
            state=DeliveryState.PENDING,
            attempts=0,
            created_at__lt=timezone.now() - older_than,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    if stale:
        _deliveries_enqueue(stale)
    if stale:
        logger.warning("Re-enqueued %d stranded notification deliveries", len(stale))
    return len(stale)
