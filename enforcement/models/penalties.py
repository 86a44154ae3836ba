from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PenaltyProceeding(models.Model):
    """The administrative penalty procedure of an enforcement-mode case (立案 → 调查 → 法制审核 →
    决定), under the Administrative Penalty Law. Written only by enforcement.penalties."""

    case = models.OneToOneField(
        "enforcement.Case", on_delete=models.PROTECT, related_name="proceeding"
    )
    power_item = models.ForeignKey(
        "powers.PowerItem", verbose_name=_("power item"), on_delete=models.PROTECT, related_name="+"
    )
    violation_on = models.DateField(_("date of the violation"))
    filed_on = models.DateField(_("filed on"))
    officers = models.ManyToManyField(
        "enforcement.Officer", verbose_name=_("officers"), related_name="proceedings"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("legal reviewer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_opinion = models.TextField(_("legal review opinion"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    fine_yuan = models.DecimalField(
        _("fine (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("penalty proceeding")
        verbose_name_plural = _("penalty proceedings")
        ordering = ["-filed_on", "-pk"]
        indexes = [
            # First-violation lookups: earlier proceedings of a subject for an item.
            models.Index(fields=["power_item", "violation_on"], name="enforcement_proceeding_item"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.power_item_id}"
