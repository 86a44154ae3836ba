from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import CallStatus


class DepartmentCall(models.Model):
    """One department whistled for one case (吹哨). A case may call several at once (joint
    enforcement, 1+6+N); each answers on its own: called → reported in → taken on → completed,
    or returned with a reason (counted: the seeds complain of work pushed back onto streets)."""

    case = models.ForeignKey("enforcement.Case", on_delete=models.PROTECT, related_name="calls")
    department = models.ForeignKey(
        "powers.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="calls",
    )
    power_item = models.ForeignKey(
        "powers.PowerItem",
        verbose_name=_("power item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CallStatus.choices, default=CallStatus.CALLED
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    called_at = models.DateTimeField(_("called"), auto_now_add=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reported_in_at = models.DateTimeField(_("reported in"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)

    class Meta:
        verbose_name = _("department call")
        verbose_name_plural = _("department calls")
        ordering = ["-called_at", "-pk"]
        constraints = [
            # A department is called once per case while the call is open.
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=~models.Q(status__in=["completed", "returned"]),
                name="enforcement_one_open_call_per_department",
            ),
        ]
        indexes = [
            # A department's inbox by status.
            models.Index(
                fields=["department", "status", "-called_at"], name="enforcement_call_inbox"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id} ({self.status})"
