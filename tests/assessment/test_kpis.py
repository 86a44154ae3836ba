"""The KPI registry against hand-computed fixtures: each figure's numerator and denominator worked
out in a comment from a small day of cases made through the real workflow, with a frozen clock.

Every scenario happens on Monday 16 November 2026 (an ordinary working week) and is read at
12:00 that day for the period Monday 00:00 to Tuesday 00:00, Asia/Shanghai. The default SLA
policies apply (accept 30 min, arrive 30 min, an ordinary result 30 min after arrival, a
department's report-in 30 min); the department scenario shortens completion to 60 minutes."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from assessment.choices import CallbackState, Satisfaction, Solved
from assessment.facts import facts_load
from assessment.kpis import KPIS, Scope, ScopeKind, Unit, kpi_compute, kpis_compute
from assessment.models import Callback, CallbackDraw
from core.choices import Role
from enforcement import workflow
from enforcement.choices import (
    CaseSource,
    DispatchTarget,
    HandlingMode,
    TimerStage,
)
from enforcement.models import DepartmentCall, MatterType, Officer, SlaPolicy, Team
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from enforcement.timers import stage_policies, timers_fire_due
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY, TUESDAY = date(2026, 11, 16), date(2026, 11, 17)
PERIOD = {"start": MONDAY, "end": TUESDAY}


def at(hour: int, minute: int = 0, day: int = 16) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock():
    with time_machine.travel(at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _every_count_is_enough(settings):
    """The fixtures are small: the small-count rule has its own test."""
    settings.ASSESSMENT_MIN_CASES = 1


@pytest.fixture
def world(clock):
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    first = Team.objects.create(street=street, name="红花一中队", areas=[])
    second = Team.objects.create(street=street, name="红花二中队", areas=[])
    officers = [
        Officer.objects.create(
            user=UserFactory(username=f"officer{n}", roles=[Role.OFFICER]),
            team=first,
            certificate_number=f"3201040000{n}",
            certificate_expires_on=date(2028, 1, 1),
        )
        for n in (1, 2)
    ]
    command = UserFactory(username="command", roles=[Role.COMMAND_CENTRE])
    leader = UserFactory(username="leader", roles=[Role.STREET_LEADER])
    for user in (command, leader):
        access_grant(user=user, container=street)
    return {
        "cell": cell,
        "street": street,
        "matter": matter,
        "first": first,
        "second": second,
        "officer": officers[0],
        "officers": officers,
        "command": command,
        "leader": leader,
        "grid_worker": UserFactory(username="grid_worker", roles=[Role.GRID_WORKER]),
    }


def intake(world, n: int, **overrides):
    values = {
        "source": CaseSource.GRID_REPORT,
        "matter_type": world["matter"],
        "description": f"第{n}处摆摊",
        "lat": LAT + n * 0.0001,
        "lng": LNG,
    }
    return case_intake(**{**values, **overrides}).case


def to_team(world, case, team="first", officer=True):
    case = workflow.case_accept(case=case, actor=world["command"])
    return dispatch(world, case, team, officer)


def dispatch(world, case, team="first", officer=True):
    return workflow.case_dispatch(
        case=case,
        actor=world["command"],
        target=DispatchTarget.TEAM,
        team=world[team],
        officer=world["officer"] if officer else None,
    )


def arrive(world, case):
    return workflow.case_arrive(case=case, actor=world["officer"].user, lat=LAT, lng=LNG)


def resolve(world, case, mode=HandlingMode.MANAGEMENT, officers=()):
    return workflow.case_resolve(
        case=case,
        actor=world["officer"].user,
        result="已劝离",
        handling_mode=mode,
        officers=officers,
    )


def verify(world, case):
    return workflow.case_verify(case=case, actor=world["command"])


def suspend(world, case):
    return workflow.case_suspend(
        case=case, actor=world["command"], reason="当事人住院", approved_by=world["leader"]
    )


def compute(code, scope, **period):
    return kpi_compute(code, scope=scope, **(period or PERIOD))


# --- the deadlines: 按期结案率, 结案率, 延期率, 返工率, per team and officer ---------------------


@pytest.fixture
def deadlines(world, clock):
    """Nine cases dispatched at 10:00 (A2 and A3 to the second team, without an officer; the
    others to the first team's officer1), on scene at 10:10, so each result is due at 10:40:

    A1 resolved 10:20, verified 10:30                        closed on time
    A2 resolved 10:50, verified 11:00                        closed late
    A3 never resolved                                        open and overdue
    A4 suspended with approval at 10:20, still suspended     suspended at its deadline (缓办)
    A5 suspended 10:15-10:25 (deadline moved to 10:50), resolved 10:45, verified 10:48: on time
    A6 resolved 10:20, sent back 10:25, dispatched again 10:30, on scene 10:35 (due 11:05),
       resolved 10:50, verified 11:00                        reworked, closed on time
    A7 transferred (移送) at 10:20                            ended before its deadline
    A9 received 11:45, on scene 11:45 (due 12:15)            its deadline has not come at 12:00
    """
    cases = {}
    for n in range(1, 8):
        case = intake(world, n)
        second = n in (2, 3)
        cases[n] = to_team(world, case, "second" if second else "first", officer=not second)
    clock.move_to(at(10, 10))
    for n in range(1, 8):
        cases[n] = arrive(world, cases[n])
    clock.move_to(at(10, 15))
    cases[5] = suspend(world, cases[5])
    clock.move_to(at(10, 20))
    cases[1] = resolve(world, cases[1])
    cases[4] = suspend(world, cases[4])
    cases[6] = resolve(world, cases[6])
    cases[7] = workflow.case_transfer(
        case=cases[7], actor=world["command"], to="区市场监管局", reason="涉及食品安全"
    )
    clock.move_to(at(10, 25))
    cases[5] = workflow.case_resume(case=cases[5], actor=world["command"])
    cases[6] = workflow.case_reopen(case=cases[6], actor=world["command"], reason="仍有摊位")
    clock.move_to(at(10, 30))
    cases[1] = verify(world, cases[1])
    cases[6] = dispatch(world, cases[6])
    clock.move_to(at(10, 35))
    cases[6] = arrive(world, cases[6])
    clock.move_to(at(10, 45))
    cases[5] = resolve(world, cases[5])
    clock.move_to(at(10, 48))
    cases[5] = verify(world, cases[5])
    clock.move_to(at(10, 50))
    cases[2] = resolve(world, cases[2])
    cases[6] = resolve(world, cases[6])
    clock.move_to(at(11))
    cases[2] = verify(world, cases[2])
    cases[6] = verify(world, cases[6])
    clock.move_to(at(11, 45))
    cases[9] = arrive(world, to_team(world, intake(world, 9)))
    clock.move_to(at(12))
    return {n: case.pk for n, case in cases.items()}


def ids(cases, *numbers):
    return tuple(sorted(cases[n] for n in numbers))


def test_the_facts_of_the_deadlines(world, deadlines):
    facts = facts_load(deadlines.values())

    assert facts[deadlines[1]].result_due == at(10, 40)
    assert facts[deadlines[4]].result_due == at(10, 40)  # paused: the deadline as it stood
    assert facts[deadlines[4]].suspended_at_result_due
    assert facts[deadlines[5]].result_due == at(10, 50)  # 25 minutes left at 10:15, from 10:25
    assert not facts[deadlines[5]].suspended_at_result_due
    assert facts[deadlines[6]].result_due == at(11, 5)  # the latest round's
    assert facts[deadlines[6]].times_sent_back == 1
    assert facts[deadlines[7]].ended_before_result_due
    assert facts[deadlines[9]].result_due == at(12, 15)


def test_on_time_closure_divides_by_the_cases_that_fell_due_open_or_closed(world, deadlines):
    result = compute("on_time_closure", world["street"])

    # Deadlines fallen on Monday by 12:00: A1-A7 (A9's is at 12:15). Left out: A4 (suspended at
    # its deadline) and A7 (transferred before it). 应结案 = A1 A2 A3 A5 A6 = 5, of which
    # resolved by their deadline and verified: A1 (10:20 ≤ 10:40), A5 (10:45 ≤ 10:50), A6 (its
    # second result 10:50 ≤ 11:05) = 3; A2's result came at 10:50, after 10:40. 3 / 5 = 60.0%.
    # The open overdue A3 counts against; "closed on time ÷ closed" would say 75%.
    assert (result.numerator, result.denominator, result.value) == (3, 5, Decimal("60.0"))
    assert result.denominator_ids == ids(deadlines, 1, 2, 3, 5, 6)
    assert result.numerator_ids == ids(deadlines, 1, 5, 6)
    assert result.excluded_ids == ids(deadlines, 4, 7)
    assert result.ranked


def test_closure_counts_the_cases_closed_by_the_periods_end(world, deadlines):
    result = compute("closure", world["street"])

    # 应结案 as above = A1 A2 A3 A5 A6 = 5; closed before the period's end (and by 12:00): A1,
    # A2 (late, but closed), A5, A6 = 4. 4 / 5 = 80.0%.
    assert (result.numerator, result.denominator, result.value) == (4, 5, Decimal("80.0"))
    assert result.numerator_ids == ids(deadlines, 1, 2, 5, 6)

    # Read for the period ending at 10:59, A2 (verified at 11:00) is not yet closed, and only
    # the deadlines before then fall: A1-A7 less A6 (due 11:05) = A1 A2 A3 A5 after exclusions;
    # closed before 10:59: A1, A5. 2 / 4 = 50.0%.
    early = compute("closure", world["street"], start=MONDAY, end=at(10, 59))
    assert (early.numerator, early.denominator, early.value) == (2, 4, Decimal("50.0"))


def test_extension_counts_the_cases_suspended_while_their_deadline_ran(world, deadlines):
    result = compute("extension", world["street"])

    # Deadlines fallen: A1-A7; left out only A7 (transferred before it): 6. Suspended with
    # approval while the result clock ran: A4 (still suspended) and A5 (10:15-10:25) = 2.
    # 2 / 6 = 33.3%.
    assert (result.numerator, result.denominator, result.value) == (2, 6, Decimal("33.3"))
    assert result.numerator_ids == ids(deadlines, 4, 5)
    assert not result.kpi.higher_is_better


def test_rework_counts_closed_cases_sent_back_at_least_once(world, deadlines):
    result = compute("rework", world["street"])

    # Verified and closed on Monday: A1, A2, A5, A6 = 4; sent back at least once: A6. 1 / 4 =
    # 25.0%.
    assert (result.numerator, result.denominator, result.value) == (1, 4, Decimal("25.0"))
    assert result.numerator_ids == ids(deadlines, 6)


def test_per_team_and_officer_caseload_on_time_rate_and_rework(world, deadlines):
    first, second = Scope.of(world["first"]), Scope.of(world["second"])
    officer = Scope.of(world["officer"])

    # Caseload, on the day of the (last) dispatch: the first team holds A1 A4 A5 A6 A7 A9 = 6,
    # all with officer1; the second A2 A3 = 2; the street 8.
    assert compute("caseload", first).value == Decimal(6)
    assert compute("caseload", officer).value == Decimal(6)
    assert compute("caseload", second).value == Decimal(2)
    assert compute("caseload", world["street"]).denominator_ids == ids(
        deadlines, 1, 2, 3, 4, 5, 6, 7, 9
    )
    # On time: the first team's 应结案 = A1 A5 A6 (A4, A7 left out), all on time: 3 / 3 =
    # 100.0%; the second's = A2 A3, neither on time: 0 / 2 = 0.0%.
    on_time = [compute("on_time_closure", scope) for scope in (first, officer, second)]
    assert [(r.numerator, r.denominator, r.value) for r in on_time] == [
        (3, 3, Decimal("100.0")),
        (3, 3, Decimal("100.0")),
        (0, 2, Decimal("0.0")),
    ]
    # Rework: the first team closed A1 A5 A6, A6 reworked: 1 / 3 = 33.3%; the second closed
    # A2, not reworked: 0 / 1 = 0.0%.
    rework = [compute("rework", scope) for scope in (first, second)]
    assert [(r.numerator, r.denominator, r.value) for r in rework] == [
        (1, 3, Decimal("33.3")),
        (0, 1, Decimal("0.0")),
    ]


def test_a_result_on_time_counts_once_it_is_verified(world, deadlines, clock):
    # A8, received at 12:00 and on scene at once (due 12:30), resolved at 12:10 and not yet
    # verified; read at 13:00 the deadlines fallen are those above and A9's (12:15, never
    # resolved) and A8's: 应结案 = A1 A2 A3 A5 A6 A8 A9 = 7, on time A1 A5 A6 = 3 (A8's result
    # was on time, but nobody has verified it). 3 / 7 = 42.9%.
    a8 = arrive(world, to_team(world, intake(world, 8)))
    clock.move_to(at(12, 10))
    a8 = resolve(world, a8)
    clock.move_to(at(13))
    result = compute("on_time_closure", world["street"])
    assert (result.numerator, result.denominator, result.value) == (3, 7, Decimal("42.9"))
    assert a8.pk in result.denominator_ids and a8.pk not in result.numerator_ids

    # Verified at 13:10 (after its deadline: verification has its own clock): 4 / 7 = 57.1%.
    clock.move_to(at(13, 10))
    verify(world, a8)
    assert compute("on_time_closure", world["street"]).value == Decimal("57.1")


def test_a_rate_over_too_few_cases_is_not_a_figure_and_never_ranked(world, deadlines, settings):
    # 按期结案率 has 5 cases in its denominator (above): under a minimum of 6 it is "too few".
    settings.ASSESSMENT_MIN_CASES = 6
    result = compute("on_time_closure", world["street"])
    assert (result.too_few, result.value, result.ranked) == (True, None, False)
    # the counts stay, for the drill-down
    assert (result.numerator, result.denominator) == (3, 5)
    # a count is never too few
    assert compute("caseload", world["street"]).value == Decimal(8)

    settings.ASSESSMENT_MIN_CASES = 5
    assert compute("on_time_closure", world["street"]).value == Decimal("60.0")


def test_all_kpis_at_once_take_six_queries(world, deadlines, django_assert_num_queries):
    with django_assert_num_queries(6):
        results = kpis_compute(scope=world["street"], **PERIOD)

    assert set(results) == set(KPIS)
    assert results["on_time_closure"].value == Decimal("60.0")


def test_other_areas_and_days_see_none_of_it(world, deadlines):
    other = ComprehensiveCellFactory(lat=LAT + 1)  # another community's cell, far away
    assert compute("on_time_closure", Scope.of(other)).denominator == 0
    assert compute("on_time_closure", Scope.of(world["cell"])).denominator == 5
    assert compute("on_time_closure", Scope.of(world["cell"].community)).denominator == 5
    assert compute("on_time_closure", Scope.of(world["street"].parent)).denominator == 5
    tuesday = compute("on_time_closure", world["street"], start=TUESDAY, end=date(2026, 11, 18))
    assert (tuesday.denominator, tuesday.value, tuesday.too_few) == (0, None, True)


# --- 响应率 -----------------------------------------------------------------------------------


def test_response_counts_reports_answered_by_their_accept_deadline(world, clock):
    # Received at 10:00, so each accept deadline is 10:30:
    # B1 accepted 10:10 (in time); B2 accepted 10:40 (late); B3 rejected with a reason 10:20 (an
    # answer in time); B4 never answered (late); B5 handled in the grid at 10:00 (accepted at
    # once). B6 is received after the accept policy was removed: no deadline, not counted.
    cases = {n: intake(world, n) for n in range(1, 6)}
    workflow.case_self_handle(
        case=cases[5],
        actor=world["grid_worker"],
        result="已劝离",
        handling_mode=HandlingMode.SERVICE,
        lat=LAT,
        lng=LNG,
    )
    clock.move_to(at(10, 10))
    workflow.case_accept(case=cases[1], actor=world["command"])
    clock.move_to(at(10, 20))
    workflow.case_reject(case=cases[3], actor=world["command"], reason="非本街道辖区")
    clock.move_to(at(10, 40))
    workflow.case_accept(case=cases[2], actor=world["command"])
    SlaPolicy.objects.filter(stage=TimerStage.ACCEPT).delete()
    stage_policies.cache_clear()
    cases[6] = intake(world, 6)
    clock.move_to(at(12))

    result = compute("response", world["street"])

    # Accept deadlines fallen (10:30): B1-B5 = 5; answered by them: B1, B3, B5 = 3. 3 / 5 =
    # 60.0%.
    assert (result.numerator, result.denominator, result.value) == (3, 5, Decimal("60.0"))
    assert result.numerator_ids == tuple(sorted(cases[n].pk for n in (1, 3, 5)))
    assert cases[6].pk not in result.denominator_ids

    # In a period ending at 10:20 no accept deadline falls: nobody has missed one yet.
    early = compute("response", world["street"], start=MONDAY, end=at(10, 20))
    assert (early.numerator, early.denominator) == (0, 0)


# --- 自处置率, 网格自处置率, the 70/20/10 split ---------------------------------------------------


@pytest.fixture
def closed(world, clock):
    """Four cases closed on Monday:
    C1 handled in the grid by its grid worker (service)
    C2 the street's team, management
    C3 whistled to the city management bureau, which completed it (management, the default)
    C4 the street's team, a penalty by two certified officers (enforcement)"""
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    item = PowerItemFactory(code="SR-002", department=city)
    cases = {n: intake(world, n) for n in range(1, 5)}
    workflow.case_self_handle(
        case=cases[1],
        actor=world["grid_worker"],
        result="已劝离",
        handling_mode=HandlingMode.SERVICE,
        lat=LAT,
        lng=LNG,
    )
    resolve(world, arrive(world, to_team(world, cases[2])))
    whistled = workflow.case_whistle(
        case=workflow.case_accept(case=cases[3], actor=world["command"]),
        actor=world["command"],
        items=[item],
    )
    call = DepartmentCall.objects.get(case=whistled)
    liaison = UserFactory(username="cg_liaison")
    call = workflow.call_accept(
        call=workflow.call_report_in(call=call, actor=liaison), actor=liaison
    )
    workflow.call_complete(call=call, actor=liaison, result="已责令整改")
    resolve(
        world,
        arrive(world, to_team(world, cases[4])),
        mode=HandlingMode.ENFORCEMENT,
        officers=world["officers"],
    )
    clock.move_to(at(11))
    for case in cases.values():
        case.refresh_from_db()
        verify(world, case)
    clock.move_to(at(12))
    return {n: case.pk for n, case in cases.items()}


def test_self_handling_counts_closed_cases_no_department_was_called_for(world, closed):
    result = compute("self_handling", world["street"])

    # Closed on Monday: C1-C4 = 4; handled by the street itself: C1 (grid), C2 and C4 (team) =
    # 3. 3 / 4 = 75.0%.
    assert (result.numerator, result.denominator, result.value) == (3, 4, Decimal("75.0"))
    assert result.numerator_ids == ids(closed, 1, 2, 4)


def test_grid_self_handling_counts_the_grid_alone(world, closed):
    result = compute("grid_self_handling", world["street"])

    # Closed: 4; handled in the grid: C1. 1 / 4 = 25.0%.
    assert (result.numerator, result.denominator, result.value) == (1, 4, Decimal("25.0"))
    assert result.numerator_ids == ids(closed, 1)


def test_the_handling_mode_split_of_closed_cases_beside_the_seeds_70_20_10(world, closed):
    results = kpis_compute(
        ["mode_service", "mode_management", "mode_enforcement"], scope=world["street"], **PERIOD
    )

    # Closed: 4. Service: C1 = 1/4 = 25.0%; management: C2, C3 = 2/4 = 50.0%; enforcement: C4 =
    # 1/4 = 25.0%; beside the seed's 70, 20 and 10.
    assert [(r.numerator, r.denominator, r.value, r.kpi.benchmark) for r in results.values()] == [
        (1, 4, Decimal("25.0"), Decimal(70)),
        (2, 4, Decimal("50.0"), Decimal(20)),
        (1, 4, Decimal("25.0"), Decimal(10)),
    ]


# --- the departments ---------------------------------------------------------------------------


@pytest.fixture
def departments(world, clock):
    """Six cases whistled at 10:00 (report-in due 10:30; completion, shortened to 60 minutes,
    due an hour after report-in):

    D1 CG: reported in 10:10, completed 11:00 (due 11:10)
    D2 CG: the sweep at 10:31 supervises it; reported in 10:45, completed 11:30 (due 11:45)
    D3 CG: returned at 10:20 without reporting in: 非本部门职责
    D4 CG: reported in 10:05, returned at 10:50 (completion was due 11:05): 非本部门职责
    D5 HB: never answered (supervised at 10:31)
    D6 CG and HB together: HB returns at 10:15 (由城管牵头); CG reports in 10:20 and never
       completes (due 11:20: supervised by the sweep at 12:00)"""
    SlaPolicy.objects.filter(stage=TimerStage.CALL_COMPLETE).update(amount=60, unit="minutes")
    stage_policies.cache_clear()
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    stalls = PowerItemFactory(code="SR-002", department=city)
    fumes = PowerItemFactory(code="HB-003", department=environment)
    items = {1: [stalls], 2: [stalls], 3: [stalls], 4: [stalls], 5: [fumes], 6: [stalls, fumes]}
    calls = {}
    for n, called in items.items():
        case = workflow.case_accept(case=intake(world, n), actor=world["command"])
        workflow.case_whistle(case=case, actor=world["command"], items=called)
        for call in DepartmentCall.objects.filter(case=case).select_related("department"):
            calls[(n, call.department.code)] = call
    liaison = UserFactory(username="liaison")

    def step(key, action, **kwargs):
        calls[key] = action(call=calls[key], actor=liaison, **kwargs)

    def complete(key):
        step(key, workflow.call_accept)
        step(key, workflow.call_complete, result="已整改")

    clock.move_to(at(10, 5))
    step((4, "CG"), workflow.call_report_in)
    clock.move_to(at(10, 10))
    step((1, "CG"), workflow.call_report_in)
    clock.move_to(at(10, 15))
    step((6, "HB"), workflow.call_return, reason="由城管牵头")
    clock.move_to(at(10, 20))
    step((3, "CG"), workflow.call_return, reason="非本部门职责")
    step((6, "CG"), workflow.call_report_in)
    clock.move_to(at(10, 31))
    timers_fire_due()
    clock.move_to(at(10, 45))
    step((2, "CG"), workflow.call_report_in)
    clock.move_to(at(10, 50))
    step((4, "CG"), workflow.call_return, reason="非本部门职责")
    clock.move_to(at(11))
    complete((1, "CG"))
    clock.move_to(at(11, 30))
    complete((2, "CG"))
    clock.move_to(at(12))
    timers_fire_due()
    return {
        "city": Scope.of(city),
        "environment": Scope.of(environment),
        "calls": {key: call.pk for key, call in calls.items()},
    }


def call_ids(departments, *keys):
    return tuple(sorted(departments["calls"][key] for key in keys))


def test_the_facts_of_a_whistled_case(departments):
    calls = departments["calls"]
    case_ids = set(
        DepartmentCall.objects.filter(pk__in=calls.values()).values_list("case_id", flat=True)
    )
    facts = {call.id: call for case in facts_load(case_ids).values() for call in case.calls}

    d1 = facts[calls[(1, "CG")]]
    assert (d1.report_in_due, d1.reported_in_at, d1.complete_due, d1.completed_at) == (
        at(10, 30),
        at(10, 10),
        at(11, 10),
        at(11),
    )
    # a whistled case is due when its last department not returning it is: D6 by CG's 11:20
    assert d1.case.result_due == at(11, 10)
    assert facts[calls[(6, "CG")]].case.result_due == at(11, 20)
    assert facts[calls[(6, "HB")]].returned_at == at(10, 15)


def test_calls_received_per_department(departments, world):
    # CG: D1 D2 D3 D4 D6 = 5; HB: D5 D6 = 2; the street: 7.
    assert compute("dept_calls", departments["city"]).value == Decimal(5)
    assert compute("dept_calls", departments["environment"]).value == Decimal(2)
    assert compute("dept_calls", world["street"]).value == Decimal(7)


def test_on_time_report_in_leaves_out_a_return_before_the_deadline(departments):
    city = compute("dept_report_in_on_time", departments["city"])

    # CG's report-in deadlines (10:30) fell for D1 D2 D3 D4 D6; left out D3 (returned at 10:20
    # without reporting in: counted in 退回率). Reported in by 10:30: D1 (10:10), D4 (10:05), D6
    # (10:20); D2 at 10:45 is late. 3 / 4 = 75.0%.
    assert (city.numerator, city.denominator, city.value) == (3, 4, Decimal("75.0"))
    assert city.excluded_ids == call_ids(departments, (3, "CG"))
    # HB: D5 never reported in; D6 returned at 10:15, left out. 0 / 1 = 0.0%.
    environment = compute("dept_report_in_on_time", departments["environment"])
    assert (environment.numerator, environment.denominator, environment.value) == (
        0,
        1,
        Decimal("0.0"),
    )


def test_return_rate_tallies_the_reasons(departments):
    city = compute("dept_return", departments["city"])

    # CG: 5 calls, returned D3 and D4, both 非本部门职责. 2 / 5 = 40.0%.
    assert (city.numerator, city.denominator, city.value) == (2, 5, Decimal("40.0"))
    assert city.tally == {"非本部门职责": 2}
    assert city.numerator_ids == call_ids(departments, (3, "CG"), (4, "CG"))
    assert city.ids_of == "calls"
    # HB: 2 calls, D6 returned. 1 / 2 = 50.0%.
    environment = compute("dept_return", departments["environment"])
    assert (environment.value, environment.tally) == (Decimal("50.0"), {"由城管牵头": 1})


def test_completion_rate_counts_a_return_as_not_completed(departments):
    city = compute("dept_completion", departments["city"])

    # CG: 5 calls; completed D1, D2. 2 / 5 = 40.0%.
    assert (city.numerator, city.denominator, city.value) == (2, 5, Decimal("40.0"))


def test_on_time_completion_leaves_out_a_return_before_the_deadline(departments):
    city = compute("dept_complete_on_time", departments["city"])

    # Completion deadlines fallen by 12:00: D1 11:10, D2 11:45, D4 11:05, D6 11:20 (D3 never
    # reported in: it has none); left out D4 (returned at 10:50, before its deadline). Completed
    # by the deadline: D1 (11:00), D2 (11:30); D6 never. 2 / 3 = 66.7%.
    assert (city.numerator, city.denominator, city.value) == (2, 3, Decimal("66.7"))
    assert city.excluded_ids == call_ids(departments, (4, "CG"))


def test_median_time_to_report_in(departments):
    city = compute("dept_report_in_time", departments["city"])

    # CG reported in on Monday: D4 after 5 minutes, D1 10, D6 20, D2 45: the lower middle of
    # [5, 10, 20, 45] is 10 minutes.
    assert (city.denominator, city.value, city.kpi.unit) == (4, Decimal(10), Unit.MINUTES)


def test_median_time_to_complete(departments):
    city = compute("dept_complete_time", departments["city"])

    # CG completed on Monday: D1 after 60 minutes, D2 after 90: the lower middle is 60.
    assert (city.denominator, city.value) == (2, Decimal(60))


def test_supervisions_received_per_department(departments):
    city = compute("dept_supervisions", departments["city"])

    # CG: D2's late report-in (10:31) and D6's late completion (12:00) = 2; HB: D5's report-in
    # = 1. The cases' own supervisions (D3's and D4's dispatch after every department returned
    # them) are not the departments'.
    assert city.value == Decimal(2)
    assert city.ids_of == "supervisions"
    assert compute("dept_supervisions", departments["environment"]).value == Decimal(1)


# --- 解决率 and 满意率, from the callbacks ------------------------------------------------


@pytest.fixture
def callbacks(world, clock):
    """Six cases handled in the grid and closed at 10:00, called back:

    E1 reached Monday 11:00: solved, satisfied
    E2 reached Monday 11:10: partly solved, basically satisfied
    E3 reached Monday 11:20: not solved, unsatisfied
    E4 unreachable, Monday 11:30
    E5 still waiting to be called
    E6 reached Tuesday 09:00: solved, satisfied (another period)"""
    cases = {}
    for n in range(1, 7):
        case = workflow.case_self_handle(
            case=intake(world, n),
            actor=world["grid_worker"],
            result="已劝离",
            handling_mode=HandlingMode.SERVICE,
            lat=LAT,
            lng=LNG,
        )
        cases[n] = verify(world, case)
    draw = CallbackDraw.objects.create(
        street=world["street"],
        day=MONDAY,
        seed="0" * 64,
        rate=Decimal("1.000"),
        candidates=6,
        drawn=6,
        drawn_at=at(10),
    )
    answers = {
        1: (CallbackState.ANSWERED, at(11), Solved.SOLVED, Satisfaction.SATISFIED),
        2: (CallbackState.ANSWERED, at(11, 10), Solved.PARTLY, Satisfaction.BASICALLY),
        3: (CallbackState.ANSWERED, at(11, 20), Solved.NOT_SOLVED, Satisfaction.UNSATISFIED),
        4: (CallbackState.UNREACHABLE, at(11, 30), "", ""),
        5: (CallbackState.WAITING, None, "", ""),
        6: (CallbackState.ANSWERED, at(9, day=17), Solved.SOLVED, Satisfaction.SATISFIED),
    }
    for n, (state, called_at, solved, satisfaction) in answers.items():
        Callback.objects.create(
            case=cases[n],
            draw=draw,
            drawn_at=at(10),
            state=state,
            called_at=called_at,
            solved=solved,
            satisfaction=satisfaction,
        )
    clock.move_to(at(12, day=17))
    return {n: case.pk for n, case in cases.items()}


def test_resolution_divides_by_the_answered_calls_only(world, callbacks):
    result = compute("resolution", world["street"])

    # Reached on Monday: E1 E2 E3 = 3 (E4 unreachable: apart; E5 not called; E6 on Tuesday).
    # Solved: E1 (partly solved is not solved). 1 / 3 = 33.3%.
    assert (result.numerator, result.denominator, result.value) == (1, 3, Decimal("33.3"))
    assert result.apart == {"unreachable": ids(callbacks, 4)}
    assert result.denominator_ids == ids(callbacks, 1, 2, 3)


def test_satisfaction_counts_satisfied_and_basically_satisfied(world, callbacks):
    result = compute("satisfaction", world["street"])

    # Reached on Monday: E1 E2 E3 = 3; satisfied or basically satisfied: E1, E2. 2 / 3 = 66.7%;
    # E4 unreachable counted apart.
    assert (result.numerator, result.denominator, result.value) == (2, 3, Decimal("66.7"))
    assert result.apart == {"unreachable": ids(callbacks, 4)}
    tuesday = compute("satisfaction", world["street"], start=TUESDAY, end=date(2026, 11, 18))
    assert (tuesday.numerator, tuesday.denominator) == (1, 1)  # E6


# --- the registry itself ------------------------------------------------------------------------

# Each KPI's hand-computed test above.
TESTED = {
    "on_time_closure",
    "closure",
    "extension",
    "rework",
    "response",
    "resolution",
    "satisfaction",
    "self_handling",
    "grid_self_handling",
    "mode_service",
    "mode_management",
    "mode_enforcement",
    "dept_calls",
    "dept_report_in_on_time",
    "dept_return",
    "dept_completion",
    "dept_complete_on_time",
    "dept_report_in_time",
    "dept_complete_time",
    "dept_supervisions",
    "caseload",
}


def test_every_kpi_is_declared_whole_and_tested():
    assert set(KPIS) == TESTED
    for kpi in KPIS.values():
        assert kpi.name and kpi.name_zh and kpi.definition and kpi.source, kpi.code
        assert kpi.unit in (Unit.PERCENT, Unit.COUNT, Unit.MINUTES)
        assert (kpi.unit == Unit.PERCENT) == bool(kpi.numerator or kpi.numerator_by), kpi.code
        assert (kpi.unit == Unit.MINUTES) == (kpi.duration is not None), kpi.code
        assert kpi.scopes and set(kpi.scopes) <= set(vars(ScopeKind).values()), kpi.code
