"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML as the spec shows them,
filing a request and its refusals, the status mapping, the expected time from a running timer,
the filters of GET requests, who may read what (the public without a key, unless
OPEN311_PUBLIC_READ is off), no reporter data in any answer and personal numbers masked for the
public. A real client library over HTTP: test_open311_client.py."""

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from enforcement import workflow
from enforcement.api_keys import api_key_create
from enforcement.choices import CaseSource, CaseStatus, HandlingMode, TimerStage
from enforcement.models import Case, DepartmentCall, MatterType, SlaPolicy, Team
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=SHANGHAI)
BASE = "/open311/v2"
REPORTER_NAME, REPORTER_PHONE = "王秀英", "13912345678"


def xml_of(response) -> ET.Element:
    # Our own output, parsed to check its shape (never untrusted input).
    return ET.fromstring(response.content)  # noqa: S314


def children(element: ET.Element) -> dict:
    return {child.tag: (child.text or "") for child in element}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    item = PowerItemFactory()  # category SR: 市容环境卫生 (powers migration 0002)
    stalls = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    stalls.power_items.add(item)
    noise = MatterType.objects.create(
        code="ZXZS", name="装修噪声", default_handling_mode=HandlingMode.SERVICE
    )
    # Accepting takes 30 minutes, dispatching two hours (in place of the seeded defaults).
    for stage, minutes in ((TimerStage.ACCEPT, 30), (TimerStage.DISPATCH, 120)):
        SlaPolicy.objects.update_or_create(
            matter_type=None,
            severity="",
            source="",
            stage=stage,
            defaults={"amount": minutes, "unit": "minutes", "warn_percent": 80},
        )
    integration, integration_raw = api_key_create(source=CaseSource.VIDEO, name="视频平台")
    other, other_raw = api_key_create(source=CaseSource.MEDIA, name="媒体平台")
    department = DepartmentFactory()
    _, department_raw = api_key_create(department=department, name="城管系统")
    return {
        "cell": cell,
        "street": street,
        "item": item,
        "stalls": stalls,
        "noise": noise,
        "integration": integration,
        "integration_raw": integration_raw,
        "other": other,
        "other_raw": other_raw,
        "department": department,
        "department_raw": department_raw,
        "command": UserFactory(username="command"),
    }


def file_case(
    world, *, key="integration", matter="stalls", description="人行道上摆摊", address="应天大街88号"
):
    """A case filed by ``key``'s account as /api/v1 files it: not through Open311."""
    return case_intake(
        source=world[key].source,
        matter_type=world[matter],
        description=description,
        lat=LAT,
        lng=LNG,
        address=address,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        actor=world[key].user,
    ).case


def requested_at(case: Case, when: datetime) -> None:
    Case.objects.filter(pk=case.pk).update(created_at=when)


def get(path: str, **params):
    return Client().get(f"{BASE}/{path}", params)


def get_en(path: str, **params):
    """In English: error descriptions are asserted as written in the code, whatever the
    Chinese catalogue later says."""
    return Client(HTTP_ACCEPT_LANGUAGE="en").get(f"{BASE}/{path}", params)


def post(path: str, data: dict):
    return Client().post(f"{BASE}/{path}", data)


def numbers_of(response) -> list[str]:
    return [request["service_request_id"] for request in response.json()]


# --- services ---


