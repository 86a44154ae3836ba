"""Reads of the enforcement app."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import ExpressionWrapper, F, FloatField, QuerySet
from django.shortcuts import get_object_or_404

from enforcement.choices import CaseStatus
from enforcement.models import Case, DepartmentCall, MatterType, Supervision
from enforcement.permissions import calls_visible, cases_visible
from grids.crs import distance_m
from grids.geometry import METRES_PER_DEGREE

# A case in one of these states takes no more reports: a new one is not its duplicate.
ENDED = (CaseStatus.REJECTED, CaseStatus.MERGED, CaseStatus.CLOSED, CaseStatus.TRANSFERRED)


def likely_duplicate_find(
    *, matter_type: MatterType, lat: float, lng: float, at: datetime
) -> Case | None:
    """The open case of the same matter nearest to (lat, lng) within DUPLICATE_RADIUS_M metres,
    reported in the DUPLICATE_WINDOW_HOURS before ``at``; the earlier one on a tie. Cases that
    are themselves likely duplicates point at their original, so the link goes to the first."""
    radius = settings.DUPLICATE_RADIUS_M
    d_lat = radius / METRES_PER_DEGREE
    d_lng = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    k = max(math.cos(math.radians(lat)), 0.01)
    # The nearest first, on the local plane (degrees of longitude shrunk by cos(latitude)):
    # one row read however many reports crowd the spot, then its true distance checked.
    squared = ExpressionWrapper(
        (F("lat") - lat) * (F("lat") - lat) + (F("lng") - lng) * (F("lng") - lng) * (k * k),
        output_field=FloatField(),
    )
    found = (
        Case.objects.filter(
            matter_type=matter_type,
            created_at__gte=at - timedelta(hours=settings.DUPLICATE_WINDOW_HOURS),
            created_at__lte=at,
            lat__range=(lat - d_lat, lat + d_lat),
            lng__range=(lng - d_lng, lng + d_lng),
        )
        .exclude(status__in=ENDED)
        .annotate(squared=squared)
        .order_by("squared", "created_at", "pk")
        .values_list("pk", "lat", "lng", "likely_duplicate_of")
        .first()
    )
    if found is None or distance_m(lat, lng, found[1], found[2]) > radius:
        return None
    return Case.objects.get(pk=found[3] or found[0])


# --- reads that take the user (the API and the HTML lists) ---


def case_list(*, user) -> QuerySet[Case]:
    """The cases ``user`` may see (enforcement.permissions), with what a list shows."""
    return cases_visible(user).select_related(
        "street", "cell", "matter_type", "team", "officer__user"
    )


def case_get(*, user, number: str) -> Case:
    """The case numbered ``number`` if ``user`` may see it; Http404 otherwise (a case you may
    not see does not exist for you)."""
    return get_object_or_404(case_list(user=user), number=number)


def call_list(*, user) -> QuerySet[DepartmentCall]:
    return calls_visible(user).select_related("case", "department", "power_item")


def supervision_list(*, user) -> QuerySet[Supervision]:
    return Supervision.objects.filter(case__in=cases_visible(user).values("pk")).select_related(
        "case", "call__department", "addressee"
    )
