"""The forms of the calls inbox: one per call action, each carrying the call's ``version`` so
that a form read before someone else's answer is refused by the workflow (shown as a conflict,
never applied). Forms parse; the rules are the workflow's (enforcement.workflow.call_*)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from enforcement.models import DepartmentCall

# The API's limits (enforcement.api.serializers: CallResultInputSerializer, ReasonInputSerializer).
RESULT_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 2000


class CallActionForm(forms.Form):
    """The base of every call form, and the whole of report in and accept: the version the user
    saw. Its ids are the call's own (``call-12-result``), so that a page of many calls has each
    label pointing at its own field."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, call: DepartmentCall, **kwargs):
        kwargs.setdefault("auto_id", f"call-{call.pk}-%s")
        super().__init__(*args, **kwargs)
        self.call = call
        if not self.is_bound:
            self.initial.setdefault("version", call.version)


class CallCompleteForm(CallActionForm):
    result = forms.CharField(
        label=_("Result"),
        max_length=RESULT_MAX_LENGTH,
        widget=forms.Textarea({"rows": 3, "maxlength": RESULT_MAX_LENGTH}),
        help_text=_("What the department did and found; the command centre reads it."),
    )


class CallReturnForm(CallActionForm):
    reason = forms.CharField(
        label=_("Reason for return"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea({"rows": 3, "maxlength": REASON_MAX_LENGTH}),
        help_text=_("Returns are counted for each department."),
    )


CALL_ACTION_FORMS: dict[str, type[CallActionForm]] = {
    "report_in": CallActionForm,
    "accept": CallActionForm,
    "complete": CallCompleteForm,
    "return": CallReturnForm,
}
