"""The grids read API: GeoJSON cells with filters, locate, subjects with masked phones. The
net is read by every signed-in user; subjects only within the streets and cells granted."""

import pytest
from django.contrib.auth.models import Permission

from enforcement.permissions import access_grant
from grids.models import GridCell, Region, Subject
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, demo):
    reader = UserFactory(username="reader")
    access_grant(user=reader, container=Region.objects.get(code="320104"))  # the district
    client.force_login(reader)
    return client


def test_anonymous_callers_are_refused(client, demo):
    for url in (
        "/api/v1/grids/cells/",
        "/api/v1/grids/locate/?lat=32&lng=118.8",
        "/api/v1/grids/subjects/",
    ):
        assert client.get(url).status_code == 401, url


def test_cells_are_a_geojson_feature_collection_filtered_by_street_and_level(api):
    body = api.get("/api/v1/grids/cells/?street=320104010&level=comprehensive").json()

    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 42
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["code"] == "320104010001001"
    assert feature["properties"]["street"] == "320104010"
    assert feature["properties"]["parent"] == "320104010001000"
    assert {f["properties"]["area"] for f in body["features"]} == {"一片区", "二片区", "三片区"}


def test_cells_filtered_by_community_and_first_level(api):
    body = api.get("/api/v1/grids/cells/?community=320104003002&level=first_level").json()
    assert [f["properties"]["code"] for f in body["features"]] == ["320104003002000"]


def test_an_unknown_filter_is_a_400_not_every_row(api):
    response = api.get("/api/v1/grids/cells/?streeet=320104010")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == ["streeet"]


def test_locate_finds_the_cell_of_a_demo_subject(api):
    subject = Subject.objects.filter(cell__isnull=False).order_by("pk").first()

    body = api.get(f"/api/v1/grids/locate/?lat={subject.lat}&lng={subject.lng}").json()

    assert body["cell"]["code"] == subject.cell.code
    assert body["nearest"] is None and body["distance_m"] is None


def test_locate_outside_the_net_names_the_nearest_cell(api):
    body = api.get("/api/v1/grids/locate/?lat=31.98&lng=118.80").json()

    assert body["cell"] is None
    assert body["nearest"]["code"].startswith("320104010")
    assert 1000 < body["distance_m"] < 1200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("lat=91&lng=118.8", ["lat"]),
        ("lat=32&lng=abc", ["lng"]),
        ("lat=32", ["lng"]),
        ("lat=32&lng=118.8&crs=wgs85", ["crs"]),
        ("lat=32&lng=118.8&radius=5", ["radius"]),
    ],
)
def test_locate_says_which_parameter_is_wrong(api, query, fields):
    response = api.get(f"/api/v1/grids/locate/?{query}")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == fields


def test_subjects_are_paginated_filtered_and_phones_masked(api):
    body = api.get("/api/v1/grids/subjects/?street=320104010&kind=catering&page_size=5").json()

    assert (
        body["count"]
        == Subject.objects.filter(
            cell__community__parent__code="320104010", kind="catering"
        ).count()
    )
    assert len(body["results"]) == 5
    for row in body["results"]:
        assert row["kind"] == "catering"
        assert row["cell"].startswith("320104010")
        assert row["contact_phone"][3:7] == "****" and len(row["contact_phone"]) == 11


def test_subject_phone_is_whole_for_a_holder_of_the_right(client, demo):
    user = UserFactory(username="leader")
    user.user_permissions.add(Permission.objects.get(codename="view_subject_contact_phone"))
    subject = Subject.objects.order_by("pk").first()
    access_grant(user=user, container=subject.cell)
    client.force_login(user)

    row = client.get(f"/api/v1/grids/subjects/{subject.pk}/").json()

    assert row["contact_phone"] == subject.contact_phone
    assert row["credit_code"] == subject.credit_code


def test_subject_search_and_an_unknown_subject(api):
    subject = Subject.objects.order_by("pk").first()
    body = api.get("/api/v1/grids/subjects/", {"q": subject.name}).json()
    assert subject.pk in [row["id"] for row in body["results"]]
    assert api.get("/api/v1/grids/subjects/999999/").status_code == 404


def test_subjects_are_seen_only_within_the_cells_and_streets_granted(client, demo):
    cell = GridCell.objects.filter(subjects__isnull=False).order_by("code").first()
    worker, stranger = UserFactory(username="worker"), UserFactory(username="stranger")
    access_grant(user=worker, container=cell)

    client.force_login(stranger)
    assert client.get("/api/v1/grids/subjects/").json()["count"] == 0
    client.force_login(worker)
    body = client.get("/api/v1/grids/subjects/", {"page_size": 500}).json()
    assert body["count"] == Subject.objects.filter(cell=cell).count() > 0
    assert {row["cell"] for row in body["results"]} == {cell.code}
