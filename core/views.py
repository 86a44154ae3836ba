"""Pages of the platform plumbing: the home page and the health check."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors import health_report, user_roles


@login_required
def home(request):
    return render(request, "core/home.html", {"roles": user_roles(user=request.user)})


@require_GET
@never_cache
def healthz(request):
    """JSON for load balancers and monitors; 503 when any part is down or stale. Public on
    purpose: it shows ages and transport names, no data."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)
