"""Demo cases for ``manage.py seed_demo``: six months of the two demo streets' work, each case
made through intake and the workflow functions at the time it happened (the clock is moved, not
the rows edited afterwards, so every history verifies).

Each case gets a planned end state; its steps then run one after another, each some minutes or
hours after the last, and the case stops where its plan ends or where the present is reached. Old
cases are mostly closed; the last days hold the cases still being worked. The mix follows the
seeds: 70/20/10 service/management/enforcement handling, sources led by grid reports and 12345."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django.utils import timezone

from enforcement import field, workflow
from enforcement.choices import (
    CaseSource,
    CaseStatus,
    DispatchTarget,
    HandlingMode,
    SupervisionState,
)
from enforcement.models import (
    Case,
    DepartmentCall,
    MatterType,
    Officer,
    Supervision,
    Team,
    Timer,
)
from enforcement.models.timers import SWEPT_STATES
from enforcement.permissions import supervision_respond_allowed
from enforcement.services import case_intake
from enforcement.supervisions import supervision_answer
from enforcement.timers import timers_fire_due
from grids.choices import GridLevel
from grids.geometry import geometry_shape
from grids.models import GridCell, Region

S = CaseStatus
DEMO_PREFIX = "DEMO-"
SPAN_DAYS = 182

SOURCES = [
    (CaseSource.GRID_REPORT, 40),
    (CaseSource.HOTLINE_12345, 25),
    (CaseSource.PATROL, 15),
    (CaseSource.VIDEO, 8),
    (CaseSource.RESIDENT, 5),
    (CaseSource.DRONE, 3),
    (CaseSource.MEDIA, 2),
    (CaseSource.DEPARTMENT, 2),
]
# The seeds' 70/20/10: most problems end with service, some with management, few with penalties.
MODES = [(HandlingMode.SERVICE, 70), (HandlingMode.MANAGEMENT, 20), (HandlingMode.ENFORCEMENT, 10)]
# End states of cases old enough to have finished.
FINISHED = [
    (S.CLOSED, 86),
    (S.REJECTED, 4),
    (S.TRANSFERRED, 2),
    (S.SUSPENDED, 2),
    (S.RESOLVED, 1),  # verification forgotten: issue #6's timers will chase these
    (S.MERGED, 5),
]
# The last cases, most of them still being worked, cycle through every state, so that the demo
# shows each whatever its size.
IN_FLIGHT = [
    S.REPORTED,
    S.ACCEPTED,
    S.DISPATCHED,
    S.ON_SCENE,
    S.RESOLVED,
    S.REOPENED,
    S.CLOSED,
    S.SUSPENDED,
    S.REJECTED,
    S.TRANSFERRED,
    S.MERGED,
]
DESCRIPTIONS = {
    CaseSource.GRID_REPORT: "网格员巡查发现：{matter}，位置见定位。",
    CaseSource.HOTLINE_12345: "市民来电反映：{matter}，影响通行和休息，要求处理。",
    CaseSource.PATROL: "执法队员巡查发现{matter}。",
    CaseSource.VIDEO: "视频监控智能识别告警：疑似{matter}。",
    CaseSource.DRONE: "无人机巡航发现：疑似{matter}。",
    CaseSource.MEDIA: "媒体曝光：{matter}问题长期未解决。",
    CaseSource.RESIDENT: "居民到社区反映{matter}。",
    CaseSource.DEPARTMENT: "区级部门移交：{matter}线索。",
}
RESULTS = {
    HandlingMode.SERVICE: "现场劝导，当事人已自行整改。",
    HandlingMode.MANAGEMENT: "责令限期整改，复查已整改到位。",
    HandlingMode.ENFORCEMENT: "依法立案查处，已责令改正。",
}


class Clock:
    """The time the demo's workflow calls see as now."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def clock_at(clock: Clock):
    with mock.patch("django.utils.timezone.now", clock):
        yield


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


