"""Request checks made before any view."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseForbidden


def nul_refused(get_response):
    """Refuse a URL whose path or query holds a NUL character (``%00``) with a 400 (Django's
    handler400: a problem document under /api and /open311): PostgreSQL refuses NUL in text,
    so a path parameter or a filter carrying one would otherwise fail as a 500 in whichever
    lookup met it first. Request bodies are the serializers' (DRF's CharField refuses NUL, as
    core.api.CodeRelatedField does)."""

    def middleware(request):
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values)
            for name, values in request.GET.lists()
        ):
            raise SuspiciousOperation("NUL character in the URL")
        return get_response(request)

    return middleware


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1, a dual-stack socket's form
    return (mapped or ip).is_loopback


def metrics_scrape_allowed(request) -> bool:
    """Whether ``request`` may read /metrics (settings.METRICS_TOKEN says why): with a token,
    ``Authorization: Bearer <token>`` from anywhere; without one, a request made on this host
    straight to the web process: a loopback REMOTE_ADDR (never X-Forwarded-For) and no
    forwarding header, since a proxy on the same host connects from loopback for everybody."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return not forwarded and _loopback(request.META.get("REMOTE_ADDR", ""))


class MetricsGuarded:
    """Refuses /metrics (the URL named ``metrics``) with a 403 unless metrics_scrape_allowed:
    the counts tell an outsider how busy each street is and how late the closed loop runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name != "metrics" or metrics_scrape_allowed(request):
            return None
        reason = (
            "metrics token required\n"
            if settings.METRICS_TOKEN
            else "metrics: loopback only, or set METRICS_TOKEN\n"
        )
        return HttpResponseForbidden(reason, content_type="text/plain")
