"""Request checks made before any view."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation


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
