"""Forms of the grids app: they run the services' checks so that a bad polygon or credit code is
shown on its field instead of failing on save."""

from django import forms
from django.core.exceptions import ValidationError

from grids.geometry import geometry_clean
from grids.models import GridCell, Subject
from grids.services import SubjectInput, subject_input_clean


class GridCellForm(forms.ModelForm):
    class Meta:
        model = GridCell
        fields = ["code", "name", "level", "parent", "community", "area", "geometry"]

    def clean_geometry(self):
        return geometry_clean(self.cleaned_data["geometry"])


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = [
            "kind",
            "name",
            "credit_code",
            "address",
            "lat",
            "lng",
            "risk_level",
            "contact_name",
            "contact_phone",
            "is_active",
        ]

    def subject_input(self) -> SubjectInput:
        data = self.cleaned_data
        return SubjectInput(
            kind=data.get("kind") or "",
            name=data.get("name") or "",
            address=data.get("address") or "",
            lat=data.get("lat"),
            lng=data.get("lng"),
            credit_code=data.get("credit_code") or "",
            risk_level=data.get("risk_level") or "",
            contact_name=data.get("contact_name") or "",
            contact_phone=data.get("contact_phone") or self._kept_phone(),
            is_active=data.get("is_active", True),
        )

    def _kept_phone(self) -> str:
        # A user who may not see the phone does not get the field; the stored number stays.
        return self.instance.contact_phone if "contact_phone" not in self.fields else ""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            subject_input_clean(self.subject_input())
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned
