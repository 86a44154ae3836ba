"""The case page (案件详情) and its actions, for the street's staff: where and what the case is,
its hash-chained history, timers, department calls, supervisions and evidence, and the actions
its status and the user's role allow. Every action is a POST of a form carrying the version the
user saw; a stale one is answered with the conflict, never applied."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from enforcement import workflow
from enforcement.choices import CaseStatus, EventKind, TimerStage
from enforcement.events import case_history_check
from enforcement.field import field_event_annotate
from enforcement.permissions import phone_visible, supervision_respond_allowed
from enforcement.selectors import case_get, case_page_get, supervision_list
from enforcement.services import case_reporter_phone_reveal
from enforcement.supervisions import SupervisionClosed, supervision_answer
from enforcement.web.actions import ACTION_LABELS, CASE_ACTIONS, case_act, case_actions_available
from enforcement.web.forms import ACTION_FORMS, SupervisionAnswerForm

# The actions the loop moves forward by, drawn as the main button.
PRIMARY_ACTIONS = ("accept", "route", "verify")


def _deadline_moves(events) -> list:
    """The calendar's moves of the case's deadlines, with their times read back (the event
    keeps them as ISO 8601 text)."""
    moves = [event for event in events if event.kind == EventKind.DEADLINE_MOVE]
    for event in moves:
        event.moved_from = parse_datetime(event.data.get("from") or "")
        event.moved_to = parse_datetime(event.data.get("to") or "")
        stage = event.data.get("stage", "")
        event.stage_label = TimerStage(stage).label if stage in TimerStage.values else stage
    return moves


def _status_label(status: str) -> str:
    return str(CaseStatus(status).label) if status in CaseStatus.values else status


def _route_proposal(case):
    try:
        return workflow.case_route_propose(case=case), None
    except workflow.WorkflowError as exc:
        return None, str(exc)


def case_actions_context(request, case, *, forms=None) -> dict:
    """The actions panel: the actions the case's status and the user's role allow, each with
    its form (``forms``: those sent back with their errors), and the route proposal. Loaded by
    the page after it is drawn (its own request, ``case_actions``): its choices (teams, officers,
    power items, approvers) and the proposal are a dozen queries a reader of the case does not
    wait for."""
    user = request.user
    available = case_actions_available(user, case)
    forms = forms or {}
    action_forms = {
        name: forms.get(name) or ACTION_FORMS[name](case=case, user=user) for name in available
    }
    if "merge" in action_forms and case.likely_duplicate_number and not forms.get("merge"):
        action_forms["merge"].initial["into"] = case.likely_duplicate_number
    proposal, proposal_error = (None, "")
    if "route" in action_forms:
        proposal, proposal_error = _route_proposal(case)
        if proposal is not None:
            action_forms["route"].initial["expect"] = proposal.kind
    return {
        "actions_loaded": True,
        "actions": [(name, ACTION_LABELS[name], form) for name, form in action_forms.items()],
        "primary_actions": PRIMARY_ACTIONS,
        # A form sent back with its errors stays open.
        "open_actions": tuple(forms),
        "proposal": proposal,
        "proposal_error": proposal_error,
    }


def case_page_context(
    request, case, *, forms=None, conflict: str = "", with_actions: bool = False
) -> dict:
    """Everything the case page shows, in a fixed number of queries whatever the case holds
    (a page's query budget): its events, timers, calls, supervisions and evidence, each one
    query. The actions panel is drawn inline only ``with_actions`` (a form sent back, a
    conflict, a browser without JavaScript); otherwise the page loads it after."""
    user = request.user
    events = list(case.events.select_related("actor").order_by("sequence"))
    for event in events:
        event.from_label = _status_label(event.from_status)
        event.to_label = _status_label(event.to_status)
        field_event_annotate(event)
    supervisions = list(supervision_list(user=user).filter(case=case).order_by("-opened_at", "-pk"))
    for supervision in supervisions:
        supervision.answerable = supervision.state == "open" and supervision_respond_allowed(
            user, supervision
        )
    if case.clock_stage:
        case.clock_stage_label = TimerStage(case.clock_stage).label
    context = {
        "case": case,
        "events": events,
        "history_broken": case_history_check(number=case.number, events=events),
        "timers": list(case.timers.order_by("started_at", "pk")),
        "calls": list(case.calls.select_related("department", "power_item").order_by("pk")),
        "supervisions": supervisions,
        "evidence": list(case.evidence.order_by("uploaded_at", "pk")),
        "phone_visible": phone_visible(user),
        "answer_form": SupervisionAnswerForm(),
        "conflict": conflict,
        "deadline_moves": _deadline_moves(events),
        "far_arrivals": [e for e in events if e.kind == EventKind.ARRIVE and e.data.get("far")],
        "arrive_warn_metres": settings.FIELD_ARRIVE_WARN_METRES,
    }
    if with_actions or forms or conflict:
        context.update(case_actions_context(request, case, forms=forms))
    return context


@login_required
@require_GET
def case_detail(request, number: str):
    case = case_page_get(user=request.user, number=number)
    if request.htmx and request.GET.get("part") == "status":
        if case.clock_stage:
            case.clock_stage_label = TimerStage(case.clock_stage).label
        return render(request, "enforcement/case.html#status", {"case": case})
    context = case_page_context(request, case, with_actions=request.GET.get("actions") == "1")
    return render(request, "enforcement/case.html", context)


@login_required
@require_GET
def case_actions(request, number: str):
    """The case page's actions panel, as a fragment (the page loads it once drawn)."""
    case = case_page_get(user=request.user, number=number)
    context = {"case": case, **case_actions_context(request, case)}
    return render(request, "enforcement/case.html#actions", context)


@login_required
@require_POST
def case_action(request, number: str, action: str):
    """Take ``action`` on the case: the form is parsed (400 with its errors), the right asked
    (403), the workflow run from the form's version (409 with the conflict when someone else
    changed the case meanwhile, or when its status no longer allows it)."""
    if action not in CASE_ACTIONS:
        raise Http404
    case = case_page_get(user=request.user, number=number)
    form = ACTION_FORMS[action](request.POST, case=case, user=request.user)
    if not form.is_valid():
        context = case_page_context(request, case, forms={action: form})
        return render(request, "enforcement/case.html", context, status=400)
    data = dict(form.cleaned_data)
    version = data.pop("version")
    data.pop("next", None)
    try:
        case_act(user=request.user, case=case, action=action, data=data, expected_version=version)
    except (workflow.CaseConflict, workflow.TransitionNotAllowed) as exc:
        case = case_page_get(user=request.user, number=number)
        context = case_page_context(request, case, conflict=str(exc))
        return render(request, "enforcement/case.html", context, status=409)
    except (workflow.WorkflowError, ValidationError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        form.add_error(None, text)
        case = case_page_get(user=request.user, number=number)
        context = case_page_context(request, case, forms={action: form})
        return render(request, "enforcement/case.html", context, status=400)
    messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS[action]})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("enforcement:case", number=number)


