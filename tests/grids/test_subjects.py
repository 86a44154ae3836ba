"""Subjects of the directory: input checks, the unique credit code, the cell found by location and
the masked phone number."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from grids.choices import Crs
from grids.crs import to_wgs84
from grids.locate import cell_index_reset, cell_locate
from grids.models import Subject
from grids.selectors import phone_mask
from grids.services import subject_input_clean, subject_save
from tests.factories.grids import (
    LAT,
    LNG,
    ComprehensiveCellFactory,
    SubjectFactory,
    SubjectInputFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted as their English msgids, whatever translations are compiled."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_locate_index():
    """The locate index lives in the process and is checked against the net's version at most
    every LOCATE_VERSION_CHECK_SECONDS: a test that changes no cell would otherwise locate in the
    previous test's rolled-back cells."""
    cell_index_reset()
    yield
    cell_index_reset()


def _rejection(data) -> dict:
    with pytest.raises(ValidationError) as error:
        subject_input_clean(data)
    return error.value.message_dict


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("025-84421234", "025*****1234"),
        ("+8613812345678", "+86*******5678"),
        ("1234567", "*******"),
    ],
)
def test_phone_mask_keeps_the_prefix_and_the_last_four_digits(phone, masked):
    assert phone_mask(phone) == masked


def test_a_valid_input_becomes_the_model_fields():
    # given
    code = credit_code(41)
    data = SubjectInputFactory(
        name=" 红花面馆 ",
        address="南京市秦淮区来凤街8号",
        credit_code=code.lower(),
        crs=Crs.GCJ02,
        contact_phone="138 1234 5678",
    )

    # when
    fields = subject_input_clean(data)

    # then
    lat, lng = to_wgs84(LAT, LNG, Crs.GCJ02)
    assert fields == {
        "kind": "street_shop",
        "name": "红花面馆",
        "address": "南京市秦淮区来凤街8号",
        "credit_code": code,
        "lat": round(lat, 7),
        "lng": round(lng, 7),
        "risk_level": "low",
        "contact_name": "王伟",
        "contact_phone": "13812345678",
        "is_active": True,
    }


def test_a_credit_code_with_a_wrong_check_character_is_rejected_naming_the_right_one():
    # given
    code = credit_code(7)
    wrong = "1" if code[17] != "1" else "2"

    # when
    errors = _rejection(SubjectInputFactory(credit_code=code[:17] + wrong))

    # then
    assert errors == {
        "credit_code": [
            f"The check character (character 18) should be “{code[17]}”, not “{wrong}”."
        ]
    }


def test_a_point_outside_china_is_rejected():
    errors = _rejection(SubjectInputFactory(lat=51.5074, lng=-0.1278))

    assert errors == {"lat": ["51.5074, -0.1278 is not a point in China."]}


def test_swapped_latitude_and_longitude_are_rejected():
    errors = _rejection(SubjectInputFactory(lat=LNG, lng=LAT))

    assert errors == {"lat": [f"{LNG}, {LAT} is not a point in China."]}


def test_a_bad_phone_number_is_rejected():
    errors = _rejection(SubjectInputFactory(contact_phone="138-abc-5678"))

    assert errors == {"contact_phone": ["'138-abc-5678' is not a phone number."]}


def test_every_problem_of_an_input_is_reported_at_once():
    errors = _rejection(
        SubjectInputFactory(kind="spaceport", name=" ", credit_code="123", contact_phone="x")
    )

    assert errors == {
        "kind": ["Unknown kind 'spaceport'."],
        "name": ["Required."],
        "credit_code": ["A unified social credit code has 18 characters, not 3."],
        "contact_phone": ["'x' is not a phone number."],
    }


@pytest.mark.parametrize("phone", ["+86-025-8442-1234-56", "+86-138-1234-5678"])
def test_a_phone_number_that_fills_the_column_is_accepted(phone):
    assert len(phone) <= Subject._meta.get_field("contact_phone").max_length

    assert subject_input_clean(SubjectInputFactory(contact_phone=phone))["contact_phone"] == phone


def test_a_phone_number_longer_than_the_column_is_rejected():
    # given: 21 characters, one more than the column holds
    phone = "+86-025-8442-1234-567"
    assert len(phone) == Subject._meta.get_field("contact_phone").max_length + 1

    # when
    errors = _rejection(SubjectInputFactory(contact_phone=phone))

    # then
    assert errors == {"contact_phone": ["'+86-025-8442-1234-567' is not a phone number."]}


def test_a_second_subject_with_the_same_credit_code_is_refused():
    # given
    code = credit_code(3)
    first = SubjectFactory(credit_code=code)

    # when
    with pytest.raises(ValidationError) as error:
        subject_save(data=SubjectInputFactory(name="另一家店", credit_code=code.lower()))

    # then
    assert error.value.message_dict == {"credit_code": ["Another subject has this credit code."]}
    assert list(Subject.objects.values_list("pk", flat=True)) == [first.pk]


def test_saving_a_subject_again_keeps_its_own_credit_code():
    # given
    code = credit_code(4)
    subject = SubjectFactory(credit_code=code, name="旧名")

    # when
    saved = subject_save(data=SubjectInputFactory(credit_code=code, name="新名"), subject=subject)

    # then
    assert saved.pk == subject.pk
    assert list(Subject.objects.values_list("name", "credit_code")) == [("新名", code)]


def test_a_subject_is_placed_into_the_cell_holding_its_location():
    # given
    west = ComprehensiveCellFactory(lat=LAT, lng=LNG)
    east = ComprehensiveCellFactory(lat=LAT, lng=LNG + 0.1)

    # when
    in_west = SubjectFactory(lat=LAT + 0.001, lng=LNG - 0.001)
    in_east = SubjectFactory(lat=LAT - 0.001, lng=LNG + 0.1 + 0.001)

    # then
    assert (in_west.cell, in_east.cell) == (west, east)


def test_a_subject_outside_every_cell_has_no_cell():
    # given
    ComprehensiveCellFactory(lat=LAT, lng=LNG)

    # when
    subject = SubjectFactory(lat=LAT + 0.5, lng=LNG)

    # then
    assert subject.cell is None
    assert Subject.objects.get(pk=subject.pk).cell_id is None


def test_a_subject_moved_out_of_its_cell_loses_it():
    # given
    ComprehensiveCellFactory(lat=LAT, lng=LNG)
    subject = SubjectFactory(lat=LAT, lng=LNG)

    # when
    moved = subject_save(data=SubjectInputFactory(lat=LAT + 0.5, lng=LNG), subject=subject)

    # then
    assert Subject.objects.get(pk=moved.pk).cell_id is None


def test_a_rolled_back_cell_change_does_not_place_later_subjects():
    # given: two cells saved and looked up in a transaction that is rolled back (the index is
    # built from them, at the net's version of that moment)
    with pytest.raises(RuntimeError), transaction.atomic():
        ComprehensiveCellFactory(lat=LAT, lng=LNG)
        assert cell_locate(LAT, LNG).cell is not None
        raise RuntimeError("rolled back")
    # and then as many committed changes: a cell elsewhere and its first-level cell
    cell = ComprehensiveCellFactory(lat=LAT + 0.2, lng=LNG)

    # when
    subject = SubjectFactory(lat=LAT + 0.2, lng=LNG)

    # then
    assert subject.cell == cell
