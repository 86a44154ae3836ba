"""Saving a cell: overlaps with siblings beyond the tolerance are warned about by name, a
comprehensive cell reaching out of its first-level cell too; the admin draws the polygon."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from grids.choices import GridLevel
from grids.models import GridCell, GridNetVersion
from grids.services import cell_save
from tests.factories.grids import CommunityFactory, FirstLevelCellFactory, square
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db

HALF = 0.001  # squares of about 190 m x 220 m
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[118.79, 32.0], [118.792, 32.002], [118.792, 32.0], [118.79, 32.002], [118.79, 32.0]]
    ],
}


@pytest.fixture
def first():
    return FirstLevelCellFactory(community=CommunityFactory(code="320104010001"), half=0.01)


def comprehensive(first, seq: int, lat: float, lng: float, half: float = HALF):
    with translation.override("en"):
        return cell_save(
            code=f"320104010001{seq:03d}",
            name=f"第{seq}网格",
            level=GridLevel.COMPREHENSIVE,
            community=first.community,
            parent=first,
            geometry=square(lat, lng, half),
        )


def test_cells_sharing_an_edge_raise_no_warning(first):
    comprehensive(first, 1, 32.0, 118.79)
    saved = comprehensive(first, 2, 32.0, 118.79 + 2 * HALF)

    assert saved.warnings == []


def test_an_overlap_beyond_the_tolerance_names_the_overlapped_cells(first):
    comprehensive(first, 1, 32.0, 118.79)
    comprehensive(first, 2, 32.0, 118.79 + 2 * HALF)

    # a third cell straddling both, a quarter of a cell over each
    saved = comprehensive(first, 3, 32.0 + HALF, 118.79 + HALF)

    assert [w.split(" by ")[0] for w in saved.warnings] == [
        "320104010001003 overlaps 320104010001001 第1网格",
        "320104010001003 overlaps 320104010001002 第2网格",
    ]
    area = float(saved.warnings[0].split(" by ")[1].removesuffix(" m²."))
    assert area == pytest.approx(94.4 * 111.2, rel=0.02)  # (HALF in lng) x (HALF in lat), in m²
    # a warning, not a refusal: the cell is saved
    assert GridCell.objects.filter(code="320104010001003").exists()


def test_an_overlap_within_the_tolerance_is_noise(first):
    comprehensive(first, 1, 32.0, 118.79)
    # 2 cm into its neighbour along a 220 m edge: about 4 m², below 10 m²
    saved = comprehensive(first, 2, 32.0, 118.79 + 2 * HALF - 0.0000002)

    assert saved.warnings == []


def test_a_comprehensive_cell_reaching_out_of_its_first_level_cell_is_warned(first):
    saved = comprehensive(first, 1, 32.0, 118.79 + 0.01, half=HALF)  # half of it outside

    assert len(saved.warnings) == 1
    assert saved.warnings[0].startswith("320104010001001 reaches ")
    assert saved.warnings[0].endswith(" m² beyond its first-level cell 320104010001000.")


def test_a_refused_polygon_changes_nothing(first):
    version = GridNetVersion.objects.get().version
    with pytest.raises(ValidationError):
        cell_save(
            code="320104010001001",
            name="x",
            level=GridLevel.COMPREHENSIVE,
            community=first.community,
            parent=first,
            geometry=BOW_TIE,
        )

    assert not GridCell.objects.filter(code="320104010001001").exists()
    assert GridNetVersion.objects.get().version == version


def test_a_comprehensive_cell_needs_a_first_level_parent(first):
    with pytest.raises(ValidationError) as error:
        cell_save(
            code="320104010001001",
            name="x",
            level=GridLevel.COMPREHENSIVE,
            community=first.community,
            parent=None,
            geometry=square(32.0, 118.79, HALF),
        )
    assert error.value.message_dict == {"parent": ["综合网格必须位于一级网格内。"]}


def test_the_admin_draws_the_polygon_and_refuses_a_bow_tie_on_its_field(client, first):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))

    page = client.get(f"/admin/grids/gridcell/{first.pk}/change/").content.decode()
    assert page.count('<path d="M4.0,') == 1
    assert 'aria-label="320104010001000"' in page

    response = client.post(
        f"/admin/grids/gridcell/{first.pk}/change/",
        {
            "code": first.code,
            "name": first.name,
            "level": GridLevel.FIRST_LEVEL,
            "community": first.community.pk,
            "area": "",
            "geometry": json.dumps(BOW_TIE),
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the reason on the field
    assert "范围无效：在118.791000, 32.001000处边界自相交。" in response.content.decode()
