"""Helpers shared by the API views of every app: the one error body (RFC 9457 problem details),
the exceptions views raise for the statuses DRF has no class for, and ETag / If-Match.

Every error of the API, from DRF or from Django, is answered as ``application/problem+json``::

    {"type": "https://shaoxiang.invalid/problems/validation-error", "title": "Invalid input.",
     "status": 400, "detail": "…", "errors": {"location.lat": ["…"]}}

``type`` is stable (clients may switch on it), ``title`` is the same for every problem of a type,
``detail`` says what went wrong this time, ``errors`` (validation only) lists the messages by
field, nested fields joined with dots ("items.0.name").
"""

from __future__ import annotations

import copy
import re
from http import HTTPStatus

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE_URI = "https://shaoxiang.invalid/problems/"
# Paths whose Django-level 404 and 500 pages are problem details instead of HTML.
API_PATH_PREFIXES = ("/api/", "/open311/")


def query_params_reject_unknown(request, allowed) -> None:
    """A query parameter the view does not know is a 400 naming it, never silently ignored."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})


# --- exceptions for the statuses DRF has no class for ------------------------------------------
class CodeRelatedField(serializers.SlugRelatedField):
    """A related object named by a code (its ``slug_field``): only text without NUL characters
    reaches the database (PostgreSQL refuses NUL in a text parameter with an error, which
    SlugRelatedField would let through as a 500). ``lookup``: a function from the code to the
    object, raising ObjectDoesNotExist (a kept lookup); by default the queryset is asked."""

    def __init__(self, *, lookup=None, **kwargs):
        self.lookup = lookup
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        if self.lookup is None:
            return super().to_internal_value(data)
        try:
            return self.lookup(data)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)


class FieldsBuiltOnce:
    """A ModelSerializer mixin: the fields are built from the model once per class and copied
    for each serializer, as a plain Serializer copies its declared fields. A ModelSerializer
    rebuilds them for every instance it serializes (a millisecond for a case: most of an
    intake's 201 body). Only for serializers whose fields depend on nothing but the class."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()
            cls._fields_built = built  # one assignment: a race builds twice, harmlessly
        return copy.deepcopy(built)


class Conflict(APIException):
    """409: the request conflicts with the resource's current state (e.g. a transition that is
    not allowed from the case's status)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class PreconditionFailed(APIException):
    """412: the ``If-Match`` version is no longer the current one (someone changed it since)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "The resource was changed since you read it: read it again and retry with its new ETag."
    )
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    """428: a change that needs ``If-Match`` came without it."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy(
        "This change requires an If-Match header carrying the current ETag of the resource, "
        "as returned by a GET."
    )
    default_code = "precondition_required"


class UnprocessableEntity(APIException):
    """422: well-formed but unusable, e.g. an Idempotency-Key reused with another request."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("The request cannot be processed.")
    default_code = "unprocessable_entity"


