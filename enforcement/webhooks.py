"""Signed webhooks to district departments' systems: a department registers an endpoint (a URL
and a signing secret) and is told of the events of the cases it was called to.

Events (``WebhookEvent``): ``called`` (whistled to the department, 吹哨), ``supervised`` (a
supervision of its call opened, 督办, level 1), ``escalated`` (levels 2 and 3), ``case_closed``
(a case it was called to closed, 结案).

Each event makes one WebhookDelivery per active endpoint of the department subscribed to it
(``webhook_emit``), written in the caller's transaction and tried after commit
(``webhook_deliver_task``); a failed try is tried again with exponential backoff (30 s doubling,
at most an hour apart, a little jitter) by the sweep (``webhook_deliveries_sweep``, sent by beat)
until it succeeds or 24 hours have passed, then it is failed and can be redelivered by hand
(``webhook_redeliver``). Delivery is at least once: a worker lost after the receiver answered
but before the answer was recorded sends it again, with the same ``X-Shaoxiang-Delivery``.

The request, as a receiver sees it::

    POST <endpoint url>
    Content-Type: application/json
    User-Agent: Shaoxiang-Webhooks/1
    X-Shaoxiang-Event: called
    X-Shaoxiang-Delivery: 2f0c…-…            (uuid; the same on every try: de-duplicate on it)
    X-Shaoxiang-Timestamp: 1763258400        (unix seconds of this try)
    X-Shaoxiang-Signature: sha256=<hex>

    {"call":{"id":7,"power_item":"HB-003"},"case":{"matter_type":"YYRM","number":"…",…},
     "delivery":"2f0c…","event":"called","occurred_at":"2026-11-16T10:00:00+08:00"}

The body is compact UTF-8 JSON with sorted keys; it never holds the reporter's personal data.
The signature is ``HMAC-SHA256(secret, "<timestamp>." + body)`` in lower-case hex, over the raw
body bytes as received. A receiver recomputes it (``webhook_signature_verify`` does), compares
in constant time and rejects a timestamp more than five minutes from its own clock, which stops
a recorded request from being replayed later. Any 2xx answer is success; anything else,
redirects included (never followed), a timeout or a refused connection is a failed try.

Where the worker may POST, and how it connects only to an address it checked, is
enforcement.webhook_egress (checked at registration and again before every try). A try's
record shows the department the class of a failure (``HTTP 500``, ``timeout``, ``could not
connect``), never what the receiver answered; that is kept for the administrator
(``WebhookAttempt.detail``). The signing secret is kept encrypted (``webhook_secret_set``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import field_decrypt, field_encrypt
from enforcement.choices import CaseStatus, WebhookDeliveryState, WebhookEvent
from enforcement.models import (
    Case,
    DepartmentCall,
    MatterType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from enforcement.permissions import scope_of
from enforcement.webhook_egress import (
    WebhookAnswer,
    WebhookTargetRefused,
    webhook_post,
    webhook_target,
)
from grids.models import Region

logger = logging.getLogger(__name__)

STATE = WebhookDeliveryState
USER_AGENT = "Shaoxiang-Webhooks/1"
SIGNATURE_PREFIX = "sha256="
# How long a delivery is tried before it is failed (WebhookDelivery's contract).
GIVE_UP_AFTER = timedelta(hours=24)
# Backoff between failed tries: 30 s, doubling, at most an hour, plus up to a tenth more so
# that the deliveries of one outage do not all come back in the same second.
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
BACKOFF_JITTER = 0.1
# A claim holds a delivery for the request's timeout plus this margin (connecting, recording
# the answer); a worker killed meanwhile leaves the claim to expire, and the sweep tries again.
LEASE_MARGIN_SECONDS = 30
# A secret at least this long has its last four characters shown in the admin, to tell which
# one a department holds; a shorter one shows only that it is set.
SECRET_HINT_MIN_LENGTH = 16


class WebhookError(ValueError):
    """A request about webhooks that cannot be done; ``str()`` is the message for people."""


# --- signing --------------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Shaoxiang-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds):
    ``sha256=`` and the hex HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``."""
    message = f"{int(timestamp)}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def webhook_signature_verify(
    secret: str,
    timestamp: int | str | None,
    body: bytes,
    header: str | None,
    tolerance_seconds: int = 300,
) -> bool:
    """For receivers: True when ``header`` (X-Shaoxiang-Signature) signs ``body`` with
    ``timestamp`` (X-Shaoxiang-Timestamp) under ``secret`` and the timestamp is within
    ``tolerance_seconds`` of this machine's clock. Never raises on malformed input."""
    if not header or timestamp is None:
        return False
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(webhook_signature(secret, sent_at, body), header.strip())


