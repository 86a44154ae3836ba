"""Likely duplicates: the same matter reported again within DUPLICATE_RADIUS_M metres and
DUPLICATE_WINDOW_HOURS hours of an open case is linked to it; the command centre merges it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus, EventKind, HandlingMode
from enforcement.events import history_verify
from enforcement.models import Case, MatterType
from enforcement.services import case_intake
from enforcement.workflow import InvalidInput, TransitionNotAllowed
from grids.geometry import METRES_PER_DEGREE
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ComprehensiveCellFactory()
    return {
        "stalls": MatterType.objects.create(
            code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
        ),
        "fumes": MatterType.objects.create(
            code="YYRM", name="油烟扰民", default_handling_mode=HandlingMode.ENFORCEMENT
        ),
        "actor": UserFactory(),
    }


def report(matter, *, north_m=0.0, source=CaseSource.RESIDENT):
    return case_intake(
        source=source,
        matter_type=matter,
        description="人行道摆摊",
        lat=LAT + north_m / METRES_PER_DEGREE,
        lng=LNG,
    ).case


def test_the_same_matter_nearby_and_recent_is_linked_to_the_first_case(world):
    first = report(world["stalls"])
    second = report(world["stalls"], north_m=30, source=CaseSource.HOTLINE_12345)
    third = report(world["stalls"], north_m=45)

    assert second.likely_duplicate_of == first
    assert third.likely_duplicate_of == first  # to the original, not to another duplicate
    assert second.events.get(kind=EventKind.INTAKE).data["likely_duplicate_of"] == first.number
    assert set(first.likely_duplicates.all()) == {second, third}


@pytest.mark.parametrize(
    ("what", "expected_link"),
    [
        ("another matter", False),
        ("60 m away", False),
        ("25 hours later", False),
        ("first one closed", False),
        ("23 hours later", True),
    ],
)
def test_what_is_not_a_likely_duplicate(world, what, expected_link):
    first = report(world["stalls"])
    later = timezone.now() + timedelta(hours=25 if what == "25 hours later" else 23)
    if what == "first one closed":
        workflow.case_reject(case=first, actor=world["actor"], reason="重复")
    with time_machine.travel(later if "hours" in what else timezone.now(), tick=False):
        second = report(
            world["fumes"] if what == "another matter" else world["stalls"],
            north_m=60 if what == "60 m away" else 10,
        )
    assert (second.likely_duplicate_of == first) is expected_link


def test_radius_and_window_are_settings(world, settings):
    settings.DUPLICATE_RADIUS_M = 100
    first = report(world["stalls"])
    assert report(world["stalls"], north_m=80).likely_duplicate_of == first
    settings.DUPLICATE_WINDOW_HOURS = 1
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert report(world["stalls"], north_m=10).likely_duplicate_of is None


def test_merging_ends_the_duplicate_and_records_it_on_both_cases(world):
    first = workflow.case_accept(case=report(world["stalls"]), actor=world["actor"])
    second = report(world["stalls"], north_m=20)

    merged = workflow.case_merge(case=second, into=first, actor=world["actor"], reason="同一摊点")

    assert (merged.status, merged.merged_into) == (CaseStatus.MERGED, first)
    assert merged.events.get(kind=EventKind.MERGE).data["into"] == first.number
    assert first.events.get(kind=EventKind.MERGED_IN).data["case"] == second.number
    assert first.status == CaseStatus.ACCEPTED and list(first.merged_cases.all()) == [merged]
    # doing it again changes nothing, and both histories still verify
    again = workflow.case_merge(case=merged, into=first, actor=world["actor"])
    assert again.version == merged.version
    assert first.events.filter(kind=EventKind.MERGED_IN).count() == 1
    assert history_verify(cases=Case.objects.filter(pk__in=[first.pk, merged.pk])) is None


def test_bad_merges_are_refused_with_a_reason(world):
    first = report(world["stalls"])
    second = report(world["stalls"], north_m=20)
    with pytest.raises(InvalidInput):
        workflow.case_merge(case=first, into=first, actor=world["actor"])
    workflow.case_reject(case=first, actor=world["actor"], reason="不属实")
    with translation.override("en"), pytest.raises(InvalidInput, match="is rejected"):
        workflow.case_merge(case=second, into=first, actor=world["actor"])
    worked = workflow.case_accept(case=second, actor=world["actor"])
    third = report(world["stalls"], north_m=5)
    worked.refresh_from_db()
    # only a case not yet worked on (reported or accepted) can be merged
    workflow.case_transfer(case=worked, actor=world["actor"], to="police", reason="涉刑")
    with pytest.raises(TransitionNotAllowed):
        workflow.case_merge(case=worked, into=third, actor=world["actor"])
