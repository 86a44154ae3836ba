"""``manage.py redis_embedded``: run the embedded instance's broker in the foreground (a process
of ``make run``; see core.embedded_redis)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.embedded_redis import redis_embedded_exec


class Command(BaseCommand):
    help = (
        "Run the embedded broker (redis-server on a unix socket under VAR_DIR, append-only "
        "file on) in the foreground. Not needed when REDIS_URL is set."
    )

    def handle(self, *args, **options):
        if settings.REDIS_URL:
            raise CommandError("REDIS_URL is set: the platform uses that Redis, no embedded one.")
        self.stdout.write(f"Embedded broker on {settings.EMBEDDED_REDIS_SOCKET}")
        self.stdout.flush()
        redis_embedded_exec(
            directory=settings.EMBEDDED_REDIS_DIR, socket=settings.EMBEDDED_REDIS_SOCKET
        )