def test_services_json_lists_every_matter_type_as_the_spec_shows(world):
    response = get("services.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "占道经营".encode() in response.content  # UTF-8 as is, not \u escapes
    assert response.json() == [
        {
            "service_code": "ZDJY",
            "service_name": "占道经营",
            "description": "占道经营",
            "metadata": False,
            "type": "realtime",
            "keywords": "管理, 市容环境卫生",
            "group": "市容环境卫生",
        },
        {
            "service_code": "ZXZS",
            "service_name": "装修噪声",
            "description": "装修噪声",
            "metadata": False,
            "type": "realtime",
            "keywords": "服务",
            "group": None,
        },
    ]


def test_services_xml_has_the_declaration_and_services_of_service(world):
    response = get("services.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert "占道经营".encode() in response.content  # UTF-8 as is, not character references
    root = xml_of(response)
    assert root.tag == "services"
    assert [child.tag for child in root] == ["service", "service"]
    assert children(root[0]) == {
        "service_code": "ZDJY",
        "service_name": "占道经营",
        "description": "占道经营",
        "metadata": "false",
        "type": "realtime",
        "keywords": "管理, 市容环境卫生",
        "group": "市容环境卫生",
    }
    assert children(root[1])["group"] == ""


def test_services_are_public_and_accept_jurisdiction_id_but_no_other_parameter(world):
    assert get("services.json", jurisdiction_id="nanjing.gov.cn").status_code == 200

    response = get_en("services.json", page="2")

    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "Unknown parameter page."}]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_has_no_attributes(world, fmt):
    response = get(f"services/ZDJY.{fmt}")

    assert response.status_code == 200
    if fmt == "json":
        assert response.json() == {"service_code": "ZDJY", "attributes": []}
    else:
        root = xml_of(response)
        assert root.tag == "service_definition"
        assert [(child.tag, child.text or "", len(child)) for child in root] == [
            ("service_code", "ZDJY", 0),
            ("attributes", "", 0),
        ]


def test_an_unknown_service_code_is_a_404_in_the_spec_error_body(world):
    response = get_en("services/NOPE.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "No service has the code NOPE."}]

    response = get_en("services/NOPE.xml")
    assert response.status_code == 404
    root = xml_of(response)
    assert root.tag == "errors"
    assert [children(error) for error in root] == [
        {"code": "404", "description": "No service has the code NOPE."}
    ]


def test_anything_else_under_the_prefix_is_a_404_error_body(world):
    response = get("tokens/123.xml")

    assert response.status_code == 404
    assert xml_of(response).tag == "errors"


def test_a_wrong_method_is_a_405_error_body(world):
    response = Client().delete(f"{BASE}/services.json")

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()[0]["code"] == 405


# --- POST requests ---


def form(world, **overrides) -> dict:
    values = {
        "api_key": world["integration_raw"],
        "jurisdiction_id": "nanjing.gov.cn",
        "service_code": "ZDJY",
        "lat": str(LAT),
        "long": str(LNG),
        "address_string": "应天大街88号",
        "description": "人行道上摆摊，影响通行",
        "first_name": "秀英",
        "last_name": "王",
        "phone": REPORTER_PHONE,
        "email": "wang@example.com",
        "device_id": "tt222111",
        "account_id": "123456",
        "media_url": "https://example.com/p.jpg",
        "attribute[NONE]": "ignored",
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def test_post_files_a_case_from_the_keys_source_as_its_account(world):
    response = post("requests.json", form(world))

    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json() == [
        {"service_request_id": case.number, "service_notice": "管理", "account_id": None}
    ]
    assert case.source == CaseSource.VIDEO
    assert case.reported_by == world["integration"].user
    assert case.matter_type == world["stalls"]
    assert case.status == CaseStatus.REPORTED
    assert case.description == "人行道上摆摊，影响通行"
    assert case.address == "应天大街88号"
    assert (case.lat, case.lng) == (LAT, LNG)
    assert case.cell == world["cell"]
    assert case.reporter_name == "王秀英"
    assert case.reporter_phone_masked == "139****5678"
    assert REPORTER_PHONE not in case.reporter_phone_encrypted


def test_post_answers_in_xml_too(world):
    response = post("requests.xml", form(world))

    assert response.status_code == 201
    root = xml_of(response)
    assert root.tag == "service_requests"
    assert [children(request) for request in root] == [
        {
            "service_request_id": Case.objects.get().number,
            "service_notice": "管理",
            "account_id": "",
        }
    ]


def test_post_without_a_description_takes_the_services_name(world):
    response = post("requests.json", form(world, description=None))

    assert response.status_code == 201
    assert Case.objects.get().description == "占道经营"


@pytest.mark.parametrize(
    ("overrides", "status", "description"),
    [
        ({"api_key": None}, 403, "api_key is required to file a request."),
        ({"api_key": "sx_wrong.key"}, 403, "Invalid api_key."),
        ({"service_code": None}, 400, "service_code is required."),
        ({"service_code": "NOPE"}, 404, "No service has the code NOPE."),
        (
            {"lat": "north"},
            400,
            "lat must be a number from -90 to 90 (WGS-84), not north.",
        ),
        ({"lat": "91"}, 400, "lat must be a number from -90 to 90 (WGS-84), not 91."),
        ({"long": "nan"}, 400, "long must be a number from -180 to 180 (WGS-84), not nan."),
        ({"lat": None, "long": None, "address_string": None}, 400, "lat and long are required."),
        (
            {"lat": None, "long": None},
            400,
            "lat and long are required: a request is located in its grid cell, which an "
            "address alone cannot give.",
        ),
        (
            {"lat": "31.0", "long": "121.0"},
            400,
            "lat: The point lies outside every grid cell: name the street.",
        ),
        ({"phone": "call me"}, 400, "phone: 'callme' is not a phone number."),
        ({"description": "长" * 4001}, 400, "description is longer than 4000 characters."),
        ({"colour": "red"}, 400, "Unknown parameter colour."),
    ],
)
def test_post_refusals_are_spec_error_bodies_and_file_nothing(
    world, overrides, status, description
):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"{BASE}/requests.json", form(world, **overrides)
    )

    assert response.status_code == status
    assert response.json() == [{"code": status, "description": description}]
    assert not Case.objects.exists()


def test_a_department_key_may_not_file(world):
    response = post("requests.xml", form(world, api_key=world["department_raw"]))

    assert response.status_code == 403
    root = xml_of(response)
    assert [children(error)["code"] for error in root] == ["403"]
    assert not Case.objects.exists()


def test_a_revoked_key_may_not_file(world):
    world["integration"].revoked_at = NOW
    world["integration"].save(update_fields=["revoked_at"])

    response = post("requests.json", form(world))

    assert response.status_code == 403
    assert not Case.objects.exists()


# --- GET requests: the fields ---


def test_a_request_in_json_has_the_spec_fields_and_nothing_of_the_reporter(world):
    case = file_case(world)

    response = get(f"requests/{case.number}.json", api_key=world["integration_raw"])

    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": case.number,
            "status": "open",
            "status_notes": "已上报",
            "service_name": "占道经营",
            "service_code": "ZDJY",
            "description": "人行道上摆摊",
            "agency_responsible": world["street"].name,
            "service_notice": "管理",
            "requested_datetime": "2025-03-10T09:00:00+08:00",
            "updated_datetime": "2025-03-10T09:00:00+08:00",
            "expected_datetime": "2025-03-10T09:30:00+08:00",
            "address": "应天大街88号",
            "address_id": None,
            "zipcode": None,
            "lat": LAT,
            "long": LNG,
            "media_url": None,
        }
    ]


