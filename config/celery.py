"""The Celery app. Broker and options come from Django settings (``CELERY_*``): the Redis of
``REDIS_URL`` when it is set, the embedded redis-server on ``VAR_DIR/redis.sock`` otherwise."""

import logging
import os

from celery import Celery, platforms
from celery.apps.beat import Beat as CeleryBeat
from kombu.utils.objects import cached_property

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("core.beat")


class Beat(CeleryBeat):
    """``celery beat`` with a stop signal that only raises SystemExit (the app below uses it).

    Celery's own SIGTERM/SIGINT handler saves the schedule inside the handler. A signal can land
    while beat waits on a PostgreSQL query; psycopg's connection lock is not re-entrant, so a
    query from the handler waits for itself forever and the supervisor has to SIGKILL the beat,
    leaving the lease held. Raising SystemExit unwinds the interrupted query; the service's loop
    catches it and closes the scheduler from ordinary code, which saves and releases on a fresh
    connection. The handler is installed before the scheduler is built, so a signal during the
    scheduler's first queries is handled the same way."""

    def install_sync_handler(self, service) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            if stopping:
                return  # already on the way out; let the clean stop finish
            stopping = True
            logger.info("beat: signal %s received; stopping", signum)
            raise SystemExit(0)

        platforms.signals.update(SIGTERM=stop, SIGINT=stop)


class ShaoxiangCelery(Celery):
    @cached_property
    def Beat(self):
        """``celery beat`` with the stop handler above."""
        return self.subclass_with_self(Beat)


app = ShaoxiangCelery("shaoxiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
