from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RiskLevel, SubjectKind


class Subject(models.Model):
    """One inspected party of the directory (市场主体名录库 / 检查对象名录库): a shop, a site, a
    compound, an enterprise … with its place in the net. ``cell`` is derived from the location by
    grids.services.subject_save, never typed in."""

    kind = models.CharField(_("kind"), max_length=32, choices=SubjectKind.choices)
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True
    )
    address = models.CharField(_("address"), max_length=300)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    cell = models.ForeignKey(
        "grids.GridCell",
        verbose_name=_("grid cell"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subjects",
    )
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["name", "pk"]
        permissions = [
            # PIPL: a contact's phone number is masked for anyone who does not need it.
            ("view_subject_contact_phone", _("Can see subjects' contact phone numbers unmasked")),
        ]
        indexes = [
            # The directory of one cell, by kind (inspection draws, the cell page).
            models.Index(fields=["cell", "kind"], name="grids_subject_cell_kind"),
            # Lists filtered by kind and risk across a street.
            models.Index(fields=["kind", "risk_level"], name="grids_subject_kind_risk"),
        ]

    def __str__(self) -> str:
        return self.name
