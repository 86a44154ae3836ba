from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import CaseStatus, EventKind


class CaseEvent(models.Model):
    """One thing done to a case (全过程留痕): who, when, what, the status before and after, and its
    details. Append-only and hash-chained per case: ``hash`` is the SHA-256 of the previous
    event's hash and this event's canonical content (enforcement.events), so that an edited or
    deleted row is detected by ``manage.py verify_history``."""

    # db_index=False: the (case, sequence) unique constraint's index serves every lookup by case.
    case = models.ForeignKey(
        "enforcement.Case", on_delete=models.PROTECT, related_name="events", db_index=False
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(
        _("from status"), max_length=12, choices=CaseStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=12, choices=CaseStatus.choices, blank=True
    )
    data = models.JSONField(_("details"), default=dict)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "sequence"]
        constraints = [
            # One chain per case: two writers racing for the same place in it cannot both win.
            models.UniqueConstraint(fields=["case", "sequence"], name="enforcement_event_sequence"),
            # A constraint, not unique=True: that would add a second index for LIKE 'abc%'
            # searches, which no one makes, written at every event.
            models.UniqueConstraint(fields=["hash"], name="enforcement_event_hash_once"),
        ]
        indexes = [
            # The events of a period (assessment.kpis.cases_touching: a day rolled up, a month
            # computed from the raw tables).
            models.Index(fields=["at"], name="enforcement_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.sequence} {self.kind}"