def test_a_request_in_xml_is_service_requests_of_request(world):
    case = file_case(world)

    response = get(f"requests/{case.number}.xml", api_key=world["integration_raw"])

    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_requests"
    assert [request.tag for request in root] == ["request"]
    assert children(root[0]) == {
        "service_request_id": case.number,
        "status": "open",
        "status_notes": "已上报",
        "service_name": "占道经营",
        "service_code": "ZDJY",
        "description": "人行道上摆摊",
        "agency_responsible": world["street"].name,
        "service_notice": "管理",
        "requested_datetime": "2025-03-10T09:00:00+08:00",
        "updated_datetime": "2025-03-10T09:00:00+08:00",
        "expected_datetime": "2025-03-10T09:30:00+08:00",
        "address": "应天大街88号",
        "address_id": "",
        "zipcode": "",
        "lat": str(LAT),
        "long": str(LNG),
        "media_url": "",
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("path", ["requests.{fmt}", "requests/{number}.{fmt}"])
def test_no_reporter_data_in_any_answer(world, fmt, path):
    case = file_case(world)
    response = get(path.format(fmt=fmt, number=case.number), api_key=world["integration_raw"])
    assert response.status_code == 200
    body = response.content.decode()

    assert case.number in body
    for secret in (REPORTER_NAME, REPORTER_PHONE, "5678", case.reporter_phone_masked):
        assert secret not in body


def test_the_status_note_follows_the_language_asked_for(world):
    case = file_case(world)

    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        f"{BASE}/requests/{case.number}.json", {"api_key": world["integration_raw"]}
    )

    assert response.json()[0]["status_notes"] == "Reported"