@login_required
@require_POST
def supervision_answer_view(request, number: str, pk: int):
    """The addressee answers a supervision (督办回复) of the case; anyone else is a 403
    (supervision_answer asks supervision_respond_allowed and raises PermissionDenied)."""
    case = case_get(user=request.user, number=number)
    supervision = get_object_or_404(supervision_list(user=request.user), pk=pk, case=case)
    form = SupervisionAnswerForm(request.POST)
    if form.is_valid():
        try:
            supervision_answer(
                supervision=supervision, actor=request.user, response=form.cleaned_data["response"]
            )
        except SupervisionClosed as exc:
            messages.error(request, str(exc))
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The supervision is answered."))
    else:
        messages.error(request, _("Write the answer."))
    return redirect("enforcement:case", number=number)


@login_required
@require_POST
def case_phone_reveal(request, number: str):
    """The reporter's phone whole for holders of the right, recorded in the history (an htmx
    swap of the masked number; a page without JavaScript shows it on the case page)."""
    case = case_get(user=request.user, number=number)
    phone = case_reporter_phone_reveal(case=case, user=request.user)
    if request.htmx:
        return render(request, "enforcement/partials/_phone.html", {"phone": phone})
    case = case_page_get(user=request.user, number=number)
    context = case_page_context(request, case)
    context["phone_revealed"] = phone
    return render(request, "enforcement/case.html", context)


@login_required
@require_GET
def evidence_file(request, number: str, pk: int):
    """An evidence file of a case the user sees (404 otherwise), as stored."""
    case = case_get(user=request.user, number=number)
    evidence = get_object_or_404(case.evidence, pk=pk)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
