from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import Component


class Heartbeat(models.Model):
    """One row per live process of a kind: the beat (one row, ``node`` empty) or a Celery worker
    (one row per node name). ``seen_at`` is the last time the process proved it was working: beat
    on each scheduler tick, a worker when it ran ``heartbeat_task``.

    The beat row is also the beat lease: ``holder`` names the one beat process allowed to send
    periodic tasks (two beats would send every task twice; NOTES.md)."""

    component = models.CharField(_("component"), max_length=16, choices=Component.choices)
    node = models.CharField(_("node"), max_length=200, blank=True)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["component", "node"]
        constraints = [
            # One row per process: heartbeat_record() upserts on it, and the beat lease is one row.
            models.UniqueConstraint(
                fields=["component", "node"], name="core_heartbeat_unique_node"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component}:{self.node or '-'} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