class Street:
    """What the generator needs of one demo street."""

    def __init__(self, region: Region, prefix: str):
        user_model = get_user_model()
        self.region = region
        self.command = user_model.objects.get(username=f"{prefix}_command")
        self.grid = user_model.objects.get(username=f"{prefix}_grid")
        self.leader = user_model.objects.get(username=f"{prefix}_leader")
        self.teams = list(Team.objects.filter(street=region).order_by("name"))
        self.officers = {
            team.pk: list(
                Officer.objects.filter(
                    team=team, certificate_expires_on__gte=timezone.localdate()
                ).select_related("user")
            )
            for team in self.teams
        }
        self.points = []
        for cell in GridCell.objects.filter(
            community__parent=region, level=GridLevel.COMPREHENSIVE
        ).order_by("code"):
            point = geometry_shape(cell.geometry).representative_point()
            self.points.append((point.y, point.x, cell.name))


def demo_cases_seed(report, *, count: int, seed: int = 20261121) -> None:
    """Create ``count`` demo cases over the last SPAN_DAYS days, unless demo cases exist."""
    if count <= 0 or Case.objects.filter(external_id__startswith=DEMO_PREFIX).exists():
        return
    # The demo's notifications stay in the app: no SMS or webhook for six months of history.
    with override_settings(NOTIFY_CHANNELS=[]):
        _cases_make(report, count=count, seed=seed)
        report.count("sweeps", _sweeps_until_now())


def _sweeps_until_now() -> int:
    """Run the sweeper over every timer that fell due from each case's last step until now
    (the moment seeding ends), each at its due time, as the sweeper of a platform that ran all
    along would have: so the live platform's first sweep fires only what came due since it
    started, and its lateness figures are its own. Returns the number of sweeps run."""
    sweeps = 0
    while True:
        due = (
            Timer.objects.filter(state__in=SWEPT_STATES, next_at__lte=timezone.now())
            .order_by("next_at")
            .values_list("next_at", flat=True)
            .first()
        )
        if due is None:
            return sweeps
        with clock_at(Clock(due)):
            timers_fire_due()
        sweeps += 1


