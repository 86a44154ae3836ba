"""The case lifecycle: every allowed transition, a refusal naming the allowed states for every
other, idempotent repeats, the losing side of a compare-and-set, intake and numbering."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus, DispatchTarget, EventKind, HandlingMode
from enforcement.models import Case, CaseEvent, MatterType, Officer, Team
from enforcement.services import case_intake
from enforcement.workflow import TRANSITIONS, CaseConflict, InvalidInput, TransitionNotAllowed
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory, region_holder

pytestmark = pytest.mark.django_db
S = CaseStatus


@pytest.fixture
def world():
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    team = Team.objects.create(street=street, name="红花中队", areas=["一片区"])
    officer = Officer.objects.create(
        user=UserFactory(username="officer1"),
        team=team,
        certificate_number="32010400001",
        certificate_expires_on=date(2028, 1, 1),
    )
    return {
        "street": street,
        "cell": cell,
        "matter": matter,
        "team": team,
        "officer": officer,
        "actor": region_holder("command", "command_centre", street),
        "leader": region_holder("leader", "street_leader", street),
    }


def intake(world, **overrides):
    values = {
        "source": CaseSource.GRID_REPORT,
        "matter_type": world["matter"],
        "description": "人行道上摆摊",
        "lat": LAT,
        "lng": LNG,
    }
    return case_intake(**{**values, **overrides}).case


STEPS = {
    EventKind.ACCEPT: lambda c, w: workflow.case_accept(case=c, actor=w["actor"]),
    EventKind.REJECT: lambda c, w: workflow.case_reject(
        case=c, actor=w["actor"], reason="不属于综合执法事项"
    ),
    EventKind.DISPATCH: lambda c, w: workflow.case_dispatch(
        case=c, actor=w["actor"], target=DispatchTarget.TEAM, team=w["team"], officer=w["officer"]
    ),
    EventKind.ARRIVE: lambda c, w: workflow.case_arrive(
        case=c, actor=w["officer"].user, lat=LAT, lng=LNG
    ),
    EventKind.RESOLVE: lambda c, w: workflow.case_resolve(
        case=c, actor=w["officer"].user, result="劝离", handling_mode=HandlingMode.SERVICE
    ),
    EventKind.VERIFY: lambda c, w: workflow.case_verify(case=c, actor=w["actor"]),
    EventKind.REOPEN: lambda c, w: workflow.case_reopen(
        case=c, actor=w["actor"], reason="摊贩又回来了"
    ),
    EventKind.TRANSFER: lambda c, w: workflow.case_transfer(
        case=c, actor=w["actor"], to="police", reason="涉嫌犯罪", goods_value=Decimal("60000")
    ),
    EventKind.SUSPEND: lambda c, w: workflow.case_suspend(
        case=c, actor=w["actor"], reason="当事人住院", approved_by=w["leader"]
    ),
    EventKind.RESUME: lambda c, w: workflow.case_resume(case=c, actor=w["actor"]),
    EventKind.MERGE: lambda c, w: workflow.case_merge(
        case=c, into=intake(w, description="同一处摊贩"), actor=w["actor"], reason="同一摊点"
    ),
}
# How to bring a fresh case into each status.
PATHS = {
    S.REPORTED: [],
    S.ACCEPTED: [EventKind.ACCEPT],
    S.REJECTED: [EventKind.REJECT],
    S.DISPATCHED: [EventKind.ACCEPT, EventKind.DISPATCH],
    S.ON_SCENE: [EventKind.ACCEPT, EventKind.DISPATCH, EventKind.ARRIVE],
    S.RESOLVED: [EventKind.ACCEPT, EventKind.DISPATCH, EventKind.ARRIVE, EventKind.RESOLVE],
    S.CLOSED: [
        EventKind.ACCEPT,
        EventKind.DISPATCH,
        EventKind.ARRIVE,
        EventKind.RESOLVE,
        EventKind.VERIFY,
    ],
    S.REOPENED: [
        EventKind.ACCEPT,
        EventKind.DISPATCH,
        EventKind.ARRIVE,
        EventKind.RESOLVE,
        EventKind.REOPEN,
    ],
    S.TRANSFERRED: [EventKind.ACCEPT, EventKind.TRANSFER],
    S.SUSPENDED: [EventKind.ACCEPT, EventKind.SUSPEND],
    S.MERGED: [EventKind.MERGE],
}


def case_in(world, status):
    case = intake(world)
    for step in PATHS[status]:
        case = STEPS[step](case, world)
    assert case.status == status
    return case


# The department calls settle a whistled case themselves (tests/enforcement/test_routing.py).
BY_HAND = [action for action in TRANSITIONS if action in STEPS]
ALLOWED = [(action, source) for action in BY_HAND for source in TRANSITIONS[action].sources]
# Every other pair, except repeating the transition that led to a status (idempotent, tested below).
REFUSED = [
    (action, status)
    for action in BY_HAND
    for status in S.values
    if status not in TRANSITIONS[action].sources and PATHS[status][-1:] != [action]
]


@pytest.mark.parametrize(("action", "source"), ALLOWED)
def test_every_allowed_transition(world, action, source):
    case = case_in(world, source)
    version = case.version

    after = STEPS[action](case, world)

    expected = TRANSITIONS[action].target or S.ACCEPTED  # resume returns to where it was suspended
    assert after.status == expected
    assert after.version == version + 1
    event = after.events.order_by("-sequence").first()
    assert (event.kind, event.from_status, event.to_status) == (action, source, expected)


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_every_other_transition_is_refused_naming_the_allowed_states(world, action, status):
    case = case_in(world, status)
    events = case.events.count()

    with translation.override("en"), pytest.raises(TransitionNotAllowed) as refused:
        STEPS[action](case, world)

    with translation.override("en"):
        allowed = " or ".join(str(S(s).label).lower() for s in TRANSITIONS[action].sources)
        now = str(S(status).label).lower()
        verb = workflow.ACTION_VERBS[action]
        assert str(refused.value) == (
            f"Cannot {verb} a case that is {now}; only a case that is {allowed}."
        )
    case.refresh_from_db()
    assert (case.status, case.events.count()) == (status, events)


def test_doing_a_finished_transition_again_changes_nothing(world):
    case = case_in(world, S.ACCEPTED)
    again = workflow.case_accept(case=case, actor=world["actor"])
    assert (again.version, again.events.count()) == (case.version, 2)


def test_the_losing_side_of_a_compare_and_set_gets_a_conflict(world):
    case = case_in(world, S.ACCEPTED)
    stale = case.version
    workflow.case_dispatch(
        case=case, actor=world["actor"], target=DispatchTarget.GRID, expected_version=stale
    )

    with translation.override("en"), pytest.raises(CaseConflict) as conflict:
        workflow.case_dispatch(
            case=case,
            actor=world["actor"],
            target=DispatchTarget.TEAM,
            team=world["team"],
            expected_version=stale,
        )

    assert "was changed by someone else" in str(conflict.value)
    case.refresh_from_db()
    assert (case.dispatch_target, case.version) == (DispatchTarget.GRID, stale + 1)


def test_resume_returns_to_the_status_before_suspension(world):
    case = case_in(world, S.DISPATCHED)
    case = workflow.case_suspend(
        case=case, actor=world["actor"], reason="等待鉴定", approved_by=world["leader"]
    )
    assert (case.status, case.suspended_from) == (S.SUSPENDED, S.DISPATCHED)
    case = workflow.case_resume(case=case, actor=world["actor"])
    assert (case.status, case.suspended_from) == (S.DISPATCHED, "")


def test_rework_is_counted(world):
    case = case_in(world, S.REOPENED)
    for step in (EventKind.DISPATCH, EventKind.ARRIVE, EventKind.RESOLVE, EventKind.REOPEN):
        case = STEPS[step](case, world)
    assert case.reopen_count == 2


def test_a_transfer_to_police_below_the_criminal_threshold_is_refused(world):
    case = case_in(world, S.ACCEPTED)
    with pytest.raises(InvalidInput):
        workflow.case_transfer(
            case=case,
            actor=world["actor"],
            to="police",
            reason="x",
            goods_value=Decimal("49999.99"),
        )
    assert (
        workflow.case_transfer(
            case=case, actor=world["actor"], to="police", reason="x", goods_value=Decimal("50000")
        ).status
        == S.TRANSFERRED
    )


def test_a_12345_work_order_sent_twice_makes_one_case(world):
    first = case_intake(
        source=CaseSource.HOTLINE_12345,
        external_id="GD2026112100123",
        matter_type=world["matter"],
        description="噪声扰民",
        lat=LAT,
        lng=LNG,
    )
    second = case_intake(
        source=CaseSource.HOTLINE_12345,
        external_id="GD2026112100123",
        matter_type=world["matter"],
        description="噪声扰民（重复推送）",
        lat=LAT,
        lng=LNG,
    )

    assert (first.created, second.created, second.case.pk) == (True, False, first.case.pk)
    assert Case.objects.count() == 1


def test_intake_locates_the_cell_numbers_gap_free_and_records_the_event(world):
    cases = [intake(world) for _ in range(3)]
    year = cases[0].year
    assert [c.number for c in cases] == [
        f"{world['street'].code}-{year}-{n:06d}" for n in (1, 2, 3)
    ]
    assert {c.cell_id for c in cases} == {world["cell"].pk}
    event = CaseEvent.objects.get(case=cases[0])
    assert (event.kind, event.to_status, event.data["cell"]) == (
        EventKind.INTAKE,
        S.REPORTED,
        world["cell"].code,
    )


def test_a_failed_intake_gives_its_number_back(world):
    intake(world)
    with pytest.raises(Exception):  # noqa: B017 -- any failure inside the transaction
        intake(world, description="x", source="not-a-source")
    assert intake(world).sequence == 2


def test_an_edited_event_makes_verify_history_fail_naming_it(world):
    case = case_in(world, S.RESOLVED)
    call_command("verify_history")  # intact

    CaseEvent.objects.filter(case=case, sequence=3).update(data={"target": "grid"})

    with pytest.raises(CommandError) as broken:
        call_command("verify_history", case=case.number)
    event = CaseEvent.objects.get(case=case, sequence=3)
    assert str(broken.value) == (
        f"History broken at case {case.number}, event 3 (id {event.pk}): "
        "content does not match its hash."
    )


def test_a_deleted_event_breaks_the_chain(world):
    case = case_in(world, S.ON_SCENE)
    CaseEvent.objects.filter(case=case, sequence=2).delete()
    with pytest.raises(CommandError, match=r"event 3 .*sequence 2 is missing"):
        call_command("verify_history")
