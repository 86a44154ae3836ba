"""The Celery app. Broker and options come from Django settings (``CELERY_*``): Redis when
``REDIS_URL`` is set, kombu's file-system transport under ``VAR_DIR`` otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shaoxiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
