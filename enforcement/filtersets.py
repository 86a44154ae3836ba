"""The filters of the case, call and supervision lists, shared by the API and the HTML lists.
Applied after the permission filter (enforcement.permissions); unknown parameters are an error
(core.filtersets.StrictFilterSet)."""

from collections.abc import Callable
from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filtersets import IsoDateTimeFilter, StrictFilterSet
from enforcement.choices import (
    CallStatus,
    CaseSource,
    CaseStatus,
    Severity,
    SupervisionState,
    TimerState,
)
from enforcement.models import Case, DepartmentCall, Supervision, Timer

LIVE_TIMER_STATES = (TimerState.PENDING, TimerState.WARNED)
# The statuses of a case still being worked (the desk's queues): only such a case is overdue.
OPEN_STATUSES = (
    CaseStatus.REPORTED,
    CaseStatus.ACCEPTED,
    CaseStatus.REOPENED,
    CaseStatus.DISPATCHED,
    CaseStatus.ON_SCENE,
    CaseStatus.RESOLVED,
)


@dataclass(frozen=True)
class Drill:
    """A drill-down: the cases behind a figure of another app (assessment's KPIs), and what to
    call them on the list ("按期结案率 · numerator · 红花街道 · 2026年11月")."""

    cases: Q
    label: str


# Drill-downs by the prefix of their value ("<prefix>,<rest>"): the apps to the right of
# enforcement (assessment) register how to read theirs in ready(); enforcement may not import
# them (DESIGN.md: dependencies point one way). A resolver raises ValidationError for a value it
# cannot read.
_DRILLS: dict[str, Callable[[str], Drill]] = {}


def drill_register(prefix: str, resolver: Callable[[str], Drill]) -> None:
    _DRILLS[prefix] = resolver


def drill_resolve(value: str) -> Drill:
    """The Drill of ``value``; ValidationError when no app reads it."""
    prefix, _sep, rest = value.partition(",")
    resolver = _DRILLS.get(prefix)
    if resolver is None or not rest:
        raise ValidationError(_("This figure's link is not understood."), code="invalid")
    return resolver(rest)


class DrillField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return drill_resolve(value) if value else None


class DrillFilter(django_filters.CharFilter):
    field_class = DrillField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(value.cases)


class CaseFilterSet(StrictFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    street = django_filters.CharFilter(field_name="street__code", label=_("street code"))
    community = django_filters.CharFilter(
        field_name="cell__community__code", label=_("community code")
    )
    cell = django_filters.CharFilter(field_name="cell__code", label=_("grid cell code"))
    matter_type = django_filters.CharFilter(
        field_name="matter_type__code", label=_("matter type code")
    )
    source = django_filters.ChoiceFilter(choices=CaseSource.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("has a running clock past its deadline")
    )
    reported_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("reported at or after")
    )
    reported_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("reported before")
    )
    updated_after = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("changed at or after")
    )
    updated_before = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="lt", label=_("changed before")
    )
    assignee = django_filters.CharFilter(
        field_name="officer__user__username", label=_("username of the assigned officer")
    )
    team = django_filters.NumberFilter(field_name="team_id", label=_("team id"))
    department = django_filters.CharFilter(
        method="filter_department", label=_("code of a department called to the case")
    )
    drill = DrillFilter(
        max_length=200,
        label=_("the cases behind a figure of the assessment (its link from a figure)"),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        """Overdue (超时): an open case with a running clock past its deadline, or with an open
        supervision, which the sweeper opens when it fires a late stage's clock (seconds after
        the deadline) and which closes when the late step is done. A supervision answered but
        whose step is still undone no longer counts: the addressee has said what happens."""
        late = Exists(
            Timer.objects.filter(
                case=OuterRef("pk"), state__in=LIVE_TIMER_STATES, due_at__lt=timezone.now()
            )
        ) | Exists(Supervision.objects.filter(case=OuterRef("pk"), state=SupervisionState.OPEN))
        overdue = Q(late, status__in=OPEN_STATUSES)
        return queryset.filter(overdue if value else ~overdue)

    def filter_department(self, queryset, name, value):
        return queryset.filter(
            Exists(DepartmentCall.objects.filter(case=OuterRef("pk"), department__code=value))
        )


class CallFilterSet(StrictFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CallStatus.choices)
    department = django_filters.CharFilter(
        field_name="department__code", label=_("department code")
    )
    case = django_filters.CharFilter(field_name="case__number", label=_("case number"))
    called_after = IsoDateTimeFilter(field_name="called_at", lookup_expr="gte")
    called_before = IsoDateTimeFilter(field_name="called_at", lookup_expr="lt")

    class Meta:
        model = DepartmentCall
        fields: list[str] = []


class SupervisionFilterSet(StrictFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=SupervisionState.choices)
    level = django_filters.NumberFilter()
    case = django_filters.CharFilter(field_name="case__number", label=_("case number"))

    class Meta:
        model = Supervision
        fields: list[str] = []
