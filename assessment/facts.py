"""Per-case facts for assessment, read from the raw tables (issue 17).

A fact is what the record says happened to one case — when it came in, when each deadline fell,
when it was accepted, resolved, closed, sent back, suspended; which departments were called and
how each answered — taken from ``enforcement`` (Case, CaseEvent, Timer, DepartmentCall,
Supervision) and ``assessment.Callback``. The KPIs (assessment.kpis) are counts of these facts by
a predicate; a daily rollup stores the same counts, so a figure from rollups equals the figure
computed here.

``facts_load`` reads a set of cases in a fixed number of queries (six: cases, events, timers,
calls, supervisions, callbacks), whatever their number: never one query per case.

Definitions chosen here (each a reading of the record, documented once):

- **received_at**: the INTAKE event (an imported case: the ``reported_at`` its IMPORT event
  carries). Imported cases (enforcement.imports: one IMPORT event, no timers, no handler) are
  marked ``imported`` and left out of every KPI: their history cannot answer the questions.
- **accept deadline**: the due time of the case's ACCEPT timer (the latest, if several).
  **answered_at**: the first ACCEPT, REJECT or MERGE event — the command centre's first decision
  on a report (不予受理 with a reason, or merging a duplicate, answers it as much as 受理 does);
  **accepted_at** is the ACCEPT event alone.
- **result deadline**: the deadline of the case's latest *round* of work that has one. A round
  starts at each DISPATCH event (a reopened case is dispatched again). In a round the deadline is
  the due time of its RESOLVE timer, or, for a round dispatched by whistle, the latest due time
  of the CALL_COMPLETE timers of its calls not returned (the case is done when the last
  department is). A round with no such timer yet (not on scene, no department reported in)
  leaves the previous round's deadline standing; a case with none has no result deadline and
  falls due in no period (it shows in the response figures and the departments' report-in
  figures instead). While a suspension pauses the timer its stored due time is the deadline as
  it stood when the clock stopped; on resumption the timer carries the time that was left, so
  the deadline moves (enforcement.timers.timers_resume) and the case falls due on the new day.
- **suspended at a moment**: inside a suspension — from a SUSPEND event (always approved: the
  workflow requires the approving street leader) to the RESUME that ends it, or still running.
- **resolved_at**: the last RESOLVE or CALLS_DONE event. **closed_at**: the last VERIFY event,
  unless a callback sent the case back after it (then it is open again until verified again).
- **times sent back**: REOPEN events (verification failed) and ``callback_rework`` events (the
  reporter said on the callback it is not solved), which both count in ``Case.reopen_count``.
- **self_handled**: the case was handled by the street itself — dispatched to its own team or
  to the grid, and no department was ever called for it. **grid_self_handled**: dispatched to the
  grid (自处置: enforcement.workflow.case_self_handle, or the command centre sending it to the
  grid), no department called.
- **team / officer**: the case's current assignment; **assigned_at**: the last DISPATCH or
  REASSIGN event, when that assignment was made.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from assessment.models import Callback
from enforcement.choices import CallStatus, CaseStatus, DispatchTarget, EventKind, TimerStage
from enforcement.models import Case, CaseEvent, DepartmentCall, Supervision, Timer

# "callback_rework": the reporter said on the callback that the problem is not solved
# (EventKind.CALLBACK_REWORK, enforcement.workflow.case_rework_after_callback); a closed case goes
# back for rework. Named by its value so that this module reads the record whichever way the
# workflow spells the constant.
CALLBACK_REWORK = "callback_rework"
SENT_BACK_KINDS = frozenset({EventKind.REOPEN.value, CALLBACK_REWORK})

# The events the facts are made of; the others (evidence, phone reads, penalty steps …) are not
# read at all.
EVENT_KINDS = (
    EventKind.INTAKE,
    EventKind.IMPORT,
    EventKind.ACCEPT,
    EventKind.REJECT,
    EventKind.MERGE,
    EventKind.DISPATCH,
    EventKind.REASSIGN,
    EventKind.RESOLVE,
    EventKind.CALLS_DONE,
    EventKind.VERIFY,
    EventKind.REOPEN,
    CALLBACK_REWORK,
    EventKind.TRANSFER,
    EventKind.SUSPEND,
    EventKind.RESUME,
    EventKind.CALL_RETURN,
)
TIMER_STAGES = (
    TimerStage.ACCEPT,
    TimerStage.RESOLVE,
    TimerStage.CALL_REPORT_IN,
    TimerStage.CALL_COMPLETE,
)
# Ended otherwise: the case left the street's hands without closing.
ENDED_OTHERWISE = frozenset({EventKind.TRANSFER.value, EventKind.MERGE.value})


@dataclass(frozen=True)
class Suspension:
    """One suspension (中止, with its approver): from ``start`` to ``end`` (None: still on)."""

    start: datetime
    end: datetime | None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class SupervisionFacts:
    """A supervision order (督办单) opened on a department's call, at any level."""

    id: int
    opened_at: datetime
    level: int
    stage: str
    call: CallFacts = field(compare=False, repr=False)


