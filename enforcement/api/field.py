"""The field phones' outbox: recording an entry its author discarded (enforcement.field)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from enforcement import field
from enforcement.api import serializers as s
from enforcement.api.views import IDEMPOTENCY_KEY, WorkflowAPIMixin
from enforcement.permissions import action_allowed
from enforcement.selectors import case_get


class FieldDiscardView(WorkflowAPIMixin, APIView):
    """``POST /api/v1/field-entries/discard/``: an entry of my outbox that I discard (after a
    conflict or a refusal) is recorded once, in the case's history when it was about a case.
    An entry the platform applied cannot be discarded (400)."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=s.FieldDiscardInputSerializer,
        responses={
            201: inline_serializer(
                "FieldDiscarded",
                {"key": serializers.CharField(), "recorded_at": serializers.DateTimeField()},
            )
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request):
        if not action_allowed(request.user, "resolve"):
            raise PermissionDenied(_("Your role may not do this."))
        data = self.input(s.FieldDiscardInputSerializer)
        case = None
        if data.get("case"):
            try:
                case = case_get(user=request.user, number=data["case"])
            except Http404:
                # Reassigned away from its author: the discard still goes into its history.
                case = field.field_former_case(request.user, data["case"])
                if case is None:
                    raise
        entry = field.field_discard(
            actor=request.user,
            key=data["key"],
            action=data["action"],
            captured_at=data["captured_at"],
            case=case,
            based_on_version=data.get("based_on_version"),
            reason=data.get("reason", ""),
        )
        return Response(
            {"key": entry.key, "recorded_at": entry.received_at}, status=status.HTTP_201_CREATED
        )
