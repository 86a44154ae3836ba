from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from powers.constants import ZOMBIE_MONTHS


class UsagePeriodForm(forms.Form):
    """The period of the usage report (default: the last 12 months)."""

    start = forms.DateField(label=_("from"), required=False)
    end = forms.DateField(label=_("to"), required=False)
    zombie_months = forms.IntegerField(
        label=_("zombie after months"), min_value=1, max_value=120, required=False
    )

    def clean(self):
        data = super().clean()
        data["end"] = data.get("end") or timezone.localdate()
        data["start"] = data.get("start") or data["end"] - timedelta(days=365)
        data["zombie_months"] = data.get("zombie_months") or ZOMBIE_MONTHS
        if data["start"] > data["end"]:
            raise forms.ValidationError(_("The period starts after it ends."))
        return data
