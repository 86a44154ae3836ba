from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from powers.models import AdjustmentRequest, ApprovalStep, CatalogueVersion, PowerItem


class PowerItemSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    score_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = PowerItem
        fields = [
            "code",
            "name",
            "category",
            "department",
            "legal_basis",
            "penalty_kinds",
            "fine_min",
            "fine_max",
            "discretion",
            "mode",
            "scope",
            "score_frequency",
            "score_integration",
            "score_demand",
            "score_detect",
            "score_handle",
            "score_total",
            "is_major",
            "status",
            "repealed_on",
            "repeal_reason",
        ]
        read_only_fields = fields


class CatalogueVersionSerializer(serializers.ModelSerializer):
    street = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CatalogueVersion
        fields = ["street", "number", "effective_on", "published_on", "notice_number"]
        read_only_fields = fields


class ApprovalStepSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ApprovalStep
        fields = ["order", "level", "status", "deadline", "decided_by", "decided_at", "comment"]
        read_only_fields = fields


class AdjustmentRequestSerializer(serializers.ModelSerializer):
    street = serializers.SlugRelatedField(slug_field="code", read_only=True)
    adds = serializers.SerializerMethodField()
    revokes = serializers.SerializerMethodField()
    steps = ApprovalStepSerializer(many=True, read_only=True)
    published_version = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )

    class Meta:
        model = AdjustmentRequest
        fields = [
            "id",
            "street",
            "title",
            "justification",
            "evidence",
            "effective_on",
            "status",
            "adds",
            "revokes",
            "steps",
            "requested_at",
            "published_version",
        ]
        read_only_fields = fields

    def get_adds(self, request) -> list[str]:
        return sorted(c.item.code for c in request.changes.all() if c.action == "add")

    def get_revokes(self, request) -> list[str]:
        return sorted(c.item.code for c in request.changes.all() if c.action == "revoke")


class AdjustmentCreateInputSerializer(serializers.Serializer):
    street = serializers.CharField()
    title = serializers.CharField(max_length=200)
    justification = serializers.CharField()
    adds = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    revokes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    effective_on = serializers.DateField()


class AdjustmentApproveInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    notice_number = serializers.CharField(required=False, allow_blank=True, default="")


class AdjustmentRejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField()


# --- answers that the views build themselves, documented for the OpenAPI schema ---


class CatalogueSerializer(serializers.Serializer):
    """A street's list in force on a day: its version (null before the first) and items."""

    street = serializers.CharField()
    on = serializers.DateField()
    version = CatalogueVersionSerializer(allow_null=True)
    items = PowerItemSerializer(many=True)


class UsageItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    department = serializers.CharField()


class ItemUsageSerializer(UsageItemSerializer):
    uses = serializers.IntegerField()
    last_used = serializers.DateField(allow_null=True)


class ZombieItemSerializer(UsageItemSerializer):
    last_used = serializers.DateField(allow_null=True)


class UnmetDemandSerializer(UsageItemSerializer):
    whistled = serializers.IntegerField()
    refused = serializers.IntegerField()
    total = serializers.IntegerField()


class CandidateSerializer(UsageItemSerializer):
    rank = serializers.IntegerField()
    score = serializers.IntegerField()
    unmet = serializers.IntegerField()


class UsageReportSerializer(serializers.Serializer):
    """powers.api.views.usage_report_data: uses of the items held, zombie items, unmet demand
    and the candidates for delegation."""

    street = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    version = serializers.IntegerField(allow_null=True)
    held = serializers.IntegerField()
    used = serializers.IntegerField()
    uses = ItemUsageSerializer(many=True)
    zombies = ZombieItemSerializer(many=True)
    unmet = UnmetDemandSerializer(many=True)
    candidates = CandidateSerializer(many=True)


class UsageQueryInputSerializer(serializers.Serializer):
    street = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    zombie_months = serializers.IntegerField(min_value=1, max_value=120, required=False, default=12)

    def validate(self, data):
        if data["start"] > data["end"]:
            raise serializers.ValidationError({"start": _("The period starts after it ends.")})
        return data
