"""Real concurrency on PostgreSQL: parallel intakes keep numbers gap-free; of two dispatchers
acting on one case at once exactly one wins. SQLite serialises writers by itself (and its test
database is in memory, per connection), so these run in CI's PostgreSQL run."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from enforcement import workflow
from enforcement.choices import CaseSource, DispatchTarget, HandlingMode
from enforcement.models import Case, MatterType, Officer, Team
from enforcement.services import case_intake
from enforcement.workflow import CaseConflict
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

# serialized_rollback: the data migrations' rows (roles, SLA policies) come back after the flush.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL: this runs in CI's PostgreSQL run")
    cell = ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    team = Team.objects.create(street=cell.community.parent, name="红花中队")
    other = Team.objects.create(street=cell.community.parent, name="红花二中队")
    Officer.objects.create(
        user=UserFactory(),
        team=team,
        certificate_number="1",
        certificate_expires_on=date(2030, 1, 1),
    )
    return {
        "matter": matter,
        "team": team,
        "other": other,
        "actor": UserFactory(username="command"),
    }


def run_together(count: int, work) -> list:
    """Start ``count`` threads at once (a barrier), each with its own database connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # the outcome, success or error, is what the test reads
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_parallel_intakes_get_gap_free_numbers(world):
    results = run_together(
        12,
        lambda i: (
            case_intake(
                source=CaseSource.PATROL,
                matter_type=world["matter"],
                description=f"巡查发现{i}",
                lat=LAT,
                lng=LNG,
            ).case.sequence
        ),
    )

    assert sorted(results) == list(range(1, 13)), results
    assert Case.objects.count() == 12


def test_the_same_work_order_in_parallel_makes_one_case(world):
    results = run_together(
        6,
        lambda i: (
            case_intake(
                source=CaseSource.HOTLINE_12345,
                external_id="GD-1",
                matter_type=world["matter"],
                description="重复推送",
                lat=LAT,
                lng=LNG,
            ).case.pk
        ),
    )

    assert len(set(results)) == 1, results
    assert Case.objects.count() == 1


def test_of_two_concurrent_dispatches_exactly_one_wins(world):
    case = case_intake(
        source=CaseSource.PATROL, matter_type=world["matter"], description="x", lat=LAT, lng=LNG
    ).case
    case = workflow.case_accept(case=case, actor=world["actor"])
    teams = [world["team"], world["other"]]

    results = run_together(
        2,
        lambda i: workflow.case_dispatch(
            case=case,
            actor=world["actor"],
            target=DispatchTarget.TEAM,
            team=teams[i],
            expected_version=case.version,
        ),
    )

    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, CaseConflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    case.refresh_from_db()
    assert case.team_id == winners[0].team_id
    assert case.events.filter(kind="dispatch").count() == 1


def test_two_sweepers_at_once_fire_each_timer_exactly_once(world):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from enforcement.models import Supervision, Timer
    from enforcement.timers import timers_fire_due

    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(120):
            case_intake(
                source=CaseSource.PATROL,
                matter_type=world["matter"],
                description=f"第{n}处",
                lat=LAT,
                lng=LNG,
            )
        clock.shift(timedelta(minutes=31))
        reports = run_together(2, lambda _i: timers_fire_due(batch_size=7))

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.fired for r in reports) == 120
    assert Supervision.objects.count() == 120
    assert Timer.objects.filter(stage="accept", state="fired").count() == 120


def test_a_sweep_does_not_spin_on_timers_of_a_case_someone_holds(world):
    from datetime import timedelta

    import time_machine
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from enforcement.models import Timer
    from enforcement.timers import timers_fire_due

    with time_machine.travel(timezone.now(), tick=False) as clock:
        case = case_intake(
            source=CaseSource.PATROL,
            matter_type=world["matter"],
            description="x",
            lat=LAT,
            lng=LNG,
        ).case
        accept = Timer.objects.get(case=case)
        Timer.objects.bulk_create(
            [
                Timer(
                    case=case,
                    stage="accept",
                    started_at=accept.started_at,
                    due_at=accept.due_at,
                    next_at=accept.due_at,
                )
                for _ in range(39)
            ]
        )
        clock.shift(timedelta(minutes=31))
        held = threading.Event()
        release = threading.Event()

        def hold(_index):
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                held.set()
                release.wait(timeout=30)

        holder = threading.Thread(target=run_together, args=(1, hold))
        holder.start()
        assert held.wait(timeout=10)
        try:
            with CaptureQueriesContext(connection) as queries:
                report = timers_fire_due(batch_size=20)
        finally:
            release.set()
            holder.join(timeout=30)
        assert (report.fired, report.skipped) == (0, 20)
        assert len(queries) < 20  # one batch read and given up, not a spin
        assert timers_fire_due(batch_size=20).fired == 40
