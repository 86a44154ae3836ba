"""A department's own webhooks: its system registers the URLs it is told at (the signing
secret is shown once, in the answer to the registration), lists them and removes them, lists
the deliveries made to them with every try, and asks for a delivery again.

A department's liaison or the account of its API key sees only its own departments' endpoints
and deliveries (enforcement.permissions.scope_of); a superuser sees all; anyone else sees none.
What another department has is a 404, not a 403. The rules are in enforcement.webhooks."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from core.filtersets import StrictFilterSet
from enforcement.choices import WebhookDeliveryState, WebhookEvent
from enforcement.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from enforcement.permissions import scope_of
from enforcement.webhooks import (
    WebhookError,
    webhook_delivery_list,
    webhook_endpoint_create,
    webhook_endpoint_list,
    webhook_endpoint_remove,
    webhook_events_check,
    webhook_redeliver,
    webhook_url_check,
)
from powers.models import Department

# --- serializers ----------------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as listed: never its secret."""

    department = serializers.CharField(source="department.code", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "department", "url", "events", "active", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a registration: the endpoint with its secret, this once (the text
    webhook_endpoint_create left on the object; only its encryption is stored)."""

    secret = serializers.CharField(source="secret_once", read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateInputSerializer(serializers.Serializer):
    department = serializers.CharField(
        required=False,
        help_text=gettext_lazy("Department code; may be left out by an account of one department."),
    )
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, allow_empty=True
    )
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=gettext_lazy("Left out or blank: generated, and shown once in the answer."),
    )

    def validate_url(self, value: str) -> str:
        try:
            webhook_url_check(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["url"]) from exc
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        try:
            return webhook_events_check(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["events"]) from exc

    def validate_department(self, value: str) -> Department:
        """Only a department the caller manages; another one reads as unknown."""
        department = Department.objects.filter(code=value).first()
        scope = scope_of(self.context["request"].user)
        if department is None or not (scope.everything or department.pk in scope.departments):
            raise serializers.ValidationError(_("No department of yours has this code."))
        return department

    def validate(self, data):
        if "department" not in data:
            departments = scope_of(self.context["request"].user).departments
            if len(departments) != 1:
                raise serializers.ValidationError(
                    {"department": [_("Name the department (its code).")]}
                )
            data["department"] = Department.objects.get(pk=next(iter(departments)))
        return data


class WebhookAttemptSerializer(serializers.ModelSerializer):
    """One try: when, how long, the HTTP status and the class of the failure (``HTTP 500``,
    ``timeout``, ``could not connect``), never what the receiver answered (that is the
    attempt's ``detail``, for administrators only: its body could be anything the URL reached)."""

    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.PrimaryKeyRelatedField(read_only=True)
    url = serializers.CharField(source="endpoint.url", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "uuid",
            "endpoint",
            "url",
            "event",
            "state",
            "attempts",
            "next_attempt_at",
            "give_up_at",
            "delivered_at",
            "created_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields


# --- filters and pages ----------------------------------------------------------------------------


class WebhookDeliveryFilterSet(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=WebhookDeliveryState.choices)
    event = django_filters.ChoiceFilter(choices=WebhookEvent.choices)
    endpoint = django_filters.NumberFilter(field_name="endpoint_id")

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event", "endpoint"]


class WebhookPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-id",)


# --- views ----------------------------------------------------------------------------------------


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The endpoints of the caller's departments. Removing one that has deliveries keeps it,
    deactivated, as their record."""

    serializer_class = WebhookEndpointSerializer
    pagination_class = WebhookPagination

    def get_queryset(self):
        return webhook_endpoint_list(user=self.request.user)

    @extend_schema(
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = WebhookEndpointCreateInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        try:
            endpoint = webhook_endpoint_create(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, instance):
        webhook_endpoint_remove(endpoint=instance)


class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """What was sent to the caller's endpoints, newest first, each with its tries; ``redeliver``
    sends a delivered or failed one again, with the same ``X-Shaoxiang-Delivery``."""

    serializer_class = WebhookDeliverySerializer
    pagination_class = WebhookPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = WebhookDeliveryFilterSet

    def get_queryset(self):
        return webhook_delivery_list(user=self.request.user).prefetch_related("attempt_log")

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def redeliver(self, request, pk=None):
        delivery = self.get_object()
        try:
            delivery = webhook_redeliver(delivery=delivery, actor=request.user)
        except WebhookError as exc:
            raise ValidationError({"detail": [str(exc)]}) from exc
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data)