@pytest.mark.parametrize(
    ("status", "open311", "note"),
    [
        (CaseStatus.REPORTED, "open", "已上报"),
        (CaseStatus.ACCEPTED, "open", "已受理"),
        (CaseStatus.DISPATCHED, "open", "已派发"),
        (CaseStatus.ON_SCENE, "open", str(CaseStatus.ON_SCENE.label)),
        (CaseStatus.RESOLVED, "open", str(CaseStatus.RESOLVED.label)),
        (CaseStatus.REOPENED, "open", str(CaseStatus.REOPENED.label)),
        (CaseStatus.SUSPENDED, "open", str(CaseStatus.SUSPENDED.label)),
        (CaseStatus.CLOSED, "closed", "已结案"),
        (CaseStatus.REJECTED, "closed", "不予受理"),
        (CaseStatus.MERGED, "closed", str(CaseStatus.MERGED.label)),
        (CaseStatus.TRANSFERRED, "closed", str(CaseStatus.TRANSFERRED.label)),
    ],
)
def test_status_maps_closed_rejected_merged_transferred_to_closed(world, status, open311, note):
    case = file_case(world)
    Case.objects.filter(pk=case.pk).update(status=status)

    [request] = get(f"requests/{case.number}.json", api_key=world["integration_raw"]).json()

    assert (request["status"], request["status_notes"]) == (open311, note)


def test_a_rejection_closes_the_request_and_moves_updated_datetime(world, clock):
    case = file_case(world)
    clock.shift(timedelta(minutes=10))
    workflow.case_reject(case=case, actor=world["command"], reason="不属于综合执法事项")

    [request] = get(f"requests/{case.number}.json", api_key=world["integration_raw"]).json()

    assert request["status"] == "closed"
    assert request["status_notes"] == "不予受理"
    assert request["requested_datetime"] == "2025-03-10T09:00:00+08:00"
    assert request["updated_datetime"] == "2025-03-10T09:10:00+08:00"
    # The rejection cancelled the accept timer: nothing is expected any more.
    assert request["expected_datetime"] is None


def test_expected_datetime_is_the_first_due_running_timer(world, clock):
    case = file_case(world)
    clock.shift(timedelta(minutes=5))
    workflow.case_accept(case=case, actor=world["command"])

    [request] = get(f"requests/{case.number}.json", api_key=world["integration_raw"]).json()

    # The accept timer (due 09:30) was cancelled by the acceptance; dispatch runs from 09:05.
    assert request["expected_datetime"] == "2025-03-10T11:05:00+08:00"
    assert request["status_notes"] == "已受理"


def test_agency_responsible_is_the_team_else_the_called_departments(world):
    on_team, called = file_case(world), file_case(world, description="又一处摊点")
    team = Team.objects.create(street=world["street"], name="红花中队")
    Case.objects.filter(pk=on_team.pk).update(team=team)
    DepartmentCall.objects.create(case=called, department=world["department"])

    requests = get("requests.json", api_key=world["integration_raw"]).json()

    agencies = {r["service_request_id"]: r["agency_responsible"] for r in requests}
    assert agencies == {on_team.number: "红花中队", called.number: "秦淮区城市管理局"}


# --- GET requests: who may read ---


def accepted_case(world, **kwargs) -> Case:
    """A case the street took up: the public reads it."""
    case = file_case(world, **kwargs)
    return workflow.case_accept(case=case, actor=world["command"])


def filed_through_open311(world, fmt="json", **overrides) -> str:
    response = post(f"requests.{fmt}", form(world, **overrides))
    assert response.status_code == 201
    return Case.objects.latest("pk").number


TEXT_WITH_NUMBERS = "摊主电话13812345678，身份证110101199003071234，占道摆摊"
TEXT_MASKED = "摊主电话138****5678，身份证1101**********1234，占道摆摊"


