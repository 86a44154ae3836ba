from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel
from powers.choices import UsageKind


class CatalogueVersion(models.Model):
    """One published version of a street's power list: which items it holds from
    ``effective_on``. Written once by powers.services and never changed; a change of the list is
    a new version (the admin shows versions read-only)."""

    street = models.ForeignKey(
        "grids.Region",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="catalogue_versions",
        limit_choices_to={"level": RegionLevel.STREET},
    )
    number = models.PositiveIntegerField(_("version"))
    effective_on = models.DateField(_("effective from"))
    published_on = models.DateField(_("published on"))
    notice_number = models.CharField(_("notice number (文号)"), max_length=100)
    items = models.ManyToManyField(
        "powers.PowerItem", through="powers.CatalogueEntry", related_name="versions"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        ordering = ["street", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "number"], name="powers_version_number_per_street"
            ),
        ]
        indexes = [
            # street_holds_power: the latest version of a street in force on a date.
            models.Index(
                fields=["street", "effective_on", "number"], name="powers_version_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.street.name} v{self.number} ({self.effective_on})"


class CatalogueEntry(models.Model):
    """One item held in one catalogue version."""

    version = models.ForeignKey(CatalogueVersion, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey("powers.PowerItem", on_delete=models.PROTECT, related_name="entries")

    class Meta:
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")
        ordering = ["version", "item"]
        constraints = [
            models.UniqueConstraint(fields=["version", "item"], name="powers_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version_id}:{self.item_id}"


class PowerUsage(models.Model):
    """One fact for the usage assessment: on a date a street used a power it holds, or met a
    matter whose power it lacked (whistled to a department, or refused). Written by the cases
    that carry these decisions (enforcement) through powers.services.power_usage_record."""

    street = models.ForeignKey(
        "grids.Region", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "powers.PowerItem",
        verbose_name=_("power item"),
        on_delete=models.PROTECT,
        related_name="usages",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=UsageKind.choices)
    occurred_on = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=100, help_text=_("the case number"))

    class Meta:
        verbose_name = _("power usage")
        verbose_name_plural = _("power usages")
        ordering = ["-occurred_on", "pk"]
        constraints = [
            # Recording the same case's fact twice changes nothing.
            models.UniqueConstraint(
                fields=["street", "item", "kind", "reference"], name="powers_usage_once"
            ),
        ]
        indexes = [
            # The usage report: one street over a period.
            models.Index(fields=["street", "occurred_on"], name="powers_usage_street_date"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.kind} {self.item.code}"
