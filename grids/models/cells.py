from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import GridLevel, GridRole, RegionLevel


class GridCell(models.Model):
    """One grid cell (网格) of the net: a first-level cell, or a comprehensive cell nested in one.

    The polygon is GeoJSON (Polygon or MultiPolygon) in WGS-84, validated by grids.geometry before
    it is stored; the bounding-box columns are derived from it by the services that write it."""

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=GridLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("first-level cell"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="cells",
        limit_choices_to={"level": RegionLevel.COMMUNITY},
    )
    area = models.CharField(_("area"), max_length=50, blank=True, help_text=_("片区 label"))
    geometry = models.JSONField(_("polygon (GeoJSON, WGS-84)"))
    min_lng = models.FloatField(_("west"))
    min_lat = models.FloatField(_("south"))
    max_lng = models.FloatField(_("east"))
    max_lat = models.FloatField(_("north"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["code"]
        # Granted per object (django-guardian, enforcement.permissions).
        permissions = [("view_cell_cases", _("Can see the cases of this grid cell"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_lng__lte=models.F("max_lng"))
                & models.Q(min_lat__lte=models.F("max_lat")),
                name="grids_gridcell_bbox_ordered",
            ),
            # Only comprehensive cells nest, and always in a first-level cell (clean() checks
            # the parent's level, which a check constraint cannot see).
            models.CheckConstraint(
                condition=models.Q(level=GridLevel.FIRST_LEVEL, parent__isnull=True)
                | models.Q(level=GridLevel.COMPREHENSIVE, parent__isnull=False),
                name="grids_gridcell_parent_by_level",
            ),
        ]
        indexes = [
            # The GeoJSON list filtered by community and level (API and dashboard map).
            models.Index(fields=["community", "level"], name="grids_cell_community_level"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors = {}
        if len(self.code) != 15 or not self.code.isdigit():
            errors["code"] = _("A grid code has 15 digits: the community code and 3 more.")
        elif self.community_id and not self.code.startswith(self.community.code):
            errors["code"] = _("The code must begin with the community code %(code)s.") % {
                "code": self.community.code
            }
        if self.level == GridLevel.COMPREHENSIVE:
            if self.parent is None or self.parent.level != GridLevel.FIRST_LEVEL:
                errors["parent"] = _("A comprehensive cell lies in a first-level cell.")
        elif self.parent_id:
            errors["parent"] = _("A first-level cell has no parent cell.")
        if errors:
            raise ValidationError(errors)


class GridNetVersion(models.Model):
    """The single row whose ``version`` stamp changes (to a new random number) with every change to
    any cell. Processes compare it with the stamp their in-memory locate index was built from
    (grids.locate)."""

    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("grid net version")
        verbose_name_plural = _("grid net versions")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(self.version)


class GridAssignment(models.Model):
    """One person's role in one cell for a period (一长五员). ``ends_on`` empty: still serving."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="grid_assignments",
    )
    cell = models.ForeignKey(
        GridCell, verbose_name=_("grid cell"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=16, choices=GridRole.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("grid assignment")
        verbose_name_plural = _("grid assignments")
        ordering = ["cell", "role", "starts_on"]
        constraints = [
            # At most one serving head per cell (issue #3). Ending an assignment sets ends_on,
            # which frees the cell for the successor.
            models.UniqueConstraint(
                fields=["cell"],
                condition=models.Q(role=GridRole.LEADER, ends_on__isnull=True),
                name="grids_one_active_leader_per_cell",
                violation_error_message=_("This cell already has a serving grid head."),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="grids_assignment_dates_ordered",
                violation_error_message=_("An assignment cannot end before it starts."),
            ),
        ]
        indexes = [
            # "Who works in this cell today" and "which cells is this person in".
            models.Index(fields=["user", "ends_on"], name="grids_assignment_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.cell.code}"
