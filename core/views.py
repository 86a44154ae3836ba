"""Pages of the platform plumbing: the home page and the health check."""

import logging

from django.contrib.auth.decorators import login_required
from django.db.models import Case, When
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.models import Notification
from core.navigation import reference_url, start_page
from core.selectors import HealthReport, health_report, notifications_unread, user_roles
from core.services import notification_read, notifications_read_all

# How many notifications the top bar's list shows (the newest; the rest are a page away).
NOTIFICATIONS_SHOWN = 20

logger = logging.getLogger(__name__)

# What /healthz says of a failed check. The exception's text (host names, ports, user names,
# driver messages) is for the log, not for whoever asks: the endpoint is public.
HEALTH_FAILURE_REASONS = {"database": "database unreachable", "broker": "broker unreachable"}
# Reasons the report already gives in fixed words, shown as they are.
HEALTH_FIXED_REASONS = frozenset({"database unavailable"})


@login_required
def home(request):
    """The start page of the user's role (the command centre's desk, the liaison's inbox, the
    leader's dashboard: core.navigation); the card with the roles for the others."""
    url = start_page(request.user)
    if url is not None:
        return redirect(url)
    return render(request, "core/home.html", {"roles": user_roles(user=request.user)})


@login_required
@require_GET
def notification_list(request):
    """The user's notifications, unread first, newest first: the top bar's list (an htmx
    fragment) or, asked directly, a page."""
    unread_first = Case(When(read_at__isnull=True, then=0), default=1)
    notifications = list(
        Notification.objects.filter(recipient=request.user).order_by(
            unread_first, "-created_at", "-pk"
        )[:NOTIFICATIONS_SHOWN]
    )
    context = {"notifications": notifications, "unread": notifications_unread(user=request.user)}
    if request.htmx:
        return render(request, "core/notifications.html#list", context)
    return render(request, "core/notifications.html", context)


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark the notification read and go to what it is about (or back to the list)."""
    try:
        notification = notification_read(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    url = reference_url(notification.reference) if notification.reference else None
    return redirect(url or "core:notifications")


@login_required
@require_POST
def notifications_all_read(request):
    notifications_read_all(user=request.user)
    return redirect("core:notifications")


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
