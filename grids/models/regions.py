from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import REGION_CODE_LENGTH, REGION_PARENT_LEVEL, RegionLevel


class Region(models.Model):
    """One administrative division: a district, a street (街道/乡镇) under it, or a community
    (社区/村) under a street. The code extends the parent's code (6 + 3 + 3 digits)."""

    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        # Granted per object (django-guardian, enforcement.permissions): the cases of a street,
        # or of every street of a district.
        permissions = [("view_region_cases", _("Can see the cases of this region"))]
        constraints = [
            # A district is a root; streets and communities always hang under a parent.
            models.CheckConstraint(
                condition=(
                    models.Q(level=RegionLevel.DISTRICT, parent__isnull=True)
                    | (~models.Q(level=RegionLevel.DISTRICT) & models.Q(parent__isnull=False))
                ),
                name="grids_region_parent_by_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors = {}
        length = REGION_CODE_LENGTH.get(self.level)
        if length and (len(self.code) != length or not self.code.isdigit()):
            errors["code"] = _("A %(level)s code has %(length)d digits.") % {
                "level": RegionLevel(self.level).label,
                "length": length,
            }
        expected_parent = REGION_PARENT_LEVEL.get(self.level)
        if expected_parent is None and self.parent_id:
            errors["parent"] = _("A district has no parent region.")
        elif expected_parent is not None:
            if self.parent is None or self.parent.level != expected_parent:
                errors["parent"] = _("The parent must be a %(level)s.") % {
                    "level": RegionLevel(expected_parent).label
                }
            elif "code" not in errors and not self.code.startswith(self.parent.code):
                errors["code"] = _("The code must begin with the parent's code %(code)s.") % {
                    "code": self.parent.code
                }
        if errors:
            raise ValidationError(errors)
