"""Pages of the platform plumbing: the home page and the health check."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors import HealthReport, health_report, user_roles

logger = logging.getLogger(__name__)

# What /healthz says of a failed check. The exception's text (host names, ports, user names,
# driver messages) is for the log, not for whoever asks: the endpoint is public.
HEALTH_FAILURE_REASONS = {"database": "database unreachable", "broker": "broker unreachable"}
# Reasons the report already gives in fixed words, shown as they are.
HEALTH_FIXED_REASONS = frozenset({"database unavailable"})


@login_required
def home(request):
    return render(request, "core/home.html", {"roles": user_roles(user=request.user)})


def health_public(report: HealthReport) -> dict:
    """The report as /healthz shows it: each part's ``error`` becomes a fixed reason per part,
    the text it replaces is logged (a warning naming the part). ``manage.py healthcheck``, run
    by the operator, still prints the report whole."""
    body = report.as_dict()
    for part, value in body.items():
        error = value.get("error") if isinstance(value, dict) else None
        if error is None or error in HEALTH_FIXED_REASONS:
            continue
        logger.warning("/healthz: the %s check failed: %s", part, error)
        body[part] = {**value, "error": HEALTH_FAILURE_REASONS.get(part, "check failed")}
    return body


@require_GET
@never_cache
def healthz(request):
    """JSON for load balancers and monitors; 503 when any part is down or stale. Public on
    purpose: it shows ages, transport names and fixed failure reasons, no data and no
    exception text."""
    report = health_report()
    return JsonResponse(health_public(report), status=200 if report.ok else 503)
