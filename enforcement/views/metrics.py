"""Web views of the enforcement app."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from enforcement.metrics import LoopCollector


@require_GET
@never_cache
def metrics(request):
    """Prometheus text format. Counts only, no personal data; when METRICS_TOKEN is set a scrape
    must send ``Authorization: Bearer <token>``."""
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization", "") != f"Bearer {token}":
        return HttpResponseForbidden("metrics token required\n", content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(LoopCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
