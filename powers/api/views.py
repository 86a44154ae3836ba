from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_params_reject_unknown
from grids.choices import RegionLevel
from grids.models import Region
from powers.api.serializers import (
    AdjustmentApproveInputSerializer,
    AdjustmentCreateInputSerializer,
    AdjustmentRejectInputSerializer,
    AdjustmentRequestSerializer,
    CatalogueSerializer,
    CatalogueVersionSerializer,
    PowerItemSerializer,
    UsageQueryInputSerializer,
    UsageReportSerializer,
)
from powers.filtersets import PowerItemFilterSet
from powers.models import AdjustmentRequest, PowerItem
from powers.permissions import adjustment_streets
from powers.selectors import (
    catalogue_in_force,
    item_list,
    power_usage_report,
    street_powers,
    usage_street_get,
)
from powers.services import adjustment_approve, adjustment_reject, adjustment_submit


@contextmanager
def _service_errors():
    """A service's refusals as HTTP: ValidationError 400 with its fields, PermissionDenied 403
    with its reason (who may decide, and what the caller lacks)."""
    try:
        yield
    except DjangoValidationError as exc:
        raise ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        ) from None
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None


# The street named in the query or body is looked up like a path parameter: unknown is a 404.
STREET_NOT_FOUND = OpenApiResponse(description="No street with this code.")


def _street(code: str) -> Region:
    return get_object_or_404(Region, code=code, level=RegionLevel.STREET)


class ItemPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class PowerItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PowerItemSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PowerItemFilterSet
    pagination_class = ItemPagination
    lookup_field = "code"

    def get_queryset(self):
        return item_list(user=self.request.user).order_by("code")


class CatalogueView(APIView):
    """The street's list in force on ``on`` (default today): its version and its items."""

    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="default: today")],
        responses=CatalogueSerializer,
    )
    def get(self, request, street):
        query_params_reject_unknown(request, {"on"})
        region = _street(street)
        on = timezone.localdate()
        if "on" in request.query_params:
            try:
                on = timezone.datetime.strptime(request.query_params["on"], "%Y-%m-%d").date()
            except ValueError:
                raise ValidationError({"on": [_("A date as YYYY-MM-DD.")]}) from None
        version = catalogue_in_force(street=region, on=on)
        items = street_powers(street=region, on=on).order_by("code")
        return Response(
            {
                "street": region.code,
                "on": on,
                "version": CatalogueVersionSerializer(version).data if version else None,
                "items": PowerItemSerializer(items, many=True).data,
            }
        )


class AdjustmentPermission(BasePermission):
    """Reading needs a login (and shows the requests of the streets whose usage one reads);
    proposing needs the right to add requests, deciding the right to decide steps (migration
    0004). Which street one proposes for and which step one decides is asked by the services
    (powers.permissions: adjustment_propose_check, step_decide_check)."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if view.action == "create":
            return request.user.has_perm("powers.add_adjustmentrequest")
        if view.action in ("approve", "reject"):
            return request.user.has_perm("powers.decide_adjustment")
        return True


class AdjustmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = AdjustmentRequestSerializer
    permission_classes = [AdjustmentPermission]

    def get_queryset(self):
        return (
            AdjustmentRequest.objects.filter(street__in=adjustment_streets(self.request.user))
            .select_related("street", "published_version")
            .prefetch_related("steps__decided_by", "changes__item")
        )

    @extend_schema(
        request=AdjustmentCreateInputSerializer,
        responses={201: AdjustmentRequestSerializer, 404: STREET_NOT_FOUND},
    )
    def create(self, request):
        data = AdjustmentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        codes = set(values["adds"]) | set(values["revokes"])
        items = PowerItem.objects.in_bulk(codes, field_name="code")
        unknown = sorted(codes - set(items))
        if unknown:
            raise ValidationError(
                {"items": [_("Unknown item codes: %(codes)s.") % {"codes": ", ".join(unknown)}]}
            )
        with _service_errors():
            adjustment = adjustment_submit(
                street=_street(values["street"]),
                title=values["title"],
                justification=values["justification"],
                adds=[items[c] for c in values["adds"]],
                revokes=[items[c] for c in values["revokes"]],
                effective_on=values["effective_on"],
                actor=request.user,
            )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=adjustment.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=AdjustmentApproveInputSerializer, responses=AdjustmentRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = AdjustmentApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            adjustment_approve(request=self.get_object(), actor=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=AdjustmentRejectInputSerializer, responses=AdjustmentRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = AdjustmentRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            adjustment_reject(request=self.get_object(), actor=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)


def usage_report_data(report) -> dict:
    def item(i):
        return {
            "code": i.code,
            "name": i.name,
            "category": i.category.code,
            "department": i.department.code,
        }

    return {
        "street": report.street.code,
        "start": report.start,
        "end": report.end,
        "version": report.version.number if report.version else None,
        "held": report.held,
        "used": report.used,
        "uses": [{**item(u.item), "uses": u.uses, "last_used": u.last_used} for u in report.uses],
        "zombies": [{**item(u.item), "last_used": u.last_used} for u in report.zombies],
        "unmet": [
            {**item(d.item), "whistled": d.whistled, "refused": d.refused, "total": d.total}
            for d in report.unmet
        ],
        "candidates": [
            {**item(c.item), "rank": n, "score": c.score, "unmet": c.unmet}
            for n, c in enumerate(report.candidates, start=1)
        ],
    }


# A street whose usage the caller may not read is answered as one that does not exist.
USAGE_STREET_NOT_FOUND = OpenApiResponse(
    description="No street with this code whose power usage the caller may read."
)


class UsageReportView(APIView):
    """The usage report of a street: its command centre, street leader, officers and grid
    workers read their own street, holders of a district every street of it; any other street
    is a 404, as an unknown one (the same rule as the report page and its export)."""

    @extend_schema(
        parameters=[UsageQueryInputSerializer],
        responses={200: UsageReportSerializer, 404: USAGE_STREET_NOT_FOUND},
    )
    def get(self, request):
        query_params_reject_unknown(request, UsageQueryInputSerializer().fields)
        query = UsageQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        report = power_usage_report(
            street=usage_street_get(user=request.user, code=values["street"]),
            start=values["start"],
            end=values["end"],
            zombie_months=values["zombie_months"],
        )
        return Response(usage_report_data(report))
