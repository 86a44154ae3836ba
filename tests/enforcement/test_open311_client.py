"""A real third-party Open311 client against the running server (pytest-django's live_server,
on the loopback address): georeport 0.3.1 from PyPI reads services and requests in JSON and XML
and never sends its api_key on a GET (its source: the key is "only required if creating
service requests"). It cannot file (it has no POST), so the POST is sent with ``requests`` the
way the two Code for America clients send theirs, which are Python 2 only and cannot be
installed here: ``three`` 0.8.0 puts api_key into the form body with the other fields,
``open311`` 1.1 puts api_key and jurisdiction_id into the query string and the fields into the
form body. Both are form-encoded, as the spec says."""

from xml.etree import ElementTree as ET

import pytest
import requests
from django.utils import translation
from django.utils.translation import gettext
from georeport import GeoReport
from georeport import georeport as georeport_module

from enforcement.api_keys import api_key_create
from enforcement.choices import CaseSource, HandlingMode
from enforcement.models import Case, MatterType
from enforcement.open311 import open311_request_get
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory

# The live server's thread reads what the test wrote: committed rows. serialized_rollback puts
# back the rows the migrations seed (power categories, SLA policies) for the tests after.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

JURISDICTION = "nanjing.gov.cn"
DESCRIPTION = "人行道上摆摊，摊主电话13812345678"
DESCRIPTION_MASKED = "人行道上摆摊，摊主电话138****5678"
TIMEOUT = 10  # seconds: a test never waits longer on the live server


@pytest.fixture
def world(monkeypatch):
    # Nothing but the loopback address, whatever proxy the environment names.
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    ComprehensiveCellFactory()
    MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    _key, raw = api_key_create(source=CaseSource.RESIDENT, name="市民随手拍")
    return {"raw": raw}


@pytest.fixture
def gets(monkeypatch):
    """Every GET the library sends: (url, params)."""
    sent = []
    original = requests.get

    def recording_get(url, params=None, **kwargs):
        sent.append((url, dict(params or {})))
        kwargs.setdefault("timeout", TIMEOUT)  # the library sets none: bounded here
        return original(url, params=params, **kwargs)

    monkeypatch.setattr(georeport_module.requests, "get", recording_get)
    return sent


def file_request(endpoint: str, fmt: str, raw_key: str, style: str) -> requests.Response:
    fields = {
        "service_code": "ZDJY",
        "lat": str(LAT),
        "long": str(LNG),
        "address_string": "应天大街88号",
        "description": DESCRIPTION,
        "first_name": "秀英",
        "last_name": "王",
        "phone": "13912345678",
        "email": "wang@example.com",
    }
    url = f"{endpoint}/requests.{fmt}"
    if style == "three":
        return requests.post(
            url,
            data={**fields, "jurisdiction_id": JURISDICTION, "api_key": raw_key},
            timeout=TIMEOUT,
        )
    query = {"jurisdiction_id": JURISDICTION, "api_key": raw_key}
    return requests.post(url, params=query, data=fields, timeout=TIMEOUT)


def as_xml_text(request: dict) -> dict:
    """A request as xmltodict reads our XML: every value text, an empty element None."""
    return {name: None if value is None else str(value) for name, value in request.items()}


@pytest.mark.parametrize("style", ["three", "open311"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_files_with_its_key_and_reads_back_without_it(
    live_server, world, gets, fmt, style
):
    # given: the client as an app would set it up, its key given for filing
    endpoint = f"{live_server.url}/open311/v2"
    client = GeoReport(endpoint, jurisdiction=JURISDICTION, api_key=world["raw"], output_format=fmt)

    # when: it looks up the services, files a request, then reads it back one way and the other
    services = client.get_service_list()
    filed = file_request(endpoint, fmt, world["raw"], style)
    number = Case.objects.get().number
    one = client.get_service_request(number)
    listed = client.get_service_requests(service_request_id=number)

    # then: filed with the key, read back without it, the reporter's phone masked
    assert filed.status_code == 201
    expected = open311_request_get(user=None, number=number)
    assert expected["description"] == DESCRIPTION_MASKED
    if fmt == "json":
        assert filed.json()[0]["service_request_id"] == number
        assert [service["service_code"] for service in services] == ["ZDJY"]
        assert one == expected
        assert listed == [expected]
    else:
        # xmltodict gives one element as a dict, several as a list: one of each here.
        assert services["service_code"] == "ZDJY"
        assert one == as_xml_text(expected)
        assert listed == as_xml_text(expected)
    for secret in ("秀英", "13912345678", "13812345678", "wang@example.com"):
        assert secret not in str(one)
    assert [url.rsplit("/open311/v2/", 1)[1] for url, _params in gets] == [
        f"services.{fmt}",
        f"requests/{number}.{fmt}",
        f"requests.{fmt}",
    ]
    assert [params for _url, params in gets] == [
        {"jurisdiction_id": JURISDICTION},
        {"jurisdiction_id": JURISDICTION},
        {"service_request_id": number, "jurisdiction_id": JURISDICTION},
    ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_with_public_reads_off_the_clients_reads_are_refused(live_server, world, settings, fmt):
    # given: public reads off, a request filed with the key
    settings.OPEN311_PUBLIC_READ = False
    endpoint = f"{live_server.url}/open311/v2"
    client = GeoReport(endpoint, jurisdiction=JURISDICTION, api_key=world["raw"], output_format=fmt)
    assert file_request(endpoint, fmt, world["raw"], "three").status_code == 201
    number = Case.objects.get().number

    # when: the client reads it back without its key
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_request(number)
    services = client.get_service_list()

    # then: 403 with the spec's error body (in Chinese: the client asks for no other language);
    # the services stay public
    with translation.override("zh-hans"):
        description = gettext(
            "An api_key or a signed-in account is required: requests are not public."
        )
    response = refused.value.response
    assert response.status_code == 403
    if fmt == "json":
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.json() == [{"code": 403, "description": description}]
        assert [service["service_code"] for service in services] == ["ZDJY"]
    else:
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)  # noqa: S314 -- our own server's answer
        assert root.tag == "errors"
        assert [{child.tag: child.text for child in error} for error in root] == [
            {"code": "403", "description": description}
        ]
        assert services["service_code"] == "ZDJY"
