"""The case API's contract: intake, ETag / If-Match, Idempotency-Key, one error body for every
bad input, filters and the OpenAPI documents."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings

from enforcement.models import Case
from tests.enforcement.api.conftest import HH_GRID_CELL, client_for, point_in

pytestmark = pytest.mark.django_db


def intake_body(world, **extra):
    lat, lng = point_in(HH_GRID_CELL)
    body = {
        "source": "grid_report",
        "matter_type": world["cases"]["A"].matter_type.code,
        "description": "人行道上有人占道经营",
        "lat": lat,
        "lng": lng,
    }
    return body | extra


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and "type" in body
    return body


def test_intake_answers_201_with_the_case_its_etag_and_location(world):
    response = client_for(world, "hh_grid").post(
        "/api/v1/cases/", intake_body(world), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "reported" and body["cell"] == HH_GRID_CELL
    # Where the case stands; nothing of what the caller sent (the reporter's phone) echoed.
    assert set(body) == {
        "number",
        "status",
        "status_label",
        "version",
        "source",
        "external_id",
        "matter_type",
        "severity",
        "handling_mode",
        "street",
        "cell",
        "likely_duplicate_of",
        "created_at",
    }
    assert response["ETag"] == f'"{body["version"]}"'
    assert response["Location"] == f"/api/v1/cases/{body['number']}/"
    detail = client_for(world, "hh_grid").get(response["Location"]).json()
    assert [t["stage"] for t in detail["timers"]] == ["accept"]


def test_a_replayed_post_returns_the_first_response_and_makes_nothing_new(world):
    client = client_for(world, "hh_grid")
    headers = {"HTTP_IDEMPOTENCY_KEY": "grid-app-7f3a"}
    first = client.post("/api/v1/cases/", intake_body(world), format="json", **headers)
    count = Case.objects.count()
    again = client.post("/api/v1/cases/", intake_body(world), format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == count
    other = client.post(
        "/api/v1/cases/", intake_body(world, description="另一件事"), format="json", **headers
    )
    problem(other, 422)
    assert Case.objects.count() == count


def test_a_work_order_sent_twice_is_one_case(world):
    client = client_for(world, "key:hotline")
    body = intake_body(world, external_id="GD20261121-0001")
    del body["source"]
    first = client.post("/api/v1/cases/", body, format="json")
    second = client.post("/api/v1/cases/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["number"] == second.json()["number"]
    assert first.json()["source"] == "hotline_12345"


def test_transitions_need_a_current_if_match(world):
    client = client_for(world, "hh_command")
    b = world["cases"]["B"]
    url = f"/api/v1/cases/{b.number}/dispatch/"
    body = {"target": "team", "team": world["team"].pk}
    missing = problem(client.post(url, body, format="json"), 428)
    assert "If-Match" in missing["detail"]
    problem(client.post(url, body, format="json", HTTP_IF_MATCH=f'"{b.version - 1}"'), 412)
    detail = client.get(f"/api/v1/cases/{b.number}/")
    done = client.post(url, body, format="json", HTTP_IF_MATCH=detail["ETag"])
    assert done.status_code == 200
    assert done["ETag"] == f'"{b.version + 1}"'
    # the same request again: the ETag it sent is stale now
    problem(client.post(url, body, format="json", HTTP_IF_MATCH=detail["ETag"]), 412)
    not_modified = client.get(f"/api/v1/cases/{b.number}/", HTTP_IF_NONE_MATCH=done["ETag"])
    assert not_modified.status_code == 304


def test_an_invalid_transition_is_a_409_naming_the_allowed_states(world):
    a = world["cases"]["A"]  # dispatched
    response = client_for(world, "hh_command").post(
        f"/api/v1/cases/{a.number}/accept/", {}, format="json", HTTP_IF_MATCH=f'"{a.version}"'
    )
    body = problem(response, 409)
    assert "accept" in body["detail"] or "受理" in body["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": 91}, "lat"),
        ({"lng": "east"}, "lng"),
        ({"matter_type": "NO-SUCH"}, "matter_type"),
        # NUL cannot reach PostgreSQL (Schemathesis found the street's 500).
        ({"matter_type": "ZD\x00JY"}, "matter_type"),
        ({"matter_type": 7}, "matter_type"),
        ({"lat": 10.0, "lng": 10.0, "street": "3201\x00"}, "street"),
        ({"description": ""}, "description"),
        ({"source": "carrier_pigeon"}, "source"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"lat": 10.0, "lng": 10.0}, "lat"),  # outside every cell, no street named
        ({"reporter_phone": "12"}, "reporter_phone"),
    ],
)
def test_each_bad_intake_field_is_a_400_naming_it(world, change, field):
    response = client_for(world, "hh_command").post(
        "/api/v1/cases/", intake_body(world, **change), format="json"
    )
    assert field in problem(response, 400)["errors"]


def test_malformed_json_and_wrong_media_types_are_4xx_problems(world):
    client = client_for(world, "hh_command")
    problem(client.post("/api/v1/cases/", "{not json", content_type="application/json"), 400)
    problem(client.post("/api/v1/cases/", "<case/>", content_type="application/xml"), 415)
    problem(client.post("/api/v1/cases/", "[1, 2]", content_type="application/json"), 400)
    problem(client.get("/api/v1/cases/", {"colour": "red"}), 400)
    problem(client.get("/api/v1/cases/NO-SUCH-CASE/"), 404)
    problem(client.put(f"/api/v1/cases/{world['cases']['A'].number}/", {}), 405)


@override_settings(EVIDENCE_MAX_BYTES=1024)
def test_an_oversize_upload_is_a_413(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    a = world["cases"]["A"]
    big = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"0" * 2048, "image/jpeg")
    response = client_for(world, "hh_officer").post(
        f"/api/v1/cases/{a.number}/evidence/", {"file": big}, format="multipart"
    )
    problem(response, 413)
    small = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")
    ok = client_for(world, "hh_officer").post(
        f"/api/v1/cases/{a.number}/evidence/", {"file": small}, format="multipart"
    )
    assert ok.status_code == 201 and ok.json()["kind"] == "photo"


def test_filters_narrow_the_list_and_the_cursor_pages_through_it(world):
    client = client_for(world, "hh_command")

    def listed(**params):
        response = client.get("/api/v1/cases/", params)
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    cases = world["cases"]
    assert listed(status="reported") == {cases["F"].number}
    assert listed(status=["dispatched"]) == {
        cases["A"].number,
        cases["D"].number,
        cases["E"].number,
    }
    assert listed(department="CG") == {cases["D"].number}
    assert listed(cell=HH_GRID_CELL) == {cases["A"].number}
    assert listed(source="hotline_12345") == {cases["F"].number}
    assert listed(overdue="true") == set()
    assert listed(reported_after=(cases["A"].created_at + timedelta(days=1)).isoformat()) == set()
    page = client.get("/api/v1/cases/", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    seen = [row["number"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["number"] for row in page["results"]]
    assert sorted(seen) == sorted(c.number for k, c in cases.items() if k != "C")


def test_the_schema_and_the_docs_are_served_without_outside_resources(world):
    client = client_for(world, "hh_command")
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/cases/{number}/dispatch/" in paths
    assert "/api/v1/calls/{id}/report-in/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "https://" not in html


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")


# serialized_rollback: the data migrations' rows (roles, SLA policies) come back after the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_dispatches_one_wins_the_other_is_refused(postgresql_only, world):
    from django.db import connections

    b = world["cases"]["B"]
    results, barrier = [], threading.Barrier(2)

    def dispatch():
        try:
            client = client_for(world, "hh_command")
            barrier.wait(timeout=10)
            response = client.post(
                f"/api/v1/cases/{b.number}/dispatch/",
                {"target": "team", "team": world["team"].pk},
                format="json",
                HTTP_IF_MATCH=f'"{b.version}"',
            )
            results.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results)[0] == 200 and sorted(results)[1] in (409, 412)
    assert Case.objects.get(pk=b.pk).version == b.version + 1