def _cases_make(report, *, count: int, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    user_model = get_user_model()
    liaison = user_model.objects.get(username="dept_liaison")
    streets = [
        Street(Region.objects.get(code="320104010"), "hh"),
        Street(Region.objects.get(code="320104003"), "fzm"),
    ]
    matters = list(MatterType.objects.prefetch_related("power_items").order_by("code"))
    now = timezone.now()
    start = now - timedelta(days=SPAN_DAYS)
    step = (now - start) / count
    in_flight_from = count - max(len(IN_FLIGHT) * 3, count // 60)
    made = planned_in_flight = 0
    progress = report.progress(total=count, desc="demo cases")
    while made < count:
        street = streets[made % 2]
        at = start + step * made + timedelta(seconds=rng.randint(0, int(step.total_seconds())))
        at = min(at, now - timedelta(minutes=5))
        if made >= in_flight_from:
            target = IN_FLIGHT[planned_in_flight % len(IN_FLIGHT)]
            planned_in_flight += 1
        else:
            target = _pick(rng, FINISHED)
        clock = Clock(at)
        with clock_at(clock):
            matter = rng.choice(matters)
            lat, lng, _name = rng.choice(street.points)
            case = _case_intake(rng, made, street, matter, lat, lng)
            made += 1
            if target == S.MERGED and made < count:
                # The same problem reported again within the hour: intake links the second
                # report to the first, and the command centre merges it.
                again_at = clock.at + timedelta(minutes=rng.randint(5, 60))
                _case_timers_sweep(rng, case, clock, until=again_at, street=street)
                clock.at = again_at
                again = _case_intake(
                    rng, made, street, matter, lat, lng, source=CaseSource.HOTLINE_12345
                )
                made += 1
                if again.likely_duplicate_of_id == case.pk:
                    workflow.case_merge(
                        case=again, into=case, actor=street.command, reason="同一问题重复反映"
                    )
                target = S.CLOSED
            _case_work(rng, case, street, liaison, clock, now, target)
        progress.update(made - progress.n)
    progress.close()
    report.count("cases", made)


def _case_intake(rng, n, street: Street, matter, lat, lng, source=None) -> Case:
    source = source or _pick(rng, SOURCES)
    external = f"{DEMO_PREFIX}{n + 1:06d}"
    return case_intake(
        source=source,
        external_id=external,
        matter_type=matter,
        description=DESCRIPTIONS[source].format(matter=matter.name),
        lat=lat,
        lng=lng,
        street=street.region,
        address=f"{street.region.name}{rng.randint(1, 300)}号附近",
        reporter_name="市民" if source == CaseSource.HOTLINE_12345 else "",
        reporter_phone=f"139{rng.randint(10000000, 99999999)}"
        if source == CaseSource.HOTLINE_12345
        else "",
        actor=street.grid if source == CaseSource.GRID_REPORT else street.command,
    ).case


def _case_work(rng, case: Case, street: Street, liaison, clock: Clock, now, target):
    """Run the case's steps until its target state, or until the present."""

    def later(low_minutes: int, high_minutes: int) -> bool:
        """Move the clock on; the case's timers that fell due meanwhile warn and fire as the
        sweeper would have made them (supervisions, escalations)."""
        step_at = min(clock.at + timedelta(minutes=rng.randint(low_minutes, high_minutes)), now)
        _case_timers_sweep(rng, case, clock, until=step_at, street=street)
        clock.at = step_at
        return step_at < now

    command = street.command
    if target == S.REPORTED or not later(5, 40):
        return
    if target == S.REJECTED:
        workflow.case_reject(case=case, actor=command, reason="经核实不属于综合执法事项")
        return
    case = workflow.case_accept(case=case, actor=command)
    if target == S.ACCEPTED or not later(5, 30):
        return
    if target == S.TRANSFERRED:
        workflow.case_transfer(
            case=case,
            actor=command,
            to="police",
            reason="查获物品货值达到刑事立案标准",
            goods_value=Decimal(rng.randint(50000, 120000)),
        )
        return
    try:
        case = workflow.case_route(case=case, actor=command)
    except workflow.InvalidInput:
        team = rng.choice(street.teams)
        case = workflow.case_dispatch(
            case=case, actor=command, target=DispatchTarget.TEAM, team=team
        )
    if target == S.SUSPENDED:
        if later(60, 60 * 24):
            workflow.case_suspend(
                case=case, actor=command, reason="当事人住院治疗", approved_by=street.leader
            )
        return
    if case.dispatch_target == DispatchTarget.DEPARTMENT:
        _calls_work(rng, case, liaison, later)
        case.refresh_from_db()
        if case.status != S.RESOLVED:
            return  # still with the departments, or returned to the command centre
    else:
        if target == S.DISPATCHED or not later(10, 40):
            return
        officers = street.officers[case.team_id]
        officer = rng.choice(officers) if officers else None
        actor = officer.user if officer else command
        case = _arrive(rng, case, actor, officer)
        # One case in twenty drags on for days (积案): its supervisions escalate.
        slow = rng.random() < 0.05
        if target == S.ON_SCENE or not (later(60 * 24, 60 * 24 * 4) if slow else later(20, 180)):
            return
        mode = _pick(rng, MODES)
        # A penalty step takes two certified officers (Art. 42): a team without them manages.
        pair = officers[:2]  # certificates valid today (Street.officers)
        if mode == HandlingMode.ENFORCEMENT and len(pair) < 2:
            mode = HandlingMode.MANAGEMENT
        case = workflow.case_resolve(
            case=case,
            actor=actor,
            result=RESULTS[mode],
            handling_mode=mode,
            officers=pair if mode == HandlingMode.ENFORCEMENT else (),
        )
    if target == S.RESOLVED or not later(60, 60 * 24):
        return
    if target == S.REOPENED or rng.random() < 0.04:
        case = workflow.case_reopen(case=case, actor=street.grid, reason="复查发现问题反弹")
        if target == S.REOPENED or not later(30, 60 * 6):
            return
        team = case.team or rng.choice(street.teams)
        case = workflow.case_dispatch(
            case=case, actor=command, target=DispatchTarget.TEAM, team=team
        )
        if not later(10, 60):
            return
        officers = street.officers[team.pk]
        actor = rng.choice(officers).user if officers else command
        case = workflow.case_arrive(case=case, actor=actor, lat=case.lat, lng=case.lng)
        if not later(30, 120):
            return
        case = workflow.case_resolve(
            case=case, actor=actor, result="二次整改到位", handling_mode=HandlingMode.MANAGEMENT
        )
        if not later(60, 60 * 24):
            return
    workflow.case_verify(case=case, actor=street.grid, note="复核已整改")


def _case_timers_sweep(rng, case: Case, clock: Clock, *, until, street: Street) -> None:
    """The sweeper runs all along: fire the case's timers due up to ``until``, each at the
    moment it is due (the clock stops there)."""
    while True:
        due = (
            Timer.objects.filter(case=case, state__in=SWEPT_STATES, next_at__lte=until)
            .order_by("next_at")
            .values_list("next_at", flat=True)
            .first()
        )
        if due is None:
            return
        clock.at = max(clock.at, due)
        timers_fire_due(case=case)
        # Half the supervisions are answered at once, by their addressee; the rest escalate if
        # the work stays late for another working day.
        for supervision in Supervision.objects.filter(case=case, state=SupervisionState.OPEN):
            if rng.random() < 0.5:
                answerer = _answerer(supervision, street)
                if answerer is not None:
                    supervision_answer(
                        supervision=supervision, actor=answerer, response="已督促责任人加快处置"
                    )


def _answerer(supervision: Supervision, street: Street):
    """The first demo person the supervision addresses (enforcement.permissions), or None (a
    department's: its system answers through the API; the district's)."""
    team = supervision.addressee_team_id and street.officers.get(supervision.addressee_team_id)
    candidates = [supervision.addressee, street.command, street.grid, street.leader]
    candidates += [officer.user for officer in team or ()]
    return next(
        (
            user
            for user in candidates
            if user is not None and supervision_respond_allowed(user, supervision)
        ),
        None,
    )


def _arrive(rng: random.Random, case: Case, actor, officer):
    """On scene. An officer signs in from the phone (enforcement.field): mostly on the spot and
    at once; one sign-in in eight comes from a dead spot, minutes to an hour late, and one in
    twenty-five from a position far from the case (the field-sync page and the case page's
    warning have something to show)."""
    if officer is None:
        return workflow.case_arrive(case=case, actor=actor, lat=case.lat, lng=case.lng)
    now = timezone.now()
    late = timedelta(minutes=rng.randint(8, 70)) if rng.random() < 0.125 else timedelta(0)
    metres = rng.uniform(250, 600) if rng.random() < 0.04 else rng.uniform(0, 60)
    capture = field.Capture(
        key=f"demo-{case.number}-arrive",
        captured_at=now - late - timedelta(seconds=rng.randint(1, 20)),
        lat=case.lat + metres / 111_195.0,
        lng=case.lng,
        accuracy=float(rng.choice((5, 8, 12, 20, 35))),
    )
    return field.field_arrive(case=case, actor=actor, capture=capture)


def _calls_work(rng, case: Case, liaison, later) -> None:
    for call in DepartmentCall.objects.filter(case=case).order_by("pk"):
        if not later(30, 60 * 8):
            return
        if rng.random() < 0.08:
            workflow.call_return(call=call, actor=liaison, reason="不属于本部门职责，请街道处理")
            continue
        call = workflow.call_report_in(call=call, actor=liaison)
        if not later(30, 60 * 4):
            return
        call = workflow.call_accept(call=call, actor=liaison)
        if not later(60 * 4, 60 * 72):
            return
        workflow.call_complete(call=call, actor=liaison, result="部门已到场处置完毕")
