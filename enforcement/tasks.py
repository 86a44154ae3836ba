"""Celery tasks of the enforcement app: thin wrappers over services."""

import logging
import time
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from enforcement.timers import timers_fire_due
from enforcement.webhooks import webhook_deliver, webhook_deliveries_sweep

logger = logging.getLogger(__name__)
# The last sweep's figures, for /metrics (the cache is shared by every process of an instance).
LAST_SWEEP_KEY = "timers:last_sweep"


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
    max_retries=0,
)
def timers_sweep_task(self) -> None:
    """Sent by beat every TIMER_SWEEP_SECONDS. Several may run at once (a slow sweep overlapping
    the next): each timer is claimed once, so they only share the work."""
    started = time.perf_counter()
    report = timers_fire_due()
    duration = time.perf_counter() - started
    cache.set(
        LAST_SWEEP_KEY,
        {"duration": duration, "warned": report.warned, "fired": report.fired},
        timeout=None,
    )
    if report.fired or report.warned:
        logger.info("timers: %d warned, %d fired in %.3f s", report.warned, report.fired, duration)


@shared_task(
    ignore_result=True,
    acks_late=True,
    # Ends before the claim's lease (timeout + LEASE_MARGIN_SECONDS) does, so that no other
    # worker can take the delivery while this one still sends it; the soft limit inside the
    # request is recorded as a failed try.
    soft_time_limit=settings.WEBHOOK_TIMEOUT_SECONDS + 15,
    time_limit=settings.WEBHOOK_TIMEOUT_SECONDS + 25,
    max_retries=0,
)
def webhook_deliver_task(delivery_id: int, lease: str | None = None) -> None:
    """Try one WebhookDelivery once (enqueued after commit by webhook_emit, or by the sweep with
    the ``lease`` it claimed, ISO 8601). Idempotent: a delivery that is not due, delivered,
    failed or claimed by someone else is left alone. Retries are not Celery's: the sweep finds
    the delivery due again (NOTES.md: no long countdowns)."""
    webhook_deliver(delivery_id, lease=datetime.fromisoformat(lease) if lease else None)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90, max_retries=0)
def webhook_deliveries_sweep_task() -> None:
    """Sent by beat every WEBHOOK_SWEEP_SECONDS: enqueues the deliveries that are due (first
    tries whose enqueueing was lost, retries after backoff, claims of killed workers). Several
    may run at once; each delivery is handed out once per lease."""
    report = webhook_deliveries_sweep()
    if report.enqueued:
        logger.info("webhooks: %d deliveries enqueued", report.enqueued)