def webhook_secret_generate() -> str:
    """A new signing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


# --- endpoints ------------------------------------------------------------------------------------


def webhook_url_check(url: str) -> None:
    """Raise ValidationError (on ``url``) unless webhooks may be sent to ``url``: an http(s) URL
    (URLField also takes ftp, which cannot receive a POST) whose host WEBHOOK_ALLOWED_HOSTS
    lists and whose every address may be reached (enforcement.webhook_egress.webhook_target:
    resolves the host). Checked at registration and again before each try, so that a narrowed
    setting, or a name that now resolves elsewhere, also stops endpoints registered before."""
    try:
        webhook_target(url)
    except WebhookTargetRefused as exc:
        raise ValidationError({"url": exc.message}) from exc


def webhook_events_check(events) -> list[str]:
    """The event names, checked and without repeats; empty means every event. Raises
    ValidationError for a name that is no WebhookEvent."""
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": _("A list of event names.")})
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        raise ValidationError(
            {
                "events": _("Unknown event(s): %(names)s. Known: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(WebhookEvent.values)}
            }
        )
    return list(dict.fromkeys(events))


def webhook_secret_set(endpoint: WebhookEndpoint, secret: str) -> None:
    """Give ``endpoint`` (unsaved here) the signing secret ``secret``: kept encrypted
    (core.crypto, as reporters' phones), with its last four characters as the hint the admin
    shows when the secret is long enough for them to give nothing away. ``endpoint.secret_once``
    holds the text until the object is dropped, for the one answer that shows it."""
    endpoint.secret_encrypted = field_encrypt(secret)
    endpoint.secret_hint = secret[-4:] if len(secret) >= SECRET_HINT_MIN_LENGTH else ""
    endpoint.secret_once = secret


def webhook_secret(endpoint: WebhookEndpoint) -> str:
    """The signing secret of ``endpoint``, decrypted. Raises ValueError when no key of
    FIELD_ENCRYPTION_KEY opens it."""
    return field_decrypt(endpoint.secret_encrypted)


def webhook_endpoint_create(
    *, department, url: str, events=(), secret: str = "", active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint of ``department``. A blank ``secret`` is generated; the caller
    shows it once (``endpoint.secret_once``: it is needed to verify signatures), and it is
    never readable again but by the worker that signs. Raises ValidationError."""
    webhook_url_check(url)
    events = webhook_events_check(list(events))
    endpoint = WebhookEndpoint(department=department, url=url, events=events, active=active)
    webhook_secret_set(endpoint, secret.strip() or webhook_secret_generate())
    endpoint.save()
    return endpoint


def webhook_endpoint_remove(*, endpoint: WebhookEndpoint) -> bool:
    """Stop telling ``endpoint``: deleted when it has no deliveries, otherwise deactivated and
    kept as the record of its deliveries (those still pending end failed at their next try).
    Returns True when the row was deleted."""
    with transaction.atomic():
        if not endpoint.deliveries.exists():
            endpoint.delete()
            return True
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
        endpoint.active = False
    return False


# --- reading (the API and who may see what) -------------------------------------------------------


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    """The endpoints ``user`` may see and manage: those of the departments granted to the user
    (a department's liaison or API key account, enforcement.permissions.scope_of); every one
    for a superuser; none for anyone else."""
    scope = scope_of(user)
    endpoints = WebhookEndpoint.objects.select_related("department")
    if scope.everything:
        return endpoints
    return endpoints.filter(department__in=scope.departments)


def webhook_delivery_list(*, user) -> QuerySet[WebhookDelivery]:
    """The deliveries to the endpoints ``user`` may see (``webhook_endpoint_list``)."""
    scope = scope_of(user)
    deliveries = WebhookDelivery.objects.select_related("endpoint__department")
    if scope.everything:
        return deliveries
    return deliveries.filter(endpoint__department__in=scope.departments)


# --- emitting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookMessage:
    """One event for the endpoints of some departments. ``payload``: the event's details
    (``call``, ``supervision`` …); ``case``, when given, adds the case summary as ``"case"``
    (read in bulk for all messages of an emission)."""

    event: str
    department_ids: tuple[int, ...]
    payload: dict = field(default_factory=dict)
    case: Case | None = None


def webhook_emit(*, event: str, department_ids: Iterable[int], payload: dict) -> list[int]:
    """One WebhookDelivery per active endpoint of ``department_ids`` subscribed to ``event``,
    its body ``{"event", "delivery" (uuid), "occurred_at", **payload}``, written in the caller's
    transaction with one INSERT; each is tried after commit. Returns the deliveries' ids (none
    when nobody listens). Not idempotent: call it from a step that happens once."""
    return webhooks_emit(
        messages=[
            WebhookMessage(event=event, department_ids=tuple(department_ids), payload=payload)
        ]
    )


def webhooks_emit(*, messages: Iterable[WebhookMessage]) -> list[int]:
    """``webhook_emit`` for many messages at once (the timer sweeper's batch): one read of the
    endpoints, two for the cases' summaries (only when someone listens), one INSERT (on SQLite
    one per hundred-odd rows, its limit of parameters) and one after-commit enqueue, whatever
    the number of messages. Returns the new deliveries' ids in message order."""
    messages = [message for message in messages if message.department_ids]
    if not messages:
        return []
    for message in messages:
        if message.event not in WebhookEvent.values:
            raise ValueError(f"unknown webhook event {message.event!r}")
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        department_id__in={pk for m in messages for pk in m.department_ids}, active=True
    ).order_by("pk"):
        endpoints.setdefault(endpoint.department_id, []).append(endpoint)
    addressed = [
        (message, endpoint)
        for message in messages
        for department_id in dict.fromkeys(message.department_ids)
        for endpoint in endpoints.get(department_id, [])
        if endpoint.subscribes_to(message.event)
    ]
    if not addressed:
        return []
    summaries = webhook_case_summaries([m.case for m, _endpoint in addressed if m.case])
    now = timezone.now()
    occurred_at = timezone.localtime(now).isoformat()
    rows = []
    for message, endpoint in addressed:
        delivery_uuid = uuid.uuid4()
        body = {
            **message.payload,
            "event": message.event,
            "delivery": str(delivery_uuid),
            "occurred_at": occurred_at,
        }
        if message.case is not None:
            body["case"] = summaries[message.case.pk]
        rows.append(
            WebhookDelivery(
                endpoint=endpoint,
                event=message.event,
                uuid=delivery_uuid,
                payload=body,
                state=STATE.PENDING,
                attempts=0,
                next_attempt_at=now,
                give_up_at=now + GIVE_UP_AFTER,
            )
        )
    # One INSERT (the backends in use return the ids from it).
    ids = [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(rows)]
    _enqueue_after_commit(ids)
    return ids


