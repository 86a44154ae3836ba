"""The assessment pages' forms: what the caller heard, the leader's manual scores, publication and
appeal decisions, a department's appeal. Forms parse; the rules are assessment.callbacks' and
assessment.schemes'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.choices import AppealDecision, Satisfaction, Solved


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


class ManualScoreForm(forms.Form):
    """The street leader's score of one target on one manual item (述职测评, 过程评议)."""

    target = forms.TypedChoiceField(label=_("Assessed"), coerce=int)
    item = forms.ChoiceField(label=_("Item"))
    score = forms.DecimalField(label=_("Score"), min_value=0, max_digits=6, decimal_places=2)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea({"rows": 2, "maxlength": 2000})
    )

    def __init__(self, *args, targets=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(t["id"], t["name"]) for t in targets]
        self.fields["item"].choices = [(code, name) for code, name, _weight in items]


class PublishForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked these results: publishing freezes them."), required=True
    )


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(AppealDecision.UPHELD, _("Uphold")), (AppealDecision.REJECTED, _("Reject"))],
        widget=forms.RadioSelect,
    )
    new_score = forms.DecimalField(
        label=_("New score (upheld)"), required=False, min_value=0, max_digits=6, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Reason of the decision"),
        max_length=2000,
        widget=forms.Textarea({"rows": 2, "maxlength": 2000}),
    )


class AppealForm(forms.Form):
    """A department's appeal against one point of its published result."""

    item = forms.ChoiceField(label=_("Point appealed"))
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea({"rows": 3, "maxlength": 2000})
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = list(items)
