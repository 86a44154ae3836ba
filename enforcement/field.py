"""The field's phones (执法队员 and 网格员): what their pages read, and the entries of their outbox
as the platform applies them.

A phone records an action where it happens, often without a network, and sends it later. Each
entry carries the phone's UUID (``Idempotency-Key``), the case version it was captured against
(``If-Match``), the time and position of capture, and its photos. Applying one here:

- runs the workflow function of its step (arrive, resolve, intake, self-handling) with the
  expected version, so that an entry captured before the office changed the case is refused as
  a conflict (412) and never applied over the change;
- records the capture (time, position, accuracy) in the case event beside its own time, the
  time of receipt;
- checks each photo's SHA-256 against the one computed on the phone at capture, so that a body
  lost or cut on the way is refused, not stored;
- writes a FieldEntry, unique per (author, key): an entry the platform has is answered with the
  case again and counted once, however late its retry comes.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import Role
from core.selectors import role_names
from enforcement import workflow
from enforcement.choices import (
    CaseSource,
    CaseStatus,
    EventKind,
    FieldAction,
    FieldOutcome,
    HandlingMode,
)
from enforcement.events import case_event_record
from enforcement.evidence import evidence_attach
from enforcement.models import Case, FieldEntry, MatterType, Officer
from enforcement.permissions import scope_of
from enforcement.selectors import case_list, cases_with_clock
from enforcement.services import case_intake
from enforcement.workflow import InvalidInput

TASK_STATUSES = (CaseStatus.DISPATCHED, CaseStatus.ON_SCENE)
TASKS_SHOWN = 200
REPORTS_SHOWN = 100
EARTH_RADIUS_M = 6_371_008.8


# --- capture ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    """Where and when the phone recorded an entry, and the entry's key. ``after_conflict``: the
    version the entry was captured against, when its author applies it to a newer one."""

    key: str
    captured_at: datetime
    lat: float | None = None
    lng: float | None = None
    accuracy: float | None = None
    after_conflict: int | None = None

    def details(self, received_at: datetime) -> dict:
        """What the case event records of the capture (the event's own time is the receipt)."""
        data = {
            "field_entry": self.key,
            "captured_at": self.captured_at.isoformat(timespec="seconds"),
        }
        if self.accuracy is not None:
            data["accuracy"] = self.accuracy
        if self.captured_at > received_at + settings.FIELD_CLOCK_SKEW:
            data["clock_ahead"] = True  # the phone's clock runs ahead: the time is its word only
        if self.after_conflict is not None:
            data["after_conflict"] = self.after_conflict
        return data


@dataclass(frozen=True)
class Photo:
    """An uploaded photo and the SHA-256 the phone computed of it at capture (None: not sent)."""

    upload: object
    sha256: str | None = None


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine, WGS-84 mean radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _entry_done(actor, key: str) -> FieldEntry | None:
    return FieldEntry.objects.filter(user=actor, key=key).select_related("case").first()


def _entry_record(
    *, actor, capture: Capture, action: str, case: Case, applied_on: int | None = None, **fields
) -> FieldEntry:
    """The receipt of an entry. Two requests applying the same entry at once are kept apart
    before this (core.idempotency's record of the same key); a third way in fails the unique
    constraint and rolls its transaction back."""
    return FieldEntry.objects.create(
        user=actor,
        key=capture.key,
        action=action,
        case=case,
        outcome=(
            FieldOutcome.APPLIED
            if capture.after_conflict is None
            else FieldOutcome.APPLIED_AFTER_CONFLICT
        ),
        captured_at=capture.captured_at,
        received_at=timezone.now(),
        lat=capture.lat,
        lng=capture.lng,
        accuracy=capture.accuracy,
        based_on_version=capture.after_conflict,
        applied_on_version=applied_on if capture.after_conflict is not None else None,
        **fields,
    )


def _photos_attach(case: Case, actor, photos: list[Photo]) -> list[str]:
    """Attach the photos as evidence; their SHA-256s in order. A photo whose content is not
    what the phone hashed at capture is refused (the entry stays on the phone to be sent
    again)."""
    hashes = []
    for index, photo in enumerate(photos, start=1):
        evidence = evidence_attach(case=case, actor=actor, upload=photo.upload)
        if photo.sha256 is not None and photo.sha256.lower() != evidence.sha256:
            raise InvalidInput(
                _(
                    "Photo %(n)d arrived damaged (its SHA-256 is not the one taken on the "
                    "phone); send the entry again."
                )
                % {"n": index}
            )
        hashes.append(evidence.sha256)
    return hashes


# --- the entries ---------------------------------------------------------------------------------


def field_arrive(
    *, case: Case, actor, capture: Capture, expected_version: int | None = None
) -> Case:
    """An on-scene sign-in from a phone. The distance from the case's point is recorded; beyond
    FIELD_ARRIVE_WARN_METRES the sign-in is marked ``far`` for the command centre (a warning,
    not a refusal: a phone's position can be off, and the accuracy is recorded beside it)."""
    done = _entry_done(actor, capture.key)
    if done is not None:
        return done.case
    if capture.lat is None or capture.lng is None:
        raise InvalidInput(_("An on-scene sign-in needs the phone's position."))
    received = timezone.now()
    distance = round(distance_m(capture.lat, capture.lng, case.lat, case.lng), 1)
    far = distance > settings.FIELD_ARRIVE_WARN_METRES
    details = {**capture.details(received), "distance_m": distance}
    if far:
        details["far"] = True
    with transaction.atomic():
        case = workflow.case_arrive(
            case=case,
            actor=actor,
            lat=capture.lat,
            lng=capture.lng,
            accuracy=capture.accuracy,
            details=details,
            expected_version=expected_version,
        )
        _entry_record(
            actor=actor,
            capture=capture,
            action=FieldAction.ARRIVE,
            case=case,
            applied_on=expected_version,
            distance_m=distance,
            far=far,
        )
    return case


def _officers_named(actor, second_officer: str) -> list[Officer]:
    """The actor's officer record and the second officer's, by username (Art. 42)."""
    own = Officer.objects.filter(user=actor).first()
    if own is None:
        raise InvalidInput(
            _("A result in the enforcement mode is recorded by an officer with a certificate.")
        )
    if not second_officer:
        raise InvalidInput(
            _(
                "Name the second officer: a penalty step takes two officers with valid "
                "certificates (Administrative Penalty Law, Art. 42)."
            )
        )
    second = (
        Officer.objects.filter(user__username=second_officer, user__is_active=True)
        .select_related("user")
        .first()
    )
    if second is None:
        raise InvalidInput(_("No officer is called %(name)s.") % {"name": second_officer})
    if second.pk == own.pk:
        raise InvalidInput(_("The second officer is someone other than you."))
    return [own, second]


def field_resolve(
    *,
    case: Case,
    actor,
    result: str,
    handling_mode: str,
    photos: list[Photo],
    capture: Capture | None,
    second_officer: str = "",
    expected_version: int | None = None,
) -> Case:
    """A result with its photos, in one transaction: the photos are attached and the result
    recorded, or neither. ``capture``: a phone's entry (None: an API client's, recorded without
    a capture or a receipt)."""
    if capture is not None:
        done = _entry_done(actor, capture.key)
        if done is not None:
            return done.case
    received = timezone.now()
    officers = (
        _officers_named(actor, second_officer) if handling_mode == HandlingMode.ENFORCEMENT else []
    )
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and current.version != expected_version:
            raise workflow.CaseConflict(current)  # before any photo is stored on the old case
        if current.status not in workflow.TRANSITIONS[EventKind.RESOLVE].sources:
            raise workflow.TransitionNotAllowed(EventKind.RESOLVE, current.status)
        hashes = _photos_attach(current, actor, photos)
        details = capture.details(received) if capture is not None else {}
        if capture is not None and capture.lat is not None and capture.lng is not None:
            details.update(lat=capture.lat, lng=capture.lng)
        if hashes:
            details["photos"] = hashes
        case = workflow.case_resolve(
            case=current,
            actor=actor,
            result=result,
            handling_mode=handling_mode,
            officers=officers,
            on=timezone.localdate(capture.captured_at) if capture else None,
            details=details,
            expected_version=expected_version,
        )
        if capture is not None:
            _entry_record(
                actor=actor,
                capture=capture,
                action=FieldAction.RESOLVE,
                case=case,
                applied_on=expected_version,
            )
    return case


@dataclass(frozen=True)
class SelfHandling:
    """The result of a problem the grid worker handled on the spot (自处置)."""

    result: str
    handling_mode: str
    photos: list[Photo]


@dataclass(frozen=True)
class FieldReport:
    case: Case
    created: bool
    self_handle_refused: str = ""  # why it waits for the command centre instead


def field_report(
    *,
    actor,
    matter_type: MatterType,
    description: str,
    capture: Capture,
    photos: list[Photo],
    address: str = "",
    source: str = CaseSource.GRID_REPORT,
    self_handling: SelfHandling | None = None,
    **intake_fields,
) -> FieldReport:
    """A problem found on patrol, filed through the same intake as the API
    (enforcement.services.case_intake: the cell found from the point, duplicates linked, the
    clocks started), with its photos. With ``self_handling`` the worker also handled it in the
    grid: before and after photos, and the case resolved in the worker's name, waiting for
    verification. Self-handling is for the worker's own cells only; elsewhere the report is
    filed all the same (nothing captured is lost) and waits for the command centre, and
    ``self_handle_refused`` says why. ``intake_fields``: the rest of case_intake's (street,
    severity, the reporter, an external id)."""
    done = _entry_done(actor, capture.key)
    if done is not None:
        return FieldReport(case=done.case, created=False)
    if capture.lat is None or capture.lng is None:
        raise InvalidInput(_("A report needs the position of the problem."))
    received = timezone.now()
    details = capture.details(received)
    refused = ""
    with transaction.atomic():
        intake = case_intake(
            source=source,
            matter_type=matter_type,
            description=description,
            lat=capture.lat,
            lng=capture.lng,
            address=address,
            actor=actor,
            **intake_fields,
        )
        case = intake.case
        before = _photos_attach(case, actor, photos)
        action = FieldAction.REPORT
        if self_handling is not None:
            refused = _self_handling_refusal(actor, case)
            after = _photos_attach(case, actor, self_handling.photos)
            if not refused:
                case = workflow.case_self_handle(
                    case=case,
                    actor=actor,
                    result=self_handling.result,
                    handling_mode=self_handling.handling_mode,
                    lat=capture.lat,
                    lng=capture.lng,
                    details={**details, "photos_before": before, "photos_after": after},
                )
                action = FieldAction.SELF_HANDLE
        _entry_record(actor=actor, capture=capture, action=action, case=case, reason=refused[:500])
    return FieldReport(case=case, created=intake.created, self_handle_refused=refused)


def _self_handling_refusal(actor, case: Case) -> str:
    if case.cell_id is None:
        return _("The point is outside the grid net: the command centre takes it from here.")
    if actor.is_superuser:
        return ""
    if Role.GRID_WORKER not in role_names(actor) or case.cell_id not in scope_of(actor).cells:
        return _(
            "Only a grid worker of this cell handles it in the grid: the command centre takes it "
            "from here."
        )
    if case.status != CaseStatus.REPORTED:
        return _("This problem was reported already (%(number)s): it is handled there.") % {
            "number": case.number
        }
    return ""


def field_discard(
    *,
    actor,
    key: str,
    action: str,
    captured_at: datetime,
    case: Case | None = None,
    based_on_version: int | None = None,
    reason: str = "",
) -> FieldEntry:
    """The author discarded an entry of their outbox (after a conflict or a refusal): recorded
    once per key, in the case's history when it was about a case, so that the command centre
    knows a result captured on scene was dropped and by whom."""
    existing = _entry_done(actor, key)
    if existing is not None:
        if existing.outcome != FieldOutcome.DISCARDED:
            raise InvalidInput(_("This entry reached the platform: it cannot be discarded."))
        return existing
    with transaction.atomic():
        entry = FieldEntry.objects.create(
            user=actor,
            key=key,
            action=action,
            case=case,
            outcome=FieldOutcome.DISCARDED,
            captured_at=captured_at,
            received_at=timezone.now(),
            based_on_version=based_on_version,
            reason=reason.strip()[:500],
        )
        if case is not None:
            locked = Case.objects.select_for_update().get(pk=case.pk)
            case_event_record(
                case=locked,
                kind=EventKind.FIELD_DISCARD,
                actor=actor,
                from_status=locked.status,
                to_status=locked.status,
                data={
                    "field_entry": key,
                    "action": action,
                    "captured_at": captured_at.isoformat(timespec="seconds"),
                    "based_on_version": based_on_version,
                    "reason": entry.reason,
                },
            )
    return entry


# --- what the pages read ------------------------------------------------------------------------


def field_role(user) -> str | None:
    """``"officer"`` or ``"grid_worker"`` (an officer first), None for other roles."""
    roles = role_names(user)
    if Role.OFFICER in roles:
        return "officer"
    if Role.GRID_WORKER in roles:
        return "grid_worker"
    return None


def _tasks_of(user):
    officer = Officer.objects.filter(user=user).only("pk", "team_id").first()
    if officer is None:
        return Case.objects.none()
    # Mine, or my team's not yet given to anyone.
    return Case.objects.filter(
        Q(officer=officer) | Q(team_id=officer.team_id, officer__isnull=True),
        status__in=TASK_STATUSES,
    )


def field_tasks(user) -> list[Case]:
    """The open cases dispatched to ``user`` as an officer, or to their team without an officer,
    with their most urgent clock, the soonest due first (those without a clock last)."""
    cases = cases_with_clock(
        _tasks_of(user).select_related("street", "cell", "matter_type", "team", "officer__user")
    ).order_by(F("clock_due").asc(nulls_last=True), "created_at", "pk")
    return list(cases[:TASKS_SHOWN])


def field_task_get(user, number: str) -> Case:
    """A case of ``user``'s, with its clock, cell and matter type (Http404 for one they do not
    see)."""
    queryset = cases_with_clock(
        case_list(user=user).select_related(
            "street", "cell", "matter_type", "team", "officer__user"
        )
    )
    return get_object_or_404(queryset, number=number)


def field_reports(user) -> list[Case]:
    """The cases ``user`` reported, newest first."""
    return list(
        Case.objects.filter(reported_by=user)
        .select_related("cell", "matter_type")
        .order_by("-created_at", "-pk")[:REPORTS_SHOWN]
    )


def field_former_case(user, number: str) -> Case | None:
    """The case numbered ``number`` if ``user`` no longer sees it but had it in hand: they acted
    on it, or it was dispatched to them or their team before it was reassigned. Their phone's
    entries about it come back as conflicts (not as "no such case"), and their discards of
    those entries go into its history. None otherwise."""
    case = Case.objects.filter(number=number).first()
    if case is None:
        return None
    officer = Officer.objects.filter(user=user).only("pk", "team_id").first()
    handed = Q(actor=user)
    if officer is not None:
        handed |= Q(
            Q(data__officer=officer.pk) | Q(data__team=officer.team_id),
            kind__in=(EventKind.DISPATCH, EventKind.REASSIGN),
        )
    return case if case.events.filter(handed).exists() else None


def field_second_officers(user, *, on: date | None = None) -> list[Officer]:
    """The other officers of ``user``'s team with certificates valid on ``on`` (today): the
    second officer a penalty step needs (Art. 42)."""
    on = on or timezone.localdate()
    own = Officer.objects.filter(user=user).only("pk", "team_id").first()
    if own is None:
        return []
    return list(
        Officer.objects.filter(
            team_id=own.team_id, certificate_expires_on__gte=on, user__is_active=True
        )
        .exclude(pk=own.pk)
        .select_related("user")
        .order_by("user__username")
    )


def field_event_annotate(event) -> None:
    """What a page shows of an event's capture: ``captured_at`` (a datetime: when the phone
    recorded it; the event's own ``at`` is its receipt) and ``received_late`` (the time between,
    when longer than FIELD_LATE_AFTER)."""
    event.captured_at = None
    event.received_late = None
    raw = event.data.get("captured_at") if isinstance(event.data, dict) else None
    if not raw:
        return
    try:
        captured = datetime.fromisoformat(raw)
    except ValueError:
        return
    event.captured_at = captured
    if event.at - captured > settings.FIELD_LATE_AFTER:
        event.received_late = event.at - captured


@dataclass
class FieldLateness:
    """One person's entries over a period, as the command centre's field-sync page shows them."""

    user: object
    entries: int = 0
    late: int = 0
    late_median: timedelta | None = None
    late_max: timedelta | None = None
    far_arrivals: int = 0
    discarded: int = 0
    conflicts_applied: int = 0


def field_lateness(user, *, days: int = 30, now: datetime | None = None) -> list[FieldLateness]:
    """Per author, the field entries received over the last ``days`` about cases of the streets
    ``user`` works on the desk (every street for a superuser): how many, how many arrived later
    than FIELD_LATE_AFTER after capture and how late (median, longest), far on-scene sign-ins,
    discards and conflicts applied. The most late first. One query."""
    now = now or timezone.now()
    scope = scope_of(user)
    entries = FieldEntry.objects.filter(received_at__gte=now - timedelta(days=days))
    if not scope.everything:
        # An entry discarded before it became a case has no street: its author's alone.
        entries = entries.filter(case__street_id__in=scope.streets)
    rows = entries.select_related("user").order_by("user_id", "received_at")
    by_user: dict[int, FieldLateness] = {}
    lateness: dict[int, list[timedelta]] = defaultdict(list)
    for entry in rows:
        row = by_user.setdefault(entry.user_id, FieldLateness(user=entry.user))
        row.entries += 1
        late = entry.lateness
        if entry.outcome != FieldOutcome.DISCARDED and late > settings.FIELD_LATE_AFTER:
            row.late += 1
            lateness[entry.user_id].append(late)
        row.far_arrivals += entry.far
        row.discarded += entry.outcome == FieldOutcome.DISCARDED
        row.conflicts_applied += entry.outcome == FieldOutcome.APPLIED_AFTER_CONFLICT
    for user_id, values in lateness.items():
        by_user[user_id].late_median = statistics.median_low(values)
        by_user[user_id].late_max = max(values)
    return sorted(
        by_user.values(),
        key=lambda r: (-r.late, -(r.late_max or timedelta(0)), r.user.username),
    )