def test_the_public_reads_a_request_in_json_without_a_key_numbers_masked(world):
    # given: a case the street accepted, whose description and address carry personal numbers
    case = accepted_case(world, description=TEXT_WITH_NUMBERS, address="应天大街88号 025-84421234")

    # when: read without a key or a login
    response = get(f"requests/{case.number}.json")

    # then: the spec's fields, the reporter's left out, the numbers masked
    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": case.number,
            "status": "open",
            "status_notes": "已受理",
            "service_name": "占道经营",
            "service_code": "ZDJY",
            "description": TEXT_MASKED,
            "agency_responsible": world["street"].name,
            "service_notice": "管理",
            "requested_datetime": "2025-03-10T09:00:00+08:00",
            "updated_datetime": "2025-03-10T09:00:00+08:00",
            "expected_datetime": "2025-03-10T11:00:00+08:00",
            "address": "应天大街88号 025*****1234",
            "address_id": None,
            "zipcode": None,
            "lat": LAT,
            "long": LNG,
            "media_url": None,
        }
    ]
    for secret in (REPORTER_NAME, REPORTER_PHONE, "13812345678", "199003071234", "84421234"):
        assert secret not in response.content.decode()


def test_the_public_reads_the_list_in_xml_without_a_key_numbers_masked(world):
    # given
    case = accepted_case(world, description=TEXT_WITH_NUMBERS)

    # when
    response = get("requests.xml")

    # then
    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_requests"
    assert [request.tag for request in root] == ["request"]
    request = children(root[0])
    assert sorted(request) == [
        "address",
        "address_id",
        "agency_responsible",
        "description",
        "expected_datetime",
        "lat",
        "long",
        "media_url",
        "requested_datetime",
        "service_code",
        "service_name",
        "service_notice",
        "service_request_id",
        "status",
        "status_notes",
        "updated_datetime",
        "zipcode",
    ]
    assert (request["service_request_id"], request["description"], request["address"]) == (
        case.number,
        TEXT_MASKED,
        "应天大街88号",
    )
    for secret in (REPORTER_NAME, REPORTER_PHONE, "13812345678", "199003071234"):
        assert secret not in response.content.decode()


@pytest.mark.parametrize(
    ("status", "public"),
    [
        (CaseStatus.REPORTED, False),
        (CaseStatus.ACCEPTED, True),
        (CaseStatus.DISPATCHED, True),
        (CaseStatus.ON_SCENE, True),
        (CaseStatus.RESOLVED, True),
        (CaseStatus.CLOSED, True),
        (CaseStatus.REOPENED, True),
        (CaseStatus.SUSPENDED, True),
        (CaseStatus.REJECTED, False),
        (CaseStatus.MERGED, False),
        (CaseStatus.TRANSFERRED, False),
    ],
)
def test_the_public_reads_the_cases_the_street_took_up_and_did_not_send_away(world, status, public):
    # given: a case from another channel than Open311, in ``status``
    case = file_case(world)
    Case.objects.filter(pk=case.pk).update(status=status)

    # when
    listed = get("requests.json")
    by_id = get(f"requests/{case.number}.json")

    # then
    assert numbers_of(listed) == ([case.number] if public else [])
    assert by_id.status_code == (200 if public else 404)


