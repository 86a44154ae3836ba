from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CallbackState(models.TextChoices):
    """Where a callback (回访) stands."""

    WAITING = "waiting", _("Waiting to be called")
    ANSWERED = "answered", _("Reached")
    UNREACHABLE = "unreachable", _("Unreachable")


class Solved(models.TextChoices):
    """The reporter's word on the problem (解决率)."""

    SOLVED = "solved", _("Solved")
    PARTLY = "partly", _("Partly solved")
    NOT_SOLVED = "not_solved", _("Not solved")


class Satisfaction(models.TextChoices):
    """The reporter's satisfaction (满意率)."""

    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class TargetKind(models.TextChoices):
    """Who is assessed (双向考核): by the street, its departments and dispatched agencies, its
    teams and officers; by the district, the streets."""

    DEPARTMENT = "department", _("District department")
    AGENCY = "agency", _("Dispatched agency")
    STREET = "street", _("Street")
    TEAM = "team", _("Team")
    OFFICER = "officer", _("Officer")


class AppealDecision(models.TextChoices):
    PENDING = "pending", _("Waiting for the street's decision")
    UPHELD = "upheld", pgettext_lazy("appeal", "Upheld")
    REJECTED = "rejected", pgettext_lazy("appeal", "Rejected")


class ResidentsSource(models.TextChoices):
    """Where the residents' 30 % of a 433 evaluation comes from."""

    SURVEY = "survey", _("Imported survey")
    FORM = "form", _("Residents' form")
