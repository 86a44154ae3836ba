"""The forms of the enforcement pages: one per action, each carrying the case's ``version`` so
that a form read before someone else's change is refused by the workflow (a conflict shown to
the user, never a silent overwrite). Forms parse; the rules are the workflow's."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.choices import Role
from enforcement.choices import DispatchTarget
from enforcement.models import Case, Officer, Team
from enforcement.selectors import case_list
from powers.models import PowerItem

TEXT = {"rows": 3, "maxlength": 2000}


class CaseActionForm(forms.Form):
    """The base of every action form: the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, case: Case, user, **kwargs):
        self.case = case
        self.user = user
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("version", case.version)


class AcceptForm(CaseActionForm):
    pass


class ResumeForm(CaseActionForm):
    pass


class ReasonForm(CaseActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(TEXT))


class RejectForm(ReasonForm):
    pass


class ReopenForm(CaseActionForm):
    reason = forms.CharField(
        label=_("What is still wrong"), max_length=2000, widget=forms.Textarea(TEXT)
    )


class VerifyForm(CaseActionForm):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(TEXT)
    )


class RouteForm(CaseActionForm):
    """Confirm the platform's proposal; ``expect`` is the kind shown, refused when the power
    list changed meanwhile."""

    expect = forms.ChoiceField(
        choices=[("team", _("own team")), ("whistle", _("whistle"))], widget=forms.HiddenInput
    )


class TeamChoiceForm(CaseActionForm):
    """The street's teams and officers as the choices of ``team`` and ``officer``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(street_id=self.case.street_id).order_by(
            "name"
        )
        self.fields["officer"].queryset = (
            Officer.objects.filter(team__street_id=self.case.street_id)
            .select_related("user", "team")
            .order_by("team__name", "user__username")
        )
        self.fields["officer"].label_from_instance = lambda officer: (
            f"{officer.user.get_full_name() or officer.user.username} · {officer.team.name}"
        )


class DispatchForm(TeamChoiceForm):
    target = forms.ChoiceField(
        label=_("Send to"),
        choices=[
            (DispatchTarget.TEAM, DispatchTarget.TEAM.label),
            (DispatchTarget.GRID, DispatchTarget.GRID.label),
        ],
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    officer = forms.ModelChoiceField(
        label=_("Officer (optional)"), queryset=Officer.objects.none(), required=False
    )


class ReassignForm(TeamChoiceForm):
    """Another team or officer for a case in hand (改派)."""

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    officer = forms.ModelChoiceField(
        label=_("Officer (optional)"), queryset=Officer.objects.none(), required=False
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(TEXT)
    )


class WhistleForm(CaseActionForm):
    power_items = forms.ModelMultipleChoiceField(
        label=_("Power items (one call per owning department)"),
        queryset=PowerItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["power_items"]
        # The matter type's items first; a case may need more departments than its type names.
        field.queryset = PowerItem.objects.select_related("department").order_by(
            "department__code", "code"
        )
        suggested = set(self.case.matter_type.power_items.values_list("pk", flat=True))
        field.queryset = field.queryset.filter(pk__in=suggested) | PowerItem.objects.filter(
            pk__in=suggested
        )
        field.label_from_instance = lambda item: f"{item.department.name} · {item.code} {item.name}"


class MergeForm(CaseActionForm):
    into = forms.CharField(label=_("Merge into case number"), max_length=30)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(TEXT)
    )

    def clean_into(self):
        number = self.cleaned_data["into"].strip()
        # Looked up as the user sees cases: a case one may not see is "no such case".
        into = case_list(user=self.user).filter(number=number).first()
        if into is None:
            raise forms.ValidationError(_("No such case."))
        return into


class TransferForm(CaseActionForm):
    to = forms.ChoiceField(
        label=_("Transfer to"),
        choices=[("police", _("Public security (police)")), ("department", _("A department"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(TEXT))
    goods_value = forms.DecimalField(
        label=_("Value of the goods (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
    )


class SuspendForm(CaseActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(TEXT))
    approved_by = forms.ModelChoiceField(
        label=_("Approved by (street leader)"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=Role.STREET_LEADER)
            .exclude(pk=self.user.pk)
            .order_by("username")
        )
        self.fields["approved_by"].label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )


ACTION_FORMS: dict[str, type[CaseActionForm]] = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "route": RouteForm,
    "dispatch": DispatchForm,
    "reassign": ReassignForm,
    "whistle": WhistleForm,
    "merge": MergeForm,
    "verify": VerifyForm,
    "reopen": ReopenForm,
    "transfer": TransferForm,
    "suspend": SuspendForm,
    "resume": ResumeForm,
}


class SupervisionAnswerForm(forms.Form):
    response = forms.CharField(label=_("Answer"), max_length=2000, widget=forms.Textarea(TEXT))