def webhook_case_summaries(cases: Iterable[Case]) -> dict[int, dict]:
    """The ``"case"`` object of each case's payloads, by case id: what the case is and where,
    never who reported it. Reads only the columns the timer sweeper loads (number, status,
    severity, source and the ids), plus one query each for the streets' and matter types' codes."""
    cases = {case.pk: case for case in cases}
    if not cases:
        return {}
    streets = dict(
        Region.objects.filter(pk__in={c.street_id for c in cases.values()}).values_list(
            "pk", "code"
        )
    )
    matters = dict(
        MatterType.objects.filter(pk__in={c.matter_type_id for c in cases.values()}).values_list(
            "pk", "code"
        )
    )
    return {
        pk: {
            "number": case.number,
            "status": case.status,
            "matter_type": matters.get(case.matter_type_id),
            "street": streets.get(case.street_id),
            "severity": case.severity,
            "source": case.source,
        }
        for pk, case in cases.items()
    }


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    # A named function, not a partial: Django's robust on_commit logs a failure with the
    # callback's __qualname__, which a partial lacks.
    def enqueue() -> None:
        _deliveries_enqueue(delivery_ids)

    # robust: the caller's change is committed; a broker outage must not turn it into an
    # error. The deliveries stay due and the sweep sends them.
    transaction.on_commit(enqueue, robust=True)


def _deliveries_enqueue(delivery_ids: list[int], *, lease: datetime | None = None) -> None:
    """One webhook_deliver_task per delivery. A message that waited longer than a lease is
    dropped by the worker: by then the sweep has handed the delivery to another task."""
    from enforcement.tasks import webhook_deliver_task

    lease_arg = lease.isoformat() if lease is not None else None
    expires = webhook_lease().total_seconds()
    app = webhook_deliver_task.app
    try:
        if app.conf.task_always_eager:  # tests: no broker connection to acquire
            for delivery_id in delivery_ids:
                webhook_deliver_task.apply_async((delivery_id, lease_arg))
            return
        # One producer (one broker connection) for the whole batch.
        with app.producer_or_acquire() as producer:
            for delivery_id in delivery_ids:
                webhook_deliver_task.apply_async(
                    (delivery_id, lease_arg), producer=producer, expires=expires
                )
    except Exception:  # the broker is down: the deliveries stay due, the sweep comes back
        logger.exception("webhooks: could not enqueue deliveries %s", delivery_ids)


# --- the emission points (called by enforcement.workflow and enforcement.timers) ------------------


def webhooks_on_whistle(*, case: Case, calls: list[DepartmentCall]) -> list[int]:
    """``called`` to each department whistled (in case_whistle's transaction)."""
    return webhooks_emit(
        messages=[
            WebhookMessage(
                event=WebhookEvent.CALLED,
                department_ids=(call.department_id,),
                payload={"call": {"id": call.pk, "power_item": call.power_item.code}},
                case=case,
            )
            for call in calls
        ]
    )


def webhooks_on_transition(*, case: Case) -> list[int]:
    """Called by the workflow after each transition that changed ``case`` (its new state
    loaded), in its transaction: a case that closed tells ``case_closed`` to every department
    that was called to it."""
    if case.status != CaseStatus.CLOSED:
        return []
    departments = tuple(
        DepartmentCall.objects.filter(case=case)
        .order_by("department_id")
        .values_list("department_id", flat=True)
        .distinct()
    )
    return webhooks_emit(
        messages=[
            WebhookMessage(event=WebhookEvent.CASE_CLOSED, department_ids=departments, case=case)
        ]
    )


@dataclass(frozen=True)
class SupervisionOpened:
    """A supervision the timer sweeper opened on a department's call."""

    case: Case
    call: DepartmentCall
    supervision_id: int
    level: int
    stage: str


def webhooks_on_supervisions(*, opened: Iterable[SupervisionOpened]) -> list[int]:
    """``supervised`` (level 1) or ``escalated`` (levels 2 and 3) to the department of each
    supervised call, in one emission for the sweeper's whole batch."""
    return webhooks_emit(
        messages=[
            WebhookMessage(
                event=WebhookEvent.SUPERVISED if item.level <= 1 else WebhookEvent.ESCALATED,
                department_ids=(item.call.department_id,),
                payload={
                    "call": {"id": item.call.pk},
                    "supervision": {
                        "id": item.supervision_id,
                        "level": item.level,
                        "stage": item.stage,
                    },
                },
                case=item.case,
            )
            for item in opened
        ]
    )


# --- delivering -----------------------------------------------------------------------------------


def webhook_lease() -> timedelta:
    """How long a claim holds a delivery: the request's timeout and a margin."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS)


def webhook_backoff(attempts: int, jitter: float = 0.0) -> timedelta:
    """The wait after the ``attempts``-th failed try in a row: 30 s × 2^(attempts-1), at most
    an hour, lengthened by ``jitter`` (0 to 1) times BACKOFF_JITTER."""
    exponent = max(attempts - 1, 0)
    # Capped before multiplying: 2**exponent grows without bound over a day of tries.
    wait = BACKOFF_CAP if exponent >= 7 else min(BACKOFF_FIRST * 2**exponent, BACKOFF_CAP)
    return wait * (1 + BACKOFF_JITTER * jitter)


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The bytes sent: compact UTF-8 JSON with sorted keys, the same on every try."""
    return json.dumps(
        delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


def _post(url: str, body: bytes, headers: dict[str, str]) -> WebhookAnswer:
    """POST once to a checked address of ``url`` (enforcement.webhook_egress.webhook_post);
    every failure is an answer, never an exception."""
    return webhook_post(url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)


def webhook_deliver(delivery_id: int, *, lease: datetime | None = None) -> bool:
    """Try a delivery once. Returns True when the receiver answered 2xx.

    Claims the delivery first with a conditional UPDATE, so that two workers never send it at
    once: a delivery that is pending and due (or, with ``lease``, still holding the claim the
    sweep took for this call) gets ``next_attempt_at = now + webhook_lease()``; anything else
    (delivered, failed, claimed by another worker, redelivered meanwhile) returns False without
    sending. Then POSTs the signed body outside any transaction and records the try as a
    WebhookAttempt. 2xx: delivered. A URL the address check now refuses (``webhook_url_check``,
    again before every try) is failed at once, nothing sent. Otherwise the next try is due
    after ``webhook_backoff``, or, when that would pass ``give_up_at``, the delivery is failed.
    The result is written only if the claim still holds (a redelivery by hand in the meantime
    wins). A delivery of an endpoint deactivated meanwhile is failed without a try."""
    now = timezone.now()
    claim_until = now + webhook_lease()
    claimable = WebhookDelivery.objects.filter(pk=delivery_id, state=STATE.PENDING)
    if lease is not None:
        claimable = claimable.filter(next_attempt_at=lease)
    else:
        claimable = claimable.filter(next_attempt_at__lte=now)
    if claimable.update(next_attempt_at=claim_until) != 1:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    ours = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=STATE.PENDING, next_attempt_at=claim_until
    )
    if not endpoint.active:
        ours.update(state=STATE.FAILED, next_attempt_at=None)
        logger.info(
            "webhooks: delivery %s failed: endpoint %s is inactive", delivery.pk, endpoint.pk
        )
        return False

    body = webhook_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Shaoxiang-Event": delivery.event,
        "X-Shaoxiang-Delivery": str(delivery.uuid),
        "X-Shaoxiang-Timestamp": str(timestamp),
        "X-Shaoxiang-Signature": webhook_signature(webhook_secret(endpoint), timestamp, body),
    }
    started = time.monotonic()
    answer = _post(endpoint.url, body, headers)
    duration_ms = round((time.monotonic() - started) * 1000)

    done = timezone.now()
    attempts = delivery.attempts + 1
    if answer.ok:
        changes = {
            "state": STATE.DELIVERED,
            "delivered_at": done,
            "next_attempt_at": None,
            "attempts": attempts,
        }
    elif answer.refused:
        # Refused by the address check: nothing was sent, and trying again would only ask the
        # same question of a name that now points somewhere it may not.
        changes = {"state": STATE.FAILED, "next_attempt_at": None, "attempts": attempts}
    else:
        retry_at = done + webhook_backoff(attempts, random.random())  # noqa: S311 -- jitter, not a secret
        if retry_at > delivery.give_up_at:
            changes = {"state": STATE.FAILED, "next_attempt_at": None, "attempts": attempts}
        else:
            changes = {"next_attempt_at": retry_at, "attempts": attempts}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=answer.status_code,
            error=answer.error,
            detail=answer.detail,
            duration_ms=duration_ms,
        )
        ours.update(**changes)
    if not answer.ok:
        logger.warning(
            "webhooks: delivery %s to %s failed (try %d): %s (%s)",
            delivery.pk,
            endpoint.url,
            attempts,
            answer.error,
            answer.detail,
        )
    return answer.ok


