"""What Schemathesis found (.ci/schemathesis), fixed and pinned here: a filter date-time with a
UTC offset PostgreSQL refuses was a 500; the OpenAPI schema declared no error responses and
called fields null that the API writes as null."""

from datetime import UTC, datetime, timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from enforcement.filtersets import CallFilterSet
from enforcement.models import DepartmentCall
from tests.enforcement.api.conftest import client_for

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_a_filter_date_time_is_read_in_utc_whatever_its_offset():
    # Given an offset Python accepts and PostgreSQL refuses (beyond ±15:59)
    filterset = CallFilterSet(
        data={"called_after": "2026-01-01T09:00:00+23:00"}, queryset=DepartmentCall.objects.none()
    )
    # When the filters are read
    assert filterset.is_valid()
    value = filterset.form.cleaned_data["called_after"]
    # Then the query gets the same instant in UTC
    assert value == datetime(2025, 12, 31, 10, 0, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)


@pytest.mark.django_db
def test_a_far_utc_offset_in_a_list_filter_is_answered_not_a_server_error(world):
    # Given the CG department's key and a call to CG (case D) made today
    client = client_for(world, "key:cg")
    # When it lists the calls made after a moment written with a +23:19 offset
    response = client.get("/api/v1/calls/", {"called_after": "2000-10-03T09:04:45+23:19"})
    # Then the list answers (PostgreSQL answered 500 before), with the call to CG
    assert response.status_code == 200
    assert [call["case"] for call in response.json()["results"]] == [world["cases"]["D"].number]


@pytest.mark.django_db
def test_an_instant_outside_the_years_1_to_9999_in_utc_is_a_400(world):
    # Given the first moment of year 1 at +05:00, which is still year 0 in UTC
    client = client_for(world, "key:cg")
    # When it is a filter
    response = client.get("/api/v1/calls/", {"called_after": "0001-01-01T00:00:00+05:00"})
    # Then it is invalid input, not an OverflowError
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["called_after"]


def test_a_transition_declares_every_error_it_can_answer_as_a_problem(schema):
    responses = schema["paths"]["/api/v1/cases/{number}/accept/"]["post"]["responses"]
    assert sorted(responses) == [
        "200", "400", "401", "403", "404", "406", "409", "412", "413", "415", "422", "428", "429",
    ]  # fmt: skip
    assert all(responses[code]["content"] == PROBLEM_CONTENT for code in responses if code != "200")


def test_a_read_declares_only_the_errors_of_what_it_takes(schema):
    # A filtered document: bad filters (400), no path parameter and no paging (no 404).
    cells = schema["paths"]["/api/v1/grids/cells/"]["get"]["responses"]
    assert sorted(cells) == ["200", "400", "401", "403", "406", "429"]
    # A cursor-paged list: a forged cursor is DRF's 404.
    cases = schema["paths"]["/api/v1/cases/"]["get"]["responses"]
    assert sorted(cases) == ["200", "400", "401", "403", "404", "406", "429"]


def test_errors_a_view_declares_itself_are_problems_too(schema):
    respond = schema["paths"]["/api/v1/supervisions/{id}/respond/"]["post"]["responses"]
    usage = schema["paths"]["/api/v1/powers/usage/"]["get"]["responses"]
    assert respond["409"] == {
        "description": "The supervision is no longer open.",
        "content": PROBLEM_CONTENT,
    }
    assert usage["404"]["content"] == PROBLEM_CONTENT
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]


def test_fields_the_api_writes_as_null_are_nullable_in_the_schema(schema):
    components = schema["components"]["schemas"]
    nullable = {
        (name, field)
        for name in ("Case", "Timer", "Supervision", "Call", "CaseEvent", "ApprovalStep")
        for field, spec in components[name]["properties"].items()
        if spec.get("nullable")
    }
    assert {
        ("Case", "cell"),
        ("Case", "team"),
        ("Case", "officer"),
        ("Case", "likely_duplicate_of"),
        ("Case", "merged_into"),
        ("Timer", "call"),
        ("Timer", "supervision"),
        ("Supervision", "call"),
        ("Supervision", "department"),
        ("Call", "power_item"),
        ("CaseEvent", "actor"),
        ("ApprovalStep", "decided_by"),
    } <= nullable
    assert components["AdjustmentRequest"]["properties"]["published_version"]["nullable"] is True


def test_the_cells_document_is_described_as_a_feature_collection(schema):
    response = schema["paths"]["/api/v1/grids/cells/"]["get"]["responses"]["200"]
    collection = resolved(schema, response["content"]["application/json"]["schema"])
    feature = resolved(schema, collection["properties"]["features"]["items"])
    assert resolved(schema, collection["properties"]["type"])["enum"] == ["FeatureCollection"]
    assert resolved(schema, feature["properties"]["type"])["enum"] == ["Feature"]
    assert sorted(feature["properties"]) == ["geometry", "id", "properties", "type"]


def resolved(schema, spec: dict) -> dict:
    """``spec``, or the component it refers to (read-only fields wrap it in an allOf)."""
    if "allOf" in spec:
        spec = spec["allOf"][0]
    if "$ref" not in spec:
        return spec
    return schema["components"]["schemas"][spec["$ref"].rsplit("/", 1)[1]]
