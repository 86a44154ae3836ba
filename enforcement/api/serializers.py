"""What the case API reads and writes. Output serializers render rows; each transition has its
own input serializer, which only parses: the rules are the workflow's."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import CodeRelatedField, FieldsBuiltOnce
from enforcement.choices import (
    SELF_HANDLING_MODES,
    CaseSource,
    DispatchTarget,
    FieldAction,
    HandlingMode,
    RouteKind,
    Severity,
)
from enforcement.models import (
    Case,
    CaseEvent,
    DepartmentCall,
    Evidence,
    MatterType,
    Supervision,
    Timer,
)
from enforcement.permissions import cases_visible
from enforcement.selectors import matter_type_by_code
from grids.choices import RegionLevel
from grids.models import Region

# --- output ---


class CallSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number", read_only=True)
    department = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    power_item = serializers.CharField(
        source="power_item.code", read_only=True, default=None, allow_null=True
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DepartmentCall
        fields = [
            "id",
            "case",
            "department",
            "department_name",
            "power_item",
            "status",
            "status_label",
            "version",
            "called_at",
            "reported_in_at",
            "completed_at",
            "result",
            "return_reason",
        ]


class TimerSerializer(serializers.ModelSerializer):
    call = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    supervision = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Timer
        fields = [
            "stage",
            "state",
            "call",
            "supervision",
            "started_at",
            "warn_at",
            "due_at",
            "provisional",
            "warned_at",
            "fired_at",
            "ended_at",
        ]


class SupervisionSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number", read_only=True)
    call = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    department = serializers.CharField(
        source="call.department.code", read_only=True, default=None, allow_null=True
    )
    # whom it addresses, who alone answers: a person, a team, or a role (of a department)
    addressee = serializers.CharField(
        source="addressee.username", read_only=True, default=None, allow_null=True
    )
    addressee_team = serializers.CharField(
        source="addressee_team.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Supervision
        fields = [
            "id",
            "case",
            "call",
            "department",
            "stage",
            "level",
            "addressee",
            "addressee_team",
            "addressee_role",
            "addressee_label",
            "state",
            "opened_at",
            "answered_at",
            "response",
        ]


class CaseSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A case in a list. The reporter's phone number is always masked here; the whole number
    is read through ``reveal-phone`` (recorded)."""

    street = serializers.CharField(source="street.code", read_only=True)
    street_name = serializers.CharField(source="street.name", read_only=True)
    cell = serializers.CharField(source="cell.code", read_only=True, default=None, allow_null=True)
    matter_type = serializers.CharField(source="matter_type.code", read_only=True)
    matter_type_name = serializers.CharField(source="matter_type.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True, default=None, allow_null=True)
    officer = serializers.CharField(
        source="officer.user.username", read_only=True, default=None, allow_null=True
    )
    likely_duplicate_of = serializers.SerializerMethodField(
        help_text=_("The number of a likely duplicate the caller may see, or null.")
    )
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    reporter_phone = serializers.CharField(source="reporter_phone_masked", read_only=True)

    class Meta:
        model = Case
        fields = [
            "number",
            "status",
            "status_label",
            "version",
            "source",
            "external_id",
            "matter_type",
            "matter_type_name",
            "severity",
            "handling_mode",
            "description",
            "lat",
            "lng",
            "address",
            "street",
            "street_name",
            "cell",
            "dispatch_target",
            "team",
            "officer",
            "likely_duplicate_of",
            "merged_into",
            "reopen_count",
            "reporter_phone",
            "created_at",
            "updated_at",
        ]

    def get_likely_duplicate_of(self, case) -> str | None:
        """Named only to who may see it (case_list's ``likely_duplicate_number``; asked here
        for a case not read through it, such as a new intake's)."""
        if case.likely_duplicate_of_id is None:
            return None
        if hasattr(case, "likely_duplicate_number"):
            return case.likely_duplicate_number
        request = self.context.get("request")
        if request is None:
            return None
        return (
            cases_visible(request.user)
            .filter(pk=case.likely_duplicate_of_id)
            .values_list("number", flat=True)
            .first()
        )


class CaseCreatedSerializer(CaseSerializer):
    """What an intake answers: the case's number, where it stands and what the platform made of
    the report (its street, cell, severity, likely duplicate). The whole case is at
    ``Location``; what the caller sent is not echoed back. CaseSerializer's fields, fewer."""

    class Meta(CaseSerializer.Meta):
        fields = [
            "number",
            "status",
            "status_label",
            "version",
            "source",
            "external_id",
            "matter_type",
            "severity",
            "handling_mode",
            "street",
            "cell",
            "likely_duplicate_of",
            "created_at",
        ]


class CaseDetailSerializer(CaseSerializer):
    """A case with its clocks, supervisions and department calls."""

    timers = TimerSerializer(many=True, read_only=True)
    supervisions = SupervisionSerializer(many=True, read_only=True)
    calls = CallSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "timers", "supervisions", "calls"]


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CaseEvent
        fields = [
            "sequence",
            "kind",
            "actor",
            "at",
            "from_status",
            "to_status",
            "data",
            "previous_hash",
            "hash",
        ]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "kind", "content_type", "size", "sha256", "uploaded_at"]


