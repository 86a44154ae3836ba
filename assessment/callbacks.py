"""Callbacks (回访): after a case closes, a sample of the cases with a reporter phone is called
back; the answers give 解决率 and 满意率 (assessment.kpis), and "not solved" sends the case back
for rework through the workflow.

- The draw: once per street and closing day, after the day ends (``callbacks_draw``, a beat
  task). A case is drawn when the SHA-256 of ``"<seed>:<case number>"``, read as a fraction of
  2^64, falls under the rate (settings.CALLBACK_RATE); a 12345 work order always (seed 002: the
  hotline calls every one back). The seed is recorded with the draw, so the sample is drawn
  again from the seed alone, case by case (``callback_sample``), whatever else changed.
- Never to anyone who handled the case: the people of its history (every event's actor), its
  officer and its reporter (``case_handlers``) do not see its callback in their list and may
  not record it.
- Recording: reached or unreachable; if reached, solved / partly / not solved and satisfied /
  basically / unsatisfied, with a note. Each answer is a CaseEvent; the phone is read through
  enforcement.services.case_reporter_phone_reveal (recorded), by the callback role alone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.choices import CallbackState, Satisfaction, Solved
from assessment.models import Callback, CallbackDraw
from core.choices import Role
from core.selectors import role_names
from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus, EventKind
from enforcement.events import case_event_record
from enforcement.models import Case, CaseEvent
from enforcement.permissions import scope_of
from grids.choices import RegionLevel
from grids.models import Region

ALWAYS = (CaseSource.HOTLINE_12345,)  # every one called back
# The callback's own steps in a case's history: whoever took them did not handle the case.
CALLBACK_KINDS = (EventKind.CALLBACK, EventKind.CALLBACK_REWORK, EventKind.PHONE_REVEAL)


def callback_sample(*, seed: str, rate: Decimal, number: str, source: str) -> bool:
    """Whether the case numbered ``number`` is in the sample of the draw with ``seed``."""
    if source in ALWAYS:
        return True
    digest = hashlib.sha256(f"{seed}:{number}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64) < rate


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _closed_on(street: Region, day: date) -> QuerySet[Case]:
    """The street's cases closed (verified) on ``day`` and closed still, with a reporter phone."""
    start, end = _day_bounds(day)
    verified = CaseEvent.objects.filter(kind=EventKind.VERIFY, at__gte=start, at__lt=end)
    return (
        Case.objects.filter(street=street, status=CaseStatus.CLOSED, pk__in=verified.values("case"))
        .exclude(reporter_phone_encrypted="")
        .order_by("number")
    )


def callbacks_draw(
    *, street: Region, day: date, seed: str | None = None, rate: Decimal | None = None
) -> CallbackDraw:
    """Draw ``day``'s callbacks of ``street`` (once: a second call returns the first draw)."""
    existing = CallbackDraw.objects.filter(street=street, day=day).first()
    if existing is not None:
        return existing
    seed = seed or secrets.token_hex(16)
    rate = Decimal(str(settings.CALLBACK_RATE)) if rate is None else rate
    now = timezone.now()
    cases = list(_closed_on(street, day).only("pk", "number", "source"))
    chosen = [
        c for c in cases if callback_sample(seed=seed, rate=rate, number=c.number, source=c.source)
    ]
    try:
        with transaction.atomic():
            draw = CallbackDraw.objects.create(
                street=street,
                day=day,
                seed=seed,
                rate=rate,
                candidates=len(cases),
                drawn=len(chosen),
                drawn_at=now,
            )
            Callback.objects.bulk_create(
                [Callback(case=c, draw=draw, drawn_at=now) for c in chosen],
                ignore_conflicts=True,  # a case closed twice (reworked) is called back once
            )
    except IntegrityError:
        return CallbackDraw.objects.get(street=street, day=day)  # drawn meanwhile
    return draw


