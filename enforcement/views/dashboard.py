"""The command centre's dashboard (指挥中心看板). Being built."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from enforcement.permissions import desk_check


@login_required
@require_GET
def dashboard(request):
    desk_check(request.user)
    return HttpResponse("")


@login_required
@require_GET
def dashboard_counters(request):
    desk_check(request.user)
    return HttpResponse("")


@login_required
@require_GET
def dashboard_map(request):
    desk_check(request.user)
    return HttpResponse("{}", content_type="application/json")
