from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel
from powers.choices import AdjustmentStatus, ApprovalLevel, ChangeAction, StepStatus


class ApprovalChain(models.Model):
    """How a district approves adjustments of its streets' lists: the levels in order and the
    days each has. Without a row the default street → district → city applies."""

    district = models.OneToOneField(
        "grids.Region",
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="approval_chain",
        limit_choices_to={"level": RegionLevel.DISTRICT},
    )
    levels = models.JSONField(
        _("levels in order"), help_text=_('e.g. ["street", "district", "city", "province"]')
    )
    step_days = models.PositiveSmallIntegerField(_("days per step"), default=15)

    class Meta:
        verbose_name = _("approval chain")
        verbose_name_plural = _("approval chains")
        ordering = ["district"]

    def __str__(self) -> str:
        return " → ".join(self.levels)


class AdjustmentRequest(models.Model):
    """A proposed change of a street's list: items to add and revoke, why, the usage evidence at
    the time, and the approval steps. The final approval publishes a new catalogue version."""

    street = models.ForeignKey(
        "grids.Region",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="adjustment_requests",
        limit_choices_to={"level": RegionLevel.STREET},
    )
    title = models.CharField(_("title"), max_length=200)
    justification = models.TextField(_("justification"))
    evidence = models.JSONField(_("usage evidence"), default=dict)
    effective_on = models.DateField(_("effective from"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AdjustmentStatus.choices,
        default=AdjustmentStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    published_version = models.OneToOneField(
        "powers.CatalogueVersion",
        verbose_name=_("published version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment",
    )

    class Meta:
        verbose_name = _("adjustment request")
        verbose_name_plural = _("adjustment requests")
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("decide_adjustment", _("Can approve or reject a step of an adjustment request")),
        ]
        indexes = [
            # A street's requests by status (the adjustments page, the inbox of approvers).
            models.Index(fields=["street", "status"], name="powers_adjustment_street"),
        ]

    def __str__(self) -> str:
        return self.title


class AdjustmentChange(models.Model):
    """One item to add to or revoke from the street's list."""

    request = models.ForeignKey(AdjustmentRequest, on_delete=models.CASCADE, related_name="changes")
    item = models.ForeignKey(
        "powers.PowerItem", verbose_name=_("power item"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=8, choices=ChangeAction.choices)

    class Meta:
        verbose_name = _("adjustment change")
        verbose_name_plural = _("adjustment changes")
        ordering = ["request", "action", "item"]
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="powers_change_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.item_id}"


class ApprovalStep(models.Model):
    """One level's decision on a request. Exactly one step is pending while the request is."""

    request = models.ForeignKey(AdjustmentRequest, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    level = models.CharField(_("level"), max_length=10, choices=ApprovalLevel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["request", "order"]
        constraints = [
            models.UniqueConstraint(fields=["request", "order"], name="powers_step_order_unique"),
            # At most one step decides at a time.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(status="pending"),
                name="powers_one_pending_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.order} {self.level}"