@dataclass
class CallFacts:
    """One department call (吹哨) of a case, with its deadlines and answers."""

    id: int
    case_id: int
    department_id: int
    status: str
    called_at: datetime
    report_in_due: datetime | None = None
    reported_in_at: datetime | None = None
    complete_due: datetime | None = None
    completed_at: datetime | None = None
    returned_at: datetime | None = None
    return_reason: str = ""
    supervisions: list[SupervisionFacts] = field(default_factory=list)
    case: CaseFacts | None = field(default=None, compare=False, repr=False)

    @property
    def report_in_suspended(self) -> bool:
        """The case was suspended when the report-in deadline came (the clock was stopped)."""
        return self.report_in_due is not None and self.case.suspended_at(self.report_in_due)

    @property
    def complete_suspended(self) -> bool:
        return self.complete_due is not None and self.case.suspended_at(self.complete_due)


@dataclass(frozen=True)
class CallbackFacts:
    id: int
    case_id: int
    state: str
    called_at: datetime | None
    solved: str
    satisfaction: str
    case: CaseFacts | None = field(default=None, compare=False, repr=False)


@dataclass
class CaseFacts:
    """What the record says of one case (the module's docstring defines each field)."""

    id: int
    number: str
    status: str
    district_id: int | None
    street_id: int
    community_id: int | None
    cell_id: int | None
    team_id: int | None
    officer_id: int | None
    matter_type_id: int
    source: str
    handling_mode: str
    dispatch_target: str
    imported: bool = False
    received_at: datetime | None = None
    accept_due: datetime | None = None
    answered_at: datetime | None = None
    accepted_at: datetime | None = None
    dispatched_at: datetime | None = None  # the first dispatch
    assigned_at: datetime | None = None  # the dispatch or reassignment of the current holder
    result_started_at: datetime | None = None  # when the round of the result deadline began
    result_due: datetime | None = None
    result_due_stage: str = ""  # TimerStage.RESOLVE or CALL_COMPLETE
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    ended_otherwise_at: datetime | None = None  # transferred or merged
    sent_back_at: list[datetime] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)
    # Some event carries "self_handled": the grid worker solved it on the spot
    # (case_self_handle), as against the command centre dispatching it to the grid.
    self_handled_marked: bool = False
    calls: list[CallFacts] = field(default_factory=list)
    callback: CallbackFacts | None = None

    @property
    def department_ids(self) -> frozenset[int]:
        """The departments ever called for the case."""
        return frozenset(call.department_id for call in self.calls)

    @property
    def times_sent_back(self) -> int:
        return len(self.sent_back_at)

    @property
    def self_handled(self) -> bool:
        """Handled by the street itself: its team or the grid, no department ever called."""
        return not self.calls and self.dispatch_target in (DispatchTarget.TEAM, DispatchTarget.GRID)

    @property
    def grid_self_handled(self) -> bool:
        """Handled in the grid (网格自处置), no department ever called."""
        return not self.calls and self.dispatch_target == DispatchTarget.GRID

    def suspended_at(self, moment: datetime) -> bool:
        return any(s.covers(moment) for s in self.suspensions)

    @property
    def suspended_at_result_due(self) -> bool:
        """Suspended with approval when the result deadline came (缓办): left out of 应结案."""
        return self.result_due is not None and self.suspended_at(self.result_due)

    @property
    def suspended_in_result_round(self) -> bool:
        """Suspended with approval at least once while the result deadline's clock ran (from
        its round's start to the deadline): the deadline was extended (延期), or still stands
        paused."""
        if self.result_due is None:
            return False
        start = self.result_started_at
        return any(
            s.start <= self.result_due and (s.end is None or s.end > start)
            for s in self.suspensions
        )

    @property
    def ended_before_result_due(self) -> bool:
        """Transferred (移送) or merged before its result deadline: it left the street's hands
        and can never close here, so it is not 应结案."""
        return (
            self.ended_otherwise_at is not None
            and self.result_due is not None
            and self.ended_otherwise_at <= self.result_due
        )


