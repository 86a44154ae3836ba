"""The closed loop's clock, with a frozen clock: the workflow starts and ends timers, the sweeper
warns and fires each once, supervisions escalate, suspension pauses, policies apply to stages
started after a change."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse

from core.choices import Role
from core.models import Notification
from enforcement import workflow
from enforcement.choices import (
    CaseSource,
    DispatchTarget,
    EventKind,
    HandlingMode,
    Severity,
    SupervisionState,
    TimerStage,
    TimerState,
)
from enforcement.models import MatterType, Officer, SlaPolicy, Supervision, Team, Timer
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from enforcement.supervisions import supervision_answer
from enforcement.timers import stage_policies, timers_fire_due
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday of an ordinary working week.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    team = Team.objects.create(street=street, name="红花中队", areas=[])
    officer = Officer.objects.create(
        user=UserFactory(username="officer1", roles=[Role.OFFICER]),
        team=team,
        certificate_number="32010400001",
        certificate_expires_on=datetime(2028, 1, 1).date(),
    )
    people = {
        "command": UserFactory(username="command", roles=[Role.COMMAND_CENTRE]),
        "leader": UserFactory(username="leader", roles=[Role.STREET_LEADER]),
        "district": UserFactory(username="district", roles=[Role.DISTRICT_ADMIN]),
    }
    # Notifications go to those who may see the case (test_notification_scope.py).
    access_grant(user=people["command"], container=street)
    access_grant(user=people["leader"], container=street)
    access_grant(user=people["district"], container=street.parent)
    return {"matter": matter, "team": team, "officer": officer, **people}


def intake(world, **overrides):
    values = {
        "source": CaseSource.GRID_REPORT,
        "matter_type": world["matter"],
        "description": "人行道上摆摊",
        "lat": LAT,
        "lng": LNG,
    }
    return case_intake(**{**values, **overrides}).case


def live(case):
    return {
        t.stage: t
        for t in Timer.objects.filter(
            case=case, state__in=[TimerState.PENDING, TimerState.WARNED, TimerState.PAUSED]
        )
    }


def local(dt):
    return dt.astimezone(SHANGHAI)


def test_intake_starts_the_accept_clock_and_accepting_stops_it(world):
    case = intake(world)
    timer = live(case)[TimerStage.ACCEPT]
    assert local(timer.due_at) == MONDAY_10 + timedelta(minutes=30)
    assert local(timer.warn_at) == MONDAY_10 + timedelta(minutes=24)  # the 80% warning point

    workflow.case_accept(case=case, actor=world["command"])

    timer.refresh_from_db()
    assert timer.state == TimerState.CANCELLED
    assert set(live(case)) == {TimerStage.DISPATCH}


def test_a_case_left_alone_is_warned_supervised_and_escalated_once_each(world, clock):
    case = intake(world)
    clock.shift(timedelta(minutes=24))
    assert timers_fire_due().warned == 1
    assert Notification.objects.filter(kind="timer_warning", recipient=world["command"]).count()

    clock.shift(timedelta(minutes=6))
    report = timers_fire_due()
    assert (report.fired, report.lateness) == (1, [timedelta(0)])
    first = Supervision.objects.get()
    assert (first.level, first.stage, first.addressee_label) == (
        1,
        TimerStage.ACCEPT,
        "指挥中心",  # stored in the platform language
    )
    assert case.events.filter(kind=EventKind.SUPERVISION).count() == 1
    assert timers_fire_due().fired == 0  # nothing fires twice

    # unanswered for a working day (to the end of Tuesday): level 2, the street leader
    clock.move_to(datetime(2026, 11, 18, 0, 0, 1, tzinfo=SHANGHAI))
    timers_fire_due()
    first.refresh_from_db()
    second = Supervision.objects.get(level=2)
    assert (first.state, second.previous, second.state) == (
        SupervisionState.ESCALATED,
        first,
        SupervisionState.OPEN,
    )
    assert Notification.objects.filter(kind="supervision", recipient=world["leader"]).exists()

    # opened on Wednesday, it has to the end of Thursday; then level 3, the district, which
    # escalates no further
    clock.move_to(datetime(2026, 11, 19, 23, 59, tzinfo=SHANGHAI))
    timers_fire_due()
    assert not Supervision.objects.filter(level=3).exists()
    clock.move_to(datetime(2026, 11, 20, 0, 0, 1, tzinfo=SHANGHAI))
    timers_fire_due()
    third = Supervision.objects.get(level=3)
    assert Notification.objects.filter(kind="supervision", recipient=world["district"]).exists()
    assert not Timer.objects.filter(supervision=third).exists()
    clock.shift(timedelta(days=30))
    timers_fire_due()
    assert Supervision.objects.count() == 3


def test_an_answered_supervision_does_not_escalate(world, clock):
    case = intake(world)
    clock.shift(timedelta(minutes=31))
    timers_fire_due()
    supervision = Supervision.objects.get()

    supervision_answer(supervision=supervision, actor=world["command"], response="已安排受理")

    clock.shift(timedelta(days=5))
    timers_fire_due()
    supervision.refresh_from_db()
    assert supervision.state == SupervisionState.ANSWERED
    assert Supervision.objects.count() == 1
    assert case.events.filter(kind=EventKind.SUPERVISION_ANSWER).count() == 1


def test_doing_the_late_step_closes_its_supervision(world, clock):
    case = intake(world)
    clock.shift(timedelta(minutes=31))
    timers_fire_due()
    workflow.case_accept(case=case, actor=world["command"])
    assert Supervision.objects.get().state == SupervisionState.CLOSED
    clock.shift(timedelta(days=5))
    timers_fire_due()
    assert not Supervision.objects.filter(level=2).exists()


def test_after_downtime_every_missed_timer_fires_in_due_order_with_its_true_lateness(world, clock):
    cases = []
    for minutes in (0, 5, 10):
        clock.move_to(MONDAY_10 + timedelta(minutes=minutes))
        cases.append(intake(world, description=f"第{minutes}分钟"))
    # the platform is down from 10:10 to 12:00
    clock.move_to(MONDAY_10 + timedelta(hours=2))

    report = timers_fire_due()

    assert report.fired == 3
    assert report.lateness == [timedelta(minutes=90), timedelta(minutes=85), timedelta(minutes=80)]
    assert [s.case for s in Supervision.objects.order_by("pk")] == cases
    # the stale warnings are not sent after their deadline has passed
    assert not Notification.objects.filter(kind="timer_warning").exists()


def test_suspension_pauses_the_clocks_and_resumption_gives_back_the_time_left(world, clock):
    case = workflow.case_accept(case=intake(world), actor=world["command"])
    case = workflow.case_dispatch(
        case=case,
        actor=world["command"],
        target=DispatchTarget.TEAM,
        team=world["team"],
        officer=world["officer"],
    )
    clock.shift(timedelta(minutes=10))
    case = workflow.case_suspend(
        case=case, actor=world["command"], reason="当事人住院", approved_by=world["leader"]
    )
    assert live(case)[TimerStage.ARRIVE].state == TimerState.PAUSED

    clock.shift(timedelta(days=3))
    assert timers_fire_due().fired == 0  # a paused clock does not run
    workflow.case_resume(case=case, actor=world["command"])

    arrive = live(case)[TimerStage.ARRIVE]
    assert arrive.state == TimerState.PENDING
    assert arrive.due_at == MONDAY_10 + timedelta(days=3, minutes=10 + 20)
    clock.shift(timedelta(minutes=20))
    timers_fire_due()
    supervision = Supervision.objects.get()
    assert (supervision.stage, supervision.addressee) == (
        TimerStage.ARRIVE,
        world["officer"].user,
    )


def test_a_policy_change_applies_to_stages_started_after_it_is_read_again(world, clock):
    case = intake(world)
    SlaPolicy.objects.filter(matter_type=None, severity="", source="", stage="accept").update(
        amount=2, unit="working_hours"
    )
    assert local(live(case)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(minutes=30)
    # A process keeps the policies it read for REFERENCE_MAX_AGE seconds.
    kept = intake(world, description="又一处", lat=LAT + 0.001)
    assert local(live(kept)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(minutes=30)
    stage_policies.cache_clear()  # the minute is over
    later = intake(world, description="第三处", lat=LAT + 0.002)
    assert local(live(later)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(hours=2)


def test_a_policy_saved_in_the_admin_applies_at_once_in_that_process(world, admin_client):
    intake(world)  # the accept policies are kept now
    policy = SlaPolicy.objects.get(matter_type=None, severity="", source="", stage="accept")
    url = reverse("admin:enforcement_slapolicy_change", args=[policy.pk])
    form = {
        "stage": policy.stage,
        "matter_type": "",
        "severity": "",
        "source": "",
        "amount": 3,
        "unit": "working_hours",
        "warn_percent": policy.warn_percent,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    refused = admin_client.post(url, {**form, "unit": "hours"})
    assert refused.status_code == 200  # the form again, with its error: no such unit
    assert SlaPolicy.objects.get(pk=policy.pk).unit == "working_hours"
    later = intake(world, description="又一处", lat=LAT + 0.001)
    assert local(live(later)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(hours=3)


def test_a_12345_policy_overrides_for_hotline_work_orders(world):
    SlaPolicy.objects.create(
        source=CaseSource.HOTLINE_12345, stage=TimerStage.ACCEPT, amount=10, unit="minutes"
    )
    hotline = intake(world, source=CaseSource.HOTLINE_12345, external_id="WO-1")
    patrol = intake(world, source=CaseSource.PATROL, lat=LAT + 0.001)
    assert local(live(hotline)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(minutes=10)
    assert local(live(patrol)[TimerStage.ACCEPT].due_at) == MONDAY_10 + timedelta(minutes=30)


def test_a_major_case_gets_a_day_for_its_opinion_and_fifteen_days_for_its_result(world):
    case = workflow.case_accept(case=intake(world, severity=Severity.MAJOR), actor=world["command"])
    case = workflow.case_dispatch(
        case=case, actor=world["command"], target=DispatchTarget.TEAM, team=world["team"]
    )
    timers = live(case)
    assert set(timers) == {TimerStage.ARRIVE, TimerStage.OPINION, TimerStage.RESOLVE}
    # one working day: to the end of Tuesday; fifteen natural days
    assert local(timers[TimerStage.OPINION].due_at) == datetime(2026, 11, 18, tzinfo=SHANGHAI)
    assert local(timers[TimerStage.RESOLVE].due_at) == MONDAY_10 + timedelta(days=15)
    case = workflow.case_arrive(case=case, actor=world["officer"].user, lat=LAT, lng=LNG)
    case = workflow.case_resolve(
        case=case, actor=world["officer"].user, result="拆除", handling_mode=HandlingMode.SERVICE
    )
    assert set(live(case)) == {TimerStage.VERIFY}
    workflow.case_verify(case=case, actor=world["command"])
    assert live(case) == {}


def test_metrics_show_pending_overdue_lateness_and_open_supervisions(
    world, clock, client, settings
):
    intake(world)
    intake(world, description="二")
    clock.shift(timedelta(minutes=40))
    overdue = client.get("/metrics").content.decode()
    assert 'shaoxiang_timers_pending{stage="accept"} 2.0' in overdue
    assert "shaoxiang_timers_overdue_unfired 2.0" in overdue

    timers_fire_due()
    page = client.get("/metrics")
    text = page.content.decode()
    assert page["Content-Type"].startswith("text/plain")
    assert "shaoxiang_timers_overdue_unfired 0.0" in text
    assert 'shaoxiang_supervisions_open{level="1"} 2.0' in text
    assert 'shaoxiang_timer_lateness_seconds{quantile="0.99"} 600.0' in text

    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
