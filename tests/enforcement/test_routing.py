"""Routing by power: a held power goes to the street's team, a missing one is whistled to the
owning department and shows as unmet demand; departments report in, complete or return."""

from datetime import date

import pytest
from django.utils import timezone, translation

from enforcement import workflow
from enforcement.choices import (
    CallStatus,
    CaseSource,
    CaseStatus,
    DispatchTarget,
    EventKind,
    HandlingMode,
)
from enforcement.models import DepartmentCall, MatterType, Team
from enforcement.services import case_intake
from enforcement.workflow import InvalidInput, WorkflowError
from powers.selectors import power_usage_report
from powers.services import catalogue_publish
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory, region_holder

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    cell = ComprehensiveCellFactory(area="一片区")
    street = cell.community.parent
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    stalls = PowerItemFactory(code="SR-002", department=city)
    fumes = PowerItemFactory(code="HB-003", department=environment)
    catalogue_publish(
        street=street,
        items=[stalls],
        effective_on=date(2024, 1, 1),
        notice_number="秦政发〔2023〕88号",
    )
    street_stalls = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    street_stalls.power_items.set([stalls])
    kitchen_fumes = MatterType.objects.create(
        code="YYRM", name="油烟扰民", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    kitchen_fumes.power_items.set([fumes])
    market = DepartmentFactory(code="SJ", name="秦淮区市场监督管理局")
    licence = PowerItemFactory(code="SJ-010", department=market)
    unlicensed_kitchen = MatterType.objects.create(
        code="WZCY", name="无证餐饮油烟", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    unlicensed_kitchen.power_items.set([fumes, licence])
    Team.objects.create(street=street, name="红花二中队", areas=["二片区"])
    team = Team.objects.create(street=street, name="红花一中队", areas=["一片区"])
    return {
        "street": street,
        "team": team,
        "stalls": street_stalls,
        "fumes": kitchen_fumes,
        "fumes_item": fumes,
        "joint": unlicensed_kitchen,
        "environment": environment,
        "actor": UserFactory(username="command"),
        "leader": region_holder("leader", "street_leader", street),
    }


def accepted(world, matter):
    case = case_intake(
        source=CaseSource.HOTLINE_12345, matter_type=matter, description="x", lat=LAT, lng=LNG
    ).case
    return workflow.case_accept(case=case, actor=world["actor"])


def test_a_held_power_goes_to_the_team_of_the_cells_area(world):
    case = workflow.case_route(case=accepted(world, world["stalls"]), actor=world["actor"])

    assert (case.status, case.dispatch_target, case.team) == (
        CaseStatus.DISPATCHED,
        DispatchTarget.TEAM,
        world["team"],
    )
    route = case.events.get(kind=EventKind.ROUTE)
    assert route.data["held"] == ["SR-002"]
    assert "SR-002" in route.data["reason"]
    assert [e.kind for e in case.events.order_by("sequence")] == [
        "intake",
        "accept",
        "route",
        "dispatch",
    ]
    today = timezone.localdate()
    report = power_usage_report(street=world["street"], start=today, end=today)
    assert [(u.item.code, u.uses) for u in report.uses] == [("SR-002", 1)]


def test_a_missing_power_is_whistled_and_counted_as_unmet_demand(world):
    case = workflow.case_route(case=accepted(world, world["fumes"]), actor=world["actor"])

    assert (case.status, case.dispatch_target, case.team) == (
        CaseStatus.DISPATCHED,
        DispatchTarget.DEPARTMENT,
        None,
    )
    call = DepartmentCall.objects.get(case=case)
    assert (call.department, call.status, call.power_item.code) == (
        world["environment"],
        CallStatus.CALLED,
        "HB-003",
    )
    today = timezone.localdate()
    report = power_usage_report(street=world["street"], start=today, end=today)
    assert [(d.item.code, d.whistled, d.refused) for d in report.unmet] == [("HB-003", 1, 0)]


def test_a_refusal_for_lack_of_power_is_unmet_demand_too(world):
    case = case_intake(
        source=CaseSource.RESIDENT, matter_type=world["fumes"], description="x", lat=LAT, lng=LNG
    ).case
    workflow.case_reject(
        case=case, actor=world["actor"], reason="街道无此权限", lacking_power=world["fumes_item"]
    )
    today = timezone.localdate()
    assert [
        (d.item.code, d.refused)
        for d in power_usage_report(street=world["street"], start=today, end=today).unmet
    ] == [("HB-003", 1)]


def test_the_department_reports_in_takes_it_on_and_completes(world):
    case = workflow.case_route(case=accepted(world, world["fumes"]), actor=world["actor"])
    call = DepartmentCall.objects.get(case=case)
    liaison = UserFactory(username="hb_liaison")

    call = workflow.call_report_in(call=call, actor=liaison)
    call = workflow.call_accept(call=call, actor=liaison)
    call = workflow.call_complete(call=call, actor=liaison, result="已责令安装油烟净化设施")

    assert (call.status, call.result) == (CallStatus.COMPLETED, "已责令安装油烟净化设施")
    assert call.reported_in_at is not None and call.completed_at is not None
    kinds = list(case.events.order_by("sequence").values_list("kind", flat=True))
    assert kinds[-4:] == ["call_report_in", "call_accept", "call_complete", "calls_done"]
    # the only department finished: the case is resolved on its result, awaiting verification
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.events.get(kind=EventKind.CALLS_DONE).data["results"] == {
        "HB": "已责令安装油烟净化设施"
    }


def test_a_joint_case_resolves_only_when_every_department_has_finished(world):
    case = workflow.case_route(case=accepted(world, world["joint"]), actor=world["actor"])
    calls = {c.department.code: c for c in DepartmentCall.objects.filter(case=case)}
    assert sorted(calls) == ["HB", "SJ"]  # 1+6+N: one call per owning department
    liaison = UserFactory()

    workflow.call_return(call=calls["SJ"], actor=liaison, reason="无证经营由环保牵头")
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED  # HB still works on it

    call = workflow.call_report_in(call=calls["HB"], actor=liaison)
    call = workflow.call_accept(call=call, actor=liaison)
    workflow.call_complete(call=call, actor=liaison, result="已取缔")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.events.get(kind=EventKind.CALLS_DONE).data["results"] == {"HB": "已取缔"}


def test_when_every_department_returns_it_the_case_comes_back_to_the_command_centre(world):
    case = workflow.case_route(case=accepted(world, world["joint"]), actor=world["actor"])
    for call in DepartmentCall.objects.filter(case=case):
        workflow.call_return(call=call, actor=UserFactory(), reason="非本部门职责")

    case.refresh_from_db()
    assert (case.status, case.dispatch_target) == (CaseStatus.ACCEPTED, "")
    back = case.events.get(kind=EventKind.CALLS_RETURNED)
    assert back.data["reasons"] == {"HB": "非本部门职责", "SJ": "非本部门职责"}
    # the command centre can now dispatch it another way
    case = workflow.case_dispatch(
        case=case, actor=world["actor"], target=DispatchTarget.TEAM, team=world["team"]
    )
    assert case.status == CaseStatus.DISPATCHED


def test_calls_ending_while_the_case_is_suspended_settle_it_on_resume(world):
    case = workflow.case_route(case=accepted(world, world["fumes"]), actor=world["actor"])
    case = workflow.case_suspend(
        case=case, actor=world["actor"], reason="当事人住院", approved_by=world["leader"]
    )
    call = DepartmentCall.objects.get(case=case)
    workflow.call_return(call=call, actor=UserFactory(), reason="待当事人出院")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUSPENDED  # a suspension is not undone by a department

    case = workflow.case_resume(case=case, actor=world["actor"])
    assert case.status == CaseStatus.ACCEPTED


def test_a_return_is_counted_and_needs_a_reason(world):
    for _ in range(2):
        case = workflow.case_route(case=accepted(world, world["fumes"]), actor=world["actor"])
        call = DepartmentCall.objects.get(case=case)
        with pytest.raises(InvalidInput):
            workflow.call_return(call=call, actor=UserFactory(), reason=" ")
        workflow.call_return(call=call, actor=UserFactory(), reason="不属于本部门职责")

    assert (
        DepartmentCall.objects.filter(
            department=world["environment"], status=CallStatus.RETURNED
        ).count()
        == 2
    )
    with (
        translation.override("en"),
        pytest.raises(WorkflowError, match="Cannot do that to a call that is returned"),
    ):
        workflow.call_accept(call=call, actor=UserFactory())


def test_a_matter_without_power_items_must_be_dispatched_by_hand(world):
    bare = MatterType.objects.create(
        code="QT", name="其他", default_handling_mode=HandlingMode.SERVICE
    )
    with pytest.raises(InvalidInput):
        workflow.case_route(case=accepted(world, bare), actor=world["actor"])


def test_routing_a_case_that_is_not_accepted_is_refused_and_records_nothing(world):
    case = case_intake(
        source=CaseSource.PATROL, matter_type=world["stalls"], description="x", lat=LAT, lng=LNG
    ).case
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.case_route(case=case, actor=world["actor"])
    assert list(case.events.values_list("kind", flat=True)) == ["intake"]


def test_a_whistled_department_must_report_in_or_be_supervised(world):
    from datetime import timedelta

    import time_machine

    from enforcement.choices import TimerStage, TimerState
    from enforcement.models import Supervision, Timer
    from enforcement.timers import timers_fire_due

    with time_machine.travel(timezone.now(), tick=False) as clock:
        case = workflow.case_route(case=accepted(world, world["joint"]), actor=world["actor"])
        calls = {c.department.code: c for c in DepartmentCall.objects.filter(case=case)}
        live = Timer.objects.filter(case=case, state=TimerState.PENDING)
        assert sorted((t.call.department.code, t.stage) for t in live) == [
            ("HB", TimerStage.CALL_REPORT_IN),
            ("SJ", TimerStage.CALL_REPORT_IN),
        ]
        workflow.call_report_in(call=calls["HB"], actor=UserFactory())
        assert Timer.objects.get(call=calls["HB"], state=TimerState.PENDING).stage == (
            TimerStage.CALL_COMPLETE
        )

        clock.shift(timedelta(minutes=31))
        timers_fire_due()

    late = Supervision.objects.get()
    assert (late.call, late.stage, late.addressee_label) == (
        calls["SJ"],
        TimerStage.CALL_REPORT_IN,
        "秦淮区市场监督管理局",
    )
