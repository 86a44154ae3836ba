from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.choices import AppealDecision, PeriodKind, TargetKind


class Period(models.Model):
    """An assessment period: a month, a quarter or a year, [starts_on, ends_on) in local days."""

    kind = models.CharField(_("kind"), max_length=8, choices=PeriodKind.choices)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends (exclusive)"))
    label = models.CharField(_("label"), max_length=40)

    class Meta:
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        ordering = ["-starts_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "starts_on"], name="assessment_period_once")
        ]

    def __str__(self) -> str:
        return self.label


class Scheme(models.Model):
    """An assessment scheme (考核方案): who assesses whom, e.g. the street its departments. Its
    weights live in versions: a change makes a new version and never re-scores a published
    period (a Snapshot names the version it used)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    target_kind = models.CharField(_("assesses"), max_length=12, choices=TargetKind.choices)
    # Who assesses: a street (its departments, agencies, teams and officers, by its leader) or
    # the district (its streets, by its administrator). Its figures count the assessor's cases.
    assessor = models.ForeignKey(
        "grids.Region",
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
    )

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SchemeVersion(models.Model):
    """The weights of a scheme from ``valid_from`` on: ``indicators`` maps a KPI code
    (assessment.kpis) to its weight in points, ``manual_items`` a manual item's code (述职测评,
    过程评议 …) to its weight and name. Never edited once a snapshot uses it."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    valid_from = models.DateField(_("valid from"))
    indicators = models.JSONField(_("indicator weights"), default=dict)
    manual_items = models.JSONField(_("manual items"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("scheme version")
        verbose_name_plural = _("scheme versions")
        ordering = ["scheme", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "version"], name="assessment_scheme_version")
        ]

    def __str__(self) -> str:
        return f"{self.scheme_id} v{self.version}"


class ManualScore(models.Model):
    """A manual score entered by the street leader for one target and item of a period
    (述职测评, 过程评议), with its reason."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="manual_scores")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="manual_scores")
    target_kind = models.CharField(_("target kind"), max_length=12, choices=TargetKind.choices)
    target_id = models.PositiveIntegerField(_("target"))
    item = models.CharField(_("item"), max_length=40)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("reason"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered"), auto_now_add=True)
    # The scores this one replaced before publication, oldest first: {score, reason, by, at}.
    history = models.JSONField(_("earlier scores"), default=list, blank=True)

    class Meta:
        verbose_name = _("manual score")
        verbose_name_plural = _("manual scores")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "scheme", "target_kind", "target_id", "item"],
                name="assessment_manual_score_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_kind}:{self.target_id} {self.item} {self.score}"


class Snapshot(models.Model):
    """A published period's results under one scheme: its inputs, weights and results frozen as
    canonical JSON (``content``, bytes as published) with their SHA-256. A decided appeal that
    changes a point makes the next version (``supersedes``), with the reason; a version is never
    edited."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="snapshots")
    scheme_version = models.ForeignKey(
        SchemeVersion, on_delete=models.PROTECT, related_name="snapshots"
    )
    version = models.PositiveIntegerField(_("version"))
    content = models.BinaryField(_("content (canonical JSON)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    reason = models.TextField(_("reason of this version"), blank=True)

    class Meta:
        verbose_name = _("published results")
        verbose_name_plural = _("published results")
        ordering = ["period", "scheme_version", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "scheme_version", "version"], name="assessment_snapshot_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_id}/{self.scheme_version_id} v{self.version}"


class Appeal(models.Model):
    """A department's appeal (申诉) against one point of a published result, with its reason,
    within settings.ASSESSMENT_APPEAL_DAYS of publication; the street decides."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="appeals")
    target_kind = models.CharField(_("target kind"), max_length=12, choices=TargetKind.choices)
    target_id = models.PositiveIntegerField(_("target"))
    item = models.CharField(_("item appealed"), max_length=40)
    reason = models.TextField(_("reason"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed"))
    decision = models.CharField(
        _("appeal decision"),
        max_length=10,
        choices=AppealDecision.choices,
        default=AppealDecision.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("appeal decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    new_score = models.DecimalField(
        _("score after the appeal"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    result = models.OneToOneField(
        Snapshot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeal_made",
        help_text=_("the version the upheld appeal made"),
    )

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "target_kind", "target_id", "item"],
                condition=models.Q(decision=AppealDecision.PENDING),
                name="assessment_appeal_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.target_kind}:{self.target_id} {self.item}"
