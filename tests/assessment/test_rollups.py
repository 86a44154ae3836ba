"""Daily rollups (issue 17, acceptance 2): for every KPI of the registry and every dimension, the
figure from rollups equals ``kpi_compute`` from the raw tables, on a fixture of three working
days (Monday 16 to Wednesday 18 November 2026) read on Thursday 19 at 12:00, with work left
over from one day to the next (a verification, a department's completion, a callback) and some
of Thursday's own (read live); a late event corrects its day once the day is rolled up again;
rebuilding twice writes the same rows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation

from assessment.choices import CallbackState, Satisfaction, Solved
from assessment.kpis import KPIS, Scope, ScopeKind, kpi_compute, kpis_compute
from assessment.models import Callback, CallbackDraw, DailyRollup
from assessment.rollups import (
    kpi_from_rollups,
    kpis_from_rollups,
    rollup_day,
    rollup_rows,
    rollups_rebuild,
    rollups_refresh,
)
from assessment.tasks import rollups_task
from enforcement import workflow
from enforcement.choices import CaseSource, HandlingMode, TimerStage
from enforcement.models import Case, DepartmentCall, SlaPolicy
from enforcement.timers import stage_policies, timers_fire_due
from tests.assessment import test_kpis
from tests.assessment.test_kpis import (
    arrive,
    at,
    dispatch,
    intake,
    resolve,
    suspend,
    to_team,
    verify,
)
from tests.factories.grids import LAT, LNG
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
# The minimum count lowered to 1, as in the KPI tests (the small-count rule is compared on its
# own below).
_every_count_is_enough = test_kpis._every_count_is_enough
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (date(2026, 11, d) for d in range(16, 21))
DAYS = (16, 17, 18)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker):
    """The KPI tests' world (a street, a cell, two teams, a matter type) and the week below,
    made once for the module (some three hundred workflow steps) on the KPI tests' frozen clock,
    in English as the assessment tests run, in a transaction rolled back after the module's
    last test; each test runs in a savepoint of its own within it (pytest-django's ``db``), so
    what one writes (rollups, a late verification) is rolled back before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        with translation.override("en"), time_machine.travel(at(10), tick=False) as traveller:
            world = test_kpis.world.__wrapped__(traveller)
            week = week_make(world, traveller)
        yield world, week
        transaction.set_rollback(True)


@pytest.fixture
def clock():
    """The clock as the week leaves it: frozen at Thursday 19 November 2026, 12:00."""
    with time_machine.travel(at(12, day=19), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(_built, db, clock):
    return _built[0]


@pytest.fixture
def week(_built, db, clock):
    return _built[1]


def week_make(world, clock):
    """Each of Monday, Tuesday and Wednesday (day d), from 10:00:

    n1 first team: on scene 10:10 (due 10:40), resolved 10:20, verified 10:30     on time
    n2 second team: on scene 10:10, resolved 10:50, verified 11:00                late
    n3 first team: on scene 10:10, never resolved                                  open, overdue
    n4 first team: on scene 10:10, suspended 10:15, still suspended                 缓办
    n5 first team: resolved 10:20, sent back 10:25, again on scene 10:35, resolved
       10:50, verified 11:00                                                        reworked
    n6 handled in the grid (service), verified 10:05; called back the next day 08:30
       (Monday's: solved, satisfied; Tuesday's: partly, basically; Wednesday's: not solved)
    n7 whistled to CG: reported in 10:10, completed 11:00
    n8 whistled to CG: returned 10:20 (非本部门职责)
    n9 whistled to HB: never answered (the sweep at 10:31 supervises it)
    n10 received, never answered (its accept deadline 10:30 missed)
    n11 first team: on scene 10:10, resolved 10:20, verified the next day 08:30
    n12 whistled to CG: reported in 10:10 (completion due 11:10), completed the next day 08:30
    n13 handled in the grid, verified 10:05, callback unreachable 11:30

    Thursday (today, read live): the leftovers of Wednesday at 08:30, and n1 again (on time)."""
    SlaPolicy.objects.filter(stage=TimerStage.CALL_COMPLETE).update(amount=60, unit="minutes")
    stage_policies.cache_clear()
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    stalls = PowerItemFactory(code="SR-002", department=city)
    fumes = PowerItemFactory(code="HB-003", department=environment)
    liaison = UserFactory(username="liaison")
    cases, leftovers = {}, {}

    def new(d, k):
        return intake(world, (d - 16) * 14 + k)

    def whistle(d, k, items):
        case = workflow.case_accept(case=new(d, k), actor=world["command"])
        case = workflow.case_whistle(case=case, actor=world["command"], items=items)
        return case, DepartmentCall.objects.get(case=case)

    def grid(d, k):
        return workflow.case_self_handle(
            case=new(d, k),
            actor=world["grid_worker"],
            result="已劝离",
            handling_mode=HandlingMode.SERVICE,
            lat=LAT,
            lng=LNG,
        )

    def callback(case, day, state, called_at, solved="", satisfaction=""):
        draw, _created = CallbackDraw.objects.get_or_create(
            street=world["street"],
            day=day,
            defaults={
                "seed": "0" * 64,
                "rate": Decimal("1.000"),
                "candidates": 2,
                "drawn": 2,
                "drawn_at": at(10, 5, day=day.day),
            },
        )
        return Callback.objects.create(
            case=case,
            draw=draw,
            drawn_at=draw.drawn_at,
            state=state,
            called_at=called_at,
            solved=solved,
            satisfaction=satisfaction,
        )

    answers = {
        16: (Solved.SOLVED, Satisfaction.SATISFIED),
        17: (Solved.PARTLY, Satisfaction.BASICALLY),
        18: (Solved.NOT_SOLVED, Satisfaction.UNSATISFIED),
    }

    def next_morning(d):
        """08:30 of day d: the previous day's leftovers."""
        if not leftovers:
            return
        clock.move_to(at(8, 30, day=d))
        verify(world, leftovers.pop("n11"))
        call = workflow.call_accept(call=leftovers.pop("n12"), actor=liaison)
        workflow.call_complete(call=call, actor=liaison, result="已整改")
        case = leftovers.pop("n6")
        solved, satisfied = answers[d - 1]
        callback(
            case, date(2026, 11, d - 1), CallbackState.ANSWERED, at(8, 30, day=d), solved, satisfied
        )

    for d in DAYS:
        next_morning(d)
        clock.move_to(at(10, day=d))
        c = {
            k: to_team(world, new(d, k), "second" if k == 2 else "first", officer=k != 2)
            for k in (1, 2, 3, 4, 5, 11)
        }
        c[6], c[13] = grid(d, 6), grid(d, 13)
        c[7], call7 = whistle(d, 7, [stalls])
        c[8], call8 = whistle(d, 8, [stalls])
        c[9], _call9 = whistle(d, 9, [fumes])
        c[12], call12 = whistle(d, 12, [stalls])
        c[10] = new(d, 10)
        clock.move_to(at(10, 5, day=d))
        c[6], c[13] = verify(world, c[6]), verify(world, c[13])
        clock.move_to(at(10, 10, day=d))
        for k in (1, 2, 3, 4, 5, 11):
            c[k] = arrive(world, c[k])
        call7 = workflow.call_report_in(call=call7, actor=liaison)
        call12 = workflow.call_report_in(call=call12, actor=liaison)
        clock.move_to(at(10, 15, day=d))
        c[4] = suspend(world, c[4])
        clock.move_to(at(10, 20, day=d))
        c[1], c[5], c[11] = resolve(world, c[1]), resolve(world, c[5]), resolve(world, c[11])
        workflow.call_return(call=call8, actor=liaison, reason="非本部门职责")
        clock.move_to(at(10, 25, day=d))
        c[5] = workflow.case_reopen(case=c[5], actor=world["command"], reason="仍有摊位")
        clock.move_to(at(10, 30, day=d))
        c[1] = verify(world, c[1])
        c[5] = dispatch(world, c[5])
        clock.move_to(at(10, 31, day=d))
        timers_fire_due()
        clock.move_to(at(10, 35, day=d))
        c[5] = arrive(world, c[5])
        clock.move_to(at(10, 50, day=d))
        c[2], c[5] = resolve(world, c[2]), resolve(world, c[5])
        clock.move_to(at(11, day=d))
        c[2], c[5] = verify(world, c[2]), verify(world, c[5])
        call7 = workflow.call_accept(call=call7, actor=liaison)
        workflow.call_complete(call=call7, actor=liaison, result="已整改")
        clock.move_to(at(11, 30, day=d))
        callback(c[13], date(2026, 11, d), CallbackState.UNREACHABLE, at(11, 30, day=d))
        clock.move_to(at(13, day=d))
        timers_fire_due()
        leftovers.update(n11=c[11], n12=call12, n6=c[6])
        cases[d] = {k: case.pk for k, case in c.items()}
    next_morning(19)
    clock.move_to(at(10, day=19))
    today = arrive(world, to_team(world, intake(world, 43)))
    clock.move_to(at(10, 20, day=19))
    today = resolve(world, today)
    clock.move_to(at(10, 30, day=19))
    verify(world, today)
    clock.move_to(at(12, day=19))
    return {"cases": cases, "city": city, "environment": environment}


def scopes(world, week):
    street = world["street"]
    return [
        Scope.of(street.parent),
        Scope.of(street),
        Scope.of(world["cell"].community),
        Scope.of(world["cell"]),
        Scope.of(world["first"]),
        Scope.of(world["second"]),
        Scope.of(world["officer"]),
        Scope.of(week["city"]),
        Scope.of(week["environment"]),
        Scope.of_department_in(street.pk, week["city"].pk),  # the street's calls to one
        Scope.of(world["matter"]),
        Scope(ScopeKind.SOURCE, CaseSource.GRID_REPORT),
        Scope(ScopeKind.HANDLING_MODE, HandlingMode.MANAGEMENT),
        Scope(ScopeKind.HANDLING_MODE, HandlingMode.SERVICE),
    ]


def figure(result):
    """What a figure from rollups must reproduce of the raw one (the ids are the raw tables')."""
    apart = {
        name: value if isinstance(value, int) else len(value)
        for name, value in result.apart.items()
    }
    apart = {name: count for name, count in apart.items() if count}
    return (
        result.value,
        result.numerator,
        result.denominator,
        result.too_few,
        result.tally,
        apart,
    )


def mismatches(world, week, periods, *, now=None):
    wrong = []
    for start, end in periods:
        for scope in scopes(world, week):
            raws = kpis_compute(start=start, end=end, scope=scope, now=now)
            rolled = kpis_from_rollups(start=start, end=end, scope=scope, now=now)
            assert set(rolled) == set(raws) == set(KPIS)
            for code, raw in raws.items():
                if figure(raw) != figure(rolled[code]):
                    wrong.append((code, scope, start, end, figure(raw), figure(rolled[code])))
    return wrong


PERIODS = [
    (MONDAY, THURSDAY),  # rolled up whole
    (MONDAY, FRIDAY),  # and today, live
    (TUESDAY, WEDNESDAY),
    (MONDAY, TUESDAY),
    (WEDNESDAY, FRIDAY),
    (THURSDAY, FRIDAY),  # today alone
]


def test_the_fixture_exercises_every_kpi(world, week):
    raw = {
        code: kpi_compute(code, start=MONDAY, end=FRIDAY, scope=world["street"].parent)
        for code in KPIS
    }
    # every KPI counts something on the fixture (a figure of nothing proves nothing)
    assert [code for code, result in raw.items() if not result.denominator] == []
    # the district's week (worked out by kpi_compute, whose own tests are by hand): a few parts
    assert (raw["closure"].numerator, raw["closure"].denominator) == (19, 28)
    assert (raw["response"].numerator, raw["response"].denominator) == (37, 40)
    assert raw["dept_calls"].denominator == 12
    assert raw["dept_return"].tally == {"非本部门职责": 3}
    assert raw["resolution"].apart["unreachable"]


def test_rollups_equal_the_raw_figures_for_every_kpi_and_dimension(world, week, settings):
    written = rollups_rebuild(MONDAY, WEDNESDAY)
    assert set(written) == {MONDAY, TUESDAY, WEDNESDAY}
    assert mismatches(world, week, PERIODS) == []

    # and under the small-count rule
    settings.ASSESSMENT_MIN_CASES = 4
    assert mismatches(world, week, PERIODS[:2]) == []


def test_a_day_not_rolled_up_is_read_live(world, week):
    rollup_day(MONDAY)  # Tuesday and Wednesday never rolled up
    assert mismatches(world, week, [(MONDAY, FRIDAY), (TUESDAY, THURSDAY)]) == []
    assert mismatches(world, week, [(MONDAY, THURSDAY)]) == []


def test_a_figure_from_rollups_takes_two_queries(world, week, django_assert_num_queries):
    rollups_rebuild(MONDAY, WEDNESDAY)
    with django_assert_num_queries(2):
        result = kpi_from_rollups(
            "on_time_closure", start=MONDAY, end=THURSDAY, scope=world["street"]
        )
    assert (
        result.denominator
        == kpi_compute(
            "on_time_closure", start=MONDAY, end=THURSDAY, scope=world["street"]
        ).denominator
    )


def test_rebuilding_twice_changes_nothing(world, week):
    def rows():
        return list(
            DailyRollup.objects.order_by(
                "day", "kpi", "kind", "key", "second_day", "minute"
            ).values_list(
                "day",
                "kpi",
                "kind",
                "key",
                "second_day",
                "minute",
                "population",
                "excluded",
                "numerator",
                "apart",
                "tally",
            )
        )

    first = rollups_rebuild(MONDAY, WEDNESDAY)
    before = rows()
    second = rollups_rebuild(MONDAY, WEDNESDAY)
    assert first == second
    assert rows() == before
    assert len(before) == sum(first.values()) == DailyRollup.objects.count()
    assert rollup_rows(MONDAY, WEDNESDAY) == len(before) - 3  # less the three day marks


def test_today_is_never_rolled_up(world, week):
    with pytest.raises(ValueError, match="has not ended"):
        rollup_day(THURSDAY)
    assert set(rollups_rebuild(MONDAY, FRIDAY)) == {MONDAY, TUESDAY, WEDNESDAY}


def test_a_late_verification_corrects_its_day(world, week, clock):
    rollups_rebuild(MONDAY, WEDNESDAY)
    street = world["street"]
    monday_n3 = Case.objects.get(pk=week["cases"][16][3])  # due Monday 10:40, still open

    # Thursday 12:10: resolved and verified at last; a closing on a day read live is counted
    # from the raw tables at once
    clock.move_to(at(12, 10, day=19))
    verify(world, resolve(world, monday_n3))
    assert mismatches(world, week, [(MONDAY, FRIDAY)]) == []

    # Friday: Thursday rolled up; Monday's rows, written before the closing, lack it ...
    clock.move_to(at(1, day=20))
    rollup_day(THURSDAY)
    period = {"start": MONDAY, "end": FRIDAY, "scope": street}
    raw = kpi_compute("closure", **period)
    assert kpi_from_rollups("closure", **period).numerator == raw.numerator - 1

    # ... until Monday is rolled up again
    rollup_day(MONDAY)
    assert kpi_from_rollups("closure", **period).numerator == raw.numerator
    assert mismatches(world, week, [(MONDAY, FRIDAY), (MONDAY, date(2026, 11, 21))]) == []


def test_a_resume_moving_a_deadline_corrects_the_old_day(world, week, clock):
    rollups_rebuild(MONDAY, WEDNESDAY)
    street = world["street"]
    monday_n4 = Case.objects.get(pk=week["cases"][16][4])  # suspended Monday 10:15, due 10:40

    # resumed on Thursday: the 25 minutes left run again, so it falls due on Thursday, not
    # Monday
    workflow.case_resume(case=monday_n4, actor=world["command"])
    clock.move_to(at(13, day=19))
    monday = {"start": MONDAY, "end": TUESDAY, "scope": street}
    raw = kpi_compute("extension", **monday)
    stale = kpi_from_rollups("extension", **monday)
    assert stale.denominator == raw.denominator + 1  # Monday's rows still count it

    rollup_day(MONDAY)
    assert figure(kpi_from_rollups("extension", **monday)) == figure(raw)
    assert mismatches(world, week, PERIODS[:2]) == []


def test_the_beat_task_rolls_up_the_window_and_the_older_days_touched(world, week, clock, settings):
    settings.ROLLUP_DAYS_BACK = 1  # the window: yesterday alone
    rollups_rebuild(MONDAY, WEDNESDAY)
    monday_n3 = Case.objects.get(pk=week["cases"][16][3])
    clock.move_to(at(12, 10, day=19))
    verify(world, resolve(world, monday_n3))

    clock.move_to(at(0, 30, day=20))
    written = rollups_refresh()
    # Thursday (the window), and the older days on which the cases touched on Thursday count:
    # Monday (n3's deadline) and Wednesday (n11 verified, n12 completed on Thursday morning)
    assert set(written) == {MONDAY, WEDNESDAY, THURSDAY}
    assert mismatches(world, week, [(MONDAY, FRIDAY)]) == []

    settings.ROLLUP_DAYS_BACK = 35
    rows = rollups_task()
    assert (
        rows
        == DailyRollup.objects.filter(day__gte=FRIDAY - timedelta(days=35), day__lt=FRIDAY).count()
    )


def test_the_rebuild_command(world, week, capsys):
    call_command("rollups_rebuild", "--from", "2026-11-16", "--to", "2026-11-19")
    out = capsys.readouterr().out
    assert "2026-11-16: " in out and "2026-11-18: " in out
    assert "read live" in out
    assert "Rolled up 3 day(s)" in out

    for args, message in (
        (["--from", "16/11/2026", "--to", "2026-11-18"], "expected a date as YYYY-MM-DD"),
        (["--from", "2026-11-18", "--to", "2026-11-16"], "is before --from"),
        (["--from", "2026-11-19", "--to", "2026-11-20"], "only days before today"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("rollups_rebuild", *args)
