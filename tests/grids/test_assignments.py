"""一长五员: one serving grid head per cell, held by the database too."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from grids.choices import GridLevel, GridRole, RegionLevel
from grids.models import GridAssignment, Region
from grids.services import assignment_create, assignment_end, cell_save
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cell():
    district = Region.objects.create(level=RegionLevel.DISTRICT, code="320104", name="秦淮区")
    street = Region.objects.create(
        level=RegionLevel.STREET, code="320104010", name="红花街道", parent=district
    )
    community = Region.objects.create(
        level=RegionLevel.COMMUNITY, code="320104010001", name="石门坎社区", parent=street
    )
    ring = [[118.79, 32.0], [118.792, 32.0], [118.792, 32.002], [118.79, 32.002], [118.79, 32.0]]
    return cell_save(
        code="320104010001000",
        name="一片区",
        level=GridLevel.FIRST_LEVEL,
        community=community,
        geometry={"type": "Polygon", "coordinates": [ring]},
    ).cell


def test_a_second_serving_head_is_refused_naming_the_first(cell):
    first = UserFactory(username="head1", first_name="王建军")
    assignment_create(user=first, cell=cell, role=GridRole.LEADER, starts_on=date(2026, 1, 1))

    with translation.override("en"), pytest.raises(ValidationError) as error:
        assignment_create(
            user=UserFactory(username="head2"),
            cell=cell,
            role=GridRole.LEADER,
            starts_on=date(2026, 3, 1),
        )

    assert error.value.messages == [
        "320104010001000 already has a grid head for that period: 王建军."
    ]
    assert GridAssignment.objects.filter(cell=cell, role=GridRole.LEADER).count() == 1


def test_the_database_refuses_a_second_serving_head_even_past_the_service(cell):
    GridAssignment.objects.create(
        user=UserFactory(), cell=cell, role=GridRole.LEADER, starts_on=date(2026, 1, 1)
    )
    with pytest.raises(IntegrityError):
        GridAssignment.objects.create(
            user=UserFactory(), cell=cell, role=GridRole.LEADER, starts_on=date(2026, 2, 1)
        )


def test_after_the_head_leaves_a_successor_may_serve_but_not_in_the_overlap(cell):
    first = assignment_create(
        user=UserFactory(), cell=cell, role=GridRole.LEADER, starts_on=date(2026, 1, 1)
    )
    assignment_end(assignment=first, ends_on=date(2026, 6, 30))

    with pytest.raises(ValidationError):
        assignment_create(
            user=UserFactory(), cell=cell, role=GridRole.LEADER, starts_on=date(2026, 6, 1)
        )
    successor = assignment_create(
        user=UserFactory(), cell=cell, role=GridRole.LEADER, starts_on=date(2026, 7, 1)
    )

    assert successor.pk is not None


def test_many_grid_workers_and_the_five_members_may_serve_together(cell):
    for role in [
        GridRole.GRID_WORKER,
        GridRole.GRID_WORKER,
        GridRole.INSPECTOR,
        GridRole.INFORMANT,
        GridRole.LIAISON,
        GridRole.PATROLLER,
        GridRole.LEADER,
    ]:
        assignment_create(user=UserFactory(), cell=cell, role=role, starts_on=date(2026, 1, 1))

    assert GridAssignment.objects.filter(cell=cell).count() == 7


def test_an_assignment_cannot_end_before_it_starts(cell):
    with pytest.raises(ValidationError):
        assignment_create(
            user=UserFactory(),
            cell=cell,
            role=GridRole.GRID_WORKER,
            starts_on=date(2026, 5, 1),
            ends_on=date(2026, 4, 1),
        )
