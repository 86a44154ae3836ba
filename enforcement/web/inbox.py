"""Reads of the department's calls inbox (部门来单): the calls whistled to the departments a
user holds, each with its running clock, for the liaison's start page (enforcement.views.inbox).

Only the user's own departments' calls: seeing a case (through one's own call of it, or through
a street) shows its other departments' calls on the case page, never in one's inbox, where every
row is one to answer. A superuser's inbox holds every department's calls. The case's public
facts only: the reporter's name and phone are not read, and personal numbers typed into the
description or the address are masked (Personal Information Protection Law, Art. 6: the
department needs the place and the matter, not who reported it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from enforcement.choices import CallStatus, EventKind, TimerStage
from enforcement.models import DepartmentCall, Timer
from enforcement.permissions import action_allowed, call_answer_allowed, scope_of
from enforcement.privacy import personal_numbers_mask
from enforcement.selectors import LIVE_TIMER_STATES, call_list
from enforcement.workflow import CALL_TRANSITIONS
from powers.models import Department

OPEN_STATUSES = (CallStatus.CALLED, CallStatus.REPORTED_IN, CallStatus.ACCEPTED)
DONE_STATUSES = (CallStatus.COMPLETED, CallStatus.RETURNED)
# A call's own clocks: to report in while called, to complete once reported in (timers_on_call).
CALL_STAGES = (TimerStage.CALL_REPORT_IN, TimerStage.CALL_COMPLETE)
PAGE_SIZE = 50

# The inbox's actions (the URL's <action>) and the call transition each is, in the order a row
# offers them: the step forward first, the return last.
CALL_ACTIONS: dict[str, str] = {
    "report_in": EventKind.CALL_REPORT_IN,
    "accept": EventKind.CALL_ACCEPT,
    "complete": EventKind.CALL_COMPLETE,
    "return": EventKind.CALL_RETURN,
}
# Never read for the inbox: the reporter (not even into memory), and the cell's polygon (the
# inbox names the cell, it does not draw it).
_UNREAD_FIELDS = (
    "case__reporter_name",
    "case__reporter_phone_encrypted",
    "case__reporter_phone_masked",
    "case__cell__geometry",
)


def inbox_allowed(user) -> bool:
    """Whether ``user`` has an inbox: a superuser, or a department liaison holding at least one
    department (enforcement.permissions: ``view_department_cases`` granted on it)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(scope_of(user).departments) and action_allowed(user, "call_answer")


def inbox_check(user) -> None:
    """Raises PermissionDenied unless ``inbox_allowed``."""
    if not inbox_allowed(user):
        raise PermissionDenied(_("The calls inbox is a department liaison's page."))


def inbox_departments(*, user) -> list[Department]:
    """The departments whose calls ``user``'s inbox holds, by code (every one for a superuser)."""
    departments = Department.objects.order_by("code").only("code", "name")
    if user.is_superuser:
        return list(departments)
    return list(departments.filter(pk__in=scope_of(user).departments))


def _own(queryset: QuerySet[DepartmentCall], user) -> QuerySet[DepartmentCall]:
    if user.is_superuser:
        return queryset
    return queryset.filter(department__in=scope_of(user).departments)


def calls_with_clock(queryset: QuerySet[DepartmentCall]) -> QuerySet[DepartmentCall]:
    """Each call with its running clock: ``clock_due``, ``clock_warn`` and ``clock_stage`` of
    its live timer due first (report in, then complete; None when none runs: the call is done,
    no policy covers its stage, or the case is suspended and its clocks paused)."""
    live = Timer.objects.filter(
        call=OuterRef("pk"), stage__in=CALL_STAGES, state__in=LIVE_TIMER_STATES
    ).order_by("due_at", "pk")
    return queryset.annotate(
        clock_due=Subquery(live.values("due_at")[:1]),
        clock_warn=Subquery(live.values("warn_at")[:1]),
        clock_stage=Subquery(live.values("stage")[:1]),
    )


def inbox_calls(*, user, done: bool) -> QuerySet[DepartmentCall]:
    """The calls of ``user``'s departments: the open ones (called, reported in, taken on) the
    most urgent first (the earliest running deadline), then those without a clock, newest
    first; or, ``done``, the completed and returned ones, newest call first. With the case, its
    matter type and cell, the department and the power item: one query for a page of them."""
    calls = _own(call_list(user=user), user).filter(
        status__in=DONE_STATUSES if done else OPEN_STATUSES
    )
    calls = calls.select_related("case__matter_type", "case__cell").defer(*_UNREAD_FIELDS)
    if done:
        return calls.order_by("-called_at", "-pk")
    return calls_with_clock(calls).order_by(
        F("clock_due").asc(nulls_last=True), "-called_at", "-pk"
    )


def inbox_counts(*, user) -> dict[str, int]:
    """How many calls of ``user``'s departments are open and done, in one query
    (enforcement_call_inbox)."""
    counts = _own(DepartmentCall.objects.all(), user).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        done=Count("pk", filter=Q(status__in=DONE_STATUSES)),
    )
    return {name: counts[name] or 0 for name in ("open", "done")}


@dataclass
class InboxPage:
    rows: list[DepartmentCall]
    number: int
    has_next: bool


def inbox_page(*, user, done: bool, number: int = 1) -> InboxPage:
    """Page ``number`` (from 1) of ``inbox_calls``, PAGE_SIZE calls, in one query (one row more
    than shown says whether a next page exists). An inbox holds tens of calls, not thousands:
    an offset costs nothing here, and the urgency order has no stable key to page by."""
    number = max(number, 1)
    start = (number - 1) * PAGE_SIZE
    rows = list(inbox_calls(user=user, done=done)[start : start + PAGE_SIZE + 1])
    page = InboxPage(rows=rows[:PAGE_SIZE], number=number, has_next=len(rows) > PAGE_SIZE)
    for call in page.rows:
        call_public_facts(call)
    return page


def inbox_call_get(*, user, pk: int) -> DepartmentCall:
    """A call ``user`` may see, open or done, as the inbox shows it (Http404 otherwise): whether
    it is theirs to answer is ``call_answer_allowed``'s to say (a call of another department of a
    case the user sees is a 403, one they may not see a 404)."""
    calls = calls_with_clock(
        call_list(user=user).select_related("case__matter_type", "case__cell")
    ).defer(*_UNREAD_FIELDS)
    return call_public_facts(get_object_or_404(calls, pk=pk))


def call_public_facts(call: DepartmentCall) -> DepartmentCall:
    """Set ``public_description`` and ``public_address`` on ``call``: its case's, with personal
    numbers masked."""
    call.public_description = personal_numbers_mask(call.case.description)
    call.public_address = personal_numbers_mask(call.case.address)
    return call


def call_actions_available(user, call: DepartmentCall) -> list[str]:
    """The inbox actions ``user`` may take on ``call`` now: those the call's status allows
    (workflow.CALL_TRANSITIONS), when the call is theirs to answer."""
    if not call_answer_allowed(user, call):
        return []
    return [name for name, kind in CALL_ACTIONS.items() if call.status in CALL_TRANSITIONS[kind][0]]
