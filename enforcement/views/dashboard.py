"""The command centre's dashboard (指挥中心看板), the street leader's start page, for a desk screen
and a wall screen: one street's map of grid cells coloured by open and overdue cases, and its
counters (open cases by queue, overdue, supervisions by level, whistles waiting for a
department, today's intake by source), refreshed by htmx every few seconds. Reads are in
enforcement.web.dashboard; each view parses the street, calls one read and renders."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from enforcement.choices import CaseStatus
from enforcement.permissions import desk_check
from enforcement.selectors import DESK_QUEUE_LABELS
from enforcement.web.dashboard import (
    dashboard_counters_read,
    dashboard_map_read,
    dashboard_panels,
    dashboard_street_get,
    dashboard_street_pick,
    dashboard_streets,
)

TEMPLATE = "enforcement/dashboard.html"


def _counters_context(counters) -> dict:
    return {
        "counters": counters,
        "street": counters.street,
        "queues": [
            (name, DESK_QUEUE_LABELS[name], counters.queues[name]) for name in DESK_QUEUE_LABELS
        ],
    }


@login_required
@require_GET
def dashboard(request):
    """The page; ``?street=<code>`` picks one of the user's streets (the first by default; an
    unknown or not granted street is a 404)."""
    desk_check(request.user)
    streets = dashboard_streets(user=request.user)
    context = {"streets": streets, "street": None, "extra_panels": []}
    if streets or request.GET.get("street"):
        street = dashboard_street_pick(streets, request.GET.get("street", ""))
        counters = dashboard_counters_read(user=request.user, street=street)
        context.update(_counters_context(counters))
        context["extra_panels"] = [
            f"{reverse(name)}?{urlencode({'street': street.code})}" for name in dashboard_panels()
        ]
    return render(request, TEMPLATE, context)


@login_required
@require_GET
@never_cache
def dashboard_counters(request):
    """The counters panel alone, for htmx to swap in every few seconds."""
    desk_check(request.user)
    street = dashboard_street_get(user=request.user, code=request.GET.get("street", ""))
    counters = dashboard_counters_read(user=request.user, street=street)
    return render(request, TEMPLATE + "#counters", _counters_context(counters))


@login_required
@require_GET
@never_cache
def dashboard_map(request):
    """The street's cells with their open and overdue cases, and the open cases as points
    (enforcement.web.dashboard.dashboard_map_read), as GeoJSON."""
    desk_check(request.user)
    street = dashboard_street_get(user=request.user, code=request.GET.get("street", ""))
    data = dashboard_map_read(user=request.user, street=street)
    # What the map's tooltips call each status, in the user's language.
    data["status_labels"] = {value: str(label) for value, label in CaseStatus.choices}
    response = JsonResponse(data)
    response["Content-Type"] = "application/geo+json"
    return response
