"""Every API error is an RFC 9457 problem document (core.api), and ETag / If-Match helpers."""

import json

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as config_urls
from core.api import (
    Conflict,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    UnprocessableEntity,
    etag_for,
    if_match_version,
)

PROBLEMS = "https://shaoxiang.invalid/problems/"


# --- test-only views, routed by this module (pytest.mark.urls) ----------------------------------
class PlaceSerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    title = serializers.CharField()
    place = PlaceSerializer()
    items = ItemSerializer(many=True)


class ReportView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=201)


class PrivateView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class UploadView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]

    def post(self, request):
        return Response({"fields": sorted(request.data)})


RAISED = {
    "django-403": DjangoPermissionDenied,
    "django-404": Http404,
    "conflict": Conflict,
    "precondition-failed": PreconditionFailed,
    "precondition-required": PreconditionRequired,
    "unprocessable": UnprocessableEntity,
    "too-large": PayloadTooLarge,
    "object-error": lambda: ValidationError("The whole thing is wrong."),
    "throttled": lambda: Throttled(wait=12),
    "crash": lambda: RuntimeError("secret internals /etc/passwd"),
}


class RaiseView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, name):
        raise RAISED[name]()


class VersionedView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"version": if_match_version(request)})


urlpatterns = [
    path("api/report/", ReportView.as_view()),
    path("api/private/", PrivateView.as_view()),
    path("api/upload/", UploadView.as_view()),
    path("api/raise/<str:name>/", RaiseView.as_view()),
    path("api/versioned/", VersionedView.as_view()),
    path("open311/raise/<str:name>/", RaiseView.as_view()),
    path("plain/raise/<str:name>/", RaiseView.as_view()),
]
handler404 = config_urls.handler404
handler500 = config_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


