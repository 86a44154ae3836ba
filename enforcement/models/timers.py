from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import Role
from enforcement.choices import CaseSource, Severity, SupervisionState, TimerStage, TimerState

# Timers the sweeper still has to look at.
SWEPT_STATES = [TimerState.PENDING, TimerState.WARNED]
# Timers still running or held: a stage has at most one of these per owner.
LIVE_STATES = [TimerState.PENDING, TimerState.WARNED, TimerState.PAUSED]


class SlaPolicy(models.Model):
    """How long one stage may take: for a matter type (blank: every type), a severity (blank:
    both) and a source (blank: every source; a 12345 row overrides for hotline work orders). The
    most specific row wins. A change applies to stages started after it."""

    matter_type = models.ForeignKey(
        "enforcement.MatterType",
        verbose_name=_("matter type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=CaseSource.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=24, choices=TimerStage.choices)
    amount = models.PositiveIntegerField(_("amount"))
    # core.choices.DurationUnit, plus "seconds" for drills and tests.
    unit = models.CharField(_("unit"), max_length=16)
    warn_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("warn at (% of the time)"),
        default=80,
        help_text=_("0: no warning"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["stage", "matter_type", "severity", "source"]
        constraints = [
            # One row per combination; two partial constraints because a NULL matter type would
            # not collide in a plain one (and SQLite has no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["matter_type", "severity", "source", "stage"],
                condition=models.Q(matter_type__isnull=False),
                name="enforcement_sla_policy_once",
            ),
            models.UniqueConstraint(
                fields=["severity", "source", "stage"],
                condition=models.Q(matter_type__isnull=True),
                name="enforcement_sla_policy_default_once",
            ),
            models.CheckConstraint(
                condition=models.Q(warn_percent__lte=100), name="enforcement_sla_warn_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.amount} {self.unit}"


class Timer(models.Model):
    """One deadline of one stage of a case, a department call, a supervision or a penalty
    procedure. The sweeper warns at ``warn_at`` and fires at ``due_at``, each exactly once,
    claimed by a conditional UPDATE on ``state``; ``next_at`` is when it must next look."""

    case = models.ForeignKey(
        "enforcement.Case", on_delete=models.CASCADE, related_name="timers", null=True
    )
    call = models.ForeignKey(
        "enforcement.DepartmentCall",
        on_delete=models.CASCADE,
        related_name="timers",
        null=True,
        blank=True,
    )
    supervision = models.ForeignKey(
        "enforcement.Supervision",
        on_delete=models.CASCADE,
        related_name="timers",
        null=True,
        blank=True,
    )
    stage = models.CharField(_("stage"), max_length=24, choices=TimerStage.choices)
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=TimerState.choices, default=TimerState.PENDING
    )
    started_at = models.DateTimeField(_("started"))
    # The policy's time limit when the timer started (a later edit of the policy applies to
    # stages started after it): what a change of the calendar recounts the deadline from.
    amount = models.PositiveIntegerField(_("amount"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"))
    # Counted over a year without the State Council's holiday notice (core.calendar).
    provisional = models.BooleanField(_("provisional deadline"), default=False)
    next_at = models.DateTimeField(_("next look"), null=True, blank=True)
    # While paused: what was left of the time to the warning and to the deadline.
    warn_left = models.DurationField(_("time left to the warning"), null=True, blank=True)
    due_left = models.DurationField(_("time left"), null=True, blank=True)
    # When the clock last restarted after a suspension: the deadline then carries the time that
    # was left, and no longer follows the calendar from ``started_at``.
    resumed_at = models.DateTimeField(_("resumed"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True)
    lateness = models.DurationField(_("fired late by"), null=True, blank=True)
    ended_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        ordering = ["due_at", "pk"]
        indexes = [
            # The sweeper's claim: timers to look at, in due order. Partial, so fired and
            # cancelled timers (nearly all of them, in time) cost the sweep nothing.
            models.Index(
                fields=["next_at", "id"],
                condition=models.Q(state__in=SWEPT_STATES),
                name="enforcement_timer_sweep",
            ),
            # A case's live timers (cancel, pause and resume on each transition).
            models.Index(
                fields=["case", "stage"],
                condition=models.Q(state__in=LIVE_STATES),
                name="enforcement_timer_live",
            ),
            # The deadlines falling in a period (assessment.kpis.cases_touching).
            models.Index(fields=["due_at"], name="enforcement_timer_due"),
            # Lateness statistics of /metrics: the last fired timers.
            models.Index(
                fields=["-fired_at"],
                condition=models.Q(state=TimerState.FIRED),
                name="enforcement_timer_fired",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.due_at:%Y-%m-%d %H:%M}"


class Supervision(models.Model):
    """A supervision order (督办单): opened when a stage's deadline passes, addressed to whoever
    holds the work (level 1), then the street leader (2) and the district (3) when it goes
    unanswered. One per firing timer: the unique ``opened_by`` makes a second firing impossible."""

    case = models.ForeignKey(
        "enforcement.Case", on_delete=models.CASCADE, related_name="supervisions"
    )
    call = models.ForeignKey(
        "enforcement.DepartmentCall",
        on_delete=models.CASCADE,
        related_name="supervisions",
        null=True,
        blank=True,
    )
    opened_by = models.OneToOneField(
        Timer, on_delete=models.PROTECT, related_name="opened_supervision"
    )
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="escalation"
    )
    stage = models.CharField(_("late stage"), max_length=24, choices=TimerStage.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("addressed to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Whom it addresses when not one person: the officers of a team, or the holders of a role
    # with a right on a container (the call's department; else the case's street, or its cell
    # for the grid): who alone may answer (enforcement.permissions.supervision_respond_allowed).
    addressee_team = models.ForeignKey(
        "enforcement.Team",
        verbose_name=_("addressed to (team)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    addressee_role = models.CharField(
        _("addressed to (role)"), max_length=30, choices=Role.choices, blank=True
    )
    addressee_department = models.ForeignKey(
        "powers.Department",
        verbose_name=_("addressed to (department)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    addressee_label = models.CharField(_("addressed to (who)"), max_length=100)
    state = models.CharField(
        _("state"), max_length=10, choices=SupervisionState.choices, default=SupervisionState.OPEN
    )
    opened_at = models.DateTimeField(_("opened"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    response = models.TextField(_("response"), blank=True)

    class Meta:
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        ordering = ["-opened_at", "-pk"]
        indexes = [
            # Open supervisions by level (/metrics, the command centre's list).
            models.Index(fields=["state", "level"], name="enforcement_supervision_open"),
        ]
        constraints = [
            # Addressed to exactly one of: a person, a team, a role (with its department for a
            # department's liaisons).
            models.CheckConstraint(
                condition=(
                    models.Q(
                        addressee__isnull=False, addressee_team__isnull=True, addressee_role=""
                    )
                    | models.Q(
                        addressee__isnull=True, addressee_team__isnull=False, addressee_role=""
                    )
                    | (
                        models.Q(addressee__isnull=True, addressee_team__isnull=True)
                        & ~models.Q(addressee_role="")
                    )
                )
                & (
                    models.Q(addressee_department__isnull=True)
                    | models.Q(addressee_role=Role.DEPARTMENT_LIAISON)
                ),
                name="enforcement_supervision_one_addressee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} L{self.level} {self.get_stage_display()}"
