"""Open311 GeoReport v2 over HTTP, under /open311/v2/ (wiki.open311.org/GeoReport_v2): the
formats, who is asking, and the spec's error bodies. The mapping is enforcement.open311.

- ``services.{json|xml}``, ``services/{code}.{json|xml}``: public, always.
- ``requests.{json|xml}`` GET, ``requests/{id}.{json|xml}``: the reader is the account of the
  ``api_key`` query parameter (an integration's key sees the cases it filed, a department's key
  the cases called to it), else the signed-in account (the cases enforcement.permissions lets
  it see), else the public, as GeoReport v2 has it (a key only to file): the cases
  enforcement.open311 publishes, personal numbers masked. With settings.OPEN311_PUBLIC_READ
  false there is no public: a read without a key or a login is refused with 403 (the spec's
  status for a missing api_key) and the spec's error body.
- ``requests.{json|xml}`` POST: with an integration's ``api_key`` (403 without one, or with a
  department's), form-encoded as the spec says.
- A wrong, revoked or malformed ``api_key`` is 403 on every endpoint, reads of public ones
  included: a bad key is never taken for no key (as on /api/v1), so its holder learns of it.

Every call counts against the API's limit (ApiKeyRateThrottle, API_THROTTLE_RATE): per key,
per signed-in user, and for the public per address, so that the public reads cannot be used
to copy out everything at will.

Plain Django views, not DRF: Open311 has its own formats and error body, which DRF's content
negotiation and the API's problem+json handler would only have to be kept away from. Every
failure is the spec's ``errors`` body with 400, 403, 404 (405 for a wrong method; 429 with
Retry-After over the API's limit per key, the same count as /api/v1's); an unexpected
exception is logged and answered as the spec's "general service error" (400), never a 500
page.

JSON and XML follow the spec's examples: XML ``<?xml …?>`` then ``services``/``service``,
``service_definition``, ``service_requests``/``request``, ``errors``/``error``; the JSON is the
same data (arrays for lists, null for an empty field). UTF-8 throughout, Chinese as is."""

from __future__ import annotations

import json
import logging
import math
import re
from functools import wraps
from types import SimpleNamespace
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.settings import api_settings

