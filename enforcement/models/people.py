from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel


class Team(models.Model):
    """An enforcement team (执法中队) of a street, answering for the cells of its areas (片区)."""

    street = models.ForeignKey(
        "grids.Region",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="teams",
        limit_choices_to={"level": RegionLevel.STREET},
    )
    name = models.CharField(_("name"), max_length=100)
    areas = models.JSONField(
        _("areas (片区)"), default=list, help_text=_("area labels of the cells it serves")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["street", "name"]
        # Granted per object (django-guardian, enforcement.permissions).
        permissions = [("view_team_cases", _("Can see the cases of this team"))]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"], name="enforcement_team_name_per_street"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Officer(models.Model):
    """A law-enforcement officer: a user with a certificate (执法证). Penalty steps need two
    officers with certificates valid that day (Administrative Penalty Law Art. 42)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="officer",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="officers"
    )
    certificate_number = models.CharField(_("certificate number"), max_length=30, unique=True)
    certificate_expires_on = models.DateField(_("certificate valid until"))
    competences = models.ManyToManyField(
        "powers.PowerCategory", verbose_name=_("fields of competence"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("officer")
        verbose_name_plural = _("officers")
        ordering = ["team", "certificate_number"]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.certificate_number})"
