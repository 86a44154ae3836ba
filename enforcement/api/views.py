"""The case API: viewsets for reading, one POST per transition, each calling one workflow
function. Visibility (404 for a case you may not see) comes from the selectors, the right to
act from enforcement.permissions; both are applied here once, in the base class, so that no
endpoint can forget them."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api import (
    Conflict,
    PayloadTooLarge,
    PreconditionFailed,
    etag_for,
    if_match_version,
)
from core.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER, IdempotentPostMixin
from enforcement import field, workflow
from enforcement.api import serializers as s
from enforcement.choices import FieldOutcome
from enforcement.evidence import evidence_attach
from enforcement.filtersets import CallFilterSet, CaseFilterSet, SupervisionFilterSet
from enforcement.models import FieldEntry, Officer, Team
from enforcement.permissions import (
    action_check,
    call_answer_allowed,
    intake_source,
    supervision_respond_allowed,
)
from enforcement.selectors import call_list, case_get, case_list, supervision_list
from enforcement.services import case_intake, case_reporter_phone_reveal
from enforcement.supervisions import SupervisionClosed, supervision_answer
from powers.models import PowerItem

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the case (or call) as last read; 412 when stale, 428 when missing.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string; a retry with the same key and body returns the first "
    "response and changes nothing (kept 24 hours); the same key with another body is a 422.",
)


def _case_schema(serializer_class):
    return extend_schema(
        request=serializer_class,
        responses=s.CaseDetailSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )


def _call_schema(serializer_class):
    return extend_schema(
        request=serializer_class, responses=s.CallSerializer, parameters=[IF_MATCH, IDEMPOTENCY_KEY]
    )


class CasePagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-created_at", "-id")


class EventPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("sequence",)


class CallPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-called_at", "-id")


class SupervisionPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-opened_at", "-id")


def _photos(data, name: str) -> list[field.Photo]:
    hashes = data.get(f"{name}_sha256") or []
    return [
        field.Photo(upload=upload, sha256=hashes[index] if index < len(hashes) else None)
        for index, upload in enumerate(data.get(name) or [])
    ]


class WorkflowAPIMixin(IdempotentPostMixin):
    """Maps the workflow's refusals to HTTP: a transition not allowed from the case's status
    is 409, a lost compare-and-set (stale If-Match) 412, bad input 400, an oversize file 413."""

    def handle_exception(self, exc):
        if isinstance(exc, workflow.TransitionNotAllowed):
            exc = Conflict(str(exc))
        elif isinstance(exc, workflow.CaseConflict):
            exc = PreconditionFailed(str(exc))
        elif isinstance(exc, workflow.TooLarge):
            exc = PayloadTooLarge(str(exc))
        elif isinstance(exc, workflow.InvalidInput):
            exc = ValidationError({"detail": [str(exc)]})
        elif isinstance(exc, DjangoValidationError):
            exc = ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            )
        elif isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(str(exc))
        return super().handle_exception(exc)

    def action_require(self, name: str, case) -> None:
        """403 unless the caller may take ``name`` on ``case`` (enforcement.permissions; its
        PermissionDenied becomes the 403 in ``handle_exception``)."""
        action_check(self.request.user, name, case)

    def input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _case_by_number(user, number: str, field: str):
    """The case ``number`` if ``user`` may see it; else a 400 on ``field`` that says the same
    of a case out of sight as of one that does not exist."""
    try:
        return case_get(user=user, number=number)
    except Http404:
        raise ValidationError({field: [_("No such case.")]}) from None


def _user_by_username(username: str, field: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("No such user.")]})
    return user


class CaseViewSet(
    WorkflowAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cases (案件). ``POST /cases/`` files a new case (intake); every other change is a POST to
    the case's transition, with ``If-Match`` set to the ETag of the case."""

    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    # The reporter's whole phone number is never kept in a stored response (PIPL): a reveal is
    # an audited read, asked again rather than replayed.
    idempotency_exempt_actions = frozenset({"reveal_phone"})
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilterSet
    pagination_class = CasePagination
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return case_list(user=self.request.user)

    def get_serializer_class(self):
        return s.CaseDetailSerializer if self.action != "list" else s.CaseSerializer

    def get_object(self):
        case = case_get(user=self.request.user, number=self.kwargs["number"])
        self.check_object_permissions(self.request, case)
        return case

    def _case_response(self, case, *, status_code=status.HTTP_200_OK, headers=None):
        case = case_get(user=self.request.user, number=case.number) if headers is None else case
        body = s.CaseDetailSerializer(case, context=self.get_serializer_context()).data
        response = Response(body, status=status_code, headers=headers or {})
        response["ETag"] = etag_for(case.version)
        return response

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        response = self._case_response(case, headers={})
        if request.headers.get("If-None-Match") == response["ETag"]:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response

    @extend_schema(
        request=s.CaseIntakeInputSerializer,
        responses={201: s.CaseCreatedSerializer, 200: s.CaseCreatedSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request, *args, **kwargs):
        """Intake (受理登记). An outside system's work order sent twice (same source and
        ``external_id``) returns the first case with 200."""
        user = request.user
        data = self.input(s.CaseIntakeInputSerializer)
        source = intake_source(user, data.get("source"), external_id=data.get("external_id", ""))
        capture = self._capture(data)
        if capture is not None or data.get("photos"):
            return self._field_replay() or self._field_report(data, source, capture)
        intake = case_intake(
            source=source,
            matter_type=data["matter_type"],
            description=data["description"],
            lat=data["lat"],
            lng=data["lng"],
            external_id=data.get("external_id", ""),
            street=data.get("street"),
            address=data.get("address", ""),
            severity=data.get("severity"),
            reporter_name=data.get("reporter_name", ""),
            reporter_phone=data.get("reporter_phone", ""),
            actor=user,
        )
        case = intake.case
        self._work_order_check(case, created=intake.created)
        # Where the case stands, not the whole case (a GET away at Location): an intake is the
        # API's busiest write.
        body = s.CaseCreatedSerializer(case, context=self.get_serializer_context()).data
        response = Response(
            body,
            status=status.HTTP_201_CREATED if intake.created else status.HTTP_200_OK,
            headers={"Location": f"/api/v1/cases/{case.number}/"},
        )
        response["ETag"] = etag_for(case.version)
        return response

    def _work_order_check(self, case, *, created: bool) -> None:
        """A work order filed before by someone else: say so, show nothing of it (409)."""
        if not created and not case_list(user=self.request.user).filter(pk=case.pk).exists():
            raise Conflict(_("A case with this source and external id exists already."))

    def _entry_key(self) -> str:
        """A field entry's key: the request's Idempotency-Key, a new UUID without one."""
        return self.request.headers.get(IDEMPOTENCY_HEADER) or f"auto-{uuid.uuid4()}"

    def _field_report(self, data, source, capture):
        """A report from a field phone (or any intake with photos), with its photos and, for a
        problem handled in the grid, the result (enforcement.field.field_report)."""
        capture = capture or field.Capture(
            key=self._entry_key(),
            captured_at=timezone.now(),
            lat=data["lat"],
            lng=data["lng"],
        )
        self_handling = None
        if data.get("self_handle"):
            self_handling = field.SelfHandling(
                result=data["result"],
                handling_mode=data["handling_mode"],
                photos=_photos(data, "after_photos"),
            )
        report = field.field_report(
            actor=self.request.user,
            matter_type=data["matter_type"],
            description=data["description"],
            capture=capture,
            photos=_photos(data, "photos"),
            address=data.get("address", ""),
            source=source,
            self_handling=self_handling,
            external_id=data.get("external_id", ""),
            street=data.get("street"),
            severity=data.get("severity"),
            reporter_name=data.get("reporter_name", ""),
            reporter_phone=data.get("reporter_phone", ""),
        )
        case = report.case
        self._work_order_check(case, created=report.created)
        body = s.CaseCreatedSerializer(case, context=self.get_serializer_context()).data
        body["self_handle_refused"] = report.self_handle_refused
        response = Response(
            body,
            status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK,
            headers={"Location": f"/api/v1/cases/{case.number}/"},
        )
        response["ETag"] = etag_for(case.version)
        return response

    @extend_schema(responses=s.CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=EventPagination, filter_backends=[])
    def events(self, request, number=None):
        """The case's hash-chained history, oldest first."""
        case = self.get_object()
        page = self.paginate_queryset(case.events.select_related("actor").order_by("sequence"))
        return self.get_paginated_response(s.CaseEventSerializer(page, many=True).data)

    @extend_schema(request=None, responses=s.PhoneSerializer, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"], url_path="reveal-phone", filter_backends=[])
    def reveal_phone(self, request, number=None):
        """The reporter's phone number whole, for holders of the right; recorded in the history."""
        case = self.get_object()
        phone = case_reporter_phone_reveal(case=case, user=request.user)
        return Response({"reporter_phone": phone})

    @extend_schema(
        request={"multipart/form-data": s.EvidenceInputSerializer},
        responses={201: s.EvidenceSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def evidence(self, request, number=None):
        """Attach a photo, video or PDF (typed by its content; size limited: 413)."""
        case = self.get_object()
        self.action_require("resolve", case)
        upload = self.input(s.EvidenceInputSerializer)["file"]
        evidence = evidence_attach(case=case, actor=request.user, upload=upload)
        return Response(s.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    # --- transitions ---

    def _transition(self, name: str, serializer_class, run):
        """The common shape of a transition endpoint: find the case (404), check the role
        (403), parse the input (400), require If-Match (428), run the workflow function with
        the expected version (409 / 412), answer the case with its new ETag."""
        case = self.get_object()
        self.action_require(name, case)
        data = self.input(serializer_class)
        expected = if_match_version(self.request)
        if expected != case.version:
            raise PreconditionFailed(
                _("The case is at version %(version)d; reload it and try again.")
                % {"version": case.version}
            )
        with transaction.atomic():
            case = run(case, data, expected)
        return self._case_response(case)

    @_case_schema(s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def accept(self, request, number=None):
        return self._transition(
            "accept",
            s.EmptyInputSerializer,
            lambda case, data, v: workflow.case_accept(
                case=case, actor=request.user, expected_version=v
            ),
        )

    @_case_schema(s.RejectInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request, number=None):
        return self._transition(
            "reject",
            s.RejectInputSerializer,
            lambda case, data, v: workflow.case_reject(
                case=case, actor=request.user, reason=data["reason"], expected_version=v
            ),
        )

    @_case_schema(s.DispatchInputSerializer)
    # Not named dispatch: that is the method every Django view is entered by.
    @action(
        detail=True, methods=["post"], url_path="dispatch", url_name="dispatch", filter_backends=[]
    )
    def dispatch_(self, request, number=None):
        def run(case, data, version):
            team = officer = None
            if data.get("team") is not None:
                team = Team.objects.filter(pk=data["team"]).first()
                if team is None:
                    raise ValidationError({"team": [_("No such team.")]})
            if data.get("officer"):
                officer = Officer.objects.filter(user__username=data["officer"]).first()
                if officer is None:
                    raise ValidationError({"officer": [_("No such officer.")]})
            return workflow.case_dispatch(
                case=case,
                actor=request.user,
                target=data["target"],
                team=team,
                officer=officer,
                expected_version=version,
            )

        return self._transition("dispatch", s.DispatchInputSerializer, run)

    def _field_replay(self):
        """An entry of a field phone that the platform applied already (enforcement.field's
        receipt, kept beyond the idempotency records' 24 hours): the case as it is now, marked
        replayed, the work not done again."""
        key = self.request.headers.get(IDEMPOTENCY_HEADER)
        if not key or not self.request.user.is_authenticated:
            return None
        entry = (
            FieldEntry.objects.filter(user=self.request.user, key=key)
            .exclude(outcome=FieldOutcome.DISCARDED)
            .select_related("case")
            .first()
        )
        if entry is None or entry.case is None:
            return None
        response = self._case_response(entry.case)
        response[REPLAYED_HEADER] = "true"
        return response

    def _field_transition(self, name: str, serializer_class, run):
        """A field step: as ``_transition``, but a case the caller had in hand and no longer
        sees (reassigned to another team) is a conflict (409), not a 404: their phone keeps the
        entry for them to discard."""
        try:
            return self._transition(name, serializer_class, run)
        except Http404:
            if field.field_former_case(self.request.user, self.kwargs["number"]) is None:
                raise
            raise Conflict(
                _("This case was given to someone else and is no longer yours: not applied.")
            ) from None

    def _capture(self, data) -> field.Capture | None:
        """The capture of a field entry (``captured_at`` sent), keyed by the Idempotency-Key
        (a new UUID without one)."""
        if not data.get("captured_at"):
            return None
        return field.Capture(
            key=self._entry_key(),
            captured_at=data["captured_at"],
            lat=data.get("lat"),
            lng=data.get("lng"),
            accuracy=data.get("accuracy"),
            after_conflict=data.get("after_conflict"),
        )

    @_case_schema(s.ArriveInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def arrive(self, request, number=None):
        """On scene (到场). From a phone, with ``captured_at`` (and ``accuracy``): the capture
        and the distance from the case are recorded; farther than the warning distance is
        marked for the command centre, not refused."""

        def run(case, data, version):
            capture = self._capture(data)
            if capture is not None:
                return field.field_arrive(
                    case=case, actor=request.user, capture=capture, expected_version=version
                )
            return workflow.case_arrive(
                case=case,
                actor=request.user,
                lat=data["lat"],
                lng=data["lng"],
                accuracy=data.get("accuracy"),
                expected_version=version,
            )

        return self._field_replay() or self._field_transition(
            "arrive", s.ArriveInputSerializer, run
        )

    @_case_schema(s.ResolveInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def resolve(self, request, number=None):
        """The result (处置结果), in multipart with its photos (each with the SHA-256 taken at
        capture: a photo that arrives otherwise is refused). The enforcement mode names the
        second officer (Art. 42)."""

        def run(case, data, version):
            return field.field_resolve(
                case=case,
                actor=request.user,
                result=data["result"],
                handling_mode=data["handling_mode"],
                photos=_photos(data, "photos"),
                capture=self._capture(data),
                second_officer=data.get("second_officer", ""),
                expected_version=version,
            )

        return self._field_replay() or self._field_transition(
            "resolve", s.ResolveInputSerializer, run
        )

    @_case_schema(s.ReassignInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reassign(self, request, number=None):
        """Give a case in hand to another team or officer (改派); the status stays."""

        def run(case, data, version):
            team = Team.objects.filter(pk=data["team"]).first()
            if team is None:
                raise ValidationError({"team": [_("No such team.")]})
            officer = None
            if data.get("officer"):
                officer = Officer.objects.filter(user__username=data["officer"]).first()
                if officer is None:
                    raise ValidationError({"officer": [_("No such officer.")]})
            return workflow.case_reassign(
                case=case,
                actor=request.user,
                team=team,
                officer=officer,
                reason=data.get("reason", ""),
                expected_version=version,
            )

        return self._transition("dispatch", s.ReassignInputSerializer, run)

    @_case_schema(s.VerifyInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def verify(self, request, number=None):
        return self._transition(
            "verify",
            s.VerifyInputSerializer,
            lambda case, data, v: workflow.case_verify(
                case=case, actor=request.user, note=data.get("note", ""), expected_version=v
            ),
        )

    @_case_schema(s.ReasonInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reopen(self, request, number=None):
        return self._transition(
            "reopen",
            s.ReasonInputSerializer,
            lambda case, data, v: workflow.case_reopen(
                case=case, actor=request.user, reason=data["reason"], expected_version=v
            ),
        )

    @_case_schema(s.TransferInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def transfer(self, request, number=None):
        return self._transition(
            "transfer",
            s.TransferInputSerializer,
            lambda case, data, v: workflow.case_transfer(
                case=case,
                actor=request.user,
                to=data["to"],
                reason=data["reason"],
                goods_value=data.get("goods_value"),
                expected_version=v,
            ),
        )

    @_case_schema(s.SuspendInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def suspend(self, request, number=None):
        return self._transition(
            "suspend",
            s.SuspendInputSerializer,
            lambda case, data, v: workflow.case_suspend(
                case=case,
                actor=request.user,
                reason=data["reason"],
                approved_by=_user_by_username(data["approved_by"], "approved_by"),
                expected_version=v,
            ),
        )

    @_case_schema(s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def resume(self, request, number=None):
        return self._transition(
            "resume",
            s.EmptyInputSerializer,
            lambda case, data, v: workflow.case_resume(
                case=case, actor=request.user, expected_version=v
            ),
        )

    @_case_schema(s.WhistleInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def whistle(self, request, number=None):
        def run(case, data, version):
            codes = list(dict.fromkeys(data["power_items"]))
            items = list(PowerItem.objects.filter(code__in=codes).select_related("department"))
            missing = sorted(set(codes) - {item.code for item in items})
            if missing:
                raise ValidationError(
                    {
                        "power_items": [
                            _("Unknown power items: %(codes)s.") % {"codes": ", ".join(missing)}
                        ]
                    }
                )
            return workflow.case_whistle(
                case=case, actor=request.user, items=items, expected_version=version
            )

        return self._transition("whistle", s.WhistleInputSerializer, run)

    # --- routing by power and merging ---

    @extend_schema(responses=s.RouteProposalSerializer)
    @action(detail=True, methods=["get"], url_path="route-proposal", filter_backends=[])
    def route_proposal(self, request, number=None):
        """What routing the case by power would do today, and why: for the command centre to
        look at before it confirms with ``route`` (``expect`` set to the proposal's ``kind``).
        The ETag is the case's, for the ``If-Match`` of that confirmation."""
        case = self.get_object()
        self.action_require("dispatch", case)
        proposal = workflow.case_route_propose(case=case)
        response = Response(s.RouteProposalSerializer(proposal).data)
        response["ETag"] = etag_for(case.version)
        return response

    @_case_schema(s.RouteInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def route(self, request, number=None):
        """Route by power: dispatch to the street's team when the street holds one of the
        matter type's power items, else whistle the owning departments. The right to dispatch
        is asked."""
        return self._transition(
            "dispatch",
            s.RouteInputSerializer,
            lambda case, data, v: workflow.case_route(
                case=case,
                actor=request.user,
                expected_version=v,
                proposal_kind=data.get("expect"),
            ),
        )

    @_case_schema(s.MergeInputSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request, number=None):
        """Merge this duplicate report into the case ``into`` (one the caller sees, of the same
        street, still open); this case ends as merged."""

        def run(case, data, version):
            return workflow.case_merge(
                case=case,
                into=_case_by_number(request.user, data["into"], "into"),
                actor=request.user,
                reason=data.get("reason", ""),
                expected_version=version,
            )

        return self._transition("merge", s.MergeInputSerializer, run)


class CallViewSet(WorkflowAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Department calls (吹哨): a department's inbox. A department answers only its own calls,
    each answer with ``If-Match`` set to the call's ETag."""

    serializer_class = s.CallSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CallFilterSet
    pagination_class = CallPagination

    def get_queryset(self):
        return call_list(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        call = self.get_object()
        response = Response(self.get_serializer(call).data)
        response["ETag"] = etag_for(call.version)
        return response

    def _answer(self, serializer_class, run):
        call = self.get_object()
        if not call_answer_allowed(self.request.user, call):
            raise PermissionDenied(_("Only the called department answers its call."))
        data = self.input(serializer_class)
        expected = if_match_version(self.request)
        if expected != call.version:
            raise PreconditionFailed(
                _("The call is at version %(version)d; reload it and try again.")
                % {"version": call.version}
            )
        with transaction.atomic():
            call = run(call, data, expected)
        call = self.get_queryset().get(pk=call.pk)
        response = Response(s.CallSerializer(call).data)
        response["ETag"] = etag_for(call.version)
        return response

    @_call_schema(s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], url_path="report-in", filter_backends=[])
    def report_in(self, request, pk=None):
        return self._answer(
            s.EmptyInputSerializer,
            lambda call, data, v: workflow.call_report_in(
                call=call, actor=request.user, expected_version=v
            ),
        )

    @_call_schema(s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], url_path="accept", filter_backends=[])
    def accept(self, request, pk=None):
        return self._answer(
            s.EmptyInputSerializer,
            lambda call, data, v: workflow.call_accept(
                call=call, actor=request.user, expected_version=v
            ),
        )

    @_call_schema(s.CallResultInputSerializer)
    @action(detail=True, methods=["post"], url_path="complete", filter_backends=[])
    def complete(self, request, pk=None):
        return self._answer(
            s.CallResultInputSerializer,
            lambda call, data, v: workflow.call_complete(
                call=call, actor=request.user, result=data["result"], expected_version=v
            ),
        )

    @_call_schema(s.ReasonInputSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return", filter_backends=[])
    def return_(self, request, pk=None):
        return self._answer(
            s.ReasonInputSerializer,
            lambda call, data, v: workflow.call_return(
                call=call, actor=request.user, reason=data["reason"], expected_version=v
            ),
        )


class SupervisionViewSet(WorkflowAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Supervisions (督办单) of the cases you may see; the addressee answers with ``respond``."""

    serializer_class = s.SupervisionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SupervisionFilterSet
    pagination_class = SupervisionPagination

    def get_queryset(self):
        return supervision_list(user=self.request.user)

    @extend_schema(
        request=s.SupervisionRespondInputSerializer,
        responses={
            200: s.SupervisionSerializer,
            409: OpenApiResponse(description="The supervision is no longer open."),
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def respond(self, request, pk=None):
        supervision = self.get_object()
        if not supervision_respond_allowed(request.user, supervision):
            raise PermissionDenied(_("This supervision is addressed to someone else."))
        data = self.input(s.SupervisionRespondInputSerializer)
        try:
            supervision = supervision_answer(
                supervision=supervision, actor=request.user, response=data["response"]
            )
        except SupervisionClosed as exc:
            raise Conflict(str(exc)) from None
        except ValueError as exc:
            raise ValidationError({"response": [str(exc)]}) from None
        return Response(s.SupervisionSerializer(self.get_queryset().get(pk=supervision.pk)).data)
