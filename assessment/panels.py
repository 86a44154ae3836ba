"""The assessment app's panels on the command centre's dashboard (指挥中心看板): HTML fragments
the dashboard loads for its street (enforcement.web.dashboard.dashboard_panel_register, called by
AssessmentConfig.ready() for every name of PANEL_URLS).

- **kpis**: this month's figures of the street (按期结案率 … 网格自处置率), each with its numerator
  and denominator linked to the desk's list behind it, and last month's value beside it;
- **split**: the handling-mode split (服务/管理/执法) of the month's closed cases beside the seeds'
  70/20/10 (seed 003);
- **departments**: the latest published assessment of the street's district departments (rank,
  department, total), or, before any is published, the month so far of their key figures,
  marked provisional and in no order of merit.

Every figure is read from the daily rollups plus today's live counts (assessment.rollups), so a
panel costs a bounded number of queries whatever the number of cases (and of departments). The
reads (``*_read``) are separate from the views, which check who asks and render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment.choices import PeriodKind, TargetKind
from assessment.drill import drill_url
from assessment.kpis import KPIS, KpiResult, Scope, ScopeKind
from assessment.models import Scheme, Snapshot
from assessment.rollups import kpis_from_rollups, kpis_from_rollups_many
from assessment.schemes import period_bounds, scheme_targets, snapshot_current, snapshot_results
from enforcement.choices import HandlingMode
from enforcement.permissions import desk_check
from enforcement.web.dashboard import dashboard_street_get
from grids.models import Region

# The street's figures of the month, in the order the panel shows them.
KPI_CODES = (
    "on_time_closure",
    "closure",
    "extension",
    "rework",
    "response",
    "resolution",
    "satisfaction",
    "self_handling",
    "grid_self_handling",
)
# The handling-mode split of the closed cases: one share per mode, the seed's figure beside it.
MODE_CODES = {mode: f"mode_{mode}" for mode in HandlingMode.values}
# A department's key figures as the street sees them (its calls from this street).
DEPARTMENT_CODES = ("dept_calls", "dept_report_in_on_time", "dept_completion", "dept_return")
DEPARTMENT_RATES = DEPARTMENT_CODES[1:]


# --- months ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """A calendar month ``[start, end)`` in local days, with its label (2026年11月, as data)."""

    start: date
    end: date
    label: str

    @classmethod
    def of(cls, day: date) -> Month:
        start, end, label = period_bounds(PeriodKind.MONTH, day)
        return cls(start, end, label)

    @property
    def previous(self) -> Month:
        return Month.of(self.start - timedelta(days=1))


def _street_scope(street: Region) -> Scope:
    """The street's scope (Scope.of would read its level: the dashboard's street has it not)."""
    return Scope(ScopeKind.STREET, street.pk)


def _now_and_month(now: datetime | None) -> tuple[datetime, Month]:
    now = now or timezone.now()
    return now, Month.of(timezone.localdate(now))


# --- a figure with its drill-down ---------------------------------------------------------------


def figure_drills(code: str, scope, month: Month) -> dict[str, str]:
    """The desk's lists behind a live figure's numerator and denominator over ``month``
    (assessment.drill.drill_url), by part."""
    return {
        part: drill_url(code=code, part=part, scope=scope, start=month.start, end=month.end)
        for part in ("numerator", "denominator")
    }


@dataclass(frozen=True)
class Figure:
    """One rate of the panel: this month's value (None when too few cases), its parts and
    links, and last month's value for comparison."""

    code: str
    name: str
    definition: str
    value: Decimal | None
    numerator: int | None
    denominator: int
    too_few: bool
    higher_is_better: bool | None
    drill: dict[str, str] = field(default_factory=dict)
    previous: Decimal | None = None
    previous_too_few: bool = False
    benchmark: Decimal | None = None

    @property
    def change(self) -> Decimal | None:
        """This month's value less last month's, in points, when both are figures."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def trend(self) -> str:
        """ "better", "worse" or "same" than last month (by the KPI's direction); "" when there
        is nothing to compare or no better direction."""
        change = self.change
        if change is None or self.higher_is_better is None:
            return ""
        if change == 0:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


def _figure(
    result: KpiResult,
    *,
    drill: dict[str, str],
    previous: KpiResult | None = None,
) -> Figure:
    kpi = result.kpi
    return Figure(
        code=kpi.code,
        name=str(kpi.name),
        definition=kpi.definition,
        value=result.value,
        numerator=result.numerator,
        denominator=result.denominator,
        too_few=result.too_few or result.value is None,
        higher_is_better=kpi.higher_is_better,
        drill=drill,
        previous=previous.value if previous is not None else None,
        previous_too_few=previous is not None and (previous.too_few or previous.value is None),
        benchmark=kpi.benchmark,
    )


# --- panel 1: the month's KPIs ------------------------------------------------------------------


@dataclass(frozen=True)
class KpiPanel:
    street: Region
    month: Month
    previous_month: Month
    figures: list[Figure]
    min_cases: int
    at: datetime


def kpi_panel_read(street: Region, *, now: datetime | None = None) -> KpiPanel:
    """The street's KPI_CODES this month so far and last month (kpis_from_rollups twice: two
    queries each for the days rolled up, six more for a part read live: today's, always, this
    month; last month's only if some day of it is not rolled up)."""
    now, month = _now_and_month(now)
    previous_month = month.previous
    scope = _street_scope(street)
    current = kpis_from_rollups(KPI_CODES, start=month.start, end=month.end, scope=scope, now=now)
    before = kpis_from_rollups(
        KPI_CODES, start=previous_month.start, end=previous_month.end, scope=scope, now=now
    )
    figures = [
        _figure(current[code], drill=figure_drills(code, scope, month), previous=before[code])
        for code in KPI_CODES
    ]
    return KpiPanel(
        street=street,
        month=month,
        previous_month=previous_month,
        figures=figures,
        min_cases=settings.ASSESSMENT_MIN_CASES,
        at=now,
    )


# --- panel 2: the handling-mode split -----------------------------------------------------------


@dataclass(frozen=True)
class ModeShare:
    """One handling mode's share of the month's closed cases, and its bar's widths (whole
    percent, adding up to 100 over the modes and the rest)."""

    mode: str
    label: str
    figure: Figure
    width: int  # the bar's segment, whole percent (0 when too few)
    benchmark_width: int


@dataclass(frozen=True)
class SplitPanel:
    street: Region
    month: Month
    shares: list[ModeShare]
    closed: int  # the denominator: cases closed this month
    too_few: bool
    rest_width: int  # closed cases with no handling mode recorded, of the bar
    rest: int
    min_cases: int
    at: datetime


def _widths(values: list[Decimal]) -> list[int]:
    """Whole percents of ``values`` (percents adding up to 100 or less) that add up to the
    rounded total: the largest remainders get the spare points, so that the bar's segments
    fill it exactly."""
    total = int(sum(values, Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    floors = [int(v) for v in values]
    spare = total - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[: max(spare, 0)]:
        floors[i] += 1
    return floors


def split_panel_read(street: Region, *, now: datetime | None = None) -> SplitPanel:
    """The shares of the month's closed cases settled by service, management and enforcement
    (the registry's mode_* KPIs: one kpis_from_rollups call, two queries for the rolled-up days
    and six for today's live part), each beside the seed's benchmark."""
    now, month = _now_and_month(now)
    scope = _street_scope(street)
    codes = list(MODE_CODES.values())
    results = kpis_from_rollups(codes, start=month.start, end=month.end, scope=scope, now=now)
    labels = dict(HandlingMode.choices)
    figures = {
        mode: _figure(results[code], drill=figure_drills(code, scope, month))
        for mode, code in MODE_CODES.items()
    }
    closed = results[codes[0]].denominator  # the same for every mode: cases closed in the month
    too_few = any(f.too_few for f in figures.values())
    numerators = [f.numerator or 0 for f in figures.values()]
    rest = max(closed - sum(numerators), 0)
    if too_few or not closed:
        widths, rest_width = [0] * len(figures), 0
    else:
        exact = [Decimal(n) * 100 / closed for n in numerators]
        *widths, rest_width = _widths([*exact, Decimal(rest) * 100 / closed])
    benchmarks = _widths([f.benchmark or Decimal(0) for f in figures.values()])
    shares = [
        ModeShare(
            mode=mode,
            label=str(labels[mode]),
            figure=figure,
            width=width,
            benchmark_width=benchmark,
        )
        for (mode, figure), width, benchmark in zip(
            figures.items(), widths, benchmarks, strict=True
        )
    ]
    return SplitPanel(
        street=street,
        month=month,
        shares=shares,
        closed=closed,
        too_few=too_few,
        rest_width=rest_width,
        rest=rest,
        min_cases=settings.ASSESSMENT_MIN_CASES,
        at=now,
    )


# --- panel 3: the departments -------------------------------------------------------------------


@dataclass(frozen=True)
class RankedRow:
    rank: int | None
    department: str
    total: Decimal | None


@dataclass(frozen=True)
class Published:
    """The latest published ranking of the street's departments (the current version)."""

    snapshot: Snapshot
    scheme_name: str
    period_label: str
    version: int
    published_at: datetime
    rows: list[RankedRow]


@dataclass(frozen=True)
class DepartmentFigures:
    department: str
    calls: int
    calls_drill: str  # the desk's list of the cases of those calls
    figures: list[Figure]  # DEPARTMENT_RATES, in that order


@dataclass(frozen=True)
class Provisional:
    """The month so far of the street's departments: not a ranking (by department code)."""

    month: Month
    rows: list[DepartmentFigures]  # the departments called this month
    quiet: int  # the departments serving the street not called this month
    headers: list[tuple[str, str]]  # (code, name) of DEPARTMENT_RATES


@dataclass(frozen=True)
class DepartmentsPanel:
    street: Region
    published: Published | None
    provisional: Provisional | None
    min_cases: int
    at: datetime


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def published_ranking(street: Region) -> Published | None:
    """The current version of the latest published assessment of district departments by
    ``street`` (the period ending last; of two ending together, the one starting last — the
    month before its quarter), read from its stored bytes: two queries."""
    latest = (
        Snapshot.objects.filter(
            scheme_version__scheme__assessor=street,
            scheme_version__scheme__target_kind=TargetKind.DEPARTMENT,
        )
        .order_by("-period__ends_on", "-period__starts_on", "-published_at", "-version")
        .first()
    )
    if latest is None:
        return None
    current = snapshot_current(latest)
    content = snapshot_results(current)
    rows = [
        RankedRow(
            rank=result["rank"],
            department=result["target"]["name"],
            total=_number(result["total"]),
        )
        for result in content["results"]
    ]
    return Published(
        snapshot=current,
        scheme_name=content["scheme"]["name"],
        period_label=content["period"]["label"],
        version=current.version,
        published_at=current.published_at,
        rows=rows,
    )


def provisional_figures(street: Region, *, now: datetime | None = None) -> Provisional:
    """The month so far of the departments serving ``street`` (those a street's department
    scheme assesses): their calls from this street and DEPARTMENT_RATES, with the cases behind
    each part. One query for the departments and kpis_from_rollups_many's (eight at most),
    whatever the number of departments and cases."""
    now, month = _now_and_month(now)
    departments = scheme_targets(Scheme(target_kind=TargetKind.DEPARTMENT, assessor=street))
    scopes = {d.pk: Scope.of_department_in(street.pk, d.pk) for d in departments}
    figures = kpis_from_rollups_many(
        DEPARTMENT_CODES,
        start=month.start,
        end=month.end,
        scopes=scopes.values(),
        within=_street_scope(street),
        now=now,
    )
    rows = []
    for department in departments:
        scope = scopes[department.pk]
        results = figures[scope]
        calls = int(results["dept_calls"].value or 0)
        if not calls and not any(results[code].denominator for code in DEPARTMENT_RATES):
            continue
        rows.append(
            DepartmentFigures(
                department=department.name,
                calls=calls,
                calls_drill=drill_url(
                    code="dept_calls",
                    part="denominator",
                    scope=scope,
                    start=month.start,
                    end=month.end,
                ),
                figures=[
                    _figure(results[code], drill=figure_drills(code, scope, month))
                    for code in DEPARTMENT_RATES
                ],
            )
        )
    return Provisional(
        month=month,
        rows=rows,
        quiet=len(departments) - len(rows),
        headers=[(code, str(KPIS[code].name)) for code in DEPARTMENT_RATES],
    )


def departments_panel_read(street: Region, *, now: datetime | None = None) -> DepartmentsPanel:
    """The latest published ranking of the street's departments; without one, the month so far
    (provisional). Two queries, or two plus provisional_figures' nine."""
    now = now or timezone.now()
    published = published_ranking(street)
    return DepartmentsPanel(
        street=street,
        published=published,
        provisional=None if published else provisional_figures(street, now=now),
        min_cases=settings.ASSESSMENT_MIN_CASES,
        at=now,
    )


# --- the views ----------------------------------------------------------------------------------


def _street(request) -> Region:
    """The street asked for, among the user's desk streets (the dashboard's own rule): 403 for
    who has no desk, 404 for a street not theirs."""
    desk_check(request.user)
    return dashboard_street_get(user=request.user, code=request.GET.get("street", ""))


@login_required
@require_GET
@never_cache
def kpis_panel(request):
    """This month's KPIs of the street, with last month's beside them."""
    panel = kpi_panel_read(_street(request))
    return render(request, "assessment/panels/kpis.html", {"panel": panel})


@login_required
@require_GET
@never_cache
def split_panel(request):
    """The handling-mode split of the month's closed cases beside the seeds' 70/20/10."""
    panel = split_panel_read(_street(request))
    return render(request, "assessment/panels/split.html", {"panel": panel})


@login_required
@require_GET
@never_cache
def departments_panel(request):
    """The departments' latest published ranking, or the month so far (provisional)."""
    panel = departments_panel_read(_street(request))
    return render(request, "assessment/panels/departments.html", {"panel": panel})


urlpatterns = [
    path("dashboard/assessment/kpis/", kpis_panel, name="panel-kpis"),
    path("dashboard/assessment/split/", split_panel, name="panel-split"),
    path("dashboard/assessment/departments/", departments_panel, name="panel-departments"),
]
PANEL_URLS: tuple[str, ...] = tuple(f"assessment:{p.name}" for p in urlpatterns)

__all__ = [
    "PANEL_URLS",
    "departments_panel_read",
    "figure_drills",
    "kpi_panel_read",
    "provisional_figures",
    "published_ranking",
    "split_panel_read",
    "urlpatterns",
]
