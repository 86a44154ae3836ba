"""The KPI registry (issue 17): every figure of assessment declared once — its names, what it
counts, what it divides by, what it leaves out, its unit, which way is better and where it comes
from — and computed from the raw tables through assessment.facts.

Each KPI is a count of facts by predicates, never a formula over other figures:

- its *population* is the facts whose moment ``counts_on`` (a field of the fact: the day the
  fact counts on, in the street's local time) falls in the period ``[start, end)`` — and has
  come: a deadline in the future has not fallen yet — and that satisfy ``population``;
- its *denominator* is the population less the ``excluded`` ones (listed, not hidden);
- its *numerator* is the denominator's facts that satisfy ``numerator`` and, when
  ``numerator_by`` names a second moment, whose second moment came before the period's end;
- ``apart``: facts of the period counted beside the figure, in neither part (unreachable
  callbacks).

So a daily rollup can store, per day of ``counts_on`` and per dimension, the population, the
excluded and the numerator counts, and a period's figure is the sum of its days: for a KPI with
``numerator_by``, the rollup keeps the numerator per day of ``counts_on`` *and* day of
``numerator_by`` (a period sums the pairs whose second day is before its end). A median
(``Unit.MINUTES``) is taken over whole minutes with the lower middle value, so that a rollup
keeping per day a count of facts per whole minute gives the same median exactly.

A rate or a median whose denominator is under ``settings.ASSESSMENT_MIN_CASES`` is "too few
cases": its value is None and it is never ranked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median_low

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from assessment.choices import CallbackState, Satisfaction, Solved
from assessment.facts import TIMER_STAGES, CallFacts, CaseFacts, facts_load
from assessment.models import Callback
from enforcement.choices import HandlingMode
from enforcement.models import (
    Case,
    CaseEvent,
    DepartmentCall,
    MatterType,
    Officer,
    Supervision,
    Team,
    Timer,
)
from grids.choices import RegionLevel
from grids.models import GridCell, Region
from powers.models import Department


class Unit:
    PERCENT = "%"
    COUNT = "count"
    MINUTES = "minutes"  # a median duration, in whole minutes


class Base:
    """What a KPI counts, and so what its ids name (the drill-down's list)."""

    CASE = "case"  # ids: cases
    CALL = "call"  # ids: department calls
    CALLBACK = "callback"  # ids: cases (one callback per case)
    SUPERVISION = "supervision"  # ids: supervisions


class ScopeKind:
    """What a figure is computed over (the dimensions of the later rollups)."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    CELL = "cell"
    TEAM = "team"
    OFFICER = "officer"
    DEPARTMENT = "department"
    # A department's calls from one street: value "<street id>:<department id>" (the street
    # assesses a district department on what it asked of it, not on the other streets' calls).
    STREET_DEPARTMENT = "street_department"
    MATTER_TYPE = "matter_type"
    SOURCE = "source"
    HANDLING_MODE = "handling_mode"


# --- scope and period ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A street, community, cell, team, officer, department or district (or a matter type, a
    source, a handling mode): ``kind`` and the id (or value) of it."""

    kind: str
    value: int | str

    @classmethod
    def of(cls, obj) -> Scope:
        """The scope of a Region (by its level), GridCell, Team, Officer, Department or
        MatterType; a Scope is returned as it is."""
        if isinstance(obj, Scope):
            return obj
        if isinstance(obj, Region):
            kinds = {
                RegionLevel.DISTRICT: ScopeKind.DISTRICT,
                RegionLevel.STREET: ScopeKind.STREET,
                RegionLevel.COMMUNITY: ScopeKind.COMMUNITY,
            }
            return cls(kinds[obj.level], obj.pk)
        for model, kind in (
            (GridCell, ScopeKind.CELL),
            (Team, ScopeKind.TEAM),
            (Officer, ScopeKind.OFFICER),
            (Department, ScopeKind.DEPARTMENT),
            (MatterType, ScopeKind.MATTER_TYPE),
        ):
            if isinstance(obj, model):
                return cls(kind, obj.pk)
        raise TypeError(f"no assessment scope for {obj!r}")

    def cases_filter(self) -> Q:
        """The SQL condition on Case of the cases this scope may hold (a superset for the
        department: the cases that called it; each call is then matched in Python)."""
        field_of = {
            ScopeKind.DISTRICT: "street__parent_id",
            ScopeKind.STREET: "street_id",
            ScopeKind.COMMUNITY: "cell__community_id",
            ScopeKind.CELL: "cell_id",
            ScopeKind.TEAM: "team_id",
            ScopeKind.OFFICER: "officer_id",
            ScopeKind.MATTER_TYPE: "matter_type_id",
            ScopeKind.SOURCE: "source",
            ScopeKind.HANDLING_MODE: "handling_mode",
        }
        if self.kind == ScopeKind.DEPARTMENT:
            return Q(pk__in=DepartmentCall.objects.filter(department_id=self.value).values("case"))
        if self.kind == ScopeKind.STREET_DEPARTMENT:
            street, department = self.street_department
            return Q(
                street_id=street,
                pk__in=DepartmentCall.objects.filter(department_id=department).values("case"),
            )
        return Q(**{field_of[self.kind]: self.value})

    @property
    def street_department(self) -> tuple[int, int]:
        """(street id, department id) of a STREET_DEPARTMENT scope."""
        street, _sep, department = str(self.value).partition(":")
        return int(street), int(department)

    @classmethod
    def of_department_in(cls, street_id: int, department_id: int) -> Scope:
        """The calls of ``street_id``'s cases to ``department_id``."""
        return cls(ScopeKind.STREET_DEPARTMENT, f"{street_id}:{department_id}")

    def holds(self, case: CaseFacts, department_id: int | None = None) -> bool:
        """Whether a fact of ``case`` (of a call to ``department_id``, for the call-based
        figures) is in this scope."""
        if self.kind == ScopeKind.DEPARTMENT:
            if department_id is not None:
                return department_id == self.value
            return self.value in case.department_ids
        if self.kind == ScopeKind.STREET_DEPARTMENT:
            street, department = self.street_department
            if case.street_id != street:
                return False
            if department_id is not None:
                return department_id == department
            return department in case.department_ids
        attribute = {
            ScopeKind.DISTRICT: "district_id",
            ScopeKind.STREET: "street_id",
            ScopeKind.COMMUNITY: "community_id",
            ScopeKind.CELL: "cell_id",
            ScopeKind.TEAM: "team_id",
            ScopeKind.OFFICER: "officer_id",
            ScopeKind.MATTER_TYPE: "matter_type_id",
            ScopeKind.SOURCE: "source",
            ScopeKind.HANDLING_MODE: "handling_mode",
        }[self.kind]
        return getattr(case, attribute) == self.value


@dataclass(frozen=True)
class Period:
    """``[start, end)``, seen at ``now``: a moment counts when it falls in the period and has
    come (a deadline still ahead has not fallen)."""

    start: datetime
    end: datetime
    now: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end and moment <= self.now

    def before_end(self, moment: datetime | None) -> bool:
        return moment is not None and moment < self.end and moment <= self.now


def period_make(start: date | datetime, end: date | datetime, now: datetime | None = None):
    """The period from ``start`` to ``end`` (exclusive); a date is its midnight in the street's
    local time (settings.TIME_ZONE, Asia/Shanghai)."""

    def moment(value):
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value)
        return timezone.make_aware(datetime.combine(value, time.min))

    start, end = moment(start), moment(end)
    if end <= start:
        raise ValueError("a period ends after it starts")
    return Period(start=start, end=end, now=now or timezone.now())


