"""The Celery app. Broker and options come from Django settings (``CELERY_*``): the Redis of
``REDIS_URL`` when it is set, the embedded redis-server on ``VAR_DIR/redis.sock`` otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shaoxiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
