"""The beat scheduler: django-celery-beat's database scheduler behind a lease, so that exactly
one beat sends the periodic tasks, and each tick is recorded for /healthz."""

from __future__ import annotations

import logging
import signal
import threading
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
    """Refuses to start while another live beat holds the lease, and stops if it ever loses it."""

    def __init__(self, *args, **kwargs):
        self.holder = beat_holder_name()
        # Stale after two intervals, like /healthz: a stalled beat is replaceable when health
        # already reports it dead.
        ttl = timedelta(seconds=settings.HEALTH_STALE_AFTER)
        close_old_connections()
        other = beat_lease_acquire(holder=self.holder, ttl=ttl)
        if other is not None:
            logger.error("beat: another beat (%s) holds the lease; this one stops", other)
            raise SystemExit(f"beat: another beat ({other}) is running; only one may run")
        logger.info("beat: lease held by %s", self.holder)
        self._stopping = False
        self._stop_handler_install()
        super().__init__(*args, **kwargs)

    def _stop_handler_install(self):
        """Replace Celery's SIGTERM/SIGINT handler, which saves the schedule inside the handler.

        A signal can land while this thread waits on a PostgreSQL query; psycopg's connection
        lock is not re-entrant, so a query from the handler waits for itself forever and the
        supervisor has to SIGKILL the beat, leaving the lease held. This handler only raises
        SystemExit: the interrupted query unwinds, Celery's loop catches the exit and calls
        ``close`` from ordinary code, which saves and releases on a fresh connection."""
        if threading.current_thread() is not threading.main_thread():
            return  # an embedded beat: its host process owns the signals

        def stop(signum, frame):
            if self._stopping:
                return  # already on the way out; let the clean stop finish
            self._stopping = True
            logger.info("beat: signal %s received; stopping", signum)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def tick(self, *args, **kwargs):
        close_old_connections()
        if not beat_lease_renew(holder=self.holder):
            logger.error("beat: lease lost to another beat; stopping")
            raise SystemExit("beat: lease lost to another beat")
        return super().tick(*args, **kwargs)

    def close(self):
        self._stopping = True
        # A stop signal may have cut a query short and left its connection mid-protocol.
        connections.close_all()
        try:
            super().close()
        finally:
            beat_lease_release(holder=self.holder)
