"""Login brute force: django-axes with two limits, and the address it counts by (settings,
"Login brute force").

- ``settings.AXES_FAILURE_LIMIT`` wrong passwords for one username from one address lock that
  username out at that address;
- ``settings.LOGIN_FAILURE_LIMIT_PER_USERNAME`` wrong passwords for one username from any
  addresses lock that username out everywhere: many addresses guessing one account get no more
  tries than that between them.

axes counts both (``AXES_LOCKOUT_PARAMETERS``) but holds every count to one limit; the handler
below gives each its own. Both count the failures of the last ``AXES_COOLOFF_TIME``.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def login_client_address(request) -> str | None:
    """The address axes records and counts a login by (``AXES_CLIENT_IP_CALLABLE``): DRF's
    ``get_ident``, as the API's throttle counts, so that ``NUM_PROXIES`` holds for both
    (REMOTE_ADDR; behind NUM_PROXIES proxies, the client's address they put in
    X-Forwarded-For). Something that is not an IP address there (a header written by a client
    that reached the web process without the proxies) counts as REMOTE_ADDR: axes keeps the
    address in a GenericIPAddressField."""
    ident = BaseThrottle().get_ident(request)
    try:
        ipaddress.ip_address(ident)
    except ValueError:
        return request.META.get("REMOTE_ADDR")
    return ident


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler (``AXES_HANDLER``) with the per-username limit beside axes' own
    per-username-and-address one. ``AXES_LOCKOUT_PARAMETERS`` must be ``[["username",
    "ip_address"], "username"]``, in that order."""

    def login_failures(self, request, credentials=None) -> tuple[int, int]:
        """The recent failures of this request's username from its address, and from any."""
        per_address, per_username = (
            attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return per_address, per_username

    def get_failures(self, request, credentials=None) -> int:
        """What axes compares with AXES_FAILURE_LIMIT to decide a lockout: the failures from
        this address, or at least AXES_FAILURE_LIMIT once the username has reached
        LOGIN_FAILURE_LIMIT_PER_USERNAME from any addresses."""
        per_address, per_username = self.login_failures(request, credentials)
        if per_username >= settings.LOGIN_FAILURE_LIMIT_PER_USERNAME:
            return max(per_address, settings.AXES_FAILURE_LIMIT)
        return per_address


def login_lockout_response(request, original_response=None, credentials=None):
    """The lockout page (``AXES_LOCKOUT_CALLABLE``), status 429, saying which limit was
    reached: the username's at this address, or the username's everywhere."""
    per_address, per_username = LoginLockoutHandler().login_failures(request, credentials)
    everywhere = (
        per_address < settings.AXES_FAILURE_LIMIT
        and per_username >= settings.LOGIN_FAILURE_LIMIT_PER_USERNAME
    )
    context = {
        "username": get_client_username(request, credentials) or "",
        "everywhere": everywhere,
        "failure_limit": (
            settings.LOGIN_FAILURE_LIMIT_PER_USERNAME if everywhere else settings.AXES_FAILURE_LIMIT
        ),
        "cooloff_timedelta": get_cool_off(request),
    }
    return render(
        request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
