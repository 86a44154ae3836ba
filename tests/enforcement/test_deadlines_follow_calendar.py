"""Running deadlines follow a changed calendar: an imported notice or a local override moves
the deadlines counted over the changed days, with an event on each case; fired timers, plain
time limits and clocks restarted after a suspension stay; doing it again changes nothing."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from core.calendar import calendar_cache_clear, calendar_day_delete, calendar_day_save
from core.holiday_notice import holiday_notice_import
from enforcement import workflow
from enforcement.choices import DispatchTarget, EventKind, Severity, TimerStage, TimerState
from enforcement.events import history_verify
from enforcement.models import CaseEvent, SlaPolicy, Timer
from enforcement.timers import sla_policies_changed, timers_fire_due
from tests.core.test_holiday_notices import NOTICE_2027
from tests.enforcement import test_timers
from tests.enforcement.test_timers import intake, live, local

pytestmark = pytest.mark.django_db
# test_timers' world of people and a team, on this module's clock.
world = test_timers.world
SH = ZoneInfo("Asia/Shanghai")
# Wednesday 20 January 2027, before 2027's notice is published.
JAN_20 = datetime(2027, 1, 20, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _calendar_isolated(settings, monkeypatch):
    settings.WORKING_HOURS = []
    monkeypatch.setattr("core.calendar._package_covers", lambda year: year <= 2026)
    calendar_cache_clear()
    yield
    calendar_cache_clear()


@pytest.fixture
def clock():
    with time_machine.travel(JAN_20, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fifteen_working_days(world):
    """A major case's result in 15 working days (seed 001 counts days; a street may count
    working days)."""
    SlaPolicy.objects.create(
        matter_type=world["matter"],
        severity=Severity.MAJOR,
        stage=TimerStage.RESOLVE,
        amount=15,
        unit="working_days",
        warn_percent=80,
    )
    sla_policies_changed()


def dispatched_major(world):
    case = workflow.case_accept(case=intake(world, severity=Severity.MAJOR), actor=world["command"])
    return workflow.case_dispatch(
        case=case, actor=world["command"], target=DispatchTarget.TEAM, team=world["team"]
    )


def moves(case):
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.DEADLINE_MOVE).values_list(
            "data", flat=True
        )
    )


def test_a_provisional_deadline_shows_in_the_api(world, fifteen_working_days):
    case = dispatched_major(world)
    api = APIClient()
    api.force_authenticate(world["command"])

    timers = api.get(f"/api/v1/cases/{case.number}/").json()["timers"]

    resolve = next(t for t in timers if t["stage"] == TimerStage.RESOLVE)
    assert resolve["provisional"] is True
    assert resolve["due_at"] == "2027-02-17T00:00:00+08:00"
    assert next(t for t in timers if t["stage"] == TimerStage.ARRIVE)["provisional"] is False


def test_the_notice_moves_the_running_deadlines_it_spans_once(world, fifteen_working_days, clock):
    case = dispatched_major(world)
    resolve = live(case)[TimerStage.RESOLVE]
    opinion = live(case)[TimerStage.OPINION]  # 1 working day: Thursday, before any change
    assert local(resolve.due_at) == datetime(2027, 2, 17, tzinfo=SH)
    # A case of last week whose verification (1 working day) already fired.
    clock.move_to(datetime(2027, 1, 18, 10, 0, tzinfo=SH))
    old = intake(world, description="上周的案子")
    old = workflow.case_accept(case=old, actor=world["command"])
    old = workflow.case_dispatch(
        case=old, actor=world["command"], target=DispatchTarget.TEAM, team=world["team"]
    )
    clock.move_to(JAN_20)
    timers_fire_due()
    fired = Timer.objects.filter(case=old, state=TimerState.FIRED)
    fired_before = list(fired.values_list("pk", "due_at"))
    assert fired_before

    done = holiday_notice_import(content=NOTICE_2027.encode())

    # The make-up Saturday 01-30 counts; 02-05..02-10 are off as by rule: Feb 11, 12, 15 make
    # 13..15, so the limit ends with Monday 15 February.
    resolve.refresh_from_db()
    assert local(resolve.due_at) == datetime(2027, 2, 16, tzinfo=SH)
    assert resolve.provisional is False  # 2027 is official now
    # The warning keeps its 80% share of the time from the start.
    assert resolve.warn_at == resolve.started_at + (resolve.due_at - resolve.started_at) * 0.8
    assert resolve.next_at == resolve.warn_at
    assert moves(case) == [
        {
            "timer": resolve.pk,
            "stage": "resolve",
            "from": "2027-02-17T00:00:00+08:00",
            "to": "2027-02-16T00:00:00+08:00",
            "provisional": False,
            "reason": "已导入节假日通知：国务院办公厅关于2027年部分节假日安排的通知（测试）",
        }
    ]
    opinion.refresh_from_db()
    assert local(opinion.due_at) == datetime(2027, 1, 22, tzinfo=SH)  # unmoved, and no event
    assert list(fired.values_list("pk", "due_at")) == fired_before
    assert done.effects[0].moved == 1

    # The chain stays whole, and the same notice again moves nothing.
    assert history_verify() is None
    assert holiday_notice_import(content=NOTICE_2027.encode()).unchanged
    assert len(moves(case)) == 1


def test_a_typhoon_day_moves_a_deadline_and_removing_it_moves_it_back(world):
    case = dispatched_major(world)
    opinion = live(case)[TimerStage.OPINION]
    assert local(opinion.due_at) == datetime(2027, 1, 22, tzinfo=SH)  # end of Thursday

    calendar_day_save(day=date(2027, 1, 21), is_working_day=False, reason="台风停工")
    opinion.refresh_from_db()
    moved_to = local(opinion.due_at)
    calendar_day_save(day=date(2027, 1, 21), is_working_day=False, reason="台风停工")
    calendar_day_delete(day=date(2027, 1, 21), reason="台风解除")
    opinion.refresh_from_db()

    assert moved_to == datetime(2027, 1, 23, tzinfo=SH)  # the end of Friday
    assert local(opinion.due_at) == datetime(2027, 1, 22, tzinfo=SH)
    assert [(m["stage"], m["reason"]) for m in moves(case)] == [
        ("opinion", "台风停工"),
        ("opinion", "台风解除"),
    ]
    # The arrival clock counts minutes: no calendar moves it.
    assert all(m["stage"] != "arrive" for m in moves(case))


def test_a_passed_deadline_and_a_clock_restarted_after_a_suspension_stay(world, clock):
    case = dispatched_major(world)
    suspended = dispatched_major(world)
    workflow.case_suspend(
        case=suspended, actor=world["command"], reason="等待鉴定", approved_by=world["leader"]
    )
    clock.shift(timedelta(hours=1))
    workflow.case_resume(case=suspended, actor=world["command"])
    resumed = live(suspended)[TimerStage.OPINION]
    clock.move_to(datetime(2027, 1, 22, 0, 30, tzinfo=SH))  # the opinion was due at 00:00
    passed = live(case)[TimerStage.OPINION]

    calendar_day_save(day=date(2027, 1, 21), is_working_day=False, reason="台风停工")

    assert Timer.objects.get(pk=passed.pk).due_at == passed.due_at
    assert Timer.objects.get(pk=resumed.pk).due_at == resumed.due_at
    assert moves(case) == moves(suspended) == []