class PhoneSerializer(serializers.Serializer):
    reporter_phone = serializers.CharField()


class RouteTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class RouteDepartmentSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class RouteProposalSerializer(serializers.Serializer):
    """What routing the case by power would do today (enforcement.workflow.RouteProposal): the
    street's team, or a whistle to the departments owning the matter type's power items. A
    ``route`` sent with ``expect`` set to this ``kind`` is refused if the power list changed."""

    # Not a ChoiceField: the schema's enum of these values is route's ``expect`` (one choice set,
    # one name; another field named kind would collide with the events' and evidence's kinds).
    kind = serializers.CharField(
        read_only=True, help_text=_("team (the street's team) or whistle (the departments)")
    )
    held = serializers.SerializerMethodField(
        help_text=_("codes of the power items the street holds (routing to its team)")
    )
    items = serializers.SerializerMethodField(
        help_text=_("codes of all the power items of the case's matter type")
    )
    team = RouteTeamSerializer(read_only=True, allow_null=True)
    departments = RouteDepartmentSerializer(
        many=True, read_only=True, help_text=_("the departments a whistle would call")
    )
    catalogue_version = serializers.IntegerField(
        source="catalogue_version.number",
        read_only=True,
        default=None,
        allow_null=True,
        help_text=_("number of the street's power list in force, or null when it has none"),
    )
    reason = serializers.CharField(read_only=True)

    def get_held(self, proposal) -> list[str]:
        return [item.code for item in proposal.held]

    def get_items(self, proposal) -> list[str]:
        return [item.code for item in proposal.items]


# --- input ---

LAT = {"min_value": -90.0, "max_value": 90.0}
LNG = {"min_value": -180.0, "max_value": 180.0}


SHA256 = {"regex": r"^[0-9a-fA-F]{64}$", "max_length": 64}


def _photos_match(attrs: dict, photos: str, hashes: str) -> dict:
    if attrs.get(hashes) and len(attrs[hashes]) != len(attrs.get(photos, [])):
        raise serializers.ValidationError(
            {hashes: [_("One SHA-256 for each photo, in the same order.")]}
        )
    return attrs


class CaseIntakeInputSerializer(serializers.Serializer):
    """A new case from any source. An integration's API key files cases as its own source. A
    field phone's report adds its capture (``captured_at``, ``accuracy``), photos and, for a
    problem the grid worker handled on the spot (自处置), ``self_handle`` with the result, the
    handling mode and the after photos."""

    source = serializers.ChoiceField(choices=CaseSource.choices, required=False)
    matter_type = CodeRelatedField(
        slug_field="code",
        queryset=MatterType.objects.all(),
        lookup=matter_type_by_code,  # kept per process: every intake names one
        help_text=_("matter type code"),
    )
    description = serializers.CharField(max_length=4000)
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    street = CodeRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=RegionLevel.STREET),
        required=False,
        help_text=_("street code, for a point outside every grid cell"),
    )
    captured_at = serializers.DateTimeField(required=False)
    accuracy = serializers.FloatField(required=False, min_value=0, max_value=100_000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=12)
    photos_sha256 = serializers.ListField(
        child=serializers.RegexField(**SHA256), required=False, max_length=12
    )
    self_handle = serializers.BooleanField(required=False, default=False)
    result = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    handling_mode = serializers.ChoiceField(choices=SELF_HANDLING_MODES, required=False)
    after_photos = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=12
    )
    after_photos_sha256 = serializers.ListField(
        child=serializers.RegexField(**SHA256), required=False, max_length=12
    )

    def validate(self, attrs):
        _photos_match(attrs, "photos", "photos_sha256")
        _photos_match(attrs, "after_photos", "after_photos_sha256")
        if attrs.get("self_handle"):
            if not attrs.get("captured_at"):
                raise serializers.ValidationError(
                    {"captured_at": [_("A problem handled in the grid comes from a phone.")]}
                )
            if not (attrs.get("result") or "").strip():
                raise serializers.ValidationError({"result": [_("Describe the result.")]})
            if not attrs.get("handling_mode"):
                raise serializers.ValidationError({"handling_mode": [_("This field is required.")]})
        return attrs


