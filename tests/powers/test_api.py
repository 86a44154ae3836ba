"""The powers API: items with filters, a street's catalogue on a date, adjustments."""

from datetime import date

import pytest
import time_machine

from grids.choices import RegionLevel
from grids.models import Region
from powers.services import catalogue_publish
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory
from tests.powers.people import chain_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    district = Region.objects.create(level=RegionLevel.DISTRICT, code="320104", name="秦淮区")
    street = Region.objects.create(
        level=RegionLevel.STREET, code="320104010", name="红花街道", parent=district
    )
    items = [PowerItemFactory(code=f"SR-00{n}") for n in range(1, 5)]
    PowerItemFactory(
        code="HB-001",
        department=DepartmentFactory(code="HB", name="南京市秦淮生态环境局"),
        is_major=True,
    )
    catalogue_publish(
        street=street,
        items=items[:3],
        effective_on=date(2024, 1, 1),
        notice_number="秦政发〔2023〕88号",
    )
    catalogue_publish(
        street=street,
        items=items[1:4],
        effective_on=date(2025, 1, 1),
        notice_number="秦政发〔2024〕7号",
    )
    client.people = chain_people(street)
    client.force_login(client.people.command)
    with time_machine.travel(date(2026, 11, 21), tick=False):
        yield client


def test_anonymous_is_refused(client):
    assert client.get("/api/v1/powers/items/").status_code == 401


def test_items_filtered_by_department_and_major(api):
    body = api.get("/api/v1/powers/items/?department=HB&is_major=true").json()
    assert [row["code"] for row in body["results"]] == ["HB-001"]
    assert api.get("/api/v1/powers/items/?dept=HB").status_code == 400


def test_the_catalogue_on_a_date(api):
    before = api.get("/api/v1/powers/catalogues/320104010/?on=2024-12-31").json()
    after = api.get("/api/v1/powers/catalogues/320104010/?on=2025-01-01").json()

    assert (before["version"]["number"], [i["code"] for i in before["items"]]) == (
        1,
        ["SR-001", "SR-002", "SR-003"],
    )
    assert (after["version"]["number"], [i["code"] for i in after["items"]]) == (
        2,
        ["SR-002", "SR-003", "SR-004"],
    )
    none = api.get("/api/v1/powers/catalogues/320104010/?on=2023-01-01").json()
    assert (none["version"], none["items"]) == (None, [])
    assert api.get("/api/v1/powers/catalogues/320104010/?on=2025-13-01").status_code == 400
    assert api.get("/api/v1/powers/catalogues/999999999/").status_code == 404


def test_an_adjustment_through_the_api(api):
    created = api.post(
        "/api/v1/powers/adjustments/",
        {
            "street": "320104010",
            "title": "调整",
            "justification": "需求突出",
            "adds": ["HB-001"],
            "revokes": ["SR-002"],
            "effective_on": "2027-01-01",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["adds"], body["revokes"], body["status"]) == (["HB-001"], ["SR-002"], "pending")

    url = f"/api/v1/powers/adjustments/{body['id']}"
    api.force_login(api.people.leader)
    assert (
        api.post(
            f"{url}/approve/", {"comment": "同意"}, content_type="application/json"
        ).status_code
        == 200
    )
    api.force_login(api.people.district)
    assert api.post(f"{url}/approve/", {}, content_type="application/json").status_code == 200
    api.force_login(api.people.city)
    final = api.post(f"{url}/approve/", {}, content_type="application/json")
    assert final.status_code == 400 and list(final.json()["errors"]) == ["notice_number"]
    done = api.post(
        f"{url}/approve/", {"notice_number": "宁政复〔2026〕12号"}, content_type="application/json"
    ).json()
    assert (done["status"], done["published_version"]) == ("published", 3)
    on_d = api.get("/api/v1/powers/catalogues/320104010/?on=2027-01-01").json()
    assert [i["code"] for i in on_d["items"]] == ["HB-001", "SR-003", "SR-004"]


def test_bad_adjustments_say_what_is_wrong(api):
    response = api.post(
        "/api/v1/powers/adjustments/",
        {
            "street": "320104010",
            "title": "x",
            "justification": "y",
            "adds": ["XX-999"],
            "effective_on": "2027-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["items"]
    response = api.post(
        "/api/v1/powers/adjustments/", {"street": "320104010"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["effective_on", "justification", "title"]
    response = api.post(
        "/api/v1/powers/adjustments/",
        {
            "street": "320104010",
            "title": "x",
            "justification": "y",
            "revokes": ["SR-001"],
            "effective_on": "2027-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400  # SR-001 is not on the latest list


def test_proposing_and_deciding_need_their_rights(client, api):
    client.force_login(UserFactory(username="officer", roles=["officer"]))
    payload = {
        "street": "320104010",
        "title": "x",
        "justification": "y",
        "adds": ["HB-001"],
        "effective_on": "2027-01-01",
    }
    assert (
        client.post(
            "/api/v1/powers/adjustments/", payload, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get("/api/v1/powers/adjustments/").status_code == 200
