from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.choices import ResidentsSource
from grids.choices import SubjectKind


class PropertyService(models.Model):
    """A property company (a Subject of kind property_company) serving a residential compound
    (a Subject of kind residential_compound) from ``starts_on`` until ``ends_on``."""

    company = models.ForeignKey(
        "grids.Subject",
        verbose_name=_("property company"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": SubjectKind.PROPERTY_COMPANY},
    )
    compound = models.ForeignKey(
        "grids.Subject",
        verbose_name=_("residential compound"),
        on_delete=models.PROTECT,
        related_name="property_services",
        limit_choices_to={"kind": SubjectKind.RESIDENTIAL_COMPOUND},
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("property service")
        verbose_name_plural = _("property services")
        ordering = ["compound", "-starts_on"]

    def __str__(self) -> str:
        return f"{self.company_id} → {self.compound_id}"


class PropertyRound(models.Model):
    """An evaluation round of the property companies (433, seed 000): per compound, the street's
    score (40 %), the community's (30 %) and the residents' (30 %)."""

    street = models.ForeignKey(
        "grids.Region", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    starts_on = models.DateField(_("period from"))
    ends_on = models.DateField(_("period until"))
    threshold = models.DecimalField(
        _("threshold for a talk (约谈)"),
        max_digits=5,
        decimal_places=2,
        default=60,
        help_text=_("a company whose total is below this is called in for a talk (约谈)"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("433 evaluation round")
        verbose_name_plural = _("433 evaluation rounds")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return self.title


class PropertyScore(models.Model):
    """One compound's evaluation in a round; ``total`` = 0.4 street + 0.3 community + 0.3
    residents (assessment.property.PROPERTY_WEIGHTS), written by the service."""

    round = models.ForeignKey(PropertyRound, on_delete=models.PROTECT, related_name="scores")
    compound = models.ForeignKey(
        "grids.Subject", verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    company = models.ForeignKey(
        "grids.Subject",
        verbose_name=_("property company"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    street_score = models.DecimalField(
        _("street (40 %)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    community_score = models.DecimalField(
        _("community (30 %)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    residents_score = models.DecimalField(
        _("residents (30 %)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    residents_source = models.CharField(
        _("residents' score from"), max_length=8, choices=ResidentsSource.choices, blank=True
    )
    residents_answers = models.PositiveIntegerField(_("residents' answers"), default=0)
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("433 score")
        verbose_name_plural = _("433 scores")
        ordering = ["round", "compound"]
        constraints = [
            models.UniqueConstraint(fields=["round", "compound"], name="assessment_433_once")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.compound_id}: {self.total}"


class ResidentAnswer(models.Model):
    """One resident's score of their compound's property service in a round (the form)."""

    round = models.ForeignKey(PropertyRound, on_delete=models.PROTECT, related_name="answers")
    compound = models.ForeignKey(
        "grids.Subject", verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score (0-100)"))
    answered_at = models.DateTimeField(_("answered"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident's answer")
        verbose_name_plural = _("residents' answers")

    def __str__(self) -> str:
        return f"{self.round_id}/{self.compound_id}: {self.score}"