# --- the registry ----------------------------------------------------------------------------


def _always(_fact) -> bool:
    return True


@dataclass(frozen=True)
class Kpi:
    """One figure. ``definition``: its exact definition in one line, naming the day a fact counts
    on. ``counts_on`` and ``numerator_by`` name fields of the fact (assessment.facts)."""

    code: str
    name: Promise  # English msgid; the zh-hans catalogue gives the Chinese
    name_zh: str
    definition: str
    base: str
    unit: str
    higher_is_better: bool | None  # None: neither (a count, a split)
    source: str
    counts_on: str
    population: Callable = _always
    excluded: Callable | None = None
    exclusions: str = ""
    numerator: Callable | None = None
    numerator_by: str = ""
    duration: Callable | None = None
    apart: tuple[tuple[str, Callable], ...] = ()
    tally: Callable | None = None
    benchmark: Decimal | None = None  # the seed's figure to show beside it
    scopes: tuple[str, ...] = ()  # where it is shown and ranked

    @property
    def is_rate(self) -> bool:
        return self.unit == Unit.PERCENT

    @property
    def small_count_rule(self) -> bool:
        """Rates and medians over too few facts are not figures (counts always are)."""
        return self.unit in (Unit.PERCENT, Unit.MINUTES)


# The dimensions of each family of figures.
_AREA = (ScopeKind.DISTRICT, ScopeKind.STREET, ScopeKind.COMMUNITY, ScopeKind.CELL)
_CASE_SCOPES = (
    *_AREA,
    ScopeKind.TEAM,
    ScopeKind.OFFICER,
    ScopeKind.MATTER_TYPE,
    ScopeKind.SOURCE,
    ScopeKind.HANDLING_MODE,
)
_DEPARTMENT_SCOPES = (
    ScopeKind.DEPARTMENT,
    ScopeKind.STREET_DEPARTMENT,
    ScopeKind.DISTRICT,
    ScopeKind.STREET,
)

