from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.choices import CallbackState, Satisfaction, Solved


class CallbackDraw(models.Model):
    """The day's draw of callbacks (回访抽样): among the cases verified and closed that day with a
    reporter phone, each is drawn when the SHA-256 of ``seed:case number`` falls under ``rate``
    (a 12345 work order always). The seed is recorded, so anyone can draw the day again and get
    the same cases (assessment.callbacks.callback_sample). One draw per street and day."""

    street = models.ForeignKey(
        "grids.Region", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("closed on"))
    seed = models.CharField(_("draw seed"), max_length=64)
    rate = models.DecimalField(_("sampling rate"), max_digits=4, decimal_places=3)
    candidates = models.PositiveIntegerField(_("cases closed with a phone"))
    drawn = models.PositiveIntegerField(_("cases drawn"))
    drawn_at = models.DateTimeField(_("drawn"))

    class Meta:
        verbose_name = _("callback draw")
        verbose_name_plural = _("callback draws")
        ordering = ["-day", "street"]
        constraints = [
            models.UniqueConstraint(fields=["street", "day"], name="assessment_draw_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.street_id} {self.day}"


class Callback(models.Model):
    """A callback (回访) to the reporter of a closed case, drawn at random (the draw's seed is
    recorded, so the sample can be drawn again) and never given to anyone who handled the case.
    The answers feed 解决率 and 满意率 (assessment.kpis); "not solved" sends the case back for
    rework through the workflow."""

    case = models.OneToOneField(
        "enforcement.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="callback",
    )
    draw = models.ForeignKey(
        CallbackDraw, verbose_name=_("draw"), on_delete=models.PROTECT, related_name="callbacks"
    )
    drawn_at = models.DateTimeField(_("drawn"))
    state = models.CharField(
        _("state"), max_length=12, choices=CallbackState.choices, default=CallbackState.WAITING
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caller"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    called_at = models.DateTimeField(_("called back"), null=True, blank=True)
    solved = models.CharField(_("solved"), max_length=12, choices=Solved.choices, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["-drawn_at", "-pk"]
        indexes = [models.Index(fields=["state", "drawn_at"], name="assessment_callback_state")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.state}"
