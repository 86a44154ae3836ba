"""Reads of the command centre's dashboard (指挥中心看板): one street's counters and its map.

Every read starts from the cases of the user's desk (``desk_case_list``, the desk's own rule)
narrowed to the chosen street, and counts with a fixed number of aggregate
queries, whatever the number of cases: the counters six, the map five (plus the user's
scope, read once per request by enforcement.permissions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from enforcement.choices import CallStatus, CaseSource, TimerStage
from enforcement.filtersets import CaseFilterSet
from enforcement.models import Case, Timer
from enforcement.permissions import desk_streets
from enforcement.selectors import (
    DESK_QUEUES,
    LIVE_TIMER_STATES,
    call_list,
    case_queue_counts,
    desk_case_list,
    supervision_level_counts,
    supervisions_open,
)
from grids.choices import GridLevel
from grids.models import GridCell, Region

# The statuses of the desk's queues: a case in one of them is open (在办).
OPEN_STATUSES: tuple[str, ...] = tuple(s for statuses in DESK_QUEUES.values() for s in statuses)
# The newest open cases the map draws as points: enough for a street's live work (the demo
# street holds a few hundred), bounded so that a backlog cannot stall the wall screen.
MAP_CASES_LIMIT = 2_000


def dashboard_streets(*, user) -> list[Region]:
    """The streets ``user`` may look at on the dashboard (those of the desk), by code."""
    return list(desk_streets(user).only("pk", "code", "name"))


def dashboard_street_get(*, user, code: str = "") -> Region:
    """The street coded ``code`` among ``user``'s desk streets, or the first of them when
    ``code`` is empty. Raises Http404 for a street that is unknown or not the user's, and when
    the user has none."""
    streets = desk_streets(user).only("pk", "code", "name")
    street = streets.filter(code=code).first() if code else streets.first()
    if street is None:
        raise Http404("no such street on your desk")
    return street


def dashboard_street_pick(streets: list[Region], code: str = "") -> Region:
    """``dashboard_street_get`` over a list already read (the page shows the list too)."""
    if not code:
        if streets:
            return streets[0]
        raise Http404("no street on your desk")
    for street in streets:
        if street.code == code:
            return street
    raise Http404("no such street on your desk")


def _street_cases(*, user, street: Region) -> QuerySet[Case]:
    return desk_case_list(user=user).filter(street=street)


def _overdue(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """The desk's own definition of overdue (a live timer past its deadline), so that a number
    on the dashboard is the length of the list its link opens."""
    return CaseFilterSet({"overdue": "true"}, queryset=queryset).qs


def local_midnight(now: datetime) -> datetime:
    """The start of ``now``'s day in the site's time zone (TIME_ZONE: the street's day)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class OldestCall:
    """The department call waiting longest to report in: its clock and its case."""

    due_at: datetime
    warn_at: datetime | None
    case_number: str
    department: str


@dataclass(frozen=True)
class DashboardCounters:
    street: Region
    at: datetime
    queues: dict[str, int]  # DESK_QUEUES name: open cases in it
    open_total: int
    overdue: int
    supervision_levels: list[tuple[int, int]]  # (level, open supervisions), lowest first
    supervisions_total: int
    calls_waiting: int  # whistles no department has reported in to yet (status called)
    oldest_call: OldestCall | None
    intake_today: list[tuple[str, str, int]]  # (source, label, cases since midnight), by source
    intake_total: int
    today: datetime  # local midnight


def dashboard_counters_read(*, user, street: Region) -> DashboardCounters:
    """The counters of ``street`` as ``user`` sees them, now. Five aggregate queries (queues,
    overdue, supervisions by level, waiting calls, today's intake) and one for the oldest
    waiting call's clock; none grows with the number of cases."""
    now = timezone.now()
    cases = _street_cases(user=user, street=street)
    queues = case_queue_counts(cases)
    overdue = _overdue(cases).count()
    levels = supervision_level_counts(supervisions_open(user=user).filter(case__street=street))
    waiting = call_list(user=user).filter(case__street=street, status=CallStatus.CALLED)
    calls_waiting = waiting.count()
    oldest = (
        Timer.objects.filter(
            stage=TimerStage.CALL_REPORT_IN,
            state__in=LIVE_TIMER_STATES,
            call__in=waiting.values("pk"),
        )
        .order_by("due_at", "pk")
        .values("due_at", "warn_at", "case__number", "call__department__name")
        .first()
    )
    midnight = local_midnight(now)
    by_source = dict(
        cases.filter(created_at__gte=midnight)
        .order_by()
        .values("source")
        .annotate(n=Count("pk"))
        .values_list("source", "n")
    )
    intake = [(value, str(label), by_source.get(value, 0)) for value, label in CaseSource.choices]
    return DashboardCounters(
        street=street,
        at=now,
        queues=queues,
        open_total=sum(queues.values()),
        overdue=overdue,
        supervision_levels=levels,
        supervisions_total=sum(n for _level, n in levels),
        calls_waiting=calls_waiting,
        oldest_call=OldestCall(
            due_at=oldest["due_at"],
            warn_at=oldest["warn_at"],
            case_number=oldest["case__number"],
            department=oldest["call__department__name"],
        )
        if oldest
        else None,
        intake_today=intake,
        intake_total=sum(by_source.values()),
        today=midnight,
    )


def dashboard_map_read(*, user, street: Region) -> dict:
    """The map of ``street``: a GeoJSON FeatureCollection (RFC 7946) of its comprehensive cells
    (where cases land), each with ``code``, ``name``, ``open`` (open cases in it) and
    ``overdue`` (its overdue cases, as the desk's filter counts them); and, as foreign
    members, ``street``, ``areas`` (its first-level cells, 片区: code, name, geometry, drawn as
    outlines so that cells of the same name in two communities tell apart) and ``cases``: the
    newest MAP_CASES_LIMIT open cases as ``[lng, lat, number, status]``, ``cases_truncated``
    when there are more. Five queries."""
    cases = _street_cases(user=user, street=street)
    open_cases = cases.filter(status__in=OPEN_STATUSES)
    open_per_cell = dict(_per_cell(open_cases))
    overdue_per_cell = dict(_per_cell(_overdue(cases)))
    cells = (
        GridCell.objects.filter(community__parent=street, level=GridLevel.COMPREHENSIVE)
        .order_by("code")
        .values_list("pk", "code", "name", "geometry")
    )
    features = []
    for pk, code, name, geometry in cells:
        n_open, n_overdue = open_per_cell.get(pk, 0), overdue_per_cell.get(pk, 0)
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": name, "open": n_open, "overdue": n_overdue},
                "geometry": geometry,
            }
        )
    areas = (
        GridCell.objects.filter(community__parent=street, level=GridLevel.FIRST_LEVEL)
        .order_by("code")
        .values("code", "name", "geometry")
    )
    points = list(
        open_cases.order_by("-created_at", "-pk").values_list("lng", "lat", "number", "status")[
            : MAP_CASES_LIMIT + 1
        ]
    )
    return {
        "type": "FeatureCollection",
        "features": features,
        "street": {"code": street.code, "name": street.name},
        "areas": list(areas),
        "cases": [list(point) for point in points[:MAP_CASES_LIMIT]],
        "cases_truncated": len(points) > MAP_CASES_LIMIT,
    }


def _per_cell(queryset: QuerySet[Case]) -> QuerySet:
    """(cell id, how many) of ``queryset``, one grouped query (enforcement_case_cell_status)."""
    return (
        queryset.filter(cell__isnull=False)
        .order_by()
        .values("cell_id")
        .annotate(n=Count("pk"))
        .values_list("cell_id", "n")
    )


# Panels of the apps to the right of enforcement (assessment's KPIs), shown under the counters:
# URL names of views answering an HTML fragment for ``?street=<code>``. Enforcement may not
# import those apps (DESIGN.md: dependencies point one way); they register here in ready().
_PANELS: list[str] = []


def dashboard_panel_register(url_name: str) -> None:
    """Add a panel to the dashboard, once (``ready()`` may run twice in tests)."""
    if url_name not in _PANELS:
        _PANELS.append(url_name)


def dashboard_panels() -> list[str]:
    return list(_PANELS)