def facts_load(cases: QuerySet | Iterable[int]) -> dict[int, CaseFacts]:
    """The facts of ``cases`` (a queryset of Case, or case ids), by case id, in six queries
    whatever their number. A queryset should select cases, e.g. ``Case.objects.filter(...)``;
    it is the subquery of the first (the cases' own rows). On PostgreSQL the five others then
    read the ids that query found, as one array (``IN (SELECT unnest(…))``: one parameter
    however many): the planner cannot guess how many cases a subquery such as
    cases_touching's (an OR of five IN) selects and takes it for nearly all, so it read every
    event and timer of the table (a merge join, or a parallel scan given the ids themselves:
    3 s and then 0.9 s for a day at 1,000,000 cases), where an index probe per case takes
    0.06 s. Elsewhere (SQLite) the queryset is the subquery of each."""
    if isinstance(cases, QuerySet):
        ids = cases.values("pk")
    else:
        ids = list(cases)
        if not ids:
            return {}
    facts: dict[int, CaseFacts] = {}
    for row in Case.objects.filter(pk__in=ids).values(
        "pk",
        "number",
        "status",
        "street_id",
        "street__parent_id",
        "cell_id",
        "cell__community_id",
        "team_id",
        "officer_id",
        "matter_type_id",
        "source",
        "handling_mode",
        "dispatch_target",
    ):
        facts[row["pk"]] = CaseFacts(
            id=row["pk"],
            number=row["number"],
            status=row["status"],
            district_id=row["street__parent_id"],
            street_id=row["street_id"],
            community_id=row["cell__community_id"],
            cell_id=row["cell_id"],
            team_id=row["team_id"],
            officer_id=row["officer_id"],
            matter_type_id=row["matter_type_id"],
            source=row["source"],
            handling_mode=row["handling_mode"],
            dispatch_target=row["dispatch_target"],
        )
    if not facts:
        return facts
    if connection.vendor == "postgresql":
        # The array as its text: psycopg would dump a list element by element in Python.
        ids = RawSQL("SELECT unnest(%s::bigint[])", ("{" + ",".join(map(str, facts)) + "}",))

    calls: dict[int, CallFacts] = {}
    for row in (
        DepartmentCall.objects.filter(case_id__in=ids)
        .order_by("called_at", "pk")
        .values(
            "pk",
            "case_id",
            "department_id",
            "status",
            "called_at",
            "reported_in_at",
            "completed_at",
            "return_reason",
        )
    ):
        case = facts.get(row["case_id"])
        if case is None:
            continue
        call = CallFacts(
            id=row["pk"],
            case_id=row["case_id"],
            department_id=row["department_id"],
            status=row["status"],
            called_at=row["called_at"],
            reported_in_at=row["reported_in_at"],
            completed_at=row["completed_at"],
            return_reason=row["return_reason"],
            case=case,
        )
        calls[call.id] = call
        case.calls.append(call)

    events = defaultdict(list)
    for case_id, kind, at, data in (
        CaseEvent.objects.filter(case_id__in=ids, kind__in=EVENT_KINDS)
        .order_by("case_id", "sequence")
        .values_list("case_id", "kind", "at", "data")
    ):
        events[case_id].append((kind, at, data or {}))
    timers = defaultdict(list)
    for case_id, call_id, stage, started_at, due_at in (
        Timer.objects.filter(case_id__in=ids, stage__in=TIMER_STAGES, supervision__isnull=True)
        .order_by("case_id", "started_at", "pk")
        .values_list("case_id", "call_id", "stage", "started_at", "due_at")
    ):
        timers[case_id].append((call_id, stage, started_at, due_at))
    for row in (
        Supervision.objects.filter(case_id__in=ids, call__isnull=False)
        .order_by("opened_at", "pk")
        .values("pk", "call_id", "opened_at", "level", "stage")
    ):
        call = calls.get(row["call_id"])
        if call is not None:
            call.supervisions.append(
                SupervisionFacts(
                    id=row["pk"],
                    opened_at=row["opened_at"],
                    level=row["level"],
                    stage=row["stage"],
                    call=call,
                )
            )
    for row in Callback.objects.filter(case_id__in=ids).values(
        "pk", "case_id", "state", "called_at", "solved", "satisfaction"
    ):
        case = facts.get(row["case_id"])
        if case is not None:
            case.callback = CallbackFacts(
                id=row["pk"],
                case_id=row["case_id"],
                state=row["state"],
                called_at=row["called_at"],
                solved=row["solved"],
                satisfaction=row["satisfaction"],
                case=case,
            )

    for case in facts.values():
        dispatches = _events_read(case, events.get(case.id, []), calls)
        _timers_read(case, timers.get(case.id, []), calls, dispatches)
    return facts


