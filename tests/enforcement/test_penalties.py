"""The penalty procedure under the Administrative Penalty Law: limitation (Art. 36), two
certified officers (Art. 42), legal review before a major decision (Art. 58), first violation
(Art. 33)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import translation

from core.choices import Role
from enforcement import workflow
from enforcement.choices import CaseSource, DispatchTarget, EventKind, HandlingMode
from enforcement.models import MatterType, Officer, Team
from enforcement.penalties import (
    PenaltyRefused,
    penalty_decide,
    penalty_file,
    penalty_investigate,
    penalty_review,
)
from enforcement.services import case_intake
from grids.services import SubjectInput, subject_save
from powers.services import catalogue_publish
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory, StreetFactory, credit_code
from tests.factories.powers import PowerItemFactory
from tests.factories.users import UserFactory, region_holder

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    item = PowerItemFactory(code="SR-009", fine_min=Decimal("500"), fine_max=Decimal("30000"))
    safety = PowerItemFactory(code="YJ-001", limitation_years=5)
    catalogue_publish(
        street=street, items=[item, safety], effective_on=date(2024, 1, 1), notice_number="x"
    )
    matter = MatterType.objects.create(
        code="WJ", name="违建搭棚", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    team = Team.objects.create(street=street, name="红花一中队")
    officers = [
        Officer.objects.create(
            user=UserFactory(),
            team=team,
            certificate_number=f"3201040000{n}",
            certificate_expires_on=expiry,
        )
        for n, expiry in enumerate(
            [date(2028, 1, 1), date(2027, 6, 30), date(2026, 11, 20)], start=1
        )
    ]
    subject = subject_save(
        data=SubjectInput(
            kind="street_shop",
            name="红花五金店",
            address="应天大街1号",
            lat=LAT,
            lng=LNG,
            credit_code=credit_code(1),
        )
    )
    # files, investigates and (as the street's leader, Art. 57) decides
    actor = region_holder("leader", Role.STREET_LEADER, street)
    case = case_intake(
        source=CaseSource.PATROL,
        matter_type=matter,
        description="店外违建",
        lat=LAT,
        lng=LNG,
        subject=subject,
    ).case
    case = workflow.case_accept(case=case, actor=actor)
    case = workflow.case_dispatch(case=case, actor=actor, target=DispatchTarget.TEAM, team=team)
    return {
        "case": case,
        "item": item,
        "safety": safety,
        "valid": officers[:2],
        "expired": officers[2],
        "actor": actor,
        "matter": matter,
        "subject": subject,
    }


def refusal(call) -> str:
    with translation.override("en"), pytest.raises(PenaltyRefused) as refused:
        call()
    return str(refused.value)


def test_filing_beyond_the_limitation_period_is_refused_with_the_article(world):
    message = refusal(
        lambda: penalty_file(
            case=world["case"],
            actor=world["actor"],
            power_item=world["item"],
            violation_on=date(2024, 11, 20),
            officers=world["valid"],
        )
    )
    assert message == (
        "The violation of 2024-11-20 is beyond the limitation period of 2 years (Administrative "
        "Penalty Law, Art. 36): no penalty may be given after 2026-11-20."
    )
    # on the last day it may still be filed; a safety item has five years
    assert penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2024, 11, 21),
        officers=world["valid"],
    ).pk


def test_five_years_where_safety_is_at_stake(world):
    proceeding = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["safety"],
        violation_on=date(2022, 1, 1),
        officers=world["valid"],
    )
    assert proceeding.power_item.limitation_years == 5


def test_one_officer_or_an_expired_certificate_is_refused(world):
    one = refusal(
        lambda: penalty_file(
            case=world["case"],
            actor=world["actor"],
            power_item=world["item"],
            violation_on=date(2026, 11, 1),
            officers=world["valid"][:1],
        )
    )
    assert one == (
        "At least two officers with certificates valid on 2026-11-21 must act "
        "(Administrative Penalty Law, Art. 42)."
    )
    expired = refusal(
        lambda: penalty_file(
            case=world["case"],
            actor=world["actor"],
            power_item=world["item"],
            violation_on=date(2026, 11, 1),
            officers=[world["valid"][0], world["expired"]],
        )
    )
    assert expired.endswith("Expired certificates: 32010400003.")


def test_a_major_decision_without_legal_review_is_refused(world):
    proceeding = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
    )
    penalty_investigate(
        proceeding=proceeding,
        actor=world["actor"],
        officers=world["valid"],
        note="现场勘验、询问当事人",
    )

    message = refusal(
        lambda: penalty_decide(
            proceeding=proceeding,
            actor=world["actor"],
            decision="罚款",
            officers=world["valid"],
            fine_yuan=Decimal("20000"),
        )
    )
    assert message == (
        "A major penalty decision needs legal review first (Administrative Penalty Law, Art. 58)."
    )

    reviewer = UserFactory(username="legal", roles=[Role.LEGAL_REVIEWER])
    penalty_review(
        proceeding=proceeding, reviewer=reviewer, opinion="事实清楚，证据确凿，适用依据正确"
    )
    decided = penalty_decide(
        proceeding=proceeding,
        actor=world["actor"],
        decision="罚款",
        officers=world["valid"],
        fine_yuan=Decimal("20000"),
    )
    assert (decided.decided_on, decided.fine_yuan) == (TODAY, Decimal("20000"))
    kinds = list(world["case"].events.order_by("sequence").values_list("kind", flat=True))
    assert kinds[-4:] == [
        EventKind.PENALTY_FILE,
        EventKind.PENALTY_INVESTIGATE,
        EventKind.PENALTY_REVIEW,
        EventKind.PENALTY_DECIDE,
    ]


def test_a_minor_decision_needs_no_review_but_stays_within_the_range(world):
    proceeding = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
    )
    outside = refusal(
        lambda: penalty_decide(
            proceeding=proceeding,
            actor=world["actor"],
            decision="罚款",
            officers=world["valid"],
            fine_yuan=Decimal("100"),
        )
    )
    assert outside == "A fine of 100 yuan lies outside the range 500–30000 yuan of SR-009."
    assert penalty_decide(
        proceeding=proceeding,
        actor=world["actor"],
        decision="罚款",
        officers=world["valid"],
        fine_yuan=Decimal("800"),
    ).fine_yuan == Decimal("800")


def test_only_a_legal_reviewer_reviews(world):
    proceeding = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
    )
    assert refusal(
        lambda: penalty_review(proceeding=proceeding, reviewer=world["actor"], opinion="同意")
    ) == ("Legal review is done by a legal reviewer.")


def test_review_and_decision_are_separate_hands(world):
    # a legal reviewer who investigated the case does not review it
    handler = UserFactory(username="legal_handler", roles=[Role.LEGAL_REVIEWER])
    proceeding = penalty_file(
        case=world["case"],
        actor=handler,
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
    )
    assert refusal(
        lambda: penalty_review(proceeding=proceeding, reviewer=handler, opinion="同意")
    ) == ("Who filed or investigated a case does not review it.")
    # the reviewer, also a leader of the street, does not decide what they reviewed
    reviewer = region_holder("legal_leader", Role.LEGAL_REVIEWER, world["case"].street)
    reviewer.groups.add(Group.objects.get(name=Role.STREET_LEADER))
    penalty_review(proceeding=proceeding, reviewer=reviewer, opinion="事实清楚")
    decide = {"decision": "罚款", "officers": world["valid"], "fine_yuan": Decimal("800")}
    assert refusal(lambda: penalty_decide(proceeding=proceeding, actor=reviewer, **decide)) == (
        "Who reviewed a penalty does not decide it."
    )
    # nor does the command centre, nor another street's leader
    command = region_holder("command", Role.COMMAND_CENTRE, world["case"].street)
    assert refusal(lambda: penalty_decide(proceeding=proceeding, actor=command, **decide)) == (
        "A penalty is decided by the street's leader (Art. 57)."
    )
    other = StreetFactory(code="320104003", name="夫子庙街道")
    stranger = region_holder("fzm_leader", Role.STREET_LEADER, other)
    assert refusal(lambda: penalty_decide(proceeding=proceeding, actor=stranger, **decide)) == (
        "This case is not yours to act on."
    )
    decided = penalty_decide(proceeding=proceeding, actor=world["actor"], **decide)
    assert decided.fine_yuan == Decimal("800")


def test_first_violation_is_suggested_until_an_earlier_one_exists(world):
    first = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 3, 1),
        officers=world["valid"],
    )
    assert world["case"].events.get(kind=EventKind.PENALTY_FILE).data["first_violation"] is True

    again = case_intake(
        source=CaseSource.PATROL,
        matter_type=world["matter"],
        description="又搭了",
        lat=LAT,
        lng=LNG,
        subject=world["subject"],
    ).case
    again = workflow.case_accept(case=again, actor=world["actor"])
    penalty_file(
        case=again,
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
    )
    assert again.events.get(kind=EventKind.PENALTY_FILE).data["first_violation"] is False
    assert first.pk


def test_a_power_the_street_lacks_cannot_be_filed(world):
    other = PowerItemFactory(code="HB-009")
    assert refusal(
        lambda: penalty_file(
            case=world["case"],
            actor=world["actor"],
            power_item=other,
            violation_on=date(2026, 11, 1),
            officers=world["valid"],
        )
    ).startswith("The street does not hold HB-009 on 2026-11-21")


def test_filing_starts_the_ninety_day_clock_of_art_60_and_the_decision_stops_it(world):
    from enforcement.choices import TimerStage, TimerState
    from enforcement.models import Timer

    proceeding = penalty_file(
        case=world["case"],
        actor=world["actor"],
        power_item=world["item"],
        violation_on=date(2026, 11, 1),
        officers=world["valid"],
        filed_on=date(2026, 11, 20),
    )
    timers = {
        t.stage: t
        for t in Timer.objects.filter(case=world["case"], state=TimerState.PENDING).exclude(
            stage__in=[TimerStage.ARRIVE]
        )
    }
    shanghai = ZoneInfo("Asia/Shanghai")
    decision = timers[TimerStage.PENALTY_DECISION]
    # filed on 20 November: the 90th day is 18 February, the period ends at its end
    assert decision.due_at == datetime(2027, 2, 19, tzinfo=shanghai)
    assert decision.warn_at.astimezone(shanghai).date() == date(2027, 2, 9)  # day 80 (89%)
    assert timers[TimerStage.PENALTY_NOTICE].due_at == datetime(2027, 1, 20, tzinfo=shanghai)

    penalty_decide(
        proceeding=proceeding,
        actor=world["actor"],
        decision="罚款",
        officers=world["valid"],
        fine_yuan=Decimal("800"),
    )
    assert not Timer.objects.filter(
        case=world["case"],
        stage__in=[TimerStage.PENALTY_DECISION, TimerStage.PENALTY_NOTICE],
        state=TimerState.PENDING,
    ).exists()
