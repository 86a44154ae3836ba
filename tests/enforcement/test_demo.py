"""The demo cases: made through the workflow at their own time over six months, every state
shown, every history intact, and seeding again adds nothing."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from enforcement.choices import CaseStatus, EventKind, SupervisionState
from enforcement.events import history_verify
from enforcement.models import Case, CaseEvent, Supervision
from tests.conftest import DEMO_CASES_IN_TESTS

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="class")
def _demo_cases_seeded_once(django_db_setup, django_db_blocker):
    """The demo with its cases, seeded once for the tests of ``TestTheSeededDemo`` (a seeding
    takes about fifteen seconds), in a transaction rolled back after the last of them; each
    test runs in a savepoint of its own within it (pytest-django's ``db``), so that what one
    writes (seeding again) is rolled back before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", cases=DEMO_CASES_IN_TESTS, stdout=open(os.devnull, "w"))  # noqa: SIM115
        yield
        transaction.set_rollback(True)


class TestTheSeededDemo:
    """The demo cases as ``demo_cases`` (tests/conftest.py) makes them, seeded once for the
    class."""

    @pytest.fixture
    def demo_cases(self, _demo_cases_seeded_once, db):
        return None

    def test_demo_cases_cover_every_state_over_six_months(self, demo_cases):
        assert Case.objects.count() == DEMO_CASES_IN_TESTS
        by_status = dict(Case.objects.values_list("status").annotate(n=Count("pk")))
        assert set(by_status) == set(CaseStatus.values), by_status
        first, last = (
            Case.objects.order_by("created_at").first(),
            Case.objects.order_by("created_at").last(),
        )
        assert last.created_at - first.created_at > timedelta(days=170)
        assert last.created_at <= timezone.now()
        # both demo streets have cases
        assert Case.objects.values("street").distinct().count() == 2

    def test_demo_cases_were_made_by_the_workflow_in_time_order(self, demo_cases):
        assert history_verify() is None
        for case in Case.objects.all():
            events = list(case.events.order_by("sequence"))
            assert events[0].kind == EventKind.INTAKE
            assert events[-1].to_status == case.status
            times = [e.at for e in events]
            assert times == sorted(times) and times[-1] <= timezone.now()
        # late steps were supervised as the sweeper would have done, some answered
        supervisions = Supervision.objects.all()
        assert supervisions.exists()
        assert supervisions.filter(state=SupervisionState.ANSWERED).exists()
        assert CaseEvent.objects.filter(kind=EventKind.SUPERVISION).count() == supervisions.count()
        merged = Case.objects.filter(status=CaseStatus.MERGED).first()
        assert merged.merged_into == merged.likely_duplicate_of
        assert CaseEvent.objects.filter(kind=EventKind.ROUTE).exists()

    def test_seeding_again_adds_no_cases(self, demo_cases):
        before = Case.objects.count()
        call_command("seed_demo", cases=DEMO_CASES_IN_TESTS, stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert Case.objects.count() == before

    def test_the_demo_leaves_no_timer_due_and_fired_each_at_its_due_time(self, demo_cases):
        # given the demo seeded (its history swept up to the moment seeding ended)
        from enforcement.models import Timer
        from enforcement.models.timers import SWEPT_STATES
        from enforcement.timers import timers_fire_due

        # then nothing is left due for the live sweeper but what comes due from now on
        assert not Timer.objects.filter(
            state__in=SWEPT_STATES, next_at__lte=timezone.now()
        ).exists()
        report = timers_fire_due()
        assert (report.warned, report.fired) == (0, 0)
        # and every fired timer fired at its due time, as a sweeper running all along would have
        fired = Timer.objects.filter(fired_at__isnull=False)
        assert fired.exists()
        assert all(t.fired_at == t.due_at for t in fired)


def test_seed_demo_says_what_it_does(db, capsys):
    # when seed_demo runs with its output shown
    call_command("seed_demo", cases=12)

    # then it prints a line per stage, a progress bar for the cases, and a summary
    out = capsys.readouterr().out
    for stage in ("core", "grids", "powers", "enforcement"):
        assert f"Demo data: {stage} …" in out
        assert f"Demo data: {stage} done in " in out
    assert "demo cases: 100%" in out and "12/12" in out
    assert "Demo data ready in " in out and "cases +12" in out
