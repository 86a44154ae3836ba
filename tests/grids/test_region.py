"""Regions: district → street → community, each code extending its parent's."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from grids.choices import RegionLevel
from grids.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    return Region.objects.create(level=RegionLevel.DISTRICT, code="320104", name="秦淮区")


def test_a_street_under_its_district_is_valid(district):
    street = Region(level=RegionLevel.STREET, code="320104010", name="红花街道", parent=district)
    street.full_clean()


@pytest.mark.parametrize(
    ("code", "field", "message"),
    [
        ("32010401", "code", "街道/乡镇代码为9位数字。"),
        ("32010401x", "code", "街道/乡镇代码为9位数字。"),
        ("320105010", "code", "代码必须以上级代码320104开头。"),
    ],
)
def test_bad_street_codes_are_rejected_with_the_reason(district, code, field, message):
    street = Region(level=RegionLevel.STREET, code=code, name="x", parent=district)
    with pytest.raises(ValidationError) as error:
        street.full_clean()
    assert error.value.message_dict[field] == [message]


def test_a_community_must_hang_under_a_street(district):
    community = Region(level=RegionLevel.COMMUNITY, code="320104010001", name="x", parent=district)
    with pytest.raises(ValidationError) as error:
        community.full_clean()
    assert error.value.message_dict["parent"] == ["上级必须是街道/乡镇。"]


def test_the_database_refuses_a_street_without_parent():
    with pytest.raises(IntegrityError):
        Region.objects.create(level=RegionLevel.STREET, code="320104010", name="红花街道")
