"""The administrative penalty procedure of enforcement-mode cases, as the Administrative Penalty
Law (2021) requires: filing within the limitation period (Art. 36), two officers with valid
certificates on every investigation step and decision (Art. 42), legal review before a major
decision (Art. 58), and the first-violation exemption suggested when it may apply (Art. 33).
Each step is a CaseEvent in the case's chain; the case's status is the workflow's business."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement.certificates import officers_certified
from enforcement.choices import EventKind, HandlingMode
from enforcement.constants import FIRST_VIOLATION_WINDOW_DAYS, MAJOR_FINE_YUAN
from enforcement.events import case_event_record
from enforcement.models import Case, Officer, PenaltyProceeding
from enforcement.permissions import penalty_decide_check, penalty_review_check
from enforcement.timers import timers_on_penalty
from enforcement.workflow import WorkflowError
from powers.models import PowerItem
from powers.selectors import street_holds_power


class PenaltyRefused(WorkflowError):
    code = "penalty_refused"


def _officers_valid(officers: Iterable[Officer], on: date) -> list[Officer]:
    """Art. 42: at least two officers holding certificates valid on ``on``."""
    valid, refusal = officers_certified(officers, on)
    if refusal:
        raise PenaltyRefused(refusal)
    return valid


def _record(case: Case, kind: str, actor, data: dict) -> None:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    case_event_record(
        case=locked,
        kind=kind,
        actor=actor,
        from_status=locked.status,
        to_status=locked.status,
        data=data,
    )
    # Art. 60's clocks start at filing and stop at the decision.
    timers_on_penalty(case=locked, action=kind)


def penalty_file(
    *,
    case: Case,
    actor,
    power_item: PowerItem,
    violation_on: date,
    officers: Iterable[Officer],
    filed_on: date | None = None,
) -> PenaltyProceeding:
    """File the case (立案) under ``power_item``. Refused for a case not in enforcement mode, a
    power the street does not hold that day, a violation beyond the limitation period (Art. 36)
    or fewer than two certified officers (Art. 42). Raises PenaltyRefused."""
    filed_on = filed_on or timezone.localdate()
    if case.handling_mode != HandlingMode.ENFORCEMENT:
        raise PenaltyRefused(_("Only a case handled by enforcement is filed for a penalty."))
    if PenaltyProceeding.objects.filter(case=case).exists():
        raise PenaltyRefused(_("The case is filed already."))
    if not street_holds_power(case.street, power_item, on=filed_on):
        raise PenaltyRefused(
            _("The street does not hold %(code)s on %(date)s: whistle the department that does.")
            % {"code": power_item.code, "date": filed_on}
        )
    if violation_on > filed_on:
        raise PenaltyRefused(_("The violation cannot lie after the filing date."))
    limit = violation_on + relativedelta(years=power_item.limitation_years)
    if filed_on > limit:
        raise PenaltyRefused(
            _(
                "The violation of %(violation)s is beyond the limitation period of %(years)d years "
                "(Administrative Penalty Law, Art. 36): no penalty may be given after %(limit)s."
            )
            % {"violation": violation_on, "years": power_item.limitation_years, "limit": limit}
        )
    officers = _officers_valid(officers, filed_on)
    with transaction.atomic():
        proceeding = PenaltyProceeding.objects.create(
            case=case, power_item=power_item, violation_on=violation_on, filed_on=filed_on
        )
        proceeding.officers.set(officers)
        _record(
            case,
            EventKind.PENALTY_FILE,
            actor,
            {
                "item": power_item.code,
                "violation_on": violation_on,
                "filed_on": filed_on,
                "officers": sorted(o.certificate_number for o in officers),
                "first_violation": penalty_first_violation(
                    case=case, power_item=power_item, on=violation_on
                ),
            },
        )
    return proceeding


def penalty_investigate(
    *,
    proceeding: PenaltyProceeding,
    actor,
    officers: Iterable[Officer],
    note: str,
    on: date | None = None,
) -> None:
    """Record an investigation step (inquiry, inspection, evidence taking) by at least two
    certified officers (Art. 42). Raises PenaltyRefused."""
    on = on or timezone.localdate()
    officers = _officers_valid(officers, on)
    if not note.strip():
        raise PenaltyRefused(_("Say what was done."))
    with transaction.atomic():
        _record(
            proceeding.case,
            EventKind.PENALTY_INVESTIGATE,
            actor,
            {
                "on": on,
                "officers": sorted(o.certificate_number for o in officers),
                "note": note.strip(),
            },
        )


def penalty_review(*, proceeding: PenaltyProceeding, reviewer, opinion: str) -> PenaltyProceeding:
    """Legal review (法制审核, Art. 58) by a legal reviewer who did not handle the case
    (enforcement.permissions.penalty_review_check). Raises PenaltyRefused."""
    refusal = penalty_review_check(reviewer, proceeding)
    if refusal:
        raise PenaltyRefused(refusal)
    if not opinion.strip():
        raise PenaltyRefused(_("A legal review gives its opinion."))
    with transaction.atomic():
        PenaltyProceeding.objects.filter(pk=proceeding.pk).update(
            reviewed_by=reviewer, reviewed_at=timezone.now(), review_opinion=opinion.strip()
        )
        _record(proceeding.case, EventKind.PENALTY_REVIEW, reviewer, {"opinion": opinion.strip()})
    proceeding.refresh_from_db()
    return proceeding


def _yuan(amount: Decimal) -> str:
    """500.00 → 500, 1234.50 → 1234.5: amounts as people write them."""
    return format(amount.normalize(), "f")


def penalty_is_major(proceeding: PenaltyProceeding, fine_yuan: Decimal | None) -> bool:
    return proceeding.power_item.is_major or (
        fine_yuan is not None and fine_yuan >= MAJOR_FINE_YUAN
    )


def penalty_decide(
    *,
    proceeding: PenaltyProceeding,
    actor,
    decision: str,
    officers: Iterable[Officer],
    fine_yuan: Decimal | None = None,
    on: date | None = None,
) -> PenaltyProceeding:
    """Decide, as the street's leader who did not review it (enforcement.permissions.
    penalty_decide_check). A major decision (a major item, or a fine of MAJOR_FINE_YUAN or more)
    needs the legal review first (Art. 58); a fine must lie within the item's range. Raises
    PenaltyRefused."""
    refusal = penalty_decide_check(actor, proceeding)
    if refusal:
        raise PenaltyRefused(refusal)
    on = on or timezone.localdate()
    officers = _officers_valid(officers, on)
    if proceeding.decided_on is not None:
        raise PenaltyRefused(_("The case is decided already."))
    if not decision.strip():
        raise PenaltyRefused(_("Write the decision."))
    item = proceeding.power_item
    if fine_yuan is not None and (
        (item.fine_min is not None and fine_yuan < item.fine_min)
        or (item.fine_max is not None and fine_yuan > item.fine_max)
    ):
        raise PenaltyRefused(
            _("A fine of %(fine)s yuan lies outside the range %(low)s–%(high)s yuan of %(code)s.")
            % {
                "fine": fine_yuan,
                "low": item.fine_min or 0,
                "high": item.fine_max or "∞",
                "code": item.code,
            }
        )
    if penalty_is_major(proceeding, fine_yuan) and proceeding.reviewed_at is None:
        raise PenaltyRefused(
            _(
                "A major penalty decision needs legal review first "
                "(Administrative Penalty Law, Art. 58)."
            )
        )
    with transaction.atomic():
        PenaltyProceeding.objects.filter(pk=proceeding.pk).update(
            decided_on=on, decision=decision.strip(), fine_yuan=fine_yuan
        )
        _record(
            proceeding.case,
            EventKind.PENALTY_DECIDE,
            actor,
            {
                "decision": decision.strip(),
                "fine_yuan": fine_yuan,
                "on": on,
                "officers": sorted(o.certificate_number for o in officers),
            },
        )
    proceeding.refresh_from_db()
    return proceeding


def penalty_first_violation(*, case: Case, power_item: PowerItem, on: date) -> bool:
    """Art. 33 (首违不罚): whether this may be the subject's first violation of the item — no
    earlier proceeding for the same subject and item within the window. A suggestion for the
    officer, never a decision; False when the subject is unknown."""
    if case.subject_id is None:
        return False
    since = on - timedelta(days=FIRST_VIOLATION_WINDOW_DAYS)
    return not (
        PenaltyProceeding.objects.filter(
            case__subject_id=case.subject_id,
            power_item=power_item,
            violation_on__gte=since,
            violation_on__lt=on,
        )
        .exclude(case=case)
        .exists()
    )
