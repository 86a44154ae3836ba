"""Writes of the powers app: publishing catalogue versions, the adjustment chain, usage facts.
A published version is never changed: every change of a list is a new version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Region
from powers.choices import AdjustmentStatus, ChangeAction, PowerStatus, StepStatus
from powers.constants import DEFAULT_APPROVAL_CHAIN, DEFAULT_STEP_DAYS
from powers.models import (
    AdjustmentChange,
    AdjustmentRequest,
    ApprovalChain,
    ApprovalStep,
    CatalogueEntry,
    CatalogueVersion,
    PowerItem,
    PowerUsage,
)
from powers.permissions import adjustment_propose_check, step_decide_check
from powers.selectors import catalogue_latest, power_usage_report


def catalogue_publish(
    *,
    street: Region,
    items: Iterable[PowerItem],
    effective_on: date,
    notice_number: str,
    published_on: date | None = None,
    actor=None,
) -> CatalogueVersion:
    """Publish the next version of the street's list holding exactly ``items``. The number is the
    street's highest plus one, taken under a lock on the street's row (and the unique constraint
    behind it). Raises ValidationError for a missing notice number or a repealed item."""
    if not notice_number.strip():
        raise ValidationError(
            {"notice_number": _("A published list needs its notice number (文号).")}
        )
    items = list(items)
    repealed = [item.code for item in items if item.status == PowerStatus.REPEALED]
    if repealed:
        raise ValidationError(
            _("Repealed items cannot be granted: %(codes)s.") % {"codes": ", ".join(repealed)}
        )
    with transaction.atomic():
        Region.objects.select_for_update().get(pk=street.pk)
        number = (
            CatalogueVersion.objects.filter(street=street).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        version = CatalogueVersion.objects.create(
            street=street,
            number=number,
            effective_on=effective_on,
            published_on=published_on or timezone.localdate(),
            notice_number=notice_number.strip(),
            published_by=actor,
        )
        CatalogueEntry.objects.bulk_create(
            CatalogueEntry(version=version, item=item) for item in items
        )
    return version


def power_usage_record(
    *, street: Region, item: PowerItem, kind: str, occurred_on: date, reference: str
) -> PowerUsage:
    """Record that a case used a power, or met a matter whose power the street lacked. Recording
    the same fact of the same case again changes nothing (unique constraint)."""
    usage, _created = PowerUsage.objects.get_or_create(
        street=street,
        item=item,
        kind=kind,
        reference=reference,
        defaults={"occurred_on": occurred_on},
    )
    return usage


# --- adjustments ---------------------------------------------------------------------------------


def _chain(street: Region) -> tuple[list[str], int]:
    chain = ApprovalChain.objects.filter(district_id=street.parent_id).first()
    if chain is None:
        return list(DEFAULT_APPROVAL_CHAIN), DEFAULT_STEP_DAYS
    return list(chain.levels), chain.step_days


def adjustment_submit(
    *,
    street: Region,
    title: str,
    justification: str,
    adds: Iterable[PowerItem],
    revokes: Iterable[PowerItem],
    effective_on: date,
    actor,
) -> AdjustmentRequest:
    """Propose adding and revoking items of the street's list. The usage evidence of the last
    ZOMBIE_MONTHS months is attached; the first step of the district's chain decides first, with
    its deadline. Raises PermissionDenied when ``actor`` may not propose for the street
    (powers.permissions.adjustment_propose_check), ValidationError naming every item that cannot
    be added or revoked."""
    adjustment_propose_check(actor, street)
    adds, revokes = list(adds), list(revokes)
    errors = []
    if not title.strip() or not justification.strip():
        errors.append(_("A title and a justification are required."))
    if not adds and not revokes:
        errors.append(_("An adjustment adds or revokes at least one item."))
    latest = catalogue_latest(street=street)
    held = set(latest.entries.values_list("item_id", flat=True)) if latest else set()
    for item in adds:
        if item.pk in held:
            errors.append(_("%(code)s is already on the list.") % {"code": item.code})
        if item.status == PowerStatus.REPEALED:
            errors.append(_("%(code)s is repealed.") % {"code": item.code})
    for item in revokes:
        if item.pk not in held:
            errors.append(_("%(code)s is not on the list.") % {"code": item.code})
    both = {item.code for item in adds} & {item.code for item in revokes}
    if both:
        errors.append(
            _("Added and revoked at once: %(codes)s.") % {"codes": ", ".join(sorted(both))}
        )
    today = timezone.localdate()
    if effective_on < today:
        errors.append(_("The effective date cannot lie in the past."))
    if errors:
        raise ValidationError(errors)
    report = power_usage_report(street=street, start=today - timedelta(days=365), end=today)
    uses = {usage.item.code: usage.uses for usage in report.uses}
    unmet = {demand.item.code: demand.total for demand in report.unmet}
    evidence = {
        "period": [report.start.isoformat(), report.end.isoformat()],
        "items": {
            item.code: {"uses": uses.get(item.code, 0), "unmet": unmet.get(item.code, 0)}
            for item in adds + revokes
        },
        "zombies": [usage.item.code for usage in report.zombies],
    }
    levels, days = _chain(street)
    with transaction.atomic():
        request = AdjustmentRequest.objects.create(
            street=street,
            title=title.strip(),
            justification=justification.strip(),
            evidence=evidence,
            effective_on=effective_on,
            requested_by=actor,
        )
        AdjustmentChange.objects.bulk_create(
            [AdjustmentChange(request=request, item=item, action=ChangeAction.ADD) for item in adds]
            + [
                AdjustmentChange(request=request, item=item, action=ChangeAction.REVOKE)
                for item in revokes
            ]
        )
        ApprovalStep.objects.bulk_create(
            ApprovalStep(
                request=request,
                order=order,
                level=level,
                status=StepStatus.PENDING if order == 1 else StepStatus.WAITING,
                deadline=today + timedelta(days=days) if order == 1 else None,
            )
            for order, level in enumerate(levels, start=1)
        )
    return request


def _step_check(request: AdjustmentRequest, *, actor, level: str | None) -> ApprovalStep:
    """Lock the pending step and check who decides it, before anything else is said of the
    decision: ``level``, when given, must be that step's level, and ``actor`` its decider
    (powers.permissions.step_decide_check: PermissionDenied)."""
    step = _current_step(request)
    if level is not None and level != step.level:
        raise ValidationError(
            _("The %(level)s step decides now, not %(asked)s.")
            % {"level": step.get_level_display(), "asked": level}
        )
    step_decide_check(actor, request, step)
    return step


def _step_decide(step: ApprovalStep, *, status: str, actor, comment: str) -> None:
    step.status, step.decided_by, step.decided_at, step.comment = (
        status,
        actor,
        timezone.now(),
        comment.strip(),
    )
    step.save(update_fields=["status", "decided_by", "decided_at", "comment"])


def _current_step(request: AdjustmentRequest) -> ApprovalStep:
    if request.status != AdjustmentStatus.PENDING:
        raise ValidationError(
            _("The request is %(status)s; only a request under approval can be decided.")
            % {"status": request.get_status_display()}
        )
    return request.steps.select_for_update().get(status=StepStatus.PENDING)


def adjustment_approve(
    *,
    request: AdjustmentRequest,
    actor,
    comment: str = "",
    notice_number: str = "",
    level: str | None = None,
) -> AdjustmentRequest:
    """The pending step approves. The next step becomes pending with its deadline; the last
    approval publishes the new version (the latest version's items plus the additions minus the
    revocations) effective on the requested date, under ``notice_number``.

    ``level``, when given, must be the pending step's level: a caller acting for one level never
    decides another's step. Raises ValidationError, or PermissionDenied when ``actor`` is not
    the step's decider."""
    with transaction.atomic():
        request = AdjustmentRequest.objects.select_for_update().get(pk=request.pk)
        pending = _step_check(request, actor=actor, level=level)
        following = request.steps.filter(order__gt=pending.order).order_by("order").first()
        if following is None and not notice_number.strip():
            raise ValidationError(
                {
                    "notice_number": _(
                        "The final approval publishes the list: give its notice number (文号)."
                    )
                }
            )
        _step_decide(pending, status=StepStatus.APPROVED, actor=actor, comment=comment)
        if following is not None:
            _levels, days = _chain(request.street)
            following.status, following.deadline = (
                StepStatus.PENDING,
                timezone.localdate() + timedelta(days=days),
            )
            following.save(update_fields=["status", "deadline"])
            return request
        latest = catalogue_latest(street=request.street)
        held = set(latest.entries.values_list("item_id", flat=True)) if latest else set()
        adds = set(
            request.changes.filter(action=ChangeAction.ADD).values_list("item_id", flat=True)
        )
        revokes = set(
            request.changes.filter(action=ChangeAction.REVOKE).values_list("item_id", flat=True)
        )
        version = catalogue_publish(
            street=request.street,
            items=PowerItem.objects.filter(pk__in=(held | adds) - revokes),
            effective_on=request.effective_on,
            notice_number=notice_number,
            actor=actor,
        )
        request.status, request.published_version = AdjustmentStatus.PUBLISHED, version
        request.save(update_fields=["status", "published_version"])
    return request


def adjustment_reject(
    *, request: AdjustmentRequest, actor, comment: str, level: str | None = None
) -> AdjustmentRequest:
    """The pending step rejects, with a reason: the request ends, no version is published, the
    remaining steps are marked not reached. Raises ValidationError, or PermissionDenied when
    ``actor`` is not the step's decider."""
    with transaction.atomic():
        request = AdjustmentRequest.objects.select_for_update().get(pk=request.pk)
        pending = _step_check(request, actor=actor, level=level)
        if not comment.strip():
            raise ValidationError({"comment": _("A rejection gives its reason.")})
        _step_decide(pending, status=StepStatus.REJECTED, actor=actor, comment=comment)
        request.steps.filter(status=StepStatus.WAITING).update(status=StepStatus.SKIPPED)
        request.status = AdjustmentStatus.REJECTED
        request.save(update_fields=["status"])
    return request