@pytest.mark.parametrize("status", list(CaseStatus))
def test_a_request_filed_through_open311_is_public_whatever_became_of_it(world, status):
    # given
    number = filed_through_open311(world)
    Case.objects.filter(number=number).update(status=status)

    # when
    listed = get("requests.json")
    by_id = get(f"requests/{number}.json")

    # then
    assert numbers_of(listed) == [number]
    assert numbers_of(by_id) == [number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_filed_with_a_key_is_read_back_without_one(world, fmt):
    # given: filed with the integration's key, the reporter's phone in the description too
    number = filed_through_open311(world, fmt, description="摊主电话13912345678，占道")

    # when: read back as the spec lets a client, without the key
    response = get(f"requests/{number}.{fmt}", jurisdiction_id="nanjing.gov.cn")

    # then
    assert response.status_code == 200
    if fmt == "json":
        [request] = response.json()
    else:
        [request] = [children(element) for element in xml_of(response)]
    assert (request["service_request_id"], request["status"], request["description"]) == (
        number,
        "open",
        "摊主电话139****5678，占道",
    )
    assert Case.objects.get(number=number).events.get().data["channel"] == "open311"
    for secret in ("王", "秀英", REPORTER_PHONE, "wang@example.com"):
        assert secret not in response.content.decode()


def test_a_key_holder_reads_what_it_read_before_whole(world):
    # given: its own case only reported, another's taken up by the street
    own = file_case(world, description=TEXT_WITH_NUMBERS)
    others = accepted_case(world, key="other", description="另一平台上报")

    # when
    with_key = get("requests.json", api_key=world["integration_raw"])
    without = get("requests.json")

    # then: the key sees its own, unmasked; the public what is public
    assert [(r["service_request_id"], r["description"]) for r in with_key.json()] == [
        (own.number, TEXT_WITH_NUMBERS)
    ]
    assert numbers_of(without) == [others.number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("path", ["requests.{fmt}", "requests/{number}.{fmt}"])
def test_with_public_reads_off_a_read_without_a_key_is_refused(world, settings, fmt, path):
    # given: public reads off, a case the public would read otherwise
    settings.OPEN311_PUBLIC_READ = False
    case = accepted_case(world)

    # when
    response = get_en(path.format(fmt=fmt, number=case.number))

    # then: 403 and the spec's error body
    assert response.status_code == 403
    description = "An api_key or a signed-in account is required: requests are not public."
    if fmt == "json":
        assert response.json() == [{"code": 403, "description": description}]
    else:
        root = xml_of(response)
        assert root.tag == "errors"
        assert [children(error) for error in root] == [{"code": "403", "description": description}]


def test_with_public_reads_off_services_stay_public_and_keys_read_as_before(world, settings):
    # given
    settings.OPEN311_PUBLIC_READ = False
    own = file_case(world, description=TEXT_WITH_NUMBERS)

    # when
    services = get("services.json")
    with_key = get(f"requests/{own.number}.json", api_key=world["integration_raw"])

    # then
    assert services.status_code == 200
    assert [(r["service_request_id"], r["description"]) for r in with_key.json()] == [
        (own.number, TEXT_WITH_NUMBERS)
    ]


@pytest.mark.parametrize("public_read", [True, False])
def test_filing_needs_a_key_whether_reads_are_public_or_not(world, settings, public_read):
    # given
    settings.OPEN311_PUBLIC_READ = public_read

    # when
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"{BASE}/requests.json", form(world, api_key=None)
    )

    # then
    assert response.status_code == 403
    assert response.json() == [
        {"code": 403, "description": "api_key is required to file a request."}
    ]
    assert not Case.objects.exists()


def test_a_wrong_key_is_refused_even_where_no_key_is_needed(world):
    response = get_en("services.json", api_key="sx_wrong.key")

    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": "Invalid api_key."}]


def test_a_wrong_key_gets_403_even_for_reading(world):
    response = get("requests.xml", api_key="sx_wrong.key")

    assert response.status_code == 403
    assert [children(error)["code"] for error in xml_of(response)] == ["403"]


def test_an_integration_sees_only_the_requests_it_filed(world):
    own = file_case(world)
    others = file_case(world, key="other", description="另一平台上报")

    assert numbers_of(get("requests.json", api_key=world["integration_raw"])) == [own.number]
    assert numbers_of(get("requests.json", api_key=world["other_raw"])) == [others.number]
    response = get_en(f"requests/{others.number}.json", api_key=world["integration_raw"])
    assert response.status_code == 404
    assert response.json() == [
        {"code": 404, "description": f"No service request has the id {others.number}."}
    ]


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_the_key_may_come_in_a_header_as_for_api_v1(world, header):
    own = file_case(world)
    file_case(world, key="other", description="另一平台上报")
    raw = world["integration_raw"]
    value = f"Api-Key {raw}" if header == "HTTP_AUTHORIZATION" else raw

    response = Client().get(f"{BASE}/requests.json", **{header: value})

    assert numbers_of(response) == [own.number]


def test_a_department_key_sees_the_requests_called_to_it(world):
    file_case(world)
    called = file_case(world, key="other", description="吹哨给城管")
    DepartmentCall.objects.create(case=called, department=world["department"])

    response = get("requests.json", api_key=world["department_raw"])

    assert numbers_of(response) == [called.number]


def test_a_signed_in_account_sees_what_its_rights_show(world):
    first = file_case(world)
    second = file_case(world, key="other", description="另一平台上报")
    street_staff = UserFactory(username="street_staff")
    access_grant(user=street_staff, container=world["street"])
    nobody = UserFactory(username="nobody")

    staff_client, nobody_client = Client(), Client()
    staff_client.force_login(street_staff)
    nobody_client.force_login(nobody)

    assert numbers_of(staff_client.get(f"{BASE}/requests.json")) == [second.number, first.number]
    assert nobody_client.get(f"{BASE}/requests.json").json() == []
    assert nobody_client.get(f"{BASE}/requests/{first.number}.json").status_code == 404


# --- GET requests: the filters ---


def test_the_default_window_is_the_last_90_days(world):
    recent, old = file_case(world), file_case(world, description="三个月前")
    requested_at(old, NOW - timedelta(days=91))

    assert numbers_of(get("requests.json", api_key=world["integration_raw"])) == [recent.number]


def test_start_and_end_date_select_by_requested_datetime(world):
    cases = [file_case(world, description=f"第{n}起") for n in range(3)]
    for case, days in zip(cases, (100, 50, 10), strict=True):
        requested_at(case, NOW - timedelta(days=days))

    response = get(
        "requests.json",
        api_key=world["integration_raw"],
        start_date=(NOW - timedelta(days=120)).isoformat(),
        end_date="2025-01-10T00:00:00Z",  # 59 days and an hour before NOW
    )

    assert numbers_of(response) == [cases[0].number]
    only_start = get(
        "requests.json", api_key=world["integration_raw"], start_date="2025-01-15T01:00:00Z"
    )
    assert numbers_of(only_start) == [cases[2].number, cases[1].number]


def test_an_unencoded_plus_in_a_date_is_read_as_an_offset(world):
    case = file_case(world)

    response = Client().get(
        f"{BASE}/requests.json?api_key={world['integration_raw']}"
        "&start_date=2025-03-10T08:00:00+08:00&end_date=2025-03-10T10:00:00+08:00"
    )

    assert numbers_of(response) == [case.number]


def test_a_date_alone_is_the_start_of_that_day_here(world):
    today = file_case(world)
    last_night = file_case(world, description="昨晚")
    requested_at(last_night, datetime(2025, 3, 9, 23, 0, tzinfo=SHANGHAI))

    response = get(
        "requests.json",
        api_key=world["integration_raw"],
        start_date="2025-03-10",
        end_date="2025-03-11",
    )

    assert numbers_of(response) == [today.number]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"start_date": "yesterday"},
            "start_date must be a W3C date-time such as 2010-01-01T00:00:00Z.",
        ),
        (
            {"end_date": "2025-03-01T00:00:00"},
            "end_date must include its time zone (Z or an offset such as +08:00).",
        ),
        (
            {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"},
            "start_date to end_date may not span more than 90 days.",
        ),
        (
            {"start_date": "2024-06-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"},
            "end_date is before start_date.",
        ),
        (
            {"status": "pending"},
            "status must be open, closed or both (comma-delimited), not pending.",
        ),
        ({"service_code": "ZDJY,NOPE"}, "No service has the code NOPE."),
        ({"page_size": "10"}, "Unknown parameter page_size."),
    ],
)
def test_bad_filters_are_400_error_bodies(world, params, description):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        f"{BASE}/requests.json", {"api_key": world["integration_raw"], **params}
    )

    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": description}]


