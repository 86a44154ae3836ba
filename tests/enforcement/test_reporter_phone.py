"""PIPL: a reporter's phone number is stored encrypted, shown masked, and read whole only with the
right, each reading recorded."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from enforcement.choices import CaseSource, EventKind, HandlingMode
from enforcement.models import MatterType
from enforcement.services import case_intake, case_reporter_phone_reveal
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="ZSRM", name="噪声扰民", default_handling_mode=HandlingMode.SERVICE
    )
    return case_intake(
        source=CaseSource.HOTLINE_12345,
        external_id="GD-9",
        matter_type=matter,
        description="夜间施工",
        lat=LAT,
        lng=LNG,
        reporter_name="张女士",
        reporter_phone="138 1234 5678",
    ).case


def test_the_number_is_encrypted_at_rest_and_masked_for_display(case):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_phone_encrypted FROM enforcement_case WHERE id = %s", [case.pk]
        )
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored and "5678" not in stored
    assert case.reporter_phone_masked == "138****5678"


def test_reading_it_whole_needs_the_right_and_is_recorded(case):
    with pytest.raises(PermissionDenied):
        case_reporter_phone_reveal(case=case, user=UserFactory(username="officer"))
    assert not case.events.filter(kind=EventKind.PHONE_REVEAL).exists()

    leader = UserFactory(username="leader")
    leader.user_permissions.add(Permission.objects.get(codename="view_reporter_phone"))
    assert case_reporter_phone_reveal(case=case, user=leader) == "13812345678"
    reveal = case.events.get(kind=EventKind.PHONE_REVEAL)
    assert reveal.actor == leader


def test_a_malformed_number_is_refused(case):
    with pytest.raises(ValidationError) as error:
        case_intake(
            source=CaseSource.RESIDENT,
            matter_type=case.matter_type,
            description="x",
            lat=LAT,
            lng=LNG,
            reporter_phone="call me",
        )
    assert list(error.value.message_dict) == ["reporter_phone"]


def test_keys_rotate(case, settings):
    from cryptography.fernet import Fernet

    from core import crypto

    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = crypto.field_encrypt("13900001111")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        old,
    ]  # new first, old still opens
    assert crypto.field_decrypt(token) == "13900001111"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="no encryption key opens"):
        crypto.field_decrypt(token)