PLATFORM = "this platform's definition"
SEED_001_DEADLINES = (
    "seed 001 for the deadlines (「30分钟赶到现场,原则上30分钟以内有处理结果;重大、复杂案件,1天"
    "有处理意见,15天内有处理结果」); the denominator 应结案 is the published schemes', issue 17"
)
SEED_002_THREE_RATES = (
    "seed 002: 「“接诉即办”通过响应率、解决率、满意率三项数据将软任务变为硬指标」"
)
SEED_003_SPLIT = (
    "seed 003: 「70%的问题用服务手段得到了解决,20%的问题用管理手段得到了解决,10%的问题用执法"
    "手段得到了解决」"
)


def _due_excluded(case: CaseFacts) -> bool:
    return case.suspended_at_result_due or case.ended_before_result_due


def _resolved_by_due(case: CaseFacts) -> bool:
    """The (latest) result was recorded by the result deadline. Whether it was *verified* by
    then is not asked: the result deadline is the handler's (30 minutes after arrival, seed 001)
    and verification has its own clock (the VERIFY timer, a working day), so "verified by the
    result deadline" would hardly ever hold."""
    return case.resolved_at is not None and case.resolved_at <= case.result_due


def _answered_in_time(case: CaseFacts) -> bool:
    return case.answered_at is not None and case.answered_at <= case.accept_due


def _report_in_excluded(call: CallFacts) -> bool:
    returned_first = (
        call.returned_at is not None
        and call.reported_in_at is None
        and call.returned_at <= call.report_in_due
    )
    return call.report_in_suspended or returned_first


def _complete_excluded(call: CallFacts) -> bool:
    returned_first = (
        call.returned_at is not None
        and call.completed_at is None
        and call.returned_at <= call.complete_due
    )
    return call.complete_suspended or returned_first


def _minutes(later: datetime | None, earlier: datetime | None) -> timedelta | None:
    return later - earlier if later is not None and earlier is not None else None


def _mode(mode: str) -> Callable:
    return lambda case: case.handling_mode == mode


