from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids.choices import Crs, GridLevel
from grids.models import GridCell, Subject
from grids.selectors import phone_mask


class GridCellPropertiesSerializer(serializers.Serializer):
    """The ``properties`` of a cell's Feature (documents what to_representation below writes)."""

    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=GridLevel.choices)
    community = serializers.CharField()
    community_name = serializers.CharField()
    street = serializers.CharField()
    area = serializers.CharField(allow_blank=True)
    parent = serializers.CharField(allow_null=True, help_text=_("first-level cell code"))


class GridCellFeatureSerializer(serializers.ModelSerializer):
    """A cell as a GeoJSON Feature. The declared fields document the Feature in the OpenAPI
    schema; to_representation writes it in one pass."""

    type = serializers.ChoiceField(choices=["Feature"], read_only=True)
    id = serializers.CharField(source="code", read_only=True)
    geometry = serializers.JSONField(
        read_only=True, help_text=_("GeoJSON Polygon or MultiPolygon, WGS-84")
    )
    properties = GridCellPropertiesSerializer(source="*", read_only=True)

    class Meta:
        model = GridCell
        fields = ["type", "id", "geometry", "properties"]

    def to_representation(self, cell: GridCell) -> dict:
        return {
            "type": "Feature",
            "id": cell.code,
            "geometry": cell.geometry,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "level": cell.level,
                "community": cell.community.code,
                "community_name": cell.community.name,
                "street": cell.community.parent.code,
                "area": cell.area,
                "parent": cell.parent.code if cell.parent_id else None,
            },
        }


class GridCellFeatureCollectionSerializer(serializers.Serializer):
    """The answer of the cells' GeoJSON view (OpenAPI only)."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = GridCellFeatureSerializer(many=True)


class LocatedCellSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    area = serializers.CharField(allow_blank=True)


class LocateResultSerializer(serializers.Serializer):
    """The answer of locate (OpenAPI only): ``cell`` holds the point, or is null; then
    ``nearest`` is the closest cell and ``distance_m`` how far outside it the point lies."""

    cell = LocatedCellSerializer(allow_null=True)
    nearest = LocatedCellSerializer(allow_null=True)
    distance_m = serializers.FloatField(allow_null=True)


class LocateInputSerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    crs = serializers.ChoiceField(choices=Crs.choices, default=Crs.WGS84)


class SubjectSerializer(serializers.ModelSerializer):
    cell = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    risk_level_display = serializers.CharField(source="get_risk_level_display", read_only=True)
    contact_phone = serializers.SerializerMethodField(
        help_text=_("Masked (138****5678) unless the caller may see it whole.")
    )

    class Meta:
        model = Subject
        fields = [
            "id",
            "kind",
            "kind_display",
            "name",
            "credit_code",
            "address",
            "lat",
            "lng",
            "cell",
            "risk_level",
            "risk_level_display",
            "contact_name",
            "contact_phone",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields

    def get_contact_phone(self, subject: Subject) -> str:
        if not subject.contact_phone:
            return ""
        if self.context.get("phone_visible"):
            return subject.contact_phone
        return phone_mask(subject.contact_phone)
