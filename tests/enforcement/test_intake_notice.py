"""A new case is announced to the command centre of its street: a notification each, written
with the case and sent after commit (issue #7's intake: "notification queued after commit")."""

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


def test_a_work_order_sent_again_is_announced_once(demo):
    first = file("320104010", external_id="12345-0001")
    again = file("320104010", external_id="12345-0001")
    assert again.pk == first.pk
    assert Notification.objects.filter(kind="case_reported").count() == 1
