"""Reads of the enforcement app."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

from cachetools import TTLCache, cached
from django.conf import settings
from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from core.constants import REFERENCE_MAX_AGE
from core.sql import cursor_prepared
from enforcement.choices import CaseStatus, SupervisionState, TimerState
from enforcement.models import Case, DepartmentCall, MatterType, Supervision, Timer
from enforcement.permissions import calls_visible, cases_visible, scope_of
from grids.crs import distance_m
from grids.geometry import METRES_PER_DEGREE

# A case in one of these states takes no more reports: a new one is not its duplicate.
ENDED = (CaseStatus.REJECTED, CaseStatus.MERGED, CaseStatus.CLOSED, CaseStatus.TRANSFERRED)


@cached(cache=TTLCache(maxsize=1_000, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def matter_type_by_code(code: str) -> MatterType:
    """The matter type coded ``code``, kept per process for REFERENCE_MAX_AGE seconds (every
    intake names one). Shared between threads and requests: read it, never change it. Raises
    MatterType.DoesNotExist (not kept: a type added in the admin is found at once)."""
    return MatterType.objects.get(code=code)


@cached(cache=TTLCache(maxsize=1, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def matter_types_all() -> list[MatterType]:
    """Every matter type by code, kept per process for REFERENCE_MAX_AGE seconds (every desk
    page's filter lists them). Shared: read them, never change them."""
    return list(MatterType.objects.order_by("code"))


def likely_duplicate_find(
    *, matter_type: MatterType, lat: float, lng: float, at: datetime
) -> Case | None:
    """The open case of the same matter nearest to (lat, lng) within DUPLICATE_RADIUS_M metres,
    reported in the DUPLICATE_WINDOW_HOURS before ``at``; the earlier one on a tie. Cases that
    are themselves likely duplicates point at their original, so the link goes to the first.

    The intake's busiest read, so one statement written out (the ORM spent three times the
    database's time compiling it): the nearest first, on the local plane (degrees of longitude
    shrunk by cos(latitude)), one row read however many reports crowd the spot, with the number
    of the case it points at; then its true distance checked. Returns the case with only its id
    and number loaded (the rest loads on access)."""
    radius = settings.DUPLICATE_RADIUS_M
    k = max(math.cos(math.radians(lat)), 0.01)
    d_lat = radius / METRES_PER_DEGREE
    d_lng = radius / (METRES_PER_DEGREE * k)
    adapt = connection.ops.adapt_datetimefield_value
    with cursor_prepared() as cursor:
        cursor.execute(
            _DUPLICATE_SQL,
            {
                "lat": lat,
                "lng": lng,
                "k2": k * k,
                "matter_type": matter_type.pk,
                "since": adapt(at - timedelta(hours=settings.DUPLICATE_WINDOW_HOURS)),
                "until": adapt(at),
                "lat_min": lat - d_lat,
                "lat_max": lat + d_lat,
                "lng_min": lng - d_lng,
                "lng_max": lng + d_lng,
                **{f"ended_{i}": status for i, status in enumerate(ENDED)},
            },
        )
        found = cursor.fetchone()
    if found is None or distance_m(lat, lng, found[1], found[2]) > radius:
        return None
    pk, number = (found[3], found[4]) if found[3] is not None else (found[0], found[5])
    return Case.from_db(connection.alias, ["id", "number"], [pk, number])


_DUPLICATE_SQL = f"""
    SELECT c.id, c.lat, c.lng, c.likely_duplicate_of_id, o.number, c.number
      FROM {Case._meta.db_table} c
      LEFT JOIN {Case._meta.db_table} o ON o.id = c.likely_duplicate_of_id
     WHERE c.matter_type_id = %(matter_type)s
       AND c.created_at >= %(since)s AND c.created_at <= %(until)s
       AND c.lat BETWEEN %(lat_min)s AND %(lat_max)s
       AND c.lng BETWEEN %(lng_min)s AND %(lng_max)s
       AND c.status NOT IN ({", ".join(f"%(ended_{i})s" for i in range(len(ENDED)))})
     ORDER BY (c.lat - %(lat)s) * (c.lat - %(lat)s)
              + (c.lng - %(lng)s) * (c.lng - %(lng)s) * %(k2)s,
              c.created_at, c.id
     LIMIT 1
"""  # noqa: S608 -- table names from the models, every value a parameter


# --- reads that take the user (the API and the HTML lists) ---


def case_list(*, user) -> QuerySet[Case]:
    """The cases ``user`` may see (enforcement.permissions), with what a list shows: the
    number of the likely duplicate only when ``user`` may see that case too
    (``likely_duplicate_number``, None otherwise)."""
    return (
        cases_visible(user)
        .select_related("street", "cell", "matter_type", "team", "officer__user")
        .annotate(likely_duplicate_number=duplicate_number_visible(user))
    )


def duplicate_number_visible(user) -> Subquery:
    """The number of a case's likely duplicate if ``user`` may see it: a case one may not see is
    not named, not even as a duplicate of one's own report."""
    return Subquery(
        cases_visible(user).filter(pk=OuterRef("likely_duplicate_of_id")).values("number")[:1]
    )


def case_get(*, user, number: str) -> Case:
    """The case numbered ``number`` if ``user`` may see it; Http404 otherwise (a case you may
    not see does not exist for you)."""
    return get_object_or_404(case_list(user=user), number=number)


def call_list(*, user) -> QuerySet[DepartmentCall]:
    return calls_visible(user).select_related("case", "department", "power_item")


def supervision_list(*, user) -> QuerySet[Supervision]:
    return Supervision.objects.filter(case__in=cases_visible(user).values("pk")).select_related(
        "case", "call__department", "addressee", "addressee_team"
    )


# --- the command centre's desk and the case page ---

# The desk's queues (指挥中心工作台): which statuses each shows. A whistled case is dispatched
# to departments, so it waits in "in hand" with the others sent out.
DESK_QUEUES: dict[str, tuple[str, ...]] = {
    "reported": (CaseStatus.REPORTED,),
    "accepted": (CaseStatus.ACCEPTED, CaseStatus.REOPENED),
    "in_hand": (CaseStatus.DISPATCHED, CaseStatus.ON_SCENE, CaseStatus.SUSPENDED),
    "resolved": (CaseStatus.RESOLVED,),
}
# What the desk and the dashboard call each queue.
DESK_QUEUE_LABELS = {
    "reported": gettext_lazy("To accept"),  # 待受理
    "accepted": gettext_lazy("To dispatch"),  # 待派发
    "in_hand": gettext_lazy("In hand"),  # 办理中
    "resolved": gettext_lazy("To verify"),  # 待核查
}
LIVE_TIMER_STATES = (TimerState.PENDING, TimerState.WARNED)


def cases_with_clock(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with its most urgent running clock: ``clock_due``, ``clock_warn`` and
    ``clock_stage`` of its live timer due first (None when no clock runs). Three correlated
    reads per row on enforcement_timer_live: for a page of rows, not for counting."""
    live = Timer.objects.filter(case=OuterRef("pk"), state__in=LIVE_TIMER_STATES).order_by(
        "due_at", "pk"
    )
    return queryset.annotate(
        clock_due=Subquery(live.values("due_at")[:1]),
        clock_warn=Subquery(live.values("warn_at")[:1]),
        clock_stage=Subquery(live.values("stage")[:1]),
    )


def case_queue_counts(queryset: QuerySet[Case]) -> dict[str, int]:
    """How many of ``queryset`` (the cases a user sees, filtered) wait in each desk queue, in one
    query over the open statuses (enforcement_case_street_status)."""
    open_statuses = [status for statuses in DESK_QUEUES.values() for status in statuses]
    counts = queryset.filter(status__in=open_statuses).aggregate(
        **{
            name: Count("pk", filter=Q(status__in=statuses))
            for name, statuses in DESK_QUEUES.items()
        }
    )
    return {name: counts[name] or 0 for name in DESK_QUEUES}


def desk_case_list(*, user) -> QuerySet[Case]:
    """The cases of the streets ``user`` works on the desk (the street or district granted:
    enforcement.permissions.scope_of), every case for a superuser; a subset of ``case_list``
    without its other ways of seeing a case (a cell, a team, a call, one's own report), which
    are not the desk's work. A filter on the street, so the queues and their counts are read
    by enforcement_case_street_status."""
    scope = scope_of(user)
    cases = (
        Case.objects.all() if scope.everything else Case.objects.filter(street_id__in=scope.streets)
    )
    return cases.select_related("street", "cell", "matter_type", "team", "officer__user").annotate(
        likely_duplicate_number=duplicate_number_visible(user)
    )


def case_search(queryset: QuerySet[Case], text: str) -> QuerySet[Case]:
    """The desk's search box: a case number (or its beginning) or part of the address."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(number__istartswith=text) | Q(address__icontains=text))


def case_page_get(*, user, number: str) -> Case:
    """The case page's case: visible to ``user`` (Http404 otherwise), with its cell, community,
    street, team and officer, its likely duplicate's number when visible, and its clock."""
    return get_object_or_404(
        cases_with_clock(case_list(user=user)).select_related(
            "cell__community", "merged_into", "reported_by"
        ),
        number=number,
    )


def supervisions_open(*, user) -> QuerySet[Supervision]:
    """Open supervisions (待回复) of the cases ``user`` sees, the highest level and oldest first."""
    return (
        supervision_list(user=user)
        .filter(state=SupervisionState.OPEN)
        .order_by("-level", "opened_at", "pk")
    )


def supervision_level_counts(supervisions: QuerySet[Supervision]) -> list[tuple[int, int]]:
    """(level, how many) of ``supervisions``, lowest level first (enforcement_supervision_open)."""
    rows = supervisions.order_by().values("level").annotate(n=Count("pk")).order_by("level")
    return [(row["level"], row["n"]) for row in rows]
