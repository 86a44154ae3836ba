"""Celery tasks of the enforcement app: thin wrappers over services."""

import logging
import time

from celery import shared_task
from django.core.cache import cache

from enforcement.timers import timers_fire_due

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
