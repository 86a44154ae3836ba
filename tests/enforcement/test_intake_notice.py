"""A new case is announced to the command centre of its street: a notification each, written
with the case and sent after commit (issue #7's intake: "notification queued after commit")."""

from datetime import UTC, datetime

import pytest
import shapely
from shapely.geometry import shape

from core.choices import DeliveryState
from core.models import Notification, NotificationDelivery
from enforcement.choices import CaseSource
from enforcement.models import MatterType
from enforcement.services import case_intake
from grids.choices import GridLevel
from grids.models import GridCell

pytestmark = pytest.mark.django_db


def point_in_street(street_code: str) -> tuple[float, float]:
    cell = GridCell.objects.filter(
        level=GridLevel.COMPREHENSIVE, community__parent__code=street_code
    ).first()
    lng, lat = shapely.get_coordinates(shape(cell.geometry).representative_point())[0]
    return float(lat), float(lng)


def file(street_code: str, **overrides):
    lat, lng = point_in_street(street_code)
    values = {
        "source": CaseSource.HOTLINE_12345,
        "matter_type": MatterType.objects.order_by("code").first(),
        "description": "人行道占道经营",
        "address": "红花街道 1 号",
        "lat": lat,
        "lng": lng,
    }
    return case_intake(**{**values, **overrides}).case


def test_the_command_centre_of_the_street_hears_of_a_new_case(
    demo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        case = file("320104010")
    notices = Notification.objects.filter(kind="case_reported")
    # hh_command is granted the street; fzm_command another street; the leader is no command
    # centre.
    assert [n.recipient.username for n in notices] == ["hh_command"]
    (notice,) = notices
    assert notice.reference == case.number
    assert case.number in notice.title and case.matter_type.name in notice.title
    assert notice.body == "红花街道 1 号"
    # Its deliveries are written with the case and handed to the worker after commit only.
    deliveries = NotificationDelivery.objects.filter(notification=notice)
    assert deliveries.exists()
    assert {d.state for d in deliveries} == {DeliveryState.PENDING}
    assert len(callbacks) >= 1

    other = file("320104003", description="另一条街道")
    assert [
        n.recipient.username
        for n in Notification.objects.filter(kind="case_reported", reference=other.number)
    ] == ["fzm_command"]


def test_the_districts_command_centre_hears_of_new_cases_in_every_street(demo):
    from enforcement.permissions import street_command_centre
    from grids.models import Region
    from tests.factories.users import region_holder

    district = Region.objects.get(code="320104")
    region_holder("qh_command", "command_centre", district)  # 区指挥中心
    street_command_centre.cache_clear()
    try:
        for street_code, own in (("320104010", "hh_command"), ("320104003", "fzm_command")):
            case = file(street_code)
            heard = Notification.objects.filter(kind="case_reported", reference=case.number)
            assert sorted(n.recipient.username for n in heard) == sorted([own, "qh_command"])
    finally:
        street_command_centre.cache_clear()


def test_a_work_order_sent_again_is_announced_once(demo):
    first = file("320104010", external_id="12345-0001")
    again = file("320104010", external_id="12345-0001")
    assert again.pk == first.pk
    assert Notification.objects.filter(kind="case_reported").count() == 1


def test_an_intake_writes_what_the_transaction_of_each_database_writes(demo, monkeypatch):
    """On PostgreSQL the intake is one statement (enforcement.services._case_write_at_once):
    the number, the event's hash and the notification's title are finished by the database.
    They must come out as the step-by-step path makes them, on every database."""
    from enforcement.events import history_verify
    from enforcement.models import Case, CaseNumberCounter, Timer
    from enforcement.permissions import street_command_centre

    street = GridCell.objects.filter(community__parent__code="320104010").first().community.parent
    # Past the six digits of a number: the number grows, as Python's format does.
    CaseNumberCounter.objects.update_or_create(street=street, year=2026, defaults={"last": 999_999})
    monkeypatch.setattr("django.utils.timezone.now", lambda: FIXED_NOW)
    street_command_centre.cache_clear()
    case = file("320104010", external_id="12345-0002", description="带\ue000的描述")
    case.refresh_from_db()
    assert case.number == "320104010-2026-1000000"
    assert case.sequence == 1_000_000
    assert case.created_at == FIXED_NOW
    (event,) = case.events.all()
    assert (event.sequence, event.kind, event.at) == (1, "intake", FIXED_NOW)
    assert event.data["external_id"] == "12345-0002"
    assert history_verify(cases=Case.objects.filter(pk=case.pk)) is None
    (timer,) = Timer.objects.filter(case=case)
    assert (timer.stage, timer.started_at, timer.state) == ("accept", FIXED_NOW, "pending")
    (notice,) = Notification.objects.filter(reference=case.number)
    assert case.number in notice.title
    assert "\ue000" not in notice.title
    assert notice.body == "红花街道 1 号"


FIXED_NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