KPIS: dict[str, Kpi] = {
    kpi.code: kpi
    for kpi in (
        Kpi(
            code="on_time_closure",
            name=_("On-time closure rate"),
            name_zh="按期结案率",
            definition=(
                "cases whose (latest) result was recorded by their result deadline and that were "
                "verified and closed before the period's end ÷ 应结案: the cases whose result "
                "deadline fell in the period, open or closed, less those suspended with approval "
                "at that moment or transferred or merged before it; counts on the deadline's day "
                "(the numerator also on the closing day)"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=SEED_001_DEADLINES,
            counts_on="result_due",
            excluded=_due_excluded,
            exclusions="suspended with approval at the deadline (缓办); transferred or merged "
            "before it",
            numerator=_resolved_by_due,
            numerator_by="closed_at",
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="closure",
            name=_("Closure rate"),
            name_zh="结案率",
            definition=(
                "of 应结案 (as for 按期结案率, on the deadline's day), those closed (verified) "
                "before the period's end, late or not; the numerator counts on the deadline's "
                "day and the closing day"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source="seed 003: 「综合执法月结案率、自处置率均达到98%」; 应结案 as in issue 17",
            counts_on="result_due",
            excluded=_due_excluded,
            exclusions="suspended with approval at the deadline (缓办); transferred or merged "
            "before it",
            numerator_by="closed_at",
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="extension",
            name=_("Extension rate"),
            name_zh="延期率",
            definition=(
                "cases whose result deadline fell in the period and that were suspended with "
                "approval at least once while that deadline's clock ran (the deadline extended, "
                "or still paused) ÷ the cases whose result deadline fell in the period, "
                "suspended or not, less those transferred or merged before it; counts on the "
                "deadline's day"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=False,
            source=PLATFORM + " (the seeds name 中止/延期 with approval, not its rate)",
            counts_on="result_due",
            excluded=lambda case: case.ended_before_result_due,
            exclusions="transferred or merged before the deadline",
            numerator=lambda case: case.suspended_in_result_round,
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="rework",
            name=_("Rework rate"),
            name_zh="返工率",
            definition=(
                "cases verified and closed in the period that had been sent back at least once "
                "(a failed verification, or a callback saying not solved) ÷ cases verified and "
                "closed in the period; counts on the closing day"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=False,
            source="seed 000: 「将办案率、办案质量和片区管理水平作为重点考核指标」 (case quality)",
            counts_on="closed_at",
            numerator=lambda case: case.times_sent_back > 0,
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="response",
            name=_("Response rate"),
            name_zh="响应率",
            definition=(
                "received cases answered (accepted, or rejected with a reason, or merged into "
                "the case they repeat) by their accept deadline ÷ received cases whose accept "
                "deadline fell in the period; counts on the accept deadline's day (30 minutes "
                "after receipt by default), so that a report still inside its time is not yet "
                "counted as missed; a case no SLA policy timed has no deadline and is not counted"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=SEED_002_THREE_RATES,
            counts_on="accept_due",
            numerator=_answered_in_time,
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="resolution",
            name=_("Resolution rate"),
            name_zh="解决率",
            definition=(
                "callbacks answered in the period where the reporter said solved ÷ callbacks "
                "answered in the period with an answer on solving (partly solved is not solved); "
                "unreachable callbacks counted apart; counts on the day of the call"
            ),
            base=Base.CALLBACK,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=SEED_002_THREE_RATES,
            counts_on="called_at",
            population=lambda callback: callback.state == CallbackState.ANSWERED,
            excluded=lambda callback: not callback.solved,
            exclusions="reached, but no answer on solving",
            numerator=lambda callback: callback.solved == Solved.SOLVED,
            apart=(("unreachable", lambda callback: callback.state == CallbackState.UNREACHABLE),),
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="satisfaction",
            name=_("Satisfaction rate"),
            name_zh="满意率",
            definition=(
                "callbacks answered in the period where the reporter was satisfied or basically "
                "satisfied ÷ callbacks answered in the period with an answer on satisfaction; "
                "unreachable callbacks counted apart; counts on the day of the call"
            ),
            base=Base.CALLBACK,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=SEED_002_THREE_RATES + "; seed 001: 「工单满意率连续稳步上升,达97%」",
            counts_on="called_at",
            population=lambda callback: callback.state == CallbackState.ANSWERED,
            excluded=lambda callback: not callback.satisfaction,
            exclusions="reached, but no answer on satisfaction",
            numerator=lambda callback: (
                callback.satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASICALLY)
            ),
            apart=(("unreachable", lambda callback: callback.state == CallbackState.UNREACHABLE),),
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="self_handling",
            name=_("Self-handling rate"),
            name_zh="自处置率",
            definition=(
                "cases closed in the period that the street handled itself (its own team or the "
                "grid; no department ever called) ÷ cases closed in the period; counts on the "
                "closing day"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source="seed 003: 「综合执法月结案率、自处置率均达到98%」",
            counts_on="closed_at",
            numerator=lambda case: case.self_handled,
            scopes=_CASE_SCOPES,
        ),
        Kpi(
            code="grid_self_handling",
            name=_("Grid self-handling rate"),
            name_zh="网格自处置率",
            definition=(
                "cases closed in the period that were handled in the grid (dispatched to the "
                "grid; no department ever called) ÷ cases closed in the period; counts on the "
                "closing day"
            ),
            base=Base.CASE,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source="seed 003: 「发现问题后先自行处置,不能解决时上传指挥中心」",
            counts_on="closed_at",
            numerator=lambda case: case.grid_self_handled,
            scopes=_CASE_SCOPES,
        ),
        *(
            Kpi(
                code=f"mode_{mode}",
                name=name,
                name_zh=name_zh,
                definition=(
                    f"cases closed in the period whose handling mode is {mode} ÷ cases closed "
                    "in the period; counts on the closing day"
                ),
                base=Base.CASE,
                unit=Unit.PERCENT,
                higher_is_better=None,
                source=SEED_003_SPLIT,
                counts_on="closed_at",
                numerator=_mode(mode),
                benchmark=Decimal(benchmark),
                scopes=_AREA,
            )
            for mode, name, name_zh, benchmark in (
                (HandlingMode.SERVICE.value, _("Share settled by service"), "服务手段占比", 70),
                (
                    HandlingMode.MANAGEMENT.value,
                    _("Share settled by management"),
                    "管理手段占比",
                    20,
                ),
                (
                    HandlingMode.ENFORCEMENT.value,
                    _("Share settled by enforcement"),
                    "执法手段占比",
                    10,
                ),
            )
        ),
        Kpi(
            code="dept_calls",
            name=_("Calls received"),
            name_zh="接收吹哨数",
            definition="department calls made in the period; counts on the day of the call",
            base=Base.CALL,
            unit=Unit.COUNT,
            higher_is_better=None,
            source="seed 002: 「街呼区应」",
            counts_on="called_at",
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_report_in_on_time",
            name=_("On-time report-in rate"),
            name_zh="按时报到率",
            definition=(
                "calls reported in by their report-in deadline ÷ calls whose report-in deadline "
                "fell in the period, less those suspended with approval at that moment and those "
                "returned (with a reason) before it without reporting in; counts on the "
                "deadline's day"
            ),
            base=Base.CALL,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source="seed 002: 「建立街道“呼叫”、部门“响应”功能模块」; the deadline: "
            "the SLA policy (30 minutes by default)",
            counts_on="report_in_due",
            excluded=_report_in_excluded,
            exclusions="suspended with approval at the deadline; returned before it without "
            "reporting in (counted in 退回率)",
            numerator=lambda call: (
                call.reported_in_at is not None and call.reported_in_at <= call.report_in_due
            ),
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_return",
            name=_("Return rate"),
            name_zh="退回率",
            definition=(
                "calls made in the period that the department returned before the period's end "
                "÷ calls made in the period; the reasons tallied; counts on the day of the call "
                "(the numerator also on the day of the return)"
            ),
            base=Base.CALL,
            unit=Unit.PERCENT,
            higher_is_better=False,
            source="DESIGN.md: 「A department may return a whistle with a reason; returns are "
            "counted」",
            counts_on="called_at",
            numerator_by="returned_at",
            tally=lambda call: call.return_reason.strip(),
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_completion",
            name=_("Completion rate"),
            name_zh="办结率",
            definition=(
                "calls made in the period that the department completed before the period's end "
                "÷ calls made in the period (a return is not a completion); counts on the day of "
                "the call (the numerator also on the day of completion)"
            ),
            base=Base.CALL,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=PLATFORM,
            counts_on="called_at",
            numerator_by="completed_at",
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_complete_on_time",
            name=_("On-time completion rate"),
            name_zh="按时办结率",
            definition=(
                "calls completed by their completion deadline ÷ calls whose completion deadline "
                "fell in the period, less those suspended with approval at that moment and those "
                "returned before it; counts on the deadline's day"
            ),
            base=Base.CALL,
            unit=Unit.PERCENT,
            higher_is_better=True,
            source=PLATFORM + "; the deadline: the SLA policy (5 working days by default)",
            counts_on="complete_due",
            excluded=_complete_excluded,
            exclusions="suspended with approval at the deadline; returned before it",
            numerator=lambda call: (
                call.completed_at is not None and call.completed_at <= call.complete_due
            ),
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_report_in_time",
            name=_("Median time to report in"),
            name_zh="报到用时中位数",
            definition=(
                "the median, in whole minutes (the lower middle value), of call to report-in "
                "over the calls reported in during the period; counts on the report-in day"
            ),
            base=Base.CALL,
            unit=Unit.MINUTES,
            higher_is_better=False,
            source=PLATFORM,
            counts_on="reported_in_at",
            duration=lambda call: _minutes(call.reported_in_at, call.called_at),
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_complete_time",
            name=_("Median time to complete"),
            name_zh="办结用时中位数",
            definition=(
                "the median, in whole minutes (the lower middle value), of call to completion "
                "over the calls completed during the period; counts on the completion day"
            ),
            base=Base.CALL,
            unit=Unit.MINUTES,
            higher_is_better=False,
            source=PLATFORM,
            counts_on="completed_at",
            duration=lambda call: _minutes(call.completed_at, call.called_at),
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="dept_supervisions",
            name=_("Supervisions received"),
            name_zh="被督办次数",
            definition=(
                "supervision orders opened on the department's calls in the period, every level "
                "(an escalation is another order); counts on the day it was opened"
            ),
            base=Base.SUPERVISION,
            unit=Unit.COUNT,
            higher_is_better=False,
            source="DESIGN.md: 「Supervision (督办单) at the deadline, escalation to the next "
            "level」",
            counts_on="opened_at",
            scopes=_DEPARTMENT_SCOPES,
        ),
        Kpi(
            code="caseload",
            name=_("Caseload"),
            name_zh="办案量",
            definition=(
                "cases in a team's hands (dispatched or reassigned to it: the current "
                "assignment), counted on the day of that dispatch or reassignment"
            ),
            base=Base.CASE,
            unit=Unit.COUNT,
            higher_is_better=None,
            source="seed 000: 「将办案率、办案质量和片区管理水平作为重点考核指标」",
            counts_on="assigned_at",
            population=lambda case: case.team_id is not None,
            scopes=(ScopeKind.TEAM, ScopeKind.OFFICER, ScopeKind.STREET),
        ),
    )
}


# --- computing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiResult:
    """A KPI over a period and scope. ``value``: a percentage (one decimal), a count or a median
    in minutes; None when too few (or nothing to divide by). The ids are those of ``ids_of``
    (cases, calls or supervisions) in each part, for the drill-down; ``apart``: ids counted
    beside the figure by name; ``tally``: counts of the numerator by reason."""

    kpi: Kpi
    scope: Scope
    period: Period
    value: Decimal | None
    numerator: int | None
    denominator: int
    too_few: bool
    numerator_ids: tuple = ()
    denominator_ids: tuple = ()
    excluded_ids: tuple = ()
    apart: dict[str, tuple] = field(default_factory=dict)
    tally: dict[str, int] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.kpi.code

    @property
    def ids_of(self) -> str:
        return {Base.CALL: "calls", Base.SUPERVISION: "supervisions"}.get(self.kpi.base, "cases")

    @property
    def ranked(self) -> bool:
        """Whether the figure may be ranked: never when too few."""
        return self.value is not None and not self.too_few


def kpi_compute(
    code: str, *, start: date | datetime, end: date | datetime, scope, now=None
) -> KpiResult:
    """One KPI of the registry over ``[start, end)`` for ``scope`` (a Scope, or a Region, GridCell,
    Team, Officer, Department, MatterType), from the raw tables. KeyError for an unknown code."""
    return kpis_compute([code], start=start, end=end, scope=scope, now=now)[code]


def kpis_compute(
    codes: Iterable[str] | None = None,
    *,
    start: date | datetime,
    end: date | datetime,
    scope,
    now: datetime | None = None,
) -> dict[str, KpiResult]:
    """Every KPI of ``codes`` (default: the whole registry), by code, from one reading of the
    facts: six queries whatever the number of cases (assessment.facts.facts_load's, each with
    the cases the period touches as its subquery). Reads only; locks nothing."""
    kpis = [KPIS[code] for code in (codes if codes is not None else KPIS)]
    period = period_make(start, end, now)
    scope = Scope.of(scope)
    facts = [
        case for case in facts_load(cases_touching(period, scope)).values() if not case.imported
    ]
    bases = _bases(facts, scope)
    return {kpi.code: _compute(kpi, bases[kpi.base], period, scope) for kpi in kpis}


def kpis_compute_many(
    codes: Iterable[str] | None = None,
    *,
    start: date | datetime,
    end: date | datetime,
    scopes: Iterable,
    within,
    now: datetime | None = None,
) -> dict[Scope, dict[str, KpiResult]]:
    """``kpis_compute`` for each of ``scopes`` at once, from one reading of the facts of
    ``within`` (a scope holding all of them: the street of its departments' calls, teams and
    officers, the district of its streets): six queries whatever the number of scopes and
    cases. By scope, then code."""
    kpis = [KPIS[code] for code in (codes if codes is not None else KPIS)]
    period = period_make(start, end, now)
    within = Scope.of(within)
    facts = [
        case
        for case in facts_load(cases_touching(period, within)).values()
        if not case.imported and within.holds(case)
    ]
    figures = {}
    for scope in map(Scope.of, scopes):
        bases = _bases(facts, scope)
        figures[scope] = {kpi.code: _compute(kpi, bases[kpi.base], period, scope) for kpi in kpis}
    return figures


def cases_touching(period: Period, scope: Scope) -> QuerySet:
    """The cases of ``scope`` that have anything in the period: an event, a deadline (the
    timers the facts read), a call's moment, a supervision of a call, a callback's call. A
    superset of the cases any KPI counts (every moment a KPI counts on is one of these)."""
    start, end = period.start, period.end
    return Case.objects.filter(scope.cases_filter()).filter(
        Q(pk__in=CaseEvent.objects.filter(at__gte=start, at__lt=end).values("case"))
        | Q(
            pk__in=Timer.objects.filter(
                stage__in=TIMER_STAGES, due_at__gte=start, due_at__lt=end
            ).values("case")
        )
        | Q(
            pk__in=DepartmentCall.objects.filter(
                Q(called_at__gte=start, called_at__lt=end)
                | Q(reported_in_at__gte=start, reported_in_at__lt=end)
                | Q(completed_at__gte=start, completed_at__lt=end)
            ).values("case")
        )
        | Q(
            pk__in=Supervision.objects.filter(
                call__isnull=False, opened_at__gte=start, opened_at__lt=end
            ).values("case")
        )
        | Q(pk__in=Callback.objects.filter(called_at__gte=start, called_at__lt=end).values("case"))
    )


def _bases(facts: list[CaseFacts], scope: Scope) -> dict[str, list]:
    """The facts of each base in ``scope``, as (fact, id) pairs."""
    cases = [case for case in facts if scope.holds(case)]
    calls = [call for case in facts for call in case.calls if scope.holds(case, call.department_id)]
    return {
        Base.CASE: [(case, case.id) for case in cases],
        Base.CALLBACK: [(case.callback, case.id) for case in cases if case.callback is not None],
        Base.CALL: [(call, call.id) for call in calls],
        Base.SUPERVISION: [(s, s.id) for call in calls for s in call.supervisions],
    }


def _compute(kpi: Kpi, facts: list, period: Period, scope: Scope) -> KpiResult:
    in_period = [(f, i) for f, i in facts if period.holds(getattr(f, kpi.counts_on))]
    population = [(f, i) for f, i in in_period if kpi.population(f)]
    excluded = [(f, i) for f, i in population if kpi.excluded is not None and kpi.excluded(f)]
    left_out = {i for _f, i in excluded}
    denominator = [(f, i) for f, i in population if i not in left_out]
    apart = {name: tuple(sorted(i for f, i in in_period if test(f))) for name, test in kpi.apart}
    numerator_ids: tuple = ()
    numerator = None
    tally: dict[str, int] = {}
    if kpi.unit == Unit.MINUTES:
        minutes = [
            int(duration.total_seconds() // 60)
            for f, _i in denominator
            if (duration := kpi.duration(f)) is not None
        ]
        value = Decimal(median_low(minutes)) if minutes else None
    elif kpi.unit == Unit.COUNT:
        value = Decimal(len(denominator))
    else:
        counted = [
            (f, i)
            for f, i in denominator
            if (kpi.numerator is None or kpi.numerator(f))
            and (not kpi.numerator_by or period.before_end(getattr(f, kpi.numerator_by)))
        ]
        numerator = len(counted)
        numerator_ids = tuple(sorted(i for _f, i in counted))
        if kpi.tally is not None:
            tally = dict(sorted(Counter(kpi.tally(f) for f, _i in counted).items()))
        value = (
            (Decimal(numerator) * 100 / Decimal(len(denominator))).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            if denominator
            else None
        )
    too_few = kpi.small_count_rule and len(denominator) < settings.ASSESSMENT_MIN_CASES
    return KpiResult(
        kpi=kpi,
        scope=scope,
        period=period,
        value=None if too_few else value,
        numerator=numerator,
        denominator=len(denominator),
        too_few=too_few,
        numerator_ids=numerator_ids,
        denominator_ids=tuple(sorted(i for _f, i in denominator)),
        excluded_ids=tuple(sorted(left_out)),
        apart=apart,
        tally=tally,
    )


__all__ = [
    "KPIS",
    "Base",
    "Kpi",
    "KpiResult",
    "Period",
    "Scope",
    "ScopeKind",
    "Unit",
    "cases_touching",
    "kpi_compute",
    "kpis_compute",
    "period_make",
]
