"""Reads of the enforcement app."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings

from enforcement.choices import CaseStatus
from enforcement.models import Case, MatterType
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
    candidates = (
        Case.objects.filter(
            matter_type=matter_type,
            created_at__gte=at - timedelta(hours=settings.DUPLICATE_WINDOW_HOURS),
            created_at__lte=at,
            lat__range=(lat - d_lat, lat + d_lat),
            lng__range=(lng - d_lng, lng + d_lng),
        )
        .exclude(status__in=ENDED)
        .order_by("created_at", "pk")
    )
    best: tuple[float, Case] | None = None
    for case in candidates:
        distance = distance_m(lat, lng, case.lat, case.lng)
        if distance <= radius and (best is None or distance < best[0]):
            best = (distance, case)
    if best is None:
        return None
    found = best[1]
    return found.likely_duplicate_of if found.likely_duplicate_of_id else found
