from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import CaseSource, CaseStatus, DispatchTarget, HandlingMode, Severity
from grids.choices import RegionLevel


class MatterType(models.Model):
    """What a problem is (占道经营, 流动摊贩 …), with its usual handling and the power items that
    may apply: routing asks whether the street holds any of them."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    default_handling_mode = models.CharField(
        _("default handling mode"), max_length=12, choices=HandlingMode.choices
    )
    default_severity = models.CharField(
        _("default severity"), max_length=10, choices=Severity.choices, default=Severity.ORDINARY
    )
    power_items = models.ManyToManyField(
        "powers.PowerItem",
        verbose_name=_("candidate power items"),
        blank=True,
        related_name="matter_types",
    )

    class Meta:
        verbose_name = _("matter type")
        verbose_name_plural = _("matter types")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CaseNumberCounter(models.Model):
    """The last case number given in a street and year. Incremented in the transaction that
    creates the case, under the row's lock, so numbers are gap-free and never reused."""

    street = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")
        ordering = ["street", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "year"], name="enforcement_counter_per_street_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.street_id}/{self.year}: {self.last}"


def _partial_fk_index(field: str, name: str) -> models.Index:
    """An index of ``field`` over the rows where it is set."""
    return models.Index(
        fields=[field], condition=models.Q(**{f"{field}__isnull": False}), name=name
    )


class Case(models.Model):
    """One case: a problem reported once, numbered per street and year, worked round the loop.
    ``status`` and ``version`` are written only by enforcement.workflow (compare-and-set on
    ``version``); every change is a CaseEvent."""

    street = models.ForeignKey(
        "grids.Region",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="cases",
        limit_choices_to={"level": RegionLevel.STREET},
        # Served by the (street, year, sequence) and (street, status, created_at) indexes: one
        # index less to write on every intake and import.
        db_index=False,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("case number"), max_length=30)
    source = models.CharField(_("source"), max_length=16, choices=CaseSource.choices)
    external_id = models.CharField(
        _("external id"), max_length=64, blank=True, help_text=_("e.g. the 12345 work-order number")
    )
    matter_type = models.ForeignKey(
        MatterType,
        verbose_name=_("matter type"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # served by the (matter_type, created_at) index
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.ORDINARY
    )
    handling_mode = models.CharField(
        _("handling mode"), max_length=12, choices=HandlingMode.choices
    )
    description = models.TextField(_("description"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    cell = models.ForeignKey(
        "grids.GridCell",
        verbose_name=_("grid cell"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,  # served by the (cell, status) index
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    subject = models.ForeignKey(
        "grids.Subject",
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,  # a partial index below: most cases have none
    )
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    # PIPL: the number is stored encrypted (core.crypto) and shown masked; reading it whole
    # needs enforcement.view_reporter_phone and is itself recorded in the case's history.
    reporter_phone_encrypted = models.TextField(_("reporter phone (encrypted)"), blank=True)
    reporter_phone_masked = models.CharField(_("reporter phone"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.REPORTED
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    dispatch_target = models.CharField(
        _("dispatched to"), max_length=12, choices=DispatchTarget.choices, blank=True
    )
    team = models.ForeignKey(
        "enforcement.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,  # a partial index below: most cases have none
    )
    officer = models.ForeignKey(
        "enforcement.Officer",
        verbose_name=_("officer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,  # a partial index below: most cases have none
    )
    likely_duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("likely duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="likely_duplicates",
        help_text=_("An open case of the same matter reported nearby shortly before."),
        db_index=False,  # a partial index below: most cases have none
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        db_index=False,  # a partial index below: most cases have none
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reworked"), default=0)
    suspended_from = models.CharField(
        _("status before suspension"), max_length=12, choices=CaseStatus.choices, blank=True
    )
    goods_value = models.DecimalField(
        _("value of goods (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: most cases have none
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("view_reporter_phone", _("Can read a reporter's phone number whole (recorded)"))
        ]
        constraints = [
            # A constraint, not unique=True: that would add a second index for LIKE 'abc%'
            # searches (the admin's search is a LIKE '%abc%', which it cannot serve), written
            # at every intake.
            models.UniqueConstraint(fields=["number"], name="enforcement_case_number_once"),
            models.UniqueConstraint(
                fields=["street", "year", "sequence"], name="enforcement_case_sequence"
            ),
            # One case per work order of an outside system (12345, video platform …), even when
            # the order is sent twice.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="enforcement_case_external_once",
            ),
        ]
        indexes = [
            # Lookups by the foreign keys most cases leave empty (visibility, workload,
            # merges): only the rows that have one are indexed.
            *(
                _partial_fk_index(field, name)
                for field, name in (
                    ("subject", "enforcement_case_subject"),
                    ("team", "enforcement_case_team"),
                    ("officer", "enforcement_case_officer"),
                    ("likely_duplicate_of", "enforcement_case_duplicate_of"),
                    ("merged_into", "enforcement_case_merged_into"),
                    ("reported_by", "enforcement_case_reported_by"),
                )
            ),
            # Case lists by street and status (command centre), newest first.
            models.Index(
                fields=["street", "status", "-created_at"], name="enforcement_case_street_status"
            ),
            # Cases of a cell (grid workers, officers of the area).
            models.Index(fields=["cell", "status"], name="enforcement_case_cell_status"),
            # Likely duplicates: same matter near in time.
            models.Index(fields=["matter_type", "created_at"], name="enforcement_case_matter_time"),
        ]

    def __str__(self) -> str:
        return self.number
