"""Celery tasks of assessment, sent by beat (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from assessment.callbacks import callbacks_draw_due
from assessment.rollups import rollups_refresh


@shared_task
def callbacks_draw_task() -> int:
    """Draw the callbacks of the days that ended without a draw (idempotent)."""
    return callbacks_draw_due()


@shared_task
def rollups_task() -> int:
    """Roll up yesterday and the days whose facts may have changed again (the last
    settings.ROLLUP_DAYS_BACK days, and the older days of the cases touched yesterday:
    assessment.rollups.rollups_refresh). Idempotent; returns the rows written."""
    return sum(rollups_refresh().values())
