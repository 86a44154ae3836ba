"""The callback list (回访) for the callback role: the callbacks waiting, each with its case, the
reporter's phone read on request (recorded) and the form of the answer. The rules are
assessment.callbacks'; the page reads and posts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessment.callbacks import (
    CallbackAnswer,
    callback_caller_check,
    callback_record,
    callbacks_for,
)
from assessment.choices import CallbackState
from assessment.forms import CallbackForm
from enforcement.workflow import InvalidInput

CALLBACKS_SHOWN = 50


@login_required
@require_GET
def callbacks_page(request):
    callback_caller_check(request.user)
    waiting = list(
        callbacks_for(request.user)
        .filter(state=CallbackState.WAITING)
        .order_by("drawn_at", "pk")[:CALLBACKS_SHOWN]
    )
    done = list(
        callbacks_for(request.user)
        .filter(caller=request.user)
        .exclude(state=CallbackState.WAITING)
        .order_by("-called_at", "-pk")[:20]
    )
    return render(
        request,
        "assessment/callbacks.html",
        {"waiting": waiting, "done": done, "form": CallbackForm()},
    )


@login_required
@require_POST
def callback_record_view(request, pk: int):
    callback = get_object_or_404(callbacks_for(request.user), pk=pk)
    form = CallbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say whether the reporter was reached."))
        return redirect("assessment:callbacks")
    data = form.cleaned_data
    try:
        callback_record(
            callback=callback,
            caller=request.user,
            answer=CallbackAnswer(
                reached=data["reached"],
                solved=data["solved"],
                satisfaction=data["satisfaction"],
                note=data["note"],
            ),
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    except PermissionDenied:
        raise
    else:
        messages.success(
            request, _("Callback of %(number)s recorded.") % {"number": callback.case.number}
        )
    return redirect("assessment:callbacks")
