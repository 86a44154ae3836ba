"""The command centre's desk (指挥中心工作台): the queues of cases to accept, route, follow and
verify, and the open supervisions, with their counts; filters shared with the API
(CaseFilterSet), search, keyset pages, a live countdown per row, and the filtered list as
Excel or CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.pagination import BadCursor, keyset_page
from enforcement.choices import CaseSource, Severity
from enforcement.filtersets import CaseFilterSet
from enforcement.permissions import desk_check, desk_streets
from enforcement.selectors import (
    DESK_QUEUE_LABELS,
    DESK_QUEUES,
    case_queue_counts,
    case_search,
    cases_with_clock,
    desk_case_list,
    matter_types_all,
    supervision_level_counts,
    supervisions_open,
)
from enforcement.web.exports import case_export
from grids.choices import RegionLevel
from grids.models import Region

PAGE_SIZE = 50
# Parameters of the desk itself; every other one is a filter of CaseFilterSet (unknown: 400).
DESK_PARAMETERS = ("queue", "q", "cursor", "export")
QUEUES = (*DESK_QUEUES, "supervisions")
# Every case of the filters, closed ones too: the list behind a figure (a drill-down).
ALL_QUEUE = "all"
EXPORT_FORMATS = ("csv", "xlsx")


def _filter_choices(user) -> dict:
    streets = desk_streets(user)
    regions = list(
        Region.objects.filter(Q(pk__in=streets.values("pk")) | Q(parent__in=streets.values("pk")))
        .order_by("code")
        .only("code", "name", "level")
    )
    return {
        "streets": [r for r in regions if r.level == RegionLevel.STREET],
        "communities": [r for r in regions if r.level == RegionLevel.COMMUNITY],
        "matter_types": matter_types_all(),
        "sources": CaseSource.choices,
        "severities": Severity.choices,
    }


@login_required
@require_GET
def desk(request):
    """The desk page; an htmx request gets the list alone (its refresh every few seconds and
    its next page), ``export=csv|xlsx`` the filtered list as a file."""
    desk_check(request.user)
    params = request.GET.copy()
    desk_params = {name: params.pop(name, [""])[-1] for name in DESK_PARAMETERS}
    queue = desk_params["queue"] or "reported"
    if queue not in (*QUEUES, ALL_QUEUE):
        return HttpResponseBadRequest(_("Unknown queue."))
    filterset = CaseFilterSet(params, queryset=desk_case_list(user=request.user))
    context = {"queue": queue, "q": desk_params["q"], "filters": params}
    valid = filterset.is_valid()
    if not request.htmx or not valid:  # a refresh redraws the queue, not the filter form
        context.update(_filter_choices(request.user))
    if not valid:
        context["errors"] = filterset.errors
        return render(request, "enforcement/desk.html", context, status=400)
    cases = case_search(filterset.qs, desk_params["q"])
    drill = filterset.form.cleaned_data.get("drill")
    if desk_params["export"]:
        if desk_params["export"] not in EXPORT_FORMATS:
            return HttpResponseBadRequest(_("Export as csv or xlsx."))
        statuses = DESK_QUEUES.get(queue)
        return case_export(
            cases.filter(status__in=statuses) if statuses else cases, fmt=desk_params["export"]
        )
    counts = case_queue_counts(cases)
    supervisions = supervisions_open(user=request.user)
    context["supervision_levels"] = supervision_level_counts(supervisions)
    counts["supervisions"] = sum(n for _level, n in context["supervision_levels"])
    context["counts"] = counts
    labels = {**DESK_QUEUE_LABELS, "supervisions": _("Supervisions")}
    context["queues"] = [(name, labels[name], counts[name]) for name in QUEUES]
    if drill is not None or queue == ALL_QUEUE:
        context["drill"] = drill
        context["queues"].insert(0, (ALL_QUEUE, _("All, closed too"), cases.count()))
    if queue == "supervisions":
        context["supervisions"] = list(supervisions[:PAGE_SIZE])
    else:
        in_queue = cases if queue == ALL_QUEUE else cases.filter(status__in=DESK_QUEUES[queue])
        rows = cases_with_clock(in_queue)
        try:
            page = keyset_page(rows, cursor=desk_params["cursor"], size=PAGE_SIZE)
        except BadCursor:
            return HttpResponseBadRequest(_("This page link is broken; start from the first page."))
        context["page"] = page
        context["next_query"] = _query_with(request.GET, cursor=page.next_cursor)
    context["export_query_csv"] = _query_with(request.GET, export="csv", cursor=None)
    context["export_query_xlsx"] = _query_with(request.GET, export="xlsx", cursor=None)
    template = "enforcement/desk.html"
    if request.htmx and request.GET.get("cursor"):
        template += "#rows"
    elif request.htmx:
        template += "#queue"
    return render(request, template, context)


def _query_with(query, **changes) -> str:
    query = query.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    return query.urlencode()
