"""core.bulk.rows_insert: the same rows as bulk_create, ids in row order, on either backend."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.bulk import rows_insert
from core.models import Notification
from enforcement.models import CaseEvent
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


def test_rows_come_back_as_ids_in_order_with_their_values():
    alice, bob = UserFactory(), UserFactory()
    now = timezone.now()
    ids = rows_insert(
        Notification,
        ["recipient", "kind", "title", "body", "reference", "created_at"],
        [
            (alice.pk, "a", "标题一", "正文", "", now),
            (bob.pk, "b", "标题二", "正文", "R-1", now - timedelta(days=1)),
        ],
    )
    rows = Notification.objects.in_bulk(ids)
    assert [(rows[i].recipient, rows[i].kind, rows[i].reference) for i in ids] == [
        (alice, "a", ""),
        (bob, "b", "R-1"),
    ]
    assert rows[ids[1]].created_at == now - timedelta(days=1)
    assert rows_insert(Notification, ["kind"], []) == []


def test_json_values_are_stored_as_json_not_as_strings():
    from enforcement.choices import CaseSource, HandlingMode
    from enforcement.models import MatterType
    from enforcement.services import case_intake
    from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory

    ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="X", name="x", default_handling_mode=HandlingMode.SERVICE
    )
    case = case_intake(
        source=CaseSource.PATROL, matter_type=matter, description="x", lat=LAT, lng=LNG
    ).case
    [pk] = rows_insert(
        CaseEvent,
        [
            "case",
            "sequence",
            "kind",
            "at",
            "from_status",
            "to_status",
            "data",
            "previous_hash",
            "hash",
        ],
        [(case.pk, 2, "route", timezone.now(), "", "", {"级别": 1, "a": [1, "二"]}, "0", "1")],
    )
    assert CaseEvent.objects.get(pk=pk).data == {"级别": 1, "a": [1, "二"]}