def test_status_filter_open_closed_or_both(world):
    open_case = file_case(world)
    closed_case = file_case(world, description="已处理")
    workflow.case_reject(case=closed_case, actor=world["command"], reason="重复")
    key = world["integration_raw"]

    assert numbers_of(get("requests.json", api_key=key, status="open")) == [open_case.number]
    assert numbers_of(get("requests.json", api_key=key, status="closed")) == [closed_case.number]
    assert numbers_of(get("requests.json", api_key=key, status="open,closed")) == [
        closed_case.number,
        open_case.number,
    ]
    # An empty optional parameter is the same as none (the spec's "Optional Arguments").
    assert len(get("requests.json", api_key=key, status="").json()) == 2


def test_service_code_filter_takes_a_comma_delimited_list(world):
    stall = file_case(world)
    noise = file_case(world, matter="noise", description="装修噪声")
    key = world["integration_raw"]

    assert numbers_of(get("requests.json", api_key=key, service_code="ZXZS")) == [noise.number]
    assert numbers_of(get("requests.json", api_key=key, service_code="ZDJY,ZXZS")) == [
        noise.number,
        stall.number,
    ]


def test_service_request_id_overrides_every_other_filter(world):
    old, recent, hidden = (
        file_case(world, description="旧案"),
        file_case(world, description="新案"),
        file_case(world, key="other", description="别家的"),
    )
    requested_at(old, NOW - timedelta(days=400))

    response = get(
        "requests.xml",
        api_key=world["integration_raw"],
        service_request_id=f"{old.number},{recent.number},{hidden.number}",
        status="closed",
        service_code="ZXZS",
    )

    assert response.status_code == 200
    ids = [children(request)["service_request_id"] for request in xml_of(response)]
    assert ids == [recent.number, old.number]