def callbacks_draw_due(*, now: datetime | None = None, days_back: int = 7) -> int:
    """The beat task's work: draw every street's callbacks for each of the last ``days_back``
    days that ended and has no draw yet. Returns how many draws were made."""
    today = timezone.localdate(now or timezone.now())
    made = 0
    for street in Region.objects.filter(level=RegionLevel.STREET).order_by("code"):
        for back in range(1, days_back + 1):
            day = today - timedelta(days=back)
            if not CallbackDraw.objects.filter(street=street, day=day).exists():
                callbacks_draw(street=street, day=day)
                made += 1
    return made


def case_handlers(case: Case) -> set[int]:
    """The users who handled ``case``: every actor of its history (but of the callback's own
    steps and phone readings), its officer, its reporter."""
    ids = set(
        case.events.exclude(actor=None)
        .exclude(kind__in=CALLBACK_KINDS)
        .values_list("actor_id", flat=True)
    )
    if case.officer_id:
        ids.add(case.officer.user_id)
    if case.reported_by_id:
        ids.add(case.reported_by_id)
    return ids


def callback_caller_check(user) -> None:
    """The callback list and its answers are the callback role's (PermissionDenied)."""
    if not (user.is_superuser or Role.CALLBACK_CALLER in role_names(user)):
        raise PermissionDenied(_("Callbacks are made by the callback role."))


def callbacks_for(user) -> QuerySet[Callback]:
    """The callbacks ``user`` (a caller) may make: of the streets granted to them, never of a
    case whose history holds them (their own work is not theirs to assess)."""
    callback_caller_check(user)
    scope = scope_of(user)
    callbacks = Callback.objects.all()
    if not scope.everything:
        callbacks = callbacks.filter(case__street_id__in=scope.streets)
    handled = CaseEvent.objects.filter(actor=user).exclude(kind__in=CALLBACK_KINDS).values("case")
    return (
        callbacks.exclude(case__in=handled)
        .exclude(Q(case__officer__user=user) | Q(case__reported_by=user))
        .select_related("case", "case__matter_type", "case__street", "draw")
    )


@dataclass(frozen=True)
class CallbackAnswer:
    reached: bool
    solved: str = ""
    satisfaction: str = ""
    note: str = ""


def callback_record(*, callback: Callback, caller, answer: CallbackAnswer) -> Callback:
    """Record the call. Refused (PermissionDenied) to anyone but a caller who did not handle the
    case; refused (workflow.InvalidInput) when answered already or incomplete. "Not solved"
    sends the case back for rework (workflow.case_rework_after_callback)."""
    callback_caller_check(caller)
    if caller.pk in case_handlers(callback.case):
        raise PermissionDenied(_("You handled this case: its callback is someone else's."))
    if answer.reached and (
        answer.solved not in Solved.values or answer.satisfaction not in Satisfaction.values
    ):
        raise workflow.InvalidInput(_("Say whether it is solved and how satisfied they are."))
    with transaction.atomic():
        locked = Callback.objects.select_for_update().get(pk=callback.pk)
        if locked.state != CallbackState.WAITING:
            raise workflow.InvalidInput(_("This callback was recorded already."))
        locked.state = CallbackState.ANSWERED if answer.reached else CallbackState.UNREACHABLE
        locked.caller = caller
        locked.called_at = timezone.now()
        locked.solved = answer.solved if answer.reached else ""
        locked.satisfaction = answer.satisfaction if answer.reached else ""
        locked.note = answer.note.strip()
        locked.save()
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        case_event_record(
            case=case,
            kind=EventKind.CALLBACK,
            actor=caller,
            from_status=case.status,
            to_status=case.status,
            data={
                "callback": locked.pk,
                "reached": answer.reached,
                "solved": locked.solved,
                "satisfaction": locked.satisfaction,
                "note": locked.note,
            },
        )
        if answer.reached and answer.solved == Solved.NOT_SOLVED:
            workflow.case_rework_after_callback(
                case=case, actor=caller, callback_id=locked.pk, note=locked.note
            )
    return locked
