from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyRollup(models.Model):
    """The counts of one KPI (assessment.kpis) on one day for one dimension, written by
    assessment.rollups.rollup_day from the registry's own facts (a day's facts are those whose
    ``counts_on`` falls that day, in the street's local time), so that a period's figure is the
    sum of its days (assessment.rollups.kpi_from_rollups).

    Per (day, kpi, kind, key) the rows are:

    - the *base* row (``second_day`` and ``minute`` null): the population, the excluded and, for
      a KPI without ``numerator_by``, the numerator; ``apart``: the counts set beside the figure
      by name (unreachable callbacks);
    - for a KPI with ``numerator_by``: one row per ``second_day``, the day of the second moment,
      holding the numerator of the facts whose second moment fell that day (a period sums the
      rows whose second day is before its end); ``tally``: those facts by reason;
    - for a median (minutes): one row per whole ``minute``, ``numerator`` = the facts of the
      denominator whose duration is that many minutes (the median is taken over them exactly).

    ``kind`` is an assessment.kpis.ScopeKind, ``key`` the scope's value as text (an id, a source
    or a handling mode; "" for the district as a whole is not used: the district is its id).
    A row with ``kpi`` "" (and ``kind`` and ``key`` "") marks the day as rolled up, so that a day
    never rolled up is read from the raw tables instead of as zero."""

    day = models.DateField(_("day"))
    kpi = models.CharField(_("KPI"), max_length=40)
    kind = models.CharField(_("dimension"), max_length=20)
    key = models.CharField(_("dimension key"), max_length=64)
    second_day = models.DateField(_("second day"), null=True, blank=True)
    minute = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    excluded = models.PositiveIntegerField(_("excluded"), default=0)
    numerator = models.PositiveIntegerField(_("numerator"), default=0)
    apart = models.JSONField(_("counted apart"), default=dict, blank=True)
    tally = models.JSONField(_("tally"), default=dict, blank=True)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        ordering = ["day", "kpi", "kind", "key", "second_day", "minute"]
        indexes = [
            # a street's (a team's, a department's …) days between two dates, one KPI or all
            models.Index(fields=["kind", "key", "day", "kpi"], name="assessment_rollup_scope"),
            # rollup_day's delete, and the days rolled up
            models.Index(fields=["day", "kpi"], name="assessment_rollup_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kpi} {self.kind}:{self.key}"