@dataclass
class WebhookSweepReport:
    enqueued: int = 0
    batches: int = 0


def webhook_deliveries_sweep(*, batch_size: int | None = None) -> WebhookSweepReport:
    """Hand every pending delivery that is due to a webhook_deliver_task, batch by batch in due
    order (the partial index ``enforcement_webhook_due``), each once: a batch is claimed with
    one conditional UPDATE that moves ``next_attempt_at`` to a lease of its own, and only the
    rows carrying that lease afterwards are enqueued, with the lease as their token. So a
    delivery waits in the queue at most once per lease, however often beat sends the sweep; a
    task lost with its worker or its broker leaves the lease to expire, and a later sweep
    enqueues the delivery again. Safe to run in several processes at once."""
    batch_size = batch_size or settings.WEBHOOK_SWEEP_BATCH
    report = WebhookSweepReport()
    while True:
        now = timezone.now()
        lease = now + webhook_lease()
        due = list(
            WebhookDelivery.objects.filter(state=STATE.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            return report
        WebhookDelivery.objects.filter(
            pk__in=due, state=STATE.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=lease)
        # Rows claimed by another sweep at the same microsecond would carry the same lease;
        # then both enqueue, and the first task to claim moves the lease, so only it sends.
        won = list(
            WebhookDelivery.objects.filter(
                pk__in=due, state=STATE.PENDING, next_attempt_at=lease
            ).values_list("pk", flat=True)
        )
        report.batches += 1
        report.enqueued += len(won)
        if won:
            _deliveries_enqueue(won, lease=lease)
        if len(due) < batch_size:
            return report


def webhook_redeliver(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send a delivered or failed delivery again, by hand: it becomes pending, due now, with a
    new 24-hour window and its backoff restarted (``attempts`` counts the tries of the current
    round; its WebhookAttempts keep every try), and the same uuid, so the receiver can tell it
    is the same event. A pending delivery is left as it is. Logged with the actor. Raises
    WebhookError when the endpoint is inactive."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.active:
        raise WebhookError(_("The endpoint is inactive: activate it first."))
    now = timezone.now()
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk, state__in=[STATE.DELIVERED, STATE.FAILED]
        ).update(
            state=STATE.PENDING,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + GIVE_UP_AFTER,
            delivered_at=None,
        )
        if updated:
            logger.info(
                "webhooks: delivery %s (%s, %s) redelivered by %s",
                delivery.pk,
                delivery.event,
                delivery.uuid,
                actor.get_username() if actor is not None else "-",
            )
            _enqueue_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery
