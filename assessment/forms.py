"""The callback form: what the caller heard. Forms parse; the rules are assessment.callbacks'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.choices import Satisfaction, Solved


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("Reached the reporter?"),
        choices=[("yes", _("Reached")), ("no", _("Unreachable"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    solved = forms.ChoiceField(
        label=_("Is the problem solved?"),
        choices=[("", "—"), *Solved.choices],
        required=False,
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are they?"),
        choices=[("", "—"), *Satisfaction.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea({"rows": 2, "maxlength": 2000}),
    )