from enforcement.api_keys import (
    AUTH_SCHEME,
    HEADER_NAME,
    ApiKeyRateThrottle,
    api_key_authenticate,
)
from enforcement.open311 import (
    COMMON_PARAMETERS,
    REQUEST_CREATE_PARAMETERS,
    REQUEST_LIST_PARAMETERS,
    Open311Error,
    open311_request_create,
    open311_request_get,
    open311_request_list,
    open311_request_query_parse,
    open311_service_get,
    open311_service_list,
    parameters_check,
)

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all (ElementTree writes them as they are, making the whole
# document unreadable): dropped from text.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The element of one item of each list (the spec's "⇊" / "↴" pairs).
_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_FORBIDDEN.sub("", str(value))


def _xml_fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _xml_fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        for item in value:
            _xml_fill(ET.SubElement(element, _ITEM_TAGS[element.tag]), item)
    else:
        element.text = _xml_text(value)


def open311_render(data, *, root: str, fmt: str, status: int = 200) -> HttpResponse:
    """``data`` (a list of items, or one object) as the spec's JSON, or as XML under ``root``."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        element = ET.Element(root)
        _xml_fill(element, data)
        body = XML_DECLARATION + ET.tostring(element, encoding="unicode")
    return HttpResponse(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def _error_response(error: Open311Error, fmt: str) -> HttpResponse:
    response = open311_render(error.errors, root="errors", fmt=fmt, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def _throttle(request, *, key=None, user=None) -> None:
    """The API's limit per key (per signed-in user without one, per address for the public),
    ApiKeyRateThrottle's own count, for these plain Django views: over it, Open311Error 429
    with Retry-After."""
    throttle = ApiKeyRateThrottle()
    headers = request.headers
    if key is None and user is None and api_settings.NUM_PROXIES is None:
        # Without a declared number of proxies DRF takes X-Forwarded-For as it comes, and a
        # caller could name a new address in each request: the connection's address counts.
        headers = {}
    caller = SimpleNamespace(
        auth=key, user=key.user if key else user, META=request.META, headers=headers
    )
    if not throttle.allow_request(caller, None):
        seconds = max(1, math.ceil(throttle.wait() or 1))
        raise Open311Error(
            429,
            _("Too many requests: try again in %(seconds)d s.") % {"seconds": seconds},
            retry_after=seconds,
        )


def open311_endpoint(*methods: str):
    """The frame of every endpoint: the method check, and any failure as the spec's error body
    in the requested format (XML, the spec's required one, when the format is unknown)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, fmt: str = "xml", **kwargs):
            fmt = fmt if fmt in CONTENT_TYPES else "xml"
            if request.method not in methods:
                error = Open311Error(
                    405, _("Method %(method)s is not allowed here.") % {"method": request.method}
                )
                response = _error_response(error, fmt)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                return _error_response(error, fmt)
            except Http404:
                return _error_response(Open311Error(404, _("Not found.")), fmt)
            except Exception:
                # The spec's "400 - General service error": a client of a civic-issue API gets
                # its error body, never our 500 page; the failure is logged for us to fix.
                logger.exception("Open311 %s %s failed", request.method, request.path)
                error = Open311Error(400, _("General service error: the request failed."))
                return _error_response(error, fmt)

        return wrapper

    return decorate


def _raw_key(request) -> str:
    """The ``api_key`` parameter (the spec's; of the form body for a POST), else the key of an
    ``Authorization: Api-Key …`` or ``X-Api-Key`` header, as /api/v1 takes it (a header stays out
    of access logs, a query string does not)."""
    raw = request.POST.get("api_key") if request.method == "POST" else None
    raw = raw or request.GET.get("api_key")
    if not raw:
        scheme, _space, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == AUTH_SCHEME.lower():
            raw = credentials
        else:
            raw = request.headers.get(HEADER_NAME, "")
    return raw.strip()


def _reader(request, *, public: bool):
    """Who is reading, counted against the API's limit: the api_key's account, else the
    signed-in one, else None (the public) where ``public`` lets it read. Raises Open311Error
    403 for a wrong key, or for nobody where the public may not read; 429 over the limit."""
    raw = _raw_key(request)
    if raw:
        key = api_key_authenticate(raw)
        if key is None:
            raise Open311Error(403, _("Invalid api_key."))
        _throttle(request, key=key)
        return key.user
    if request.user.is_authenticated:
        _throttle(request, user=request.user)
        return request.user
    if not public:
        raise Open311Error(
            403, _("An api_key or a signed-in account is required: requests are not public.")
        )
    _throttle(request)
    return None


@open311_endpoint("GET")
def service_list_view(request, *, fmt: str):
    parameters_check(request.GET, COMMON_PARAMETERS)
    _reader(request, public=True)
    return open311_render(open311_service_list(), root="services", fmt=fmt)


@open311_endpoint("GET")
def service_definition_view(request, code: str, *, fmt: str):
    parameters_check(request.GET, COMMON_PARAMETERS)
    _reader(request, public=True)
    return open311_render(open311_service_get(code=code), root="service_definition", fmt=fmt)


# No CSRF token: a POST is authorised by its api_key alone, never by the session cookie, so a
# forged cross-site POST carries nothing that would let it in.
@csrf_exempt
@open311_endpoint("GET", "POST")
def request_list_view(request, *, fmt: str):
    if request.method == "POST":
        return _request_create(request, fmt=fmt)
    parameters_check(request.GET, REQUEST_LIST_PARAMETERS)
    user = _reader(request, public=settings.OPEN311_PUBLIC_READ)
    query = open311_request_query_parse(request.GET)
    return open311_render(
        open311_request_list(user=user, query=query), root="service_requests", fmt=fmt
    )


def _request_create(request, *, fmt: str):
    parameters_check(request.GET, COMMON_PARAMETERS)
    parameters_check(request.POST, REQUEST_CREATE_PARAMETERS, attributes=True)
    raw = _raw_key(request)
    if not raw:
        raise Open311Error(403, _("api_key is required to file a request."))
    key = api_key_authenticate(raw)
    if key is None:
        raise Open311Error(403, _("Invalid api_key."))
    _throttle(request, key=key)
    created = open311_request_create(key=key, data=request.POST)
    return open311_render([created], root="service_requests", fmt=fmt, status=201)


@open311_endpoint("GET")
def request_detail_view(request, number: str, *, fmt: str):
    parameters_check(request.GET, COMMON_PARAMETERS)
    user = _reader(request, public=settings.OPEN311_PUBLIC_READ)
    found = open311_request_get(user=user, number=number)
    return open311_render([found], root="service_requests", fmt=fmt)


@open311_endpoint("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found_view(request, *, fmt: str):
    raise Open311Error(
        404,
        _("No such resource: GeoReport v2 has services and requests, as .json or .xml."),
    )
