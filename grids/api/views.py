from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_params_reject_unknown
from grids.api.serializers import (
    GridCellFeatureCollectionSerializer,
    GridCellFeatureSerializer,
    LocateInputSerializer,
    LocateResultSerializer,
    SubjectSerializer,
)
from grids.choices import GridLevel
from grids.filtersets import GridCellFilterSet, SubjectFilterSet
from grids.locate import cell_locate
from grids.models import GridCell
from grids.selectors import cell_list, subject_contact_phone_visible, subject_list


class GridCellGeoJSONView(generics.GenericAPIView):
    """All cells matching the filters as one GeoJSON FeatureCollection (WGS-84): a street has a
    few hundred cells at most, which the dashboard map draws at once."""

    serializer_class = GridCellFeatureSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = GridCellFilterSet

    def get_queryset(self):
        return cell_list(user=self.request.user)

    # Not a list view to drf-spectacular (one document, not an array): the filters are named here.
    @extend_schema(
        responses=GridCellFeatureCollectionSerializer,
        parameters=[
            OpenApiParameter("street", str, description="street code"),
            OpenApiParameter("community", str, description="community code"),
            OpenApiParameter("level", str, enum=GridLevel.values),
            OpenApiParameter("area", str),
        ],
    )
    def get(self, request):
        cells = self.filter_queryset(self.get_queryset())
        features = self.get_serializer(cells, many=True).data
        return Response({"type": "FeatureCollection", "features": features})


class LocateView(APIView):
    """The comprehensive cell holding a point; outside every cell, the nearest and how far."""

    @extend_schema(parameters=[LocateInputSerializer], responses=LocateResultSerializer)
    def get(self, request):
        query_params_reject_unknown(request, LocateInputSerializer().fields)
        params = LocateInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = cell_locate(**params.validated_data)
        found = result.cell or result.nearest
        cell = GridCell.objects.filter(pk=found.id).first() if found else None
        summary = {"code": cell.code, "name": cell.name, "area": cell.area} if cell else None
        return Response(
            {
                "cell": summary if result.cell else None,
                "nearest": summary if result.cell is None else None,
                "distance_m": result.distance_m,
            }
        )


class SubjectPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class SubjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SubjectSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubjectFilterSet
    pagination_class = SubjectPagination

    def get_queryset(self):
        return subject_list(user=self.request.user).order_by("name", "pk")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["phone_visible"] = subject_contact_phone_visible(user=self.request.user)
        return context
