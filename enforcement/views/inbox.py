"""The department's calls inbox (部门来单), the liaison's start page: the calls whistled to the
user's departments, the most urgent first, each with its running clock and the answers its
status allows (report in, take on, complete with a result, return with a reason). Every answer
is a POST of a form carrying the call's version: a stale one is refused as a conflict (409),
never applied. The list refreshes itself every 10 s, so that a new whistle shows up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from enforcement import workflow
from enforcement.choices import TimerStage
from enforcement.permissions import call_answer_allowed, scope_of
from enforcement.web.inbox import (
    CALL_ACTIONS,
    call_actions_available,
    inbox_call_get,
    inbox_check,
    inbox_counts,
    inbox_departments,
    inbox_page,
)
from enforcement.web.inbox_forms import CALL_ACTION_FORMS, CallActionForm

STATES = ("open", "done")

ACTION_LABELS = {
    "report_in": gettext_lazy("Report in"),  # 报到
    "accept": gettext_lazy("Take on"),  # 接单
    "complete": gettext_lazy("Complete"),  # 办结
    "return": gettext_lazy("Return"),  # 退回
}
DONE_MESSAGES = {
    "report_in": gettext_lazy("Case %(number)s: reported in."),
    "accept": gettext_lazy("Case %(number)s: taken on."),
    "complete": gettext_lazy("Case %(number)s: completed."),
    "return": gettext_lazy("Case %(number)s: returned to the command centre."),
}
CLOCK_LABELS = {
    TimerStage.CALL_REPORT_IN: gettext_lazy("Report in by"),
    TimerStage.CALL_COMPLETE: gettext_lazy("Complete by"),
}
# Each action's workflow function, called with the form's cleaned data.
RUNS = {
    "report_in": lambda call, actor, data: workflow.call_report_in(
        call=call, actor=actor, expected_version=data["version"]
    ),
    "accept": lambda call, actor, data: workflow.call_accept(
        call=call, actor=actor, expected_version=data["version"]
    ),
    "complete": lambda call, actor, data: workflow.call_complete(
        call=call, actor=actor, result=data["result"], expected_version=data["version"]
    ),
    "return": lambda call, actor, data: workflow.call_return(
        call=call, actor=actor, reason=data["reason"], expected_version=data["version"]
    ),
}


def _forms_attach(user, call, bound: CallActionForm | None = None, bound_action: str = ""):
    """Set ``call.forms``: a fresh form for each action its status allows, or ``bound`` (a
    refused one, with its errors and what was typed) for ``bound_action``."""
    call.forms = {
        name: bound
        if name == bound_action and bound is not None
        else CALL_ACTION_FORMS[name](call=call)
        for name in call_actions_available(user, call)
    }
    stage = getattr(call, "clock_stage", None)  # a finished call is read without its clock
    call.clock_label = CLOCK_LABELS.get(stage, "") if stage else ""
    return call


def _page_context(
    request, *, state: str, number: int, focus=None, form=None, action: str = ""
) -> dict:
    """The inbox page of tab ``state``, page ``number``: the counts, the departments and the
    calls with their forms, in a fixed number of queries whatever the calls. ``focus``, a call
    refused ``action`` (its bound ``form`` when the input was wrong), is shown first, wherever
    it would stand, or even when finished meanwhile."""
    user = request.user
    page = inbox_page(user=user, done=state == "done", number=number)
    rows = page.rows
    if focus is not None:
        rows = [focus, *(call for call in rows if call.pk != focus.pk)]
    for call in rows:
        if focus is not None and call.pk == focus.pk:
            _forms_attach(user, focus, form, action)
        else:
            _forms_attach(user, call)
    counts = inbox_counts(user=user)
    inbox_url = reverse("enforcement:inbox")
    return {
        "state": state,
        "page": page,
        "rows": rows,
        "tabs": [
            ("open", pgettext("calls inbox tab", "To answer"), counts["open"]),
            ("done", pgettext("calls inbox tab", "Finished"), counts["done"]),
        ],
        "departments": inbox_departments(user=user),
        "show_department": _departments_shown(user),
        "action_labels": ACTION_LABELS,
        "now": timezone.now(),
        "list_url": f"{inbox_url}?{urlencode({'state': state, 'page': page.number})}",
        "next_url": f"{inbox_url}?{urlencode({'state': state, 'page': page.number + 1})}",
        "previous_url": f"{inbox_url}?{urlencode({'state': state, 'page': page.number - 1})}",
    }


@login_required
@require_GET
def inbox(request):
    """The inbox page (``?state=done`` the finished calls, ``?page=`` from 1); an htmx request
    gets the list alone (its refresh every 10 s). 403 for a user holding no department."""
    inbox_check(request.user)
    state = request.GET.get("state") or "open"
    if state not in STATES:
        return HttpResponseBadRequest(_("Unknown tab."))
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 0
    if number < 1:
        return HttpResponseBadRequest(_("This page link is broken; start from the first page."))
    context = _page_context(request, state=state, number=number)
    template = "enforcement/inbox.html#list" if request.htmx else "enforcement/inbox.html"
    return render(request, template, context)


@login_required
@require_POST
def inbox_call_action(request, pk: int, action: str):
    """Answer call ``pk`` with ``action``: a call the user may not see is a 404, one of another
    department a 403 (as the API); the form is parsed (400 with its errors), then the workflow
    run from the form's version (409 with the conflict when the call changed meanwhile or its
    status no longer allows the action). Done: back to the inbox (PRG), or, for htmx, the
    call's row as it is now."""
    if action not in CALL_ACTIONS:
        raise Http404
    call = inbox_call_get(user=request.user, pk=pk)
    if not call_answer_allowed(request.user, call):
        raise PermissionDenied(_("Only the called department answers its call."))
    form = CALL_ACTION_FORMS[action](request.POST, call=call)
    if not form.is_valid():
        return _refused(request, call, form=form, action=action, status=400)
    try:
        RUNS[action](call, request.user, form.cleaned_data)
    except workflow.InvalidInput as exc:
        form.add_error(None, str(exc))
        return _refused(request, call, form=form, action=action, status=400)
    except workflow.WorkflowError as exc:
        call = inbox_call_get(user=request.user, pk=pk)
        return _refused(request, call, conflict=str(exc), status=409)
    done = DONE_MESSAGES[action] % {"number": call.case.number}
    if request.htmx:
        call = _forms_attach(request.user, inbox_call_get(user=request.user, pk=pk))
        call.done_message = done
        return render(request, "enforcement/inbox.html#row", _row_context(request, call))
    messages.success(request, done)
    return redirect("enforcement:inbox")


def _departments_shown(user) -> bool:
    """Whether each row names its department: for whoever answers for more than one."""
    return user.is_superuser or len(scope_of(user).departments) > 1


def _row_context(request, call) -> dict:
    return {
        "call": call,
        "action_labels": ACTION_LABELS,
        "show_department": _departments_shown(request.user),
        "now": timezone.now(),
    }


def _refused(request, call, *, status: int, form=None, action: str = "", conflict: str = ""):
    """The inbox with the refused call first, its form bound with the errors or the conflict
    told above it; for htmx, the call's row alone."""
    if request.htmx:
        call.conflict = conflict  # the page tells it above the list; a row alone, in itself
        _forms_attach(request.user, call, form, action)
        return render(
            request, "enforcement/inbox.html#row", _row_context(request, call), status=status
        )
    context = _page_context(request, state="open", number=1, focus=call, form=form, action=action)
    context.update(conflict=conflict, refused_case=call.case.number, refused_input=form is not None)
    return render(request, "enforcement/inbox.html", context, status=status)
