from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of DESIGN.md ("Who uses it"). Each is a ``Group`` named by its value, created by
    migration ``core.0002_roles``; the label is what people read."""

    OFFICER = "officer", _("Enforcement officer")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMAND_CENTRE = "command_centre", _("Command centre")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    LEGAL_REVIEWER = "legal_reviewer", _("Legal reviewer")
    STREET_LEADER = "street_leader", _("Street leader")
    DISTRICT_ADMIN = "district_admin", _("District administrator")


class Component(models.TextChoices):
    """The processes whose liveness /healthz reports."""

    BEAT = "beat", _("Beat")
    WORKER = "worker", _("Worker")
