"""Celery tasks of the platform plumbing: thin wrappers over services."""

from celery import shared_task

from core.choices import Component
from core.services import heartbeat_record


@shared_task(
    bind=True, ignore_result=True, acks_late=True, soft_time_limit=20, time_limit=30, max_retries=0
)
def heartbeat_task(self) -> None:
    """Sent by beat every HEARTBEAT_INTERVAL; running it proves a worker consumes from the broker
    (a live PID does not: workers can stop consuming after a broker reconnect, NOTES.md)."""
    node = self.request.hostname or "unknown"
    heartbeat_record(component=Component.WORKER, node=node, holder=node)
