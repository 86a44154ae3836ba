from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import FieldAction, FieldOutcome


class FieldEntry(models.Model):
    """One entry of a field phone's outbox as the platform received it (enforcement.field): who
    captured what, when and where, and when it arrived. Its ``key`` (the phone's UUID, sent as
    Idempotency-Key) is unique per author, so an entry is applied once however often the phone
    sends it, beyond the 24 hours the idempotency records are kept. The command centre's
    field-sync page reads lateness (``received_at - captured_at``) from here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="field_entries",
    )
    key = models.CharField(_("entry key"), max_length=255)
    action = models.CharField(_("action"), max_length=16, choices=FieldAction.choices)
    case = models.ForeignKey(
        "enforcement.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="field_entries",
    )
    outcome = models.CharField(_("outcome"), max_length=24, choices=FieldOutcome.choices)
    captured_at = models.DateTimeField(_("captured"))
    received_at = models.DateTimeField(_("received"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    # On-scene sign-ins: the distance from the case's point, and whether it passed the warning.
    distance_m = models.FloatField(_("distance from the case (m)"), null=True, blank=True)
    far = models.BooleanField(_("far from the case"), default=False)
    # The case version the entry was captured against, and the one it was applied to after a
    # conflict (both None when it applied as captured).
    based_on_version = models.PositiveIntegerField(null=True, blank=True)
    applied_on_version = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("field entry")
        verbose_name_plural = _("field entries")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="enforcement_field_entry_once")
        ]
        indexes = [models.Index(fields=["received_at"], name="enforcement_field_received")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} {self.action}"

    @property
    def lateness(self):
        """How long after capture the platform received it (never negative)."""
        return max(self.received_at - self.captured_at, timedelta(0))
