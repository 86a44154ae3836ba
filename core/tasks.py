"""Celery tasks of the platform plumbing: thin wrappers over services."""

from datetime import timedelta

from celery import shared_task

from core.choices import Component
from core.idempotency import idempotency_records_purge
from core.notifications import (
    DeliveryFailed,
    delivery_retry_countdown,
    notification_deliveries_requeue,
    notification_delivery_attempt,
    notification_delivery_fail,
)
from core.services import calendar_alert_send, heartbeat_record

# A delivery never tried this long after it was written has lost its queue message.
REQUEUE_AFTER_MINUTES = 10


@shared_task(
    bind=True, ignore_result=True, acks_late=True, soft_time_limit=20, time_limit=30, max_retries=0
)
def heartbeat_task(self) -> None:
    """Sent by beat every HEARTBEAT_INTERVAL; running it proves a worker consumes from the broker
    (a live PID does not: workers can stop consuming after a broker reconnect, NOTES.md)."""
    node = self.request.hostname or "unknown"
    heartbeat_record(component=Component.WORKER, node=node, holder=node)


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=5,
    soft_time_limit=30,
    time_limit=40,
)
def notification_deliver_task(self, delivery_id: int) -> None:
    """Send one NotificationDelivery (enqueued after commit by notification_send). Re-reads the
    row; a sent delivery is left alone. A failure is retried after 2**attempts seconds (at most
    RETRY_COUNTDOWN_CAP); when the last of ``max_retries`` retries fails too, the delivery is
    marked failed, which the admin lists."""
    try:
        notification_delivery_attempt(delivery_id=delivery_id)
    except DeliveryFailed as exc:
        if self.request.retries >= self.max_retries:
            notification_delivery_fail(delivery_id=delivery_id)
            return
        countdown = delivery_retry_countdown(attempts=exc.attempts)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90, max_retries=0)
def notification_deliveries_requeue_task() -> None:
    """Sent by beat every minute: deliveries whose enqueueing was lost go out after all."""
    notification_deliveries_requeue(older_than=timedelta(minutes=REQUEUE_AFTER_MINUTES))


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=300, time_limit=330, max_retries=0)
def notification_deliveries_deliver_task(delivery_ids: list[int]) -> None:
    """Send the deliveries of a send in one task. Each failure goes on as a
    notification_deliver_task of its own, as that task's first retry (this try was its first),
    so a delivery gets the same tries and backoff however it was enqueued."""
    for delivery_id in delivery_ids:
        try:
            notification_delivery_attempt(delivery_id=delivery_id)
        except DeliveryFailed as exc:
            notification_deliver_task.apply_async(
                (delivery_id,),
                countdown=delivery_retry_countdown(attempts=exc.attempts),
                retries=1,
            )


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150, max_retries=0)
def idempotency_records_purge_task() -> None:
    """Sent by beat every hour: forget Idempotency-Keys older than 24 hours (core.idempotency).
    Idempotent; a missed run only leaves the rows for the next one."""
    idempotency_records_purge()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90, max_retries=0)
def calendar_alert_task() -> None:
    """Sent by beat every hour: tell the district administrators, once per year, that the
    year's holiday notice is missing (core.services.calendar_alert_send). Idempotent."""
    calendar_alert_send()