def test_at_most_1000_requests_are_returned(world, monkeypatch):
    from enforcement import open311

    monkeypatch.setattr(open311, "REQUESTS_LIMIT", 2)
    cases = [file_case(world, description=f"第{n}起") for n in range(3)]
    for n, case in enumerate(cases):
        requested_at(case, NOW - timedelta(minutes=n))

    assert numbers_of(get("requests.json", api_key=world["integration_raw"])) == [
        cases[0].number,
        cases[1].number,
    ]


def test_the_limit_is_the_specs_1000():
    from enforcement import open311

    assert open311.REQUESTS_LIMIT == 1000
    assert open311.REQUESTS_WINDOW.days == 90


def test_an_unexpected_failure_is_a_400_general_error_not_a_500(world, monkeypatch):
    from enforcement.api import open311 as views

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "open311_service_list", broken)

    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"{BASE}/services.xml")

    assert response.status_code == 400
    assert [children(error) for error in xml_of(response)] == [
        {"code": "400", "description": "General service error: the request failed."}
    ]


# --- the limit per key ---


def test_a_key_over_the_apis_rate_gets_a_429_error_body_with_retry_after(
    world, settings, monkeypatch
):
    """Open311 counts against the same limit per key as /api/v1 (ApiKeyRateThrottle)."""
    from django.core.cache.backends.locmem import LocMemCache

    from enforcement.api_keys import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "cache", LocMemCache("open311-throttle", {}))
    settings.API_THROTTLE_RATE = "2/min"
    first = post("requests.json", form(world, description="一"))
    second = get("requests.json", api_key=world["integration_raw"])
    refused = post("requests.xml", form(world, description="三"))

    assert (first.status_code, second.status_code) == (201, 200)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) in range(1, 61)
    root = xml_of(refused)
    assert root.tag == "errors" and root.find("error/code").text == "429"
    assert Case.objects.filter(description="三").count() == 0


def test_public_reads_count_per_address_however_x_forwarded_for_reads(world, settings, monkeypatch):
    """The public counts against the API's limit per address (ApiKeyRateThrottle's anonymous
    count); with no NUM_PROXIES declared, a forged X-Forwarded-For is not a new address."""
    from django.core.cache.backends.locmem import LocMemCache

    from enforcement.api_keys import ApiKeyRateThrottle

    # given
    monkeypatch.setattr(ApiKeyRateThrottle, "cache", LocMemCache("open311-public", {}))
    settings.API_THROTTLE_RATE = "2/min"

    # when
    first = get("services.json")
    second = Client(HTTP_X_FORWARDED_FOR="203.0.113.7").get(f"{BASE}/requests.json")
    refused = Client(HTTP_X_FORWARDED_FOR="198.51.100.9").get(f"{BASE}/requests/X-1.xml")
    elsewhere = Client(REMOTE_ADDR="127.0.0.2").get(f"{BASE}/requests.json")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) in range(1, 61)
    assert xml_of(refused).find("error/code").text == "429"
    assert elsewhere.status_code == 200
