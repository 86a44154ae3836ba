"""The beat scheduler: django-celery-beat's database scheduler behind a lease, so that exactly
one beat sends the periodic tasks, and each tick is recorded for /healthz."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django_celery_beat.schedulers import DatabaseScheduler

from core.services import (
    beat_holder_name,
    beat_lease_acquire,
    beat_lease_release,
    beat_lease_renew,
)

logger = logging.getLogger(__name__)


class LeasedDatabaseScheduler(DatabaseScheduler):
    """Refuses to start while another live beat holds the lease, and stops if it ever loses it.

    Its stop signal is handled by ``config.celery.Beat``, installed before the scheduler is built.

    A lazy scheduler (the one Celery builds only to print its banner) takes no lease."""

    def __init__(self, *args, **kwargs):
        self.holder = beat_holder_name()
        self._leased = False
        if not kwargs.get("lazy"):
            self._lease_take()
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self._lease_give_up()
            raise

    def _lease_take(self):
        # Stale after two intervals, like /healthz: a stalled beat is replaceable when health
        # already reports it dead.
        ttl = timedelta(seconds=settings.HEALTH_STALE_AFTER)
        close_old_connections()
        try:
            other = beat_lease_acquire(holder=self.holder, ttl=ttl)
        except BaseException:
            # A stop signal may cut the claim short after it was written.
            self._lease_give_up()
            raise
        if other is not None:
            logger.error("beat: another beat (%s) holds the lease; this one stops", other)
            raise SystemExit(f"beat: another beat ({other}) is running; only one may run")
        self._leased = True
        logger.info("beat: lease held by %s", self.holder)

    def _lease_give_up(self):
        # A stop signal may have cut a query short and left its connection mid-protocol.
        connections.close_all()
        beat_lease_release(holder=self.holder)
        self._leased = False

    def tick(self, *args, **kwargs):
        close_old_connections()
        if not beat_lease_renew(holder=self.holder):
            logger.error("beat: lease lost to another beat; stopping")
            raise SystemExit("beat: lease lost to another beat")
        return super().tick(*args, **kwargs)

    def close(self):
        connections.close_all()
        try:
            super().close()
        finally:
            if self._leased:
                self._lease_give_up()