# --- DRF errors ---------------------------------------------------------------------------------
def test_a_validation_error_lists_the_messages_by_dotted_field(client):
    response = client.post(
        "/api/report/",
        {"title": "", "place": {"lat": 91}, "items": [{"name": "ok"}, {}]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert problem(response) == {
        "type": PROBLEMS + "validation-error",
        "title": "无效的输入。",
        "status": 400,
        "detail": "一个或多个字段无效：见 errors。",
        "errors": {
            "title": ["该字段不能为空。"],
            "place.lat": ["请确保该值小于或者等于 90。"],
            "items.1.name": ["该字段是必填项。"],
        },
    }


def test_a_validation_error_of_the_whole_object_is_its_detail(client):
    response = client.get("/api/raise/object-error/", headers={"accept-language": "en"})

    body = problem(response)
    assert response.status_code == 400
    assert body["detail"] == "The whole thing is wrong."
    assert body["errors"] == {"non_field_errors": ["The whole thing is wrong."]}


def test_malformed_json_is_a_400_problem(client):
    response = client.post("/api/report/", "{not json", content_type="application/json")

    body = problem(response)
    assert response.status_code == 400
    assert body["type"] == PROBLEMS + "malformed-request"
    assert body["status"] == 400
    assert "JSON" in body["detail"]


def test_an_unsupported_media_type_is_a_415_problem(client):
    response = client.post("/api/report/", "title=x", content_type="text/plain")

    body = problem(response)
    assert response.status_code == 415
    assert body["type"] == PROBLEMS + "unsupported-media-type"


def test_an_anonymous_call_is_a_401_problem_naming_the_scheme(client):
    response = client.get("/api/private/")

    body = problem(response)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert body["type"] == PROBLEMS + "not-authenticated"
    assert body["title"] == "需要身份验证。"


def test_django_permission_denied_is_a_403_problem(client):
    response = client.get("/api/raise/django-403/")

    assert response.status_code == 403
    assert problem(response)["type"] == PROBLEMS + "permission-denied"


def test_http404_is_a_404_problem(client):
    response = client.get("/api/raise/django-404/")

    assert response.status_code == 404
    assert problem(response)["type"] == PROBLEMS + "not-found"


def test_a_wrong_method_is_a_405_problem(client):
    response = client.delete("/api/report/")

    assert response.status_code == 405
    assert problem(response)["type"] == PROBLEMS + "method-not-allowed"
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_an_unacceptable_accept_header_is_a_406_problem(client):
    response = client.get("/api/report/", headers={"accept": "application/xml"})

    assert response.status_code == 406
    assert problem(response)["type"] == PROBLEMS + "not-acceptable"


def test_throttled_is_a_429_problem_keeping_retry_after(client):
    response = client.get("/api/raise/throttled/")

    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert problem(response)["type"] == PROBLEMS + "throttled"


@pytest.mark.parametrize(
    ("name", "status", "slug"),
    [
        ("conflict", 409, "conflict"),
        ("precondition-failed", 412, "precondition-failed"),
        ("too-large", 413, "payload-too-large"),
        ("unprocessable", 422, "unprocessable-entity"),
        ("precondition-required", 428, "precondition-required"),
    ],
)
def test_the_exceptions_of_core_api_are_problems_of_their_status(client, name, status, slug):
    response = client.get(f"/api/raise/{name}/")

    body = problem(response)
    assert response.status_code == status
    assert (body["type"], body["status"]) == (PROBLEMS + slug, status)
    assert body["title"] and body["detail"]


def test_a_body_over_the_upload_limit_is_a_413_problem(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post("/api/upload/", {"note": "x" * 500})

    assert response.status_code == 413
    assert problem(response)["type"] == PROBLEMS + "payload-too-large"


# --- Django-level errors ------------------------------------------------------------------------
def test_an_unknown_api_url_is_a_404_problem(client):
    response = client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert problem(response) == {
        "type": PROBLEMS + "not-found",
        "title": "未找到。",
        "status": 404,
        "detail": "该地址没有资源。",
    }


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("prefix", ["api", "open311"])
def test_a_crash_under_the_api_is_a_500_problem_without_a_traceback(prefix):
    client = Client(raise_request_exception=False)

    response = client.get(f"/{prefix}/raise/crash/")

    body = problem(response)
    assert response.status_code == 500
    assert body["type"] == PROBLEMS + "server-error"
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_a_crash_outside_the_api_is_django_s_500_page():
    client = Client(raise_request_exception=False)

    response = client.get("/plain/raise/crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_project_urls_route_django_errors_to_the_problem_handlers():
    assert config_urls.handler404 == "core.api.problem_page_not_found"
    assert config_urls.handler500 == "core.api.problem_server_error"


# --- ETag / If-Match ----------------------------------------------------------------------------
def test_etag_for_is_a_strong_quoted_version():
    assert etag_for(7) == '"7"'


def drf_request(**headers) -> Request:
    return Request(RequestFactory().post("/", headers=headers))


@pytest.mark.parametrize(("header", "version"), [('"7"', 7), ('W/"12"', 12), (' "0" ', 0)])
def test_if_match_version_reads_one_strong_or_weak_tag(header, version):
    assert if_match_version(drf_request(if_match=header)) == version


def test_if_match_version_without_the_header_requires_it():
    with pytest.raises(PreconditionRequired):
        if_match_version(drf_request())


@pytest.mark.parametrize("header", ["*", '"7", "8"', "7", '"seven"', 'W/"7'])
def test_if_match_version_refuses_anything_but_one_version_tag(header):
    with pytest.raises(ValidationError) as raised:
        if_match_version(drf_request(if_match=header))

    assert list(raised.value.detail) == ["If-Match"]


def test_a_change_without_if_match_is_a_428_problem_saying_what_to_send(client):
    response = client.post("/api/versioned/", headers={"accept-language": "en"})

    body = problem(response)
    assert response.status_code == 428
    assert body["type"] == PROBLEMS + "precondition-required"
    assert body["detail"] == (
        "This change requires an If-Match header carrying the current ETag of the resource, "
        "as returned by a GET."
    )


def test_a_malformed_if_match_is_a_400_problem(client):
    response = client.post("/api/versioned/", headers={"if-match": "*"})

    body = problem(response)
    assert response.status_code == 400
    assert list(body["errors"]) == ["If-Match"]


def test_a_well_formed_if_match_reaches_the_view(client):
    response = client.post("/api/versioned/", headers={"if-match": 'W/"3"'})

    assert response.status_code == 200
    assert response.json() == {"version": 3}


@pytest.mark.urls("config.urls")
@pytest.mark.django_db
def test_a_request_django_refuses_before_the_view_is_a_400_problem_under_the_api():
    from tests.factories.users import UserFactory

    client = Client()
    client.force_login(UserFactory())
    too_many = "&".join(f"f{i}=1" for i in range(1100))  # DATA_UPLOAD_MAX_NUMBER_FIELDS: 1000

    response = client.get(f"/api/v1/cases/?{too_many}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 400
    assert client.get(f"/?{too_many}")["Content-Type"].startswith("text/html")
