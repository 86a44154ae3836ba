"""Callbacks (回访): the day's draw reproducible from its seed, 12345 work orders always, never
given to anyone who handled the case, and "not solved" sending the case back for rework."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from assessment.callbacks import (
    CallbackAnswer,
    callback_record,
    callback_sample,
    callbacks_draw,
    callbacks_draw_due,
    callbacks_for,
)
from assessment.choices import CallbackState, Satisfaction, Solved
from assessment.models import Callback, CallbackDraw
from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus, EventKind
from enforcement.models import Case
from tests.enforcement.api.conftest import HH, HH_GRID_CELL, intake
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


def closed(world, description: str, *, source=CaseSource.PATROL) -> Case:
    """A case of 红花街道 taken round the loop to closed today (the grid worker handles it, the
    command centre verifies)."""
    grid, command = world["users"]["hh_grid"], world["users"]["hh_command"]
    case = intake(HH_GRID_CELL, description, source=source)
    case = workflow.case_accept(case=case, actor=command)
    case = workflow.case_dispatch(case=case, actor=command, target="grid")
    case = workflow.case_arrive(case=case, actor=grid, lat=case.lat, lng=case.lng)
    case = workflow.case_resolve(case=case, actor=grid, result="已处理", handling_mode="service")
    return workflow.case_verify(case=case, actor=command)


@pytest.fixture
def caller(world):
    return world["users"]["hh_callback"]


def test_the_days_draw_is_reproducible_from_its_seed_and_takes_every_12345_order(world):
    cases = [closed(world, f"巡查发现 {n}") for n in range(30)]
    hotline = closed(world, "12345 工单", source=CaseSource.HOTLINE_12345)
    street = cases[0].street
    today = timezone.localdate()

    draw = callbacks_draw(street=street, day=today, seed="seed-2026-12-02", rate=Decimal("0.3"))

    drawn = set(draw.callbacks.values_list("case__number", flat=True))
    assert draw.candidates == 31 and draw.drawn == len(drawn)
    assert hotline.number in drawn
    again = {
        c.number
        for c in [*cases, hotline]
        if callback_sample(seed=draw.seed, rate=draw.rate, number=c.number, source=c.source)
    }
    assert again == drawn  # from the seed alone, case by case
    assert 3 <= len(drawn - {hotline.number}) <= 18  # about 30 % of 30
    # drawn once a day: a second draw is the first
    assert callbacks_draw(street=street, day=today, seed="other").pk == draw.pk
    assert CallbackDraw.objects.count() == 1


def test_the_beat_draws_the_days_that_ended_once(world):
    closed(world, "昨天结案")
    tomorrow = timezone.now() + timedelta(days=1)
    made = callbacks_draw_due(now=tomorrow, days_back=2)
    assert made == 4  # two streets, two days
    assert callbacks_draw_due(now=tomorrow, days_back=2) == 0
    assert CallbackDraw.objects.get(street__code=HH, day=timezone.localdate()).candidates == 1


def test_nobody_who_handled_the_case_is_given_its_callback(world, caller):
    case = closed(world, "回访测试", source=CaseSource.HOTLINE_12345)
    callbacks_draw(street=case.street, day=timezone.localdate(), rate=Decimal("0"))
    callback = Callback.objects.get(case=case)
    assert list(callbacks_for(caller)) == [callback]
    # the command centre verified it: even given the callback role, it is not theirs
    command = world["users"]["hh_command"]
    command.groups.add(caller.groups.get())
    assert list(callbacks_for(command)) == []
    with pytest.raises(PermissionDenied):
        callback_record(callback=callback, caller=command, answer=CallbackAnswer(reached=False))
    with pytest.raises(PermissionDenied):
        callbacks_for(UserFactory(roles=["officer"]))


def test_not_solved_sends_the_case_back_for_rework(world, caller):
    case = closed(world, "问题反弹", source=CaseSource.HOTLINE_12345)
    callbacks_draw(street=case.street, day=timezone.localdate(), rate=Decimal("0"))
    callback = Callback.objects.get(case=case)

    recorded = callback_record(
        callback=callback,
        caller=caller,
        answer=CallbackAnswer(
            reached=True,
            solved=Solved.NOT_SOLVED,
            satisfaction=Satisfaction.UNSATISFIED,
            note="摊位又回来了",
        ),
    )

    assert recorded.state == CallbackState.ANSWERED and recorded.caller == caller
    case.refresh_from_db()
    assert case.status == CaseStatus.REOPENED and case.reopen_count == 1
    kinds = list(case.events.order_by("-sequence").values_list("kind", flat=True)[:2])
    assert kinds == [EventKind.CALLBACK_REWORK, EventKind.CALLBACK]
    assert case.timers.filter(stage="dispatch", state="pending").exists()
    with pytest.raises(workflow.InvalidInput):
        callback_record(callback=callback, caller=caller, answer=CallbackAnswer(reached=False))


def test_an_unreachable_reporter_is_recorded_and_the_case_stays_closed(world, caller):
    case = closed(world, "电话打不通", source=CaseSource.HOTLINE_12345)
    callbacks_draw(street=case.street, day=timezone.localdate(), rate=Decimal("0"))
    callback = Callback.objects.get(case=case)
    with pytest.raises(workflow.InvalidInput):
        callback_record(callback=callback, caller=caller, answer=CallbackAnswer(reached=True))

    recorded = callback_record(
        callback=callback, caller=caller, answer=CallbackAnswer(reached=False, note="无人接听")
    )

    assert recorded.state == CallbackState.UNREACHABLE and recorded.solved == ""
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.events.filter(kind=EventKind.CALLBACK).get().data["reached"] is False