def _events_read(case: CaseFacts, events: list, calls: dict[int, CallFacts]) -> list[datetime]:
    """Fill ``case`` from its events (in sequence); returns the times of its dispatches."""
    suspended_since = None
    dispatches = []
    for kind, at, data in events:
        if data.get("self_handled"):
            case.self_handled_marked = True
        if kind == EventKind.INTAKE:
            case.received_at = case.received_at or at
        elif kind == EventKind.IMPORT:
            case.imported = True
            reported = data.get("reported_at")
            case.received_at = _parse(reported) if reported else at
            if case.status == CaseStatus.CLOSED:
                case.closed_at = at
        elif kind in (EventKind.ACCEPT, EventKind.REJECT, EventKind.MERGE):
            case.answered_at = case.answered_at or at
            if kind == EventKind.ACCEPT:
                case.accepted_at = case.accepted_at or at
            if kind == EventKind.MERGE:
                case.ended_otherwise_at = at
        elif kind == EventKind.DISPATCH:
            case.dispatched_at = case.dispatched_at or at
            case.assigned_at = at
            dispatches.append(at)
        elif kind == EventKind.REASSIGN:
            case.assigned_at = at
        elif kind in (EventKind.RESOLVE, EventKind.CALLS_DONE):
            case.resolved_at = at
        elif kind == EventKind.VERIFY:
            case.closed_at = at
        elif kind in SENT_BACK_KINDS:
            case.sent_back_at.append(at)
            if kind == CALLBACK_REWORK:
                case.closed_at = None  # open again until verified again
        elif kind == EventKind.TRANSFER:
            case.ended_otherwise_at = at
        elif kind == EventKind.SUSPEND:
            suspended_since = at
        elif kind == EventKind.RESUME and suspended_since is not None:
            case.suspensions.append(Suspension(start=suspended_since, end=at))
            suspended_since = None
        elif kind == EventKind.CALL_RETURN:
            call = calls.get(data.get("call"))
            if call is not None:
                call.returned_at = at
    if suspended_since is not None:
        case.suspensions.append(Suspension(start=suspended_since, end=None))
    return dispatches


def _timers_read(
    case: CaseFacts, timers: list, calls: dict[int, CallFacts], dispatches: list[datetime]
) -> None:
    """Deadlines from the timers (ordered by start): the latest of each stage wins; the result
    deadline is the latest round's (the module's docstring)."""
    rounds: dict[int, list] = defaultdict(list)  # round -> [(stage, started_at, due_at)]
    for call_id, stage, started_at, due_at in timers:
        if stage == TimerStage.ACCEPT:
            case.accept_due = due_at
            continue
        if stage == TimerStage.CALL_REPORT_IN:
            call = calls.get(call_id)
            if call is not None:
                call.report_in_due = due_at
            continue
        if stage == TimerStage.CALL_COMPLETE:
            call = calls.get(call_id)
            if call is None:
                continue
            call.complete_due = due_at
            if call.status == CallStatus.RETURNED:
                continue  # a returned call no longer binds the case's result
        # A round begins at each dispatch; a timer started at the dispatch's instant is its own.
        rounds[bisect_right(dispatches, started_at)].append((stage, started_at, due_at))
    if rounds:
        latest = rounds[max(rounds)]
        stage, _started, due = max(latest, key=lambda timer: timer[2])
        case.result_due = due
        case.result_due_stage = stage
        round_index = max(rounds)
        case.result_started_at = (
            dispatches[round_index - 1] if round_index > 0 else min(t[1] for t in latest)
        )


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
