"""The answer to a supervision (督办回复), by whom it addresses."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement.choices import EventKind, SupervisionState, TimerState
from enforcement.events import case_event_record
from enforcement.models import Case, Supervision, Timer
from enforcement.models.timers import LIVE_STATES
from enforcement.permissions import supervision_respond_allowed


class SupervisionClosed(Exception):
    """The supervision is no longer open (answered, escalated or closed): it takes no answer."""


def supervision_answer(*, supervision: Supervision, actor, response: str) -> Supervision:
    """The addressee answers (督办回复): the supervision is answered and its escalation clock
    stops. The late stage's own timer has fired already; the work itself goes on through the
    workflow. Only its addressee answers (enforcement.permissions.supervision_respond_allowed:
    PermissionDenied). Raises ValueError for an empty answer, SupervisionClosed when the
    supervision is not open (any more: an escalation between reading and answering included)."""
    if not supervision_respond_allowed(actor, supervision):
        raise PermissionDenied(_("This supervision is addressed to someone else."))
    if not response.strip():
        raise ValueError(_("An answer says what was done."))
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=supervision.case_id)
        updated = Supervision.objects.filter(pk=supervision.pk, state=SupervisionState.OPEN).update(
            state=SupervisionState.ANSWERED,
            answered_at=now,
            answered_by=actor,
            response=response.strip(),
        )
        if not updated:
            supervision.refresh_from_db()
            raise SupervisionClosed(
                _("This supervision is %(state)s and can no longer be answered.")
                % {"state": supervision.get_state_display()}
            )
        Timer.objects.filter(supervision=supervision, state__in=LIVE_STATES).update(
            state=TimerState.CANCELLED, ended_at=now, next_at=None
        )
        case_event_record(
            case=case,
            kind=EventKind.SUPERVISION_ANSWER,
            actor=actor,
            from_status=case.status,
            to_status=case.status,
            data={"supervision": supervision.pk, "response": response.strip()},
        )
    supervision.refresh_from_db()
    return supervision
