from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel
from powers.choices import DepartmentKind, ImplementationMode, PowerScope, PowerStatus
from powers.constants import SCORE_MAX, SCORE_MIN


class Department(models.Model):
    """A district department, a dispatched agency (派驻机构) or a police station: who owns the
    powers a street does not hold, and who answers its whistle."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    streets = models.ManyToManyField(
        "grids.Region",
        verbose_name=_("streets served"),
        blank=True,
        related_name="departments",
        limit_choices_to={"level": RegionLevel.STREET},
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        # Granted per object (django-guardian, enforcement.permissions): the cases this
        # department was called to, and its calls.
        permissions = [("view_department_cases", _("Can see the cases called to this department"))]

    def __str__(self) -> str:
        return self.name


class PowerCategory(models.Model):
    """A category of powers (Honghua received 8 categories, seed 000)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("power category")
        verbose_name_plural = _("power categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


def _score(name):
    return models.PositiveSmallIntegerField(
        name, default=3, validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
    )


class PowerItem(models.Model):
    """One administrative penalty power (事项) of the district's master list. Which streets hold
    it, and since when, is said by catalogue versions, never by this row."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=300)
    category = models.ForeignKey(
        PowerCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("source department"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    legal_basis = models.TextField(_("legal basis"))
    penalty_kinds = models.JSONField(_("penalty kinds"), default=list)
    fine_min = models.DecimalField(
        _("lowest fine (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    fine_max = models.DecimalField(
        _("highest fine (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    discretion = models.TextField(_("discretion standard"), blank=True)
    mode = models.CharField(
        _("implementation mode"), max_length=16, choices=ImplementationMode.choices
    )
    scope = models.CharField(_("scope"), max_length=16, choices=PowerScope.choices)
    # 三高两易 (seed 004): high frequency, integration, demand; easy to detect, to handle.
    score_frequency = _score(_("high frequency"))
    score_integration = _score(_("high integration"))
    score_demand = _score(_("high demand"))
    score_detect = _score(_("easy to detect"))
    score_handle = _score(_("easy to handle"))
    is_major = models.BooleanField(
        _("major penalty"),
        default=False,
        help_text=_(
            "Large confiscations, licence revocation, closure, large fines: decided with "
            "legal review."
        ),
    )
    # Administrative Penalty Law Art. 36: two years, five where citizens' life and health or
    # financial safety are at stake and harm resulted.
    limitation_years = models.PositiveSmallIntegerField(
        _("limitation period (years)"),
        default=2,
        validators=[MinValueValidator(2), MaxValueValidator(5)],
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PowerStatus.choices, default=PowerStatus.ACTIVE
    )
    repealed_on = models.DateField(_("repealed on"), null=True, blank=True)
    repeal_reason = models.TextField(_("repeal reason"), blank=True)

    class Meta:
        verbose_name = _("power item")
        verbose_name_plural = _("power items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fine_min__isnull=True)
                | models.Q(fine_max__isnull=True)
                | models.Q(fine_min__lte=models.F("fine_max")),
                name="powers_item_fine_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(status=PowerStatus.ACTIVE)
                | (models.Q(repealed_on__isnull=False) & ~models.Q(repeal_reason="")),
                name="powers_item_repeal_has_date_and_reason",
            ),
        ]
        indexes = [
            # Item lists filtered by category and department (API, catalogue pages).
            models.Index(fields=["category", "department"], name="powers_item_category_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def score_total(self) -> int:
        return (
            self.score_frequency
            + self.score_integration
            + self.score_demand
            + self.score_detect
            + self.score_handle
        )
