"""The assessment pages (双向考核): the leader's periods and a period's results with their
drill-down, manual scores, publication, versions and appeals; the department liaison's own
published results and appeals; the Excel export. The rules are assessment.schemes'; the reads
assessment.overview's; the views parse, call and render."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessment.choices import AppealDecision, PeriodKind
from assessment.forms import AppealDecisionForm, AppealForm, ManualScoreForm, PublishForm
from assessment.models import Appeal, Scheme, Snapshot
from assessment.overview import (
    department_results,
    liaison_departments,
    period_get,
    period_results,
    scheme_periods,
)
from assessment.schemes import (
    AssessmentRefused,
    appeal_decide,
    appeal_file,
    assessor_check,
    manual_score_enter,
    period_for,
    period_publish,
    period_results_xlsx,
    scheme_targets,
    scheme_version_for,
    schemes_assessed_by,
)
from powers.models import Department


def _period_of(kind: str, start: str):
    if kind not in PeriodKind.values:
        raise Http404
    try:
        return period_get(kind, date.fromisoformat(start))
    except ValueError:
        raise Http404 from None


def _scheme_for(user, code: str) -> Scheme:
    scheme = get_object_or_404(Scheme.objects.select_related("assessor"), code=code)
    assessor_check(user, scheme)
    return scheme


@login_required
@require_GET
def assessment_index(request):
    """The leader's schemes and their periods; a liaison is sent to their department's page."""
    schemes = schemes_assessed_by(request.user)
    if not schemes:
        if liaison_departments(request.user):
            return redirect("assessment:department")
        raise PermissionDenied(_("The assessment is the street leader's and the district's."))
    return render(
        request,
        "assessment/index.html",
        {"schemes": [(scheme, scheme_periods(scheme)) for scheme in schemes]},
    )


@login_required
@require_GET
def period_page(request, code: str, kind: str, start: str):
    scheme = _scheme_for(request.user, code)
    period = _period_of(kind, start)
    version = request.GET.get("version")
    try:
        results = period_results(scheme, period, version_number=int(version) if version else None)
    except (LookupError, ValueError):
        raise Http404 from None
    context = {"results": results, "kind": kind, "start": start}
    if not results.published and results.version is not None:
        targets = [row.target for row in results.rows]
        context["score_form"] = ManualScoreForm(targets=targets, items=results.manual_items)
        context["publish_form"] = PublishForm()
    context["decide_form"] = AppealDecisionForm()
    return render(request, "assessment/period.html", context)


def _back(code: str, kind: str, start: str) -> HttpResponse:
    return redirect("assessment:period", code=code, kind=kind, start=start)


@login_required
@require_POST
def manual_score_view(request, code: str, kind: str, start: str):
    scheme = _scheme_for(request.user, code)
    day = _period_of(kind, start).starts_on
    targets = {t.pk: t for t in scheme_targets(scheme)}
    version = scheme_version_for(scheme, day)
    manual_items = version.manual_items if version else {}
    items = [(code, spec["name"], None) for code, spec in manual_items.items()]
    form = ManualScoreForm(
        request.POST,
        targets=[{"id": pk, "name": str(t)} for pk, t in targets.items()],
        items=items,
    )
    if not form.is_valid():
        messages.error(request, _("Choose whom and which item, give a score and its reason."))
        return _back(code, kind, start)
    data = form.cleaned_data
    try:
        manual_score_enter(
            period=period_for(kind, day),
            scheme=scheme,
            target=targets[data["target"]],
            item=data["item"],
            score=data["score"],
            reason=data["reason"],
            by=request.user,
        )
    except AssessmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Manual score recorded."))
    return _back(code, kind, start)


@login_required
@require_POST
def publish_view(request, code: str, kind: str, start: str):
    scheme = _scheme_for(request.user, code)
    day = _period_of(kind, start).starts_on
    if not PublishForm(request.POST).is_valid():
        messages.error(request, _("Tick the box to say you have checked the results."))
        return _back(code, kind, start)
    period = period_for(kind, day)
    version = scheme_version_for(scheme, period.starts_on)
    if version is None:
        messages.error(request, _("This scheme has no weights for this period."))
        return _back(code, kind, start)
    try:
        snapshot = period_publish(period=period, scheme_version=version, by=request.user)
    except AssessmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(period)s published (SHA-256 %(sha)s…).")
            % {"period": period.label, "sha": snapshot.sha256[:12]},
        )
    return _back(code, kind, start)


@login_required
@require_POST
def appeal_decide_view(request, pk: int):
    appeal = get_object_or_404(
        Appeal.objects.select_related("snapshot__period", "snapshot__scheme_version__scheme"),
        pk=pk,
    )
    scheme = appeal.snapshot.scheme_version.scheme
    assessor_check(request.user, scheme)
    period = appeal.snapshot.period
    back = _back(scheme.code, period.kind, period.starts_on.isoformat())
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Uphold or reject the appeal, with a reason."))
        return back
    data = form.cleaned_data
    try:
        appeal_decide(
            appeal=appeal,
            decision=data["decision"],
            reason=data["reason"],
            new_score=data["new_score"] if data["decision"] == AppealDecision.UPHELD else None,
            by=request.user,
        )
    except AssessmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Appeal decided."))
    return back


@login_required
@require_GET
def period_export(request, pk: int):
    """A published version's results as Excel (the stored content alone)."""
    snapshot = get_object_or_404(
        Snapshot.objects.select_related("period", "scheme_version__scheme__assessor"), pk=pk
    )
    assessor_check(request.user, snapshot.scheme_version.scheme)
    response = HttpResponse(
        period_results_xlsx(snapshot),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"{snapshot.scheme_version.scheme.code}-{snapshot.period.starts_on}-v{snapshot.version}"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


# --- the department's side -----------------------------------------------------------------------


def _liaison_check(user) -> list[int]:
    departments = liaison_departments(user)
    if not departments and not user.is_superuser:
        raise PermissionDenied(_("This page is a department liaison's."))
    return departments


@login_required
@require_GET
def department_page(request):
    departments = _liaison_check(request.user)
    found = department_results(departments)
    for result in found:
        items = [(c.code, c.name) for c in result.row.cells if c.points is not None]
        items += [(m["item"], m["name"]) for m in result.row.manual]
        result.form = AppealForm(items=items)
    names = Department.objects.filter(pk__in=departments).values_list("name", flat=True)
    return render(
        request, "assessment/department.html", {"results": found, "departments": list(names)}
    )


@login_required
@require_POST
def appeal_file_view(request, pk: int, target: int):
    departments = _liaison_check(request.user)
    snapshot = get_object_or_404(Snapshot, pk=pk)
    department = get_object_or_404(Department, pk=target)
    if department.pk not in departments and not request.user.is_superuser:
        raise Http404
    # The point is checked against the published content by appeal_file.
    item = request.POST.get("item", "")
    form = AppealForm(request.POST, items=[(item, item)])
    if not form.is_valid() or not item:
        messages.error(request, _("Choose the point and give the reason of the appeal."))
        return redirect("assessment:department")
    try:
        appeal_file(
            snapshot=snapshot,
            target=department,
            item=form.cleaned_data["item"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except AssessmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Appeal filed: the street decides."))
    return redirect("assessment:department")