class PayloadTooLarge(APIException):
    """413: the body (or an uploaded file) is larger than the server accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


# (class, slug of ``type``, title), most specific first: the first isinstance match wins, so a
# subclass declared by an app inherits its parent's type unless it sets ``problem_slug`` and
# ``problem_title`` itself.
_PROBLEMS: list[tuple[type[APIException], str, str]] = [
    (ValidationError, "validation-error", gettext_lazy("Invalid input.")),
    (exceptions.ParseError, "malformed-request", gettext_lazy("Malformed request.")),
    (
        exceptions.UnsupportedMediaType,
        "unsupported-media-type",
        gettext_lazy("Unsupported media type."),
    ),
    (exceptions.NotAuthenticated, "not-authenticated", gettext_lazy("Authentication required.")),
    (
        exceptions.AuthenticationFailed,
        "authentication-failed",
        gettext_lazy("Authentication failed."),
    ),
    (exceptions.PermissionDenied, "permission-denied", gettext_lazy("Permission denied.")),
    (exceptions.NotFound, "not-found", gettext_lazy("Not found.")),
    (exceptions.MethodNotAllowed, "method-not-allowed", gettext_lazy("Method not allowed.")),
    (exceptions.NotAcceptable, "not-acceptable", gettext_lazy("Not acceptable.")),
    (exceptions.Throttled, "throttled", gettext_lazy("Too many requests.")),
    (Conflict, "conflict", gettext_lazy("Conflict.")),
    (PreconditionFailed, "precondition-failed", gettext_lazy("Precondition failed.")),
    (PreconditionRequired, "precondition-required", gettext_lazy("Precondition required.")),
    (UnprocessableEntity, "unprocessable-entity", gettext_lazy("Unprocessable request.")),
    (PayloadTooLarge, "payload-too-large", gettext_lazy("Request too large.")),
]


def problem_type(slug: str) -> str:
    """The stable URI of a problem type."""
    return PROBLEM_BASE_URI + slug


def problem_body(*, status_code: int, slug: str | None, title, detail, errors=None) -> dict:
    """The problem-details document; ``slug`` None gives ``about:blank`` (RFC 9457 §4.2.1)."""
    body = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": str(title),
        "status": status_code,
        "detail": str(detail),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def errors_flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b": [messages]}``; errors of the whole object (a list
    or a string at the top) go under ``non_field_errors``."""
    flat: dict[str, list[str]] = {}

    def walk(node, name: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{name}.{key}" if name else str(key))
        elif isinstance(node, list | tuple):
            if all(not isinstance(item, dict | list | tuple) for item in node):
                flat.setdefault(name or api_settings.NON_FIELD_ERRORS_KEY, []).extend(
                    str(item) for item in node
                )
            else:  # a list serializer: one entry per item, empty for the valid ones
                for index, item in enumerate(node):
                    walk(item, f"{name}.{index}" if name else str(index))
        else:
            flat.setdefault(name or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(node))

    walk(detail, prefix)
    return flat


def _problem_of(exc: APIException) -> tuple[str | None, object]:
    slug = getattr(exc, "problem_slug", None)
    title = getattr(exc, "problem_title", None)
    if slug and title:
        return slug, title
    for klass, known_slug, known_title in _PROBLEMS:
        if isinstance(exc, klass):
            return known_slug, known_title
    # Another APIException (DRF's or an app's without a declared type): the status says it all.
    return None, _reason_phrase(exc.status_code)


def _reason_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return str(status_code)


def problem_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error a DRF view raises becomes a problem
    document. Django's Http404 and PermissionDenied become 404 and 403, RequestDataTooBig
    (a body over DATA_UPLOAD_MAX_MEMORY_SIZE) 413. Keeps ``WWW-Authenticate`` (401) and
    ``Retry-After`` (429). Anything else returns None, so DRF re-raises it and Django answers
    500 through ``problem_server_error`` (no traceback leaves the server)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if not isinstance(exc, APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    slug, title = _problem_of(exc)
    errors = None
    if isinstance(exc, ValidationError):
        errors = errors_flatten(exc.detail)
        only_object_errors = list(errors) == [api_settings.NON_FIELD_ERRORS_KEY]
        detail = (
            " ".join(errors[api_settings.NON_FIELD_ERRORS_KEY])
            if only_object_errors
            else _("One or more fields are invalid: see errors.")
        )
    elif isinstance(exc.detail, dict | list):
        errors = errors_flatten(exc.detail)
        detail = " ".join(message for messages in errors.values() for message in messages)
    else:
        detail = exc.detail

    set_rollback()
    response = Response(
        problem_body(
            status_code=exc.status_code, slug=slug, title=title, detail=detail, errors=errors
        ),
        status=exc.status_code,
        headers=headers,
    )
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    # The browsable API renders HTML: labelling that problem+json would lie. Without a
    # negotiated renderer (a 406) DRF falls back to the first one, JSON.
    if renderer is None or getattr(renderer, "format", "") == "json":
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


# --- Django-level 404 and 500 (config.urls handler404 / handler500) ----------------------------
def _is_api_path(request) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


def problem_response(*, status_code: int, slug: str | None, title, detail) -> JsonResponse:
    """A problem document outside DRF (Django's error handlers)."""
    return JsonResponse(
        problem_body(status_code=status_code, slug=slug, title=title, detail=detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def problem_page_not_found(request, exception=None):
    """handler404: a URL under /api/ or /open311/ that matches no route is a problem document;
    elsewhere Django's own 404 page."""
    if _is_api_path(request):
        return problem_response(
            status_code=404,
            slug="not-found",
            title=_("Not found."),
            detail=_("No resource at this address."),
        )
    return defaults.page_not_found(request, exception)


def problem_bad_request(request, exception=None):
    """handler400: a request Django refuses before any view (too many query parameters, a
    suspicious header) is a problem document under /api/ and /open311/ too."""
    if _is_api_path(request):
        return problem_response(
            status_code=400,
            slug="bad-request",
            title=_("Bad request."),
            detail=_("The request could not be read."),
        )
    return defaults.bad_request(request, exception)


def problem_server_error(request):
    """handler500: an unexpected error under /api/ or /open311/ is a problem document that says
    nothing of the cause (the traceback goes to the log only); elsewhere Django's 500 page."""
    if _is_api_path(request):
        return problem_response(
            status_code=500,
            slug="server-error",
            title=_("Server error."),
            detail=_("The server failed to handle the request; it has been logged."),
        )
    return defaults.server_error(request)


# --- ETag / If-Match ----------------------------------------------------------------------------
# One entity tag, strong or weak, whose opaque part is a version number.
_IF_MATCH = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def etag_for(version: int) -> str:
    """The strong ETag of a resource at ``version``: '"7"'."""
    return f'"{int(version)}"'


def if_match_version(request) -> int:
    """The version named by the request's ``If-Match`` header (``"7"`` or ``W/"7"``).

    Raises PreconditionRequired (428) when the header is missing, ValidationError (400, under
    ``errors["If-Match"]``) when it is not exactly one such tag: ``*`` is refused, since a change
    must name the version it was made against. Comparing with the current version (412 on a
    mismatch) is the caller's work, e.g. through the workflow's ``expected_version``."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        raise PreconditionRequired()
    match = _IF_MATCH.match(raw.strip())
    if match is None:
        raise ValidationError(
            {
                "If-Match": [
                    _(
                        'Expected one ETag such as "7" (as returned by a GET); "*" and lists are '
                        "not accepted."
                    )
                ]
            }
        )
    return int(match.group(1))


# --- OpenAPI: the problem responses, declared where they can happen ------------------------------
PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details: the body of every error of the API.",
    "properties": {
        "type": {
            "type": "string",
            "description": "Stable URI of the kind of problem (clients may switch on it), or "
            "about:blank.",
        },
        "title": {"type": "string", "description": "The same for every problem of a type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong this time."},
        "errors": {
            "type": "object",
            "description": "Validation errors by field, nested fields joined with dots.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail"],
}
# Any request: a key that does not authenticate (401), a role without the right (403), an
# Accept header no renderer satisfies (406), over the throttle (429).
_PROBLEMS_ALWAYS = frozenset({401, 403, 406, 429})
# A body: invalid (400), over the size limit (413), of a media type no parser reads (415).
_PROBLEMS_OF_BODY = frozenset({400, 413, 415})
# Query parameters that page through a list: a stale or forged cursor or page is a 404 (DRF).
_PAGING_PARAMETERS = frozenset({"cursor", "page"})


def _problem_statuses(method: str, operation: dict) -> set[int]:
    """The error statuses an operation can answer, from what it takes: path parameters can name
    nothing (404); query parameters and headers can be invalid (400); a body, see above;
    If-Match can be missing (428), stale (412) or name a version whose transition is not
    allowed (409); an Idempotency-Key reused with another request is 422."""
    statuses = set(_PROBLEMS_ALWAYS)
    parameters = operation.get("parameters", [])
    locations = {parameter.get("in") for parameter in parameters}
    names = {parameter.get("name") for parameter in parameters}
    if "path" in locations:
        statuses.add(404)
    if locations & {"query", "header"}:
        statuses.add(400)
    if names & _PAGING_PARAMETERS:
        statuses.add(404)
    if "requestBody" in operation or method in ("post", "put", "patch"):
        statuses |= _PROBLEMS_OF_BODY
    if "If-Match" in names:
        statuses |= {409, 412, 428}
    if "Idempotency-Key" in names:
        statuses.add(422)
    return statuses


def problem_responses_postprocess(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]):
    declares on every operation under /api/ the error statuses it can answer
    (``_problem_statuses``, plus any 4xx a view declared itself with ``extend_schema``), each
    with the ``Problem`` body as ``application/problem+json``, so that clients and Schemathesis
    know the error format. Statuses a view documented keep their description."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    reference = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            declared = {int(code) for code in responses if str(code).isdigit()}
            statuses = _problem_statuses(method, operation)
            statuses |= {code for code in declared if 400 <= code < 600}
            for code in sorted(statuses):
                known = responses.get(str(code), {}).get("description")
                description = known or _reason_phrase(code)
                responses[str(code)] = {
                    "description": description,
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": reference}},
                }
    return result