class EmptyInputSerializer(serializers.Serializer):
    """A transition that takes nothing but the case (and its If-Match)."""


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DispatchInputSerializer(serializers.Serializer):
    target = serializers.ChoiceField(
        choices=[
            (DispatchTarget.TEAM, DispatchTarget.TEAM.label),
            (DispatchTarget.GRID, DispatchTarget.GRID.label),
        ]
    )
    team = serializers.IntegerField(required=False, min_value=1, help_text=_("team id"))
    officer = serializers.CharField(
        required=False, max_length=150, help_text=_("username of an officer of the team")
    )


class FieldCaptureInputSerializer(serializers.Serializer):
    """What a field phone sends with an entry of its outbox (enforcement.field): when and where
    it was captured. ``captured_at`` marks the request as a field entry; its key is the
    request's Idempotency-Key."""

    captured_at = serializers.DateTimeField(
        required=False, help_text=_("when the phone captured it (ISO 8601 with offset)")
    )
    accuracy = serializers.FloatField(
        required=False, min_value=0, max_value=100_000, help_text=_("of the position, metres")
    )
    after_conflict = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("the version it was captured against, when applied to a newer one"),
    )


class ArriveInputSerializer(FieldCaptureInputSerializer):
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)


class ResolveInputSerializer(FieldCaptureInputSerializer):
    result = serializers.CharField(max_length=4000)
    handling_mode = serializers.ChoiceField(choices=HandlingMode.choices)
    lat = serializers.FloatField(required=False, **LAT)
    lng = serializers.FloatField(required=False, **LNG)
    second_officer = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text=_("username of the second officer (the enforcement mode: Art. 42)"),
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=12)
    photos_sha256 = serializers.ListField(
        child=serializers.RegexField(**SHA256), required=False, max_length=12
    )

    def validate(self, attrs):
        return _photos_match(attrs, "photos", "photos_sha256")


class ReassignInputSerializer(serializers.Serializer):
    team = serializers.IntegerField(min_value=1, help_text=_("team id"))
    officer = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text=_("username")
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class FieldDiscardInputSerializer(serializers.Serializer):
    key = serializers.RegexField(r"^[\x21-\x7e]{1,255}$", max_length=255)
    action = serializers.ChoiceField(choices=FieldAction.choices)
    case = serializers.CharField(required=False, allow_blank=True, max_length=30)
    captured_at = serializers.DateTimeField()
    based_on_version = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class VerifyInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class TransferInputSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=100)
    reason = serializers.CharField(max_length=2000)
    goods_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class SuspendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    approved_by = serializers.CharField(max_length=150, help_text=_("username of the approver"))


class RouteInputSerializer(serializers.Serializer):
    """Route by power; ``expect``: the ``kind`` of the route proposal shown, so that a
    confirmation is refused (400) when the power list changed since."""

    expect = serializers.ChoiceField(
        choices=RouteKind.choices,
        required=False,
        help_text=_("the kind of the proposal being confirmed"),
    )


class MergeInputSerializer(serializers.Serializer):
    into = serializers.CharField(
        max_length=Case._meta.get_field("number").max_length,
        help_text=_("number of the case the duplicate is merged into"),
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class WhistleInputSerializer(serializers.Serializer):
    power_items = serializers.ListField(
        child=serializers.CharField(max_length=30),
        min_length=1,
        max_length=20,
        help_text=_("codes of the power items whose departments are called"),
    )


class EvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class CallResultInputSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=4000)


class SupervisionRespondInputSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=4000)
