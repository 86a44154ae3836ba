"""The lifecycle of a case: the transition table and one function per transition. Nothing else
writes ``Case.status``.

Every function takes keyword arguments and an ``actor``; in one transaction it locks the case,
checks the table (and the expected version, when the caller sends one: If-Match), compare-and-sets
``status`` and ``version``, and appends a CaseEvent. Doing a finished transition again changes
nothing. Timers (issue #6) will be started and cancelled here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enforcement.certificates import officers_certified
from enforcement.choices import (
    CallStatus,
    CaseStatus,
    DispatchTarget,
    EventKind,
    HandlingMode,
    RouteKind,
)
from enforcement.events import case_event_record
from enforcement.models import Case, DepartmentCall, Officer, Team
from enforcement.permissions import suspension_approver_check, verify_check
from enforcement.timers import timers_on_call, timers_on_transition
from enforcement.webhooks import webhooks_on_transition, webhooks_on_whistle
from powers.choices import UsageKind
from powers.models import CatalogueVersion, Department, PowerItem
from powers.selectors import catalogue_in_force, street_powers_held
from powers.services import power_usage_record

S = CaseStatus


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str | None  # None: back to the status before suspension
    keeps_status: bool = False  # a change of who handles it, the status unchanged


TRANSITIONS: dict[str, Transition] = {
    EventKind.ACCEPT: Transition((S.REPORTED,), S.ACCEPTED),
    EventKind.REJECT: Transition((S.REPORTED,), S.REJECTED),
    EventKind.DISPATCH: Transition((S.ACCEPTED, S.REOPENED), S.DISPATCHED),
    EventKind.ARRIVE: Transition((S.DISPATCHED,), S.ON_SCENE),
    EventKind.RESOLVE: Transition((S.ON_SCENE,), S.RESOLVED),
    EventKind.VERIFY: Transition((S.RESOLVED,), S.CLOSED),
    EventKind.REOPEN: Transition((S.RESOLVED,), S.REOPENED),
    EventKind.TRANSFER: Transition((S.ACCEPTED, S.DISPATCHED, S.ON_SCENE), S.TRANSFERRED),
    EventKind.SUSPEND: Transition((S.ACCEPTED, S.DISPATCHED, S.ON_SCENE), S.SUSPENDED),
    EventKind.RESUME: Transition((S.SUSPENDED,), None),
    EventKind.MERGE: Transition((S.REPORTED, S.ACCEPTED), S.MERGED),
    # The reporter said on the callback (回访) that the problem is not solved.
    EventKind.CALLBACK_REWORK: Transition((S.CLOSED,), S.REOPENED),
    EventKind.REASSIGN: Transition((S.DISPATCHED, S.ON_SCENE), None, keeps_status=True),
    # Set by the department calls, not by hand: every called department has finished.
    EventKind.CALLS_DONE: Transition((S.DISPATCHED,), S.RESOLVED),
    EventKind.CALLS_RETURNED: Transition((S.DISPATCHED,), S.ACCEPTED),
}


# The verb of each transition, for messages ("Cannot accept a case that is closed").
ACTION_VERBS = {
    EventKind.ACCEPT: gettext_lazy("accept"),
    EventKind.REJECT: gettext_lazy("reject"),
    EventKind.DISPATCH: gettext_lazy("dispatch"),
    EventKind.ARRIVE: gettext_lazy("sign in on scene for"),
    EventKind.RESOLVE: gettext_lazy("resolve"),
    EventKind.VERIFY: gettext_lazy("verify"),
    EventKind.REOPEN: gettext_lazy("reopen"),
    EventKind.TRANSFER: gettext_lazy("transfer"),
    EventKind.SUSPEND: gettext_lazy("suspend"),
    EventKind.RESUME: gettext_lazy("resume"),
    EventKind.MERGE: gettext_lazy("merge"),
    EventKind.CALLS_DONE: gettext_lazy("resolve by the departments' results"),
    EventKind.CALLS_RETURNED: gettext_lazy("take back from the departments"),
}


class WorkflowError(Exception):
    """A domain error of the case lifecycle; ``str()`` is the message for people."""

    code = "workflow"


class TransitionNotAllowed(WorkflowError):
    code = "transition_not_allowed"

    def __init__(self, action: str, status: str):
        allowed = _(" or ").join(
            str(CaseStatus(s).label).lower() for s in TRANSITIONS[action].sources
        )
        super().__init__(
            _("Cannot %(action)s a case that is %(status)s; only a case that is %(allowed)s.")
            % {
                "action": ACTION_VERBS[action],
                "status": str(CaseStatus(status).label).lower(),
                "allowed": allowed,
            }
        )


class CaseConflict(WorkflowError):
    """Someone else changed the case since the caller read it (a lost compare-and-set)."""

    code = "conflict"

    def __init__(self, case: Case):
        super().__init__(
            _(
                "Case %(number)s was changed by someone else (now version %(version)d); "
                "reload it and try again."
            )
            % {"number": case.number, "version": case.version}
        )


class InvalidInput(WorkflowError):
    code = "invalid"


class TooLarge(InvalidInput):
    """An upload over its size limit (HTTP 413 in the API)."""

    code = "too_large"


def _transition(
    case: Case,
    *,
    action: str,
    actor,
    expected_version: int | None = None,
    data: dict | None = None,
    fields: dict | None = None,
    fields_from=None,
    check=None,
) -> Case:
    """``fields_from``: a function of the locked case giving more fields to set. ``check``: a
    function of the locked case, run after the status check, raising WorkflowError."""
    rule = TRANSITIONS[action]
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and current.version != expected_version:
            raise CaseConflict(current)
        target = current.status if rule.keeps_status else rule.target or current.suspended_from
        if current.status not in rule.sources:
            last = current.events.order_by("-sequence").values_list("kind", flat=True).first()
            if current.status == target and last == action:
                return current  # done already: doing it again changes nothing
            raise TransitionNotAllowed(action, current.status)
        if check is not None:
            check(current)
        changes = {
            "status": target,
            **(fields or {}),
            **(fields_from(current) if fields_from else {}),
        }
        # Compare-and-set: on SQLite select_for_update is ignored, the WHERE still decides.
        updated = Case.objects.filter(
            pk=current.pk, version=current.version, status=current.status
        ).update(version=F("version") + 1, **changes)
        if updated != 1:
            current.refresh_from_db()
            raise CaseConflict(current)
        case_event_record(
            case=current,
            kind=action,
            actor=actor,
            from_status=current.status,
            to_status=target,
            data=data or {},
        )
        current.refresh_from_db()
        timers_on_transition(case=current, action=action)
        webhooks_on_transition(case=current)
    return current


def case_accept(*, case: Case, actor, expected_version: int | None = None) -> Case:
    return _transition(
        case, action=EventKind.ACCEPT, actor=actor, expected_version=expected_version
    )


def case_reject(
    *, case: Case, actor, reason: str, lacking_power=None, expected_version: int | None = None
) -> Case:
    """Refuse the case with a reason. ``lacking_power``: the power item the street would need
    and does not hold; the refusal then counts as unmet demand in the usage assessment."""
    if not reason.strip():
        raise InvalidInput(_("A rejection gives its reason."))
    if lacking_power is not None:
        with transaction.atomic():
            case = _transition(
                case,
                action=EventKind.REJECT,
                actor=actor,
                expected_version=expected_version,
                data={"reason": reason.strip(), "lacking_power": lacking_power.code},
            )
            power_usage_record(
                street=case.street,
                item=lacking_power,
                kind=UsageKind.REFUSED,
                occurred_on=timezone.localdate(),
                reference=case.number,
            )
        return case
    return _transition(
        case,
        action=EventKind.REJECT,
        actor=actor,
        expected_version=expected_version,
        data={"reason": reason.strip()},
    )


def case_dispatch(
    *,
    case: Case,
    actor,
    target: str,
    team: Team | None = None,
    officer: Officer | None = None,
    expected_version: int | None = None,
) -> Case:
    """Send the case to an enforcement team (and optionally an officer of it), or to the grid for
    self-handling (自处置). The whistle to a department (DepartmentCall) comes with routing."""
    if target == DispatchTarget.TEAM:
        if team is None:
            raise InvalidInput(_("Name the team."))
        if officer is not None and officer.team_id != team.pk:
            raise InvalidInput(_("The officer is not in that team."))
        if team.street_id != case.street_id:
            raise InvalidInput(_("The team works in another street."))
    elif target == DispatchTarget.GRID:
        if case.cell_id is None:
            raise InvalidInput(_("A case outside every grid cell cannot go to the grid."))
        team = officer = None
    else:
        raise InvalidInput(_("Unknown dispatch target %(value)r.") % {"value": target})
    data = {
        "target": target,
        "team": team.pk if team else None,
        "officer": officer.pk if officer else None,
    }
    fields = {"dispatch_target": target, "team": team, "officer": officer}
    return _transition(
        case,
        action=EventKind.DISPATCH,
        actor=actor,
        expected_version=expected_version,
        data=data,
        fields=fields,
    )


def case_arrive(
    *,
    case: Case,
    actor,
    lat: float,
    lng: float,
    accuracy: float | None = None,
    details: dict | None = None,
    expected_version: int | None = None,
) -> Case:
    """The officer is on scene; the position (and its accuracy in metres, when the phone gives
    it) is recorded (the 30-minute clock of issue #6). ``details``: more to record in the event
    (enforcement.field: the capture time, the distance from the case)."""
    data = {"lat": lat, "lng": lng}
    if accuracy is not None:
        data["accuracy"] = accuracy
    return _transition(
        case,
        action=EventKind.ARRIVE,
        actor=actor,
        expected_version=expected_version,
        data={**data, **(details or {})},
    )


def case_resolve(
    *,
    case: Case,
    actor,
    result: str,
    handling_mode: str,
    officers=(),
    on: date | None = None,
    details: dict | None = None,
    expected_version: int | None = None,
) -> Case:
    """Record the result. In the enforcement handling mode the result is a penalty step: at
    least two officers with certificates valid on ``on`` (today by default) act, named in
    ``officers`` (Art. 42, enforcement.certificates); their certificate numbers are recorded.
    ``details``: more to record in the event (enforcement.field: the capture, the photos)."""
    if not result.strip():
        raise InvalidInput(_("Describe the result."))
    if handling_mode not in HandlingMode.values:
        raise InvalidInput(_("Unknown handling mode %(value)r.") % {"value": handling_mode})
    data = {"result": result.strip(), "handling_mode": handling_mode}
    if handling_mode == HandlingMode.ENFORCEMENT:
        valid, refusal = officers_certified(officers, on or timezone.localdate())
        if refusal:
            raise InvalidInput(refusal)
        data["officers"] = sorted(officer.certificate_number for officer in valid)
    return _transition(
        case,
        action=EventKind.RESOLVE,
        actor=actor,
        expected_version=expected_version,
        data={**data, **(details or {})},
        fields={"handling_mode": handling_mode},
    )


def case_verify(*, case: Case, actor, note: str = "", expected_version: int | None = None) -> Case:
    """Verification (核查) passed: the case closes. Never by the one who recorded the result
    (enforcement.permissions.verify_check: PermissionDenied)."""
    return _transition(
        case,
        action=EventKind.VERIFY,
        actor=actor,
        expected_version=expected_version,
        data={"note": note.strip()},
        check=lambda current: verify_check(actor, current),
    )


def case_reopen(*, case: Case, actor, reason: str, expected_version: int | None = None) -> Case:
    """Verification failed: the case goes back for rework (返工), counted."""
    if not reason.strip():
        raise InvalidInput(_("Say what is still wrong."))
    return _transition(
        case,
        action=EventKind.REOPEN,
        actor=actor,
        expected_version=expected_version,
        data={"reason": reason.strip()},
        fields={"reopen_count": F("reopen_count") + 1},
    )


def case_rework_after_callback(*, case: Case, actor, callback_id: int, note: str = "") -> Case:
    """A closed case whose reporter said on the callback that the problem is not solved goes
    back for rework (返工), counted like a failed verification; its dispatch clock starts
    again. Called by assessment.callbacks.callback_record."""
    return _transition(
        case,
        action=EventKind.CALLBACK_REWORK,
        actor=actor,
        data={"callback": callback_id, "note": note.strip()},
        fields={"reopen_count": F("reopen_count") + 1},
    )


def case_transfer(
    *,
    case: Case,
    actor,
    to: str,
    reason: str,
    goods_value: Decimal | None = None,
    expected_version: int | None = None,
) -> Case:
    """Transfer out (移送). To the police only when the goods reach the criminal threshold
    (settings.CRIMINAL_GOODS_THRESHOLD_YUAN, the Linyi case) or a reason is given without a
    value."""
    if not reason.strip() or not to.strip():
        raise InvalidInput(_("A transfer names where to and why."))
    threshold = Decimal(settings.CRIMINAL_GOODS_THRESHOLD_YUAN)
    if to == "police" and goods_value is not None and goods_value < threshold:
        raise InvalidInput(
            _("Goods worth %(value)s yuan are below the criminal threshold of %(threshold)s yuan.")
            % {"value": goods_value, "threshold": threshold}
        )
    return _transition(
        case,
        action=EventKind.TRANSFER,
        actor=actor,
        expected_version=expected_version,
        data={
            "to": to,
            "reason": reason.strip(),
            "goods_value": str(goods_value) if goods_value is not None else None,
        },
        fields={"goods_value": goods_value},
    )


def case_reassign(
    *,
    case: Case,
    actor,
    team: Team,
    officer: Officer | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Case:
    """Give a case in hand (dispatched or on scene) to another team or officer of the street;
    its status and clocks stay. The case's version moves on, so that a phone's entry captured
    against the old assignment comes back as a conflict (enforcement.field), never applied
    over it."""
    if officer is not None and officer.team_id != team.pk:
        raise InvalidInput(_("The officer is not in that team."))
    if team.street_id != case.street_id:
        raise InvalidInput(_("The team works in another street."))
    if case.dispatch_target == DispatchTarget.DEPARTMENT:
        raise InvalidInput(
            _("The departments called answer this case; their calls are not reassigned here.")
        )
    return _transition(
        case,
        action=EventKind.REASSIGN,
        actor=actor,
        expected_version=expected_version,
        data={
            "team": team.pk,
            "officer": officer.pk if officer else None,
            "reason": reason.strip(),
        },
        fields={"dispatch_target": DispatchTarget.TEAM, "team": team, "officer": officer},
    )


def case_self_handle(
    *,
    case: Case,
    actor,
    result: str,
    handling_mode: str,
    lat: float,
    lng: float,
    details: dict | None = None,
) -> Case:
    """Handled in the grid (自处置): the grid worker who reported a small problem of their own
    cell solved it on the spot. The steps are the usual ones, each recorded with the worker as
    actor and ``self_handled`` in its details — accepted, dispatched to the grid, on scene,
    resolved — and the case waits for the command centre's verification like any resolved
    case. Not in the enforcement mode: penalties are the officers'."""
    if handling_mode not in (HandlingMode.SERVICE, HandlingMode.MANAGEMENT):
        raise InvalidInput(
            _("A problem handled in the grid is handled by service or management, not a penalty.")
        )
    if case.cell_id is None:
        raise InvalidInput(_("A case outside every grid cell cannot go to the grid."))
    mark = {"self_handled": True, **(details or {})}
    with transaction.atomic():
        case = _transition(case, action=EventKind.ACCEPT, actor=actor, data=mark)
        case = _transition(
            case,
            action=EventKind.DISPATCH,
            actor=actor,
            data={"target": DispatchTarget.GRID, "team": None, "officer": None, **mark},
            fields={"dispatch_target": DispatchTarget.GRID, "team": None, "officer": None},
        )
        case = case_arrive(case=case, actor=actor, lat=lat, lng=lng, details=mark)
        case = case_resolve(
            case=case, actor=actor, result=result, handling_mode=handling_mode, details=mark
        )
    return case


def case_suspend(
    *, case: Case, actor, reason: str, approved_by, expected_version: int | None = None
) -> Case:
    """Suspend (中止) with a reason and its approver, a street leader of the case's street other
    than ``actor`` (enforcement.permissions.suspension_approver_check: ValidationError);
    resuming returns to the same status."""
    if not reason.strip():
        raise InvalidInput(_("A suspension needs a reason and an approver."))
    suspension_approver_check(actor=actor, approver=approved_by, case=case)
    return _transition(
        case,
        action=EventKind.SUSPEND,
        actor=actor,
        expected_version=expected_version,
        data={"reason": reason.strip(), "approved_by": approved_by.pk},
        fields_from=lambda current: {"suspended_from": current.status},
    )


def case_resume(*, case: Case, actor, expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case = _transition(
            case,
            action=EventKind.RESUME,
            actor=actor,
            expected_version=expected_version,
            fields={"suspended_from": ""},
        )
        # Departments may have finished while the case was suspended.
        _calls_settle(case, actor)
        case.refresh_from_db()
    return case


def case_merge(
    *, case: Case, into: Case, actor, reason: str = "", expected_version: int | None = None
) -> Case:
    """Merge a duplicate report into the case that goes on (合并): ``case`` ends as merged and
    points at ``into``; ``into`` records the merge in its own history. Only a case not yet
    dispatched can be merged, into an open case of the same street."""

    def check(current: Case) -> None:
        if into.pk == current.pk:
            raise InvalidInput(_("A case cannot be merged into itself."))
        target = Case.objects.get(pk=into.pk)
        if target.street_id != current.street_id:
            raise InvalidInput(_("Only a case of the same street can be merged into."))
        if target.status in (S.REJECTED, S.MERGED, S.CLOSED):
            raise InvalidInput(
                _("Case %(number)s is %(status)s and cannot take a merge.")
                % {"number": target.number, "status": str(S(target.status).label).lower()}
            )

    with transaction.atomic():
        # Lock both in one order, so two opposite merges cannot deadlock.
        list(Case.objects.select_for_update().filter(pk__in=[case.pk, into.pk]).order_by("pk"))
        merged = _transition(
            case,
            action=EventKind.MERGE,
            actor=actor,
            expected_version=expected_version,
            data={"into": into.number, "reason": reason.strip()},
            fields={"merged_into": into},
            check=check,
        )
        if (
            merged.merged_into_id == into.pk
            and not into.events.filter(kind=EventKind.MERGED_IN, data__case=merged.number).exists()
        ):
            target = Case.objects.get(pk=into.pk)
            case_event_record(
                case=target,
                kind=EventKind.MERGED_IN,
                actor=actor,
                from_status=target.status,
                to_status=target.status,
                data={"case": merged.number, "reason": reason.strip()},
            )
    return merged


def _calls_settle(case: Case, actor) -> None:
    """After a call ends: when no call of a case dispatched by whistle is still open, the case
    resolves on the departments' results, or, when every department returned it, goes back to
    accepted for the command centre to dispatch another way. Holds the case lock."""
    if case.status != S.DISPATCHED or case.dispatch_target != DispatchTarget.DEPARTMENT:
        return
    calls = list(case.calls.select_related("department").order_by("pk"))
    if any(call.status not in (CallStatus.COMPLETED, CallStatus.RETURNED) for call in calls):
        return
    completed = [call for call in calls if call.status == CallStatus.COMPLETED]
    if completed:
        _transition(
            case,
            action=EventKind.CALLS_DONE,
            actor=actor,
            data={"results": {call.department.code: call.result for call in completed}},
        )
    else:
        _transition(
            case,
            action=EventKind.CALLS_RETURNED,
            actor=actor,
            data={"reasons": {call.department.code: call.return_reason for call in calls}},
            fields={"dispatch_target": ""},
        )


# --- routing and the whistle ----------------------------------------------------------------------


@dataclass(frozen=True)
class RouteProposal:
    """What ``case_route`` would do with a case on a day, and why: dispatch to ``team`` when the
    street holds some of the matter type's power ``items`` (``held``), else whistle the
    ``departments`` owning them. ``catalogue_version``: the street's list in force that day
    (None when it has none), which ``reason`` names with the items' codes."""

    kind: str
    held: tuple[PowerItem, ...]
    items: tuple[PowerItem, ...]
    team: Team | None
    departments: tuple[Department, ...]
    catalogue_version: CatalogueVersion | None
    reason: str


def team_for_cell(case: Case) -> Team | None:
    """The team of the street whose areas include the case's cell's area; the street's first
    team when none names it."""
    teams = list(Team.objects.filter(street=case.street).order_by("name"))
    area = case.cell.area if case.cell_id else ""
    return next(
        (team for team in teams if area and area in team.areas), teams[0] if teams else None
    )


def _route_items(case: Case) -> tuple[PowerItem, ...]:
    """The matter type's power items by code; InvalidInput when it names none."""
    items = tuple(case.matter_type.power_items.select_related("department").order_by("code"))
    if not items:
        raise InvalidInput(_("This matter type names no power item: dispatch the case by hand."))
    return items


def _route_proposal(case: Case, *, on: date, items: tuple[PowerItem, ...]) -> RouteProposal:
    version = catalogue_in_force(street=case.street, on=on)
    held_ids = street_powers_held(case.street, items, on=on, version=version)
    held = tuple(item for item in items if item.pk in held_ids)
    named = {"date": on, "version": version.number if version is not None else None}
    if held:
        team = team_for_cell(case)
        if team is None:
            raise InvalidInput(_("The street has no enforcement team."))
        # A held item means a list in force: the version is never None here.
        reason = _("The street holds %(codes)s on %(date)s (catalogue version %(version)s).") % {
            **named,
            "codes": ", ".join(item.code for item in held),
        }
        return RouteProposal(
            kind=RouteKind.TEAM,
            held=held,
            items=items,
            team=team,
            departments=(),
            catalogue_version=version,
            reason=reason,
        )
    if version is not None:
        reason = _(
            "The street holds none of %(codes)s on %(date)s (catalogue version %(version)s): "
            "whistle the owning department."
        )
    else:
        reason = _(
            "The street has no power list in force on %(date)s, so holds none of %(codes)s: "
            "whistle the owning department."
        )
    departments = {item.department_id: item.department for item in items}
    return RouteProposal(
        kind=RouteKind.WHISTLE,
        held=(),
        items=items,
        team=None,
        departments=tuple(sorted(departments.values(), key=lambda d: d.code)),
        catalogue_version=version,
        reason=reason % {**named, "codes": ", ".join(item.code for item in items)},
    )


def case_route_propose(*, case: Case, on: date | None = None) -> RouteProposal:
    """What routing ``case`` by power on ``on`` (default today) would do, and why (DESIGN.md):
    the street's team when the street holds one of the matter type's power items, else a
    whistle to the departments owning them. A pure read: locks nothing, records nothing, asks
    no status (``case_route`` does, and decides again under the case's lock). Raises
    InvalidInput when the matter type names no power item, or the street holds one and has no
    enforcement team."""
    return _route_proposal(case, on=on or timezone.localdate(), items=_route_items(case))


def case_route(
    *,
    case: Case,
    actor,
    on: date | None = None,
    expected_version: int | None = None,
    proposal_kind: str | None = None,
) -> Case:
    """Route an accepted case by power (DESIGN.md): when the street holds one of the matter's
    power items on ``on`` (default today), dispatch to the team of the cell's area; otherwise
    whistle the departments owning those items. The decision and its reason (with the
    catalogue version in force) are recorded, and the powers usage assessment gets its fact
    (used, or unmet demand). ``proposal_kind``: the kind of the proposal (case_route_propose)
    the caller confirms; when the power list changed since and routing would now go another
    way, nothing is done (InvalidInput). Raises WorkflowError."""
    on = on or timezone.localdate()
    if proposal_kind is not None and proposal_kind not in RouteKind.values:
        raise InvalidInput(_("Unknown route kind %(value)r.") % {"value": proposal_kind})
    items = _route_items(case)
    with transaction.atomic():
        # The decision first, in the case's chain; the dispatch that follows is its own event.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status not in TRANSITIONS[EventKind.DISPATCH].sources:
            raise TransitionNotAllowed(EventKind.DISPATCH, locked.status)
        if expected_version is not None and locked.version != expected_version:
            raise CaseConflict(locked)  # a stale read first: its proposal is stale too
        proposal = _route_proposal(locked, on=on, items=items)
        if proposal_kind is not None and proposal.kind != proposal_kind:
            raise InvalidInput(
                _(
                    "The power list changed since the proposal was shown: it now proposes to "
                    "%(now)s, not to %(shown)s. Look at the new proposal and confirm again."
                )
                % {"now": RouteKind(proposal.kind).label, "shown": RouteKind(proposal_kind).label}
            )
        version = proposal.catalogue_version
        case_event_record(
            case=locked,
            kind=EventKind.ROUTE,
            actor=actor,
            from_status=locked.status,
            to_status=locked.status,
            data={
                "held": [i.code for i in proposal.held],
                "items": [i.code for i in proposal.items],
                "reason": proposal.reason,
                "catalogue_version": version.number if version is not None else None,
            },
        )
        if proposal.kind == RouteKind.TEAM:
            case = case_dispatch(
                case=locked,
                actor=actor,
                target=DispatchTarget.TEAM,
                team=proposal.team,
                expected_version=expected_version,
            )
            power_usage_record(
                street=case.street,
                item=proposal.held[0],
                kind=UsageKind.USED,
                occurred_on=on,
                reference=case.number,
            )
        else:
            case = case_whistle(
                case=locked, actor=actor, items=proposal.items, expected_version=expected_version
            )
            for item in proposal.items:
                power_usage_record(
                    street=case.street,
                    item=item,
                    kind=UsageKind.WHISTLED,
                    occurred_on=on,
                    reference=case.number,
                )
    return case


def case_whistle(*, case: Case, actor, items, expected_version: int | None = None) -> Case:
    """Dispatch by whistle (吹哨): one call per owning department of ``items`` (1+6+N)."""
    departments = {}
    for item in items:
        departments.setdefault(item.department_id, item)
    with transaction.atomic():
        case = _transition(
            case,
            action=EventKind.DISPATCH,
            actor=actor,
            expected_version=expected_version,
            data={"target": DispatchTarget.DEPARTMENT, "departments": sorted(departments)},
            fields={"dispatch_target": DispatchTarget.DEPARTMENT, "team": None, "officer": None},
        )
        calls = []
        for item in departments.values():
            call = DepartmentCall.objects.create(
                case=case, department=item.department, power_item=item, called_by=actor
            )
            case_event_record(
                case=case,
                kind=EventKind.CALL,
                actor=actor,
                from_status=case.status,
                to_status=case.status,
                data={"call": call.pk, "department": item.department.code, "item": item.code},
            )
            timers_on_call(call=call, action=EventKind.CALL)
            calls.append(call)
        webhooks_on_whistle(case=case, calls=calls)
    return case


CALL_TRANSITIONS = {
    EventKind.CALL_REPORT_IN: ((CallStatus.CALLED,), CallStatus.REPORTED_IN),
    EventKind.CALL_ACCEPT: ((CallStatus.REPORTED_IN,), CallStatus.ACCEPTED),
    EventKind.CALL_COMPLETE: ((CallStatus.ACCEPTED,), CallStatus.COMPLETED),
    EventKind.CALL_RETURN: (
        (CallStatus.CALLED, CallStatus.REPORTED_IN, CallStatus.ACCEPTED),
        CallStatus.RETURNED,
    ),
}


def _call_transition(
    call: DepartmentCall, *, action: str, actor, expected_version=None, data=None, fields=None
) -> DepartmentCall:
    sources, target = CALL_TRANSITIONS[action]
    with transaction.atomic():
        case = Case.objects.select_for_update().get(
            pk=call.case_id
        )  # one writer of the case's chain
        current = DepartmentCall.objects.select_for_update().get(pk=call.pk)
        if expected_version is not None and current.version != expected_version:
            raise WorkflowError(_("The call was changed by someone else; reload it and try again."))
        if current.status not in sources:
            if current.status == target:
                return current
            raise WorkflowError(
                _("Cannot do that to a call that is %(status)s.")
                % {"status": str(CallStatus(current.status).label).lower()}
            )
        updated = DepartmentCall.objects.filter(pk=current.pk, version=current.version).update(
            status=target, version=F("version") + 1, **(fields or {})
        )
        if updated != 1:
            raise WorkflowError(_("The call was changed by someone else; reload it and try again."))
        case_event_record(
            case=case,
            kind=action,
            actor=actor,
            from_status=case.status,
            to_status=case.status,
            data={"call": current.pk, "department": current.department.code, **(data or {})},
        )
        current.refresh_from_db()
        timers_on_call(call=current, action=action)
        if target in (CallStatus.COMPLETED, CallStatus.RETURNED):
            _calls_settle(case, actor)
    return current


def call_report_in(
    *, call: DepartmentCall, actor, expected_version: int | None = None
) -> DepartmentCall:
    """The department reports in (报到)."""
    return _call_transition(
        call,
        action=EventKind.CALL_REPORT_IN,
        actor=actor,
        expected_version=expected_version,
        fields={"reported_in_at": timezone.now()},
    )


def call_accept(
    *, call: DepartmentCall, actor, expected_version: int | None = None
) -> DepartmentCall:
    return _call_transition(
        call, action=EventKind.CALL_ACCEPT, actor=actor, expected_version=expected_version
    )


def call_complete(
    *, call: DepartmentCall, actor, result: str, expected_version: int | None = None
) -> DepartmentCall:
    if not result.strip():
        raise InvalidInput(_("Describe the result."))
    return _call_transition(
        call,
        action=EventKind.CALL_COMPLETE,
        actor=actor,
        expected_version=expected_version,
        data={"result": result.strip()},
        fields={"completed_at": timezone.now(), "result": result.strip()},
    )


def call_return(
    *, call: DepartmentCall, actor, reason: str, expected_version: int | None = None
) -> DepartmentCall:
    """The department sends the case back (退回) with a reason; returns are counted per
    department."""
    if not reason.strip():
        raise InvalidInput(_("A return gives its reason."))
    return _call_transition(
        call,
        action=EventKind.CALL_RETURN,
        actor=actor,
        expected_version=expected_version,
        data={"reason": reason.strip()},
        fields={"return_reason": reason.strip()},
    )
