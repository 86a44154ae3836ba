"""Helpers shared by the API views of every app."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError


def query_params_reject_unknown(request, allowed) -> None:
    """A query parameter the view does not know is a 400 naming it, never silently ignored."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})
