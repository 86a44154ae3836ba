"""The closed loop's clock: timers started and stopped by the workflow, and the sweeper that warns
and fires them, each exactly once.

Timers are rows, never Celery countdowns (STYLE.md 5). The workflow calls ``timers_on_transition``
inside the transaction of each transition, holding the case lock, so a timer exists exactly when its
stage is under way. ``timers_fire_due`` (run by beat through ``timers_sweep_task``) takes the timers
whose ``next_at`` has passed in due order and claims them by a conditional UPDATE on their state and
``next_at`` whose RETURNING names the timers won, which holds on SQLite as on PostgreSQL; on
PostgreSQL the batch is read with ``FOR UPDATE SKIP LOCKED`` so that sweepers running at once split
the work instead of queueing. A claim and its effects (the supervision, the case event, the
notification) commit together: a sweeper killed mid-batch leaves nothing half-done, and the next
sweep fires what it did not."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from cachetools import TTLCache, cached
from django.conf import settings
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import instance_insert, rows_insert
from core.constants import REFERENCE_MAX_AGE
from core.notifications import NotificationMessage, notifications_send
from enforcement.addressees import (
    Addressee,
    addressee_of,
    addressee_recipients,
    supervision_addressee,
)
from enforcement.choices import (
    DispatchTarget,
    EventKind,
    Severity,
    SupervisionState,
    TimerStage,
    TimerState,
)
from enforcement.constants import TOP_LEVEL
from enforcement.deadlines import TimerTimes, timer_times
from enforcement.events import EventEntry, case_events_record
from enforcement.models import Case, DepartmentCall, SlaPolicy, Supervision, Timer
from enforcement.models.timers import LIVE_STATES, SWEPT_STATES
from enforcement.permissions import CaseAudience
from enforcement.webhooks import SupervisionOpened, webhooks_on_supervisions

logger = logging.getLogger(__name__)

T = TimerStage
# Stages whose deadline only notifies (no supervision).
NOTICE_ONLY = {T.PENALTY_NOTICE}


# --- policies and deadlines ---


def sla_policy_for(*, case: Case, stage: str) -> SlaPolicy | None:
    """The most specific policy of ``stage`` for ``case``: a source match (12345) first, then the
    matter type, then the severity; None when no policy covers the stage (no timer then). The
    policies are those in force at most REFERENCE_MAX_AGE seconds ago (kept per process, like
    the calendar's overrides), so an edit in the admin applies to timers started from then on."""
    return _policy_pick(stage_policies(stage), case)


@cached(cache=TTLCache(maxsize=64, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def stage_policies(stage: str) -> tuple[SlaPolicy, ...]:
    """Every SLA policy of ``stage``, kept per process for REFERENCE_MAX_AGE seconds; shared
    between threads: read them, never change them."""
    return tuple(SlaPolicy.objects.filter(stage=stage))


def sla_policies_changed() -> None:
    """Forget this process's kept policies once the current transaction commits (whoever edits
    the policies calls it; other processes read them again within REFERENCE_MAX_AGE)."""
    transaction.on_commit(stage_policies.cache_clear)


def _policy_pick(policies, case: Case) -> SlaPolicy | None:
    """Of ``policies`` (one stage's), the most specific that covers ``case``."""
    return max(
        (
            p
            for p in policies
            if p.matter_type_id in (None, case.matter_type_id)
            and p.severity in ("", case.severity)
            and p.source in ("", case.source)
        ),
        key=lambda p: (p.source != "", p.matter_type_id is not None, p.severity != ""),
        default=None,
    )


def _stages_at_start(case: Case, action: str) -> list[str]:
    """The case-level stages a transition starts."""
    major = case.severity == Severity.MAJOR
    if action == EventKind.INTAKE:
        return [T.ACCEPT]
    if action in (
        EventKind.ACCEPT,
        EventKind.REOPEN,
        EventKind.CALLBACK_REWORK,
        EventKind.CALLS_RETURNED,
    ):
        return [T.DISPATCH]
    if action == EventKind.DISPATCH:
        if case.dispatch_target == DispatchTarget.DEPARTMENT:
            return []  # the calls have their own timers
        # Seed 001: on scene in 30 minutes; a major case has an opinion in a day and a result
        # in 15 days from dispatch, an ordinary one a result 30 minutes after arrival.
        return [T.ARRIVE, T.OPINION, T.RESOLVE] if major else [T.ARRIVE]
    if action == EventKind.ARRIVE:
        return [] if major else [T.RESOLVE]
    if action in (EventKind.RESOLVE, EventKind.CALLS_DONE):
        return [T.VERIFY]
    return []


# Case-level stages each transition ends (None: every live timer of the case, calls and
# supervisions included).
_STAGES_ENDED: dict[str, list[str] | None] = {
    EventKind.ACCEPT: [T.ACCEPT],
    EventKind.REJECT: None,
    EventKind.MERGE: None,
    EventKind.TRANSFER: None,
    EventKind.VERIFY: None,
    EventKind.DISPATCH: [T.DISPATCH],
    EventKind.ARRIVE: [T.ARRIVE],
    EventKind.RESOLVE: [T.ARRIVE, T.OPINION, T.RESOLVE],
    EventKind.CALLS_DONE: [T.ARRIVE, T.OPINION, T.RESOLVE],
    EventKind.REOPEN: [T.VERIFY],
}


def timer_start(
    *,
    case: Case,
    stage: str,
    now: datetime,
    call: DepartmentCall | None = None,
    supervision: Supervision | None = None,
) -> Timer | None:
    """Start the timer of ``stage`` by the policy in force now; None when no policy covers it.
    Ends a live timer of the same stage and owner first, so a stage has one live timer."""
    timer = _timer_planned(case=case, stage=stage, now=now, call=call)
    if timer is None:
        return None
    _live(case, [stage], call=call, supervision=supervision).update(
        state=TimerState.CANCELLED, ended_at=now, next_at=None
    )
    timer.supervision = supervision
    instance_insert(timer)
    return timer


def intake_timers_build(*, case: Case, now: datetime) -> list[Timer]:
    """The timers an intake starts, unsaved: its case has none to end yet, and on PostgreSQL
    they are written in the statement that writes the case (enforcement.services)."""
    planned = (
        _timer_planned(case=case, stage=stage, now=now)
        for stage in _stages_at_start(case, EventKind.INTAKE)
    )
    return [timer for timer in planned if timer is not None]


def _timer_planned(*, case: Case, stage: str, now: datetime, call=None) -> Timer | None:
    """The unsaved timer of ``stage`` by the policy in force now; None (logged) when no policy
    covers it."""
    policy = sla_policy_for(case=case, stage=stage)
    if policy is None:
        logger.warning("no SLA policy for stage %s of case %s: no timer", stage, case.number)
        return None
    return _timer_build(case=case, stage=stage, policy=policy, now=now, call=call)


def _timer_times(policy: SlaPolicy, now: datetime) -> TimerTimes:
    """The times of a timer started ``now`` under ``policy``."""
    return timer_times(
        start=now, amount=policy.amount, unit=policy.unit, warn_percent=policy.warn_percent
    )


def _timer_build(*, case: Case, stage: str, policy: SlaPolicy, now: datetime, call=None) -> Timer:
    """The unsaved timer of ``stage`` started ``now`` under ``policy``."""
    times = _timer_times(policy, now)
    return Timer(
        case=case,
        call=call,
        stage=stage,
        policy=policy,
        started_at=now,
        amount=policy.amount,
        unit=policy.unit,
        warn_at=times.warn,
        due_at=times.due,
        provisional=times.provisional,
        next_at=times.warn or times.due,
    )


def _live(case: Case, stages, *, call=None, supervision=None):
    timers = Timer.objects.filter(case=case, state__in=LIVE_STATES)
    if stages is not None:
        timers = timers.filter(stage__in=stages, call=call, supervision=supervision)
    return timers


def timers_cancel(
    *, case: Case, stages: list[str] | None, now: datetime, call: DepartmentCall | None = None
) -> int:
    """End the live timers of ``stages`` (None: every live timer of the case). Their stage is
    done, so open supervisions of it close and their answer timers end too."""
    ended = _live(case, stages, call=call).update(
        state=TimerState.CANCELLED, ended_at=now, next_at=None
    )
    # The stage's timer may have fired already: its supervisions close all the same.
    supervisions = Supervision.objects.filter(case=case, state=SupervisionState.OPEN)
    if stages is not None:
        supervisions = supervisions.filter(stage__in=stages, call=call)
    closing = list(supervisions.values_list("pk", flat=True))
    if closing:
        Supervision.objects.filter(pk__in=closing).update(state=SupervisionState.CLOSED)
        Timer.objects.filter(supervision__in=closing, state__in=LIVE_STATES).update(
            state=TimerState.CANCELLED, ended_at=now, next_at=None
        )
    return ended


def timers_pause(*, case: Case, now: datetime) -> None:
    """Suspension (中止) stops the clocks of the case and keeps what was left of each."""
    for timer in Timer.objects.filter(case=case, state__in=SWEPT_STATES):
        Timer.objects.filter(pk=timer.pk, state=timer.state).update(
            state=TimerState.PAUSED,
            next_at=None,
            due_left=timer.due_at - now,
            warn_left=(
                timer.warn_at - now if timer.state == TimerState.PENDING and timer.warn_at else None
            ),
        )


def timers_resume(*, case: Case, now: datetime) -> None:
    """Resumption restarts each paused clock with the time it had left (late ones fire at once)."""
    for timer in Timer.objects.filter(case=case, state=TimerState.PAUSED):
        due = now + timer.due_left
        warn = now + timer.warn_left if timer.warn_left is not None else None
        state = TimerState.WARNED if timer.warned_at else TimerState.PENDING
        Timer.objects.filter(pk=timer.pk, state=TimerState.PAUSED).update(
            state=state,
            due_at=due,
            warn_at=warn if warn is not None else timer.warn_at,
            next_at=due if state == TimerState.WARNED or warn is None else warn,
            due_left=None,
            warn_left=None,
            resumed_at=now,
        )


def timers_on_transition(*, case: Case, action: str) -> None:
    """Called by enforcement.workflow in the transaction of each transition of ``case`` (its
    new state loaded), holding the case lock."""
    now = timezone.now()
    if action == EventKind.SUSPEND:
        timers_pause(case=case, now=now)
        return
    if action == EventKind.RESUME:
        timers_resume(case=case, now=now)
        return
    if action == EventKind.INTAKE:
        for timer in intake_timers_build(case=case, now=now):
            instance_insert(timer)
        return
    if action in _STAGES_ENDED:
        timers_cancel(case=case, stages=_STAGES_ENDED[action], now=now)
    for stage in _stages_at_start(case, action):
        timer_start(case=case, stage=stage, now=now)


def timers_on_call(*, call: DepartmentCall, action: str) -> None:
    """Called by the call transitions (and the whistle) in their transaction."""
    now = timezone.now()
    case = call.case
    if action == EventKind.CALL:
        timer_start(case=case, stage=T.CALL_REPORT_IN, now=now, call=call)
    elif action == EventKind.CALL_REPORT_IN:
        timers_cancel(case=case, stages=[T.CALL_REPORT_IN], now=now, call=call)
        timer_start(case=case, stage=T.CALL_COMPLETE, now=now, call=call)
    elif action in (EventKind.CALL_COMPLETE, EventKind.CALL_RETURN):
        timers_cancel(case=case, stages=[T.CALL_REPORT_IN, T.CALL_COMPLETE], now=now, call=call)


def timers_on_penalty(*, case: Case, action: str) -> None:
    """Art. 60: a decision within 90 days of filing (自立案之日起九十日内). The clocks start at
    filing and stop at the decision. The day of filing is not counted (as periods are): they run
    from the start of the next day, so the 90th day ends the period."""
    now = timezone.now()
    if action == EventKind.PENALTY_FILE:
        filed_on = case.proceeding.filed_on
        start = timezone.make_aware(datetime.combine(filed_on + timedelta(days=1), time.min))
        timer_start(case=case, stage=T.PENALTY_NOTICE, now=start)
        timer_start(case=case, stage=T.PENALTY_DECISION, now=start)
    elif action == EventKind.PENALTY_DECIDE:
        timers_cancel(case=case, stages=[T.PENALTY_NOTICE, T.PENALTY_DECISION], now=now)


# --- the sweeper ---


@dataclass
class SweepReport:
    warned: int = 0
    fired: int = 0
    skipped: int = 0
    lateness: list[timedelta] = field(default_factory=list)


@dataclass
class _Batch:
    """What one batch's transaction gathers, to write it with a few bulk statements: the
    supervisions to open and the notifications to send, and the reads it caches (who may see
    its cases: ``audience``)."""

    now: datetime
    report: SweepReport
    openings: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    audience: CaseAudience = field(default_factory=CaseAudience)
    deadlines: dict = field(default_factory=dict)
    # (case number, addressee label) of the notifications nobody who may see the case got
    unheard: list = field(default_factory=list)


@dataclass
class _Opening:
    case: Case
    timer: Timer
    stage: str
    call: DepartmentCall | None
    level: int
    previous: Supervision | None = None


def timers_fire_due(*, batch_size: int | None = None, case: Case | None = None) -> SweepReport:
    """Warn and fire every timer whose ``next_at`` has passed, in due order, batch by batch, each
    exactly once. Safe to run in several processes at once. Returns what it did. ``case``: only
    that case's timers (the demo replays its history one case at a time).

    Each batch is one transaction: its timers are read in due order (FOR UPDATE SKIP LOCKED on
    PostgreSQL, through the partial index ``enforcement_timer_sweep``), their cases locked with
    one statement (skipping a case someone is changing: its timers come again next sweep), the
    timers claimed by conditional UPDATEs whose RETURNING says which this sweeper won, and the
    effects of the fired ones (supervisions, case events, answer timers, notifications) written
    in bulk. A constant number of statements per batch, not a dozen per timer."""
    batch_size = batch_size or settings.TIMER_SWEEP_BATCH
    report = SweepReport()
    while True:
        now = timezone.now()
        with transaction.atomic():
            due = Timer.objects.filter(state__in=SWEPT_STATES, next_at__lte=now).order_by(
                "next_at", "id"
            )
            if case is not None:
                due = due.filter(case=case)
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True, no_key=True)
            # No joins: the plan stays an index scan of the partial index; the cases are read
            # (and locked) next, the calls and supervisions only for the timers that have one.
            batch = list(due[:batch_size])
            done_before = report.warned + report.fired
            _batch_handle(batch, _Batch(now=now, report=report))
        if len(batch) < batch_size:
            return report
        if report.warned + report.fired == done_before:
            # A full batch of timers whose cases are all held by someone else (or won by another
            # sweeper): reading it again at once would only spin. The next sweep takes them.
            return report


def _batch_handle(timers: list[Timer], batch: _Batch) -> None:
    now, report = batch.now, batch.report
    cases = _cases_lock({timer.case_id for timer in timers})
    _owners_load([timer for timer in timers if timer.case_id in cases])
    batch.audience.add(cases.values())  # read together, at the first notification
    warns, fires = [], []
    for timer in timers:
        case = cases.get(timer.case_id)
        if case is None:
            report.skipped += 1  # someone is changing the case: next sweep
            continue
        timer.case = case
        if timer.state == TimerState.PENDING and timer.warn_at and now < timer.due_at:
            warns.append(timer)
        else:
            fires.append(timer)
    warned = _timers_claim(
        warns,
        states=[TimerState.PENDING],
        sets={"state": TimerState.WARNED, "warned_at": now, "next_at": "due_at"},
        now=now,
    )
    for timer in warns:
        if timer.pk in warned:
            report.warned += 1
            _warning_send(timer, batch)
    fired = _timers_claim(
        fires,
        states=SWEPT_STATES,
        sets={"state": TimerState.FIRED, "fired_at": now, "next_at": None, "lateness": now},
        now=now,
    )
    for timer in fires:
        if timer.pk not in fired:
            continue  # another sweeper, or the workflow, changed it since it was read
        lateness = now - timer.due_at
        report.fired += 1
        report.lateness.append(lateness)
        if timer.stage in NOTICE_ONLY:
            _warning_send(timer, batch)
        elif timer.stage == T.SUPERVISION_RESPONSE:
            _supervision_escalate(timer, batch)
        else:
            batch.openings.append(
                _Opening(case=timer.case, timer=timer, stage=timer.stage, call=timer.call, level=1)
            )
    _supervisions_open(batch)
    if batch.messages:
        notifications_send(messages=batch.messages)
    if batch.unheard:
        logger.warning(
            "%d notification(s) found nobody of their addressee who may see the case, e.g. %s: "
            "grant the addressees the case's street, cell, team or department",
            len(batch.unheard),
            "; ".join(f"{number} ({label})" for number, label in batch.unheard[:5]),
        )


SWEEP_CASE_FIELDS = (
    "number",
    "status",
    "street",
    "cell",
    "officer",
    "team",
    "reported_by",
    "dispatch_target",
    "matter_type",
    "severity",
    "source",
    "version",
)


def _cases_lock(case_ids: set[int]) -> dict[int, Case]:
    # Only what the sweeper reads (a Case has thirty-odd columns, built into 500 instances).
    cases = Case.objects.filter(pk__in=case_ids).only(*SWEEP_CASE_FIELDS)
    if connection.vendor == "postgresql":
        # Never wait for a case a person is changing: a workflow transaction holding the case
        # may be waiting for this timer's row, and waiting here would deadlock with it. NO KEY
        # UPDATE (the sweeper changes no key): it still excludes the workflow's FOR UPDATE and
        # other sweepers, but not the KEY SHARE lock of an insert that references the case (a
        # new timer, evidence, a notification's event), which would skip the case for nothing.
        cases = cases.select_for_update(skip_locked=True, no_key=True)
    locked = list(cases)
    # What the addressees need, fetched once per relation (a join per row would build a street
    # per case; most batches need none of the officers).
    prefetch_related_objects(
        locked, "street", "officer__user", "team__leader", "team__officers__user"
    )
    return {case.pk: case for case in locked}


def _owners_load(timers: list[Timer]) -> None:
    """Fill the call and supervision of the timers that have one: one query each, not a join
    in the batch read."""
    calls = DepartmentCall.objects.select_related("department").in_bulk(
        {t.call_id for t in timers if t.call_id}
    )
    supervisions = (
        Supervision.objects.select_related("call__department", "addressee", "addressee_team")
        .prefetch_related("addressee_team__officers__user")
        .in_bulk({t.supervision_id for t in timers if t.supervision_id})
    )
    for timer in timers:
        if timer.call_id:
            timer.call = calls[timer.call_id]
        if timer.supervision_id:
            timer.supervision = supervisions[timer.supervision_id]


def _timers_claim(timers: list[Timer], *, states: list[str], sets: dict, now: datetime) -> set:
    """Claim ``timers`` with one conditional UPDATE: only rows still in ``states`` and due are
    changed, and RETURNING names them, so a timer another sweeper or the workflow changed since
    the read is left alone, whatever the backend (SQLite ignores FOR UPDATE). ``sets``: column
    -> value, where "due_at" copies that column and ``lateness: now`` stores now - due_at."""
    if not timers:
        return set()
    quote = connection.ops.quote_name
    assignments, params = [], []
    for column, value in sets.items():
        if column == "lateness":
            now_value = connection.ops.adapt_datetimefield_value(value)
            sql, subtract_params = connection.ops.subtract_temporals(
                "DateTimeField", ("%s", [now_value]), (quote("due_at"), [])
            )
            assignments.append(f"{quote(column)} = {sql}")
            params += list(subtract_params)
        elif value == "due_at":
            assignments.append(f"{quote(column)} = {quote('due_at')}")
        elif value is None:
            assignments.append(f"{quote(column)} = NULL")
        else:
            assignments.append(f"{quote(column)} = %s")
            params.append(
                connection.ops.adapt_datetimefield_value(value)
                if isinstance(value, datetime)
                else str(value)
            )
    ids = [timer.pk for timer in timers]
    # Only quoted names and placeholders are formatted in: every value is a parameter.
    sql = (
        f"UPDATE {quote(Timer._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(ids))}) "
        f"AND {quote('state')} IN ({', '.join(['%s'] * len(states))}) "
        f"AND {quote('next_at')} <= %s RETURNING {quote('id')}"
    )
    params += ids + [str(state) for state in states]
    params.append(connection.ops.adapt_datetimefield_value(now))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _notify(
    addressee: Addressee, case: Case, batch: _Batch, *, kind, title, body, reference
) -> None:
    """Queue a message about ``case`` for the batch's one bulk send
    (core.notifications.notifications_send), to those of ``addressee`` who may see the case."""
    recipients = addressee_recipients(addressee, case, batch.audience)
    if not recipients:
        batch.unheard.append((case.number, addressee.label))
        return
    batch.messages.append(
        NotificationMessage(
            recipients=recipients,
            kind=kind,
            title=str(title),
            body=str(body),
            reference=reference,
        )
    )


def _warning_send(timer: Timer, batch: _Batch) -> None:
    case = timer.case
    if timer.supervision_id is not None:
        # The answer to a supervision is due: whoever it is addressed to answers it.
        addressee = supervision_addressee(case, timer.supervision)
    else:
        addressee = addressee_of(case, timer.stage, timer.call, level=1)
    _notify(
        addressee,
        case,
        batch,
        kind="timer_warning",
        title=_("%(stage)s due soon: %(number)s")
        % {"stage": timer.get_stage_display(), "number": case.number},
        body=_("Due at %(due)s.")
        % {"due": timezone.localtime(timer.due_at).strftime("%Y-%m-%d %H:%M")},
        reference=case.number,
    )


def _supervisions_open(batch: _Batch) -> None:
    """Open the batch's supervisions: the rows, their case events and answer timers (below
    the top level) in one bulk INSERT each, and queue their notifications."""
    now, openings = batch.now, batch.openings
    if not openings:
        return
    addressees = [addressee_of(o.case, o.stage, o.call, o.level) for o in openings]
    supervision_ids = rows_insert(
        Supervision,
        [
            "case",
            "call",
            "opened_by",
            "previous",
            "stage",
            "level",
            "addressee",
            "addressee_team",
            "addressee_role",
            "addressee_department",
            "addressee_label",
            "state",
            "opened_at",
            "response",
        ],
        [
            (
                o.case.pk,
                o.call.pk if o.call else None,
                o.timer.pk,
                o.previous.pk if o.previous else None,
                o.stage,
                o.level,
                addressee.user.pk if addressee.user else None,
                addressee.team.pk if addressee.team is not None else None,
                addressee.role or "",
                addressee.department_id,
                addressee.label,
                SupervisionState.OPEN,
                now,
                "",
            )
            for o, addressee in zip(openings, addressees, strict=True)
        ],
    )
    case_events_record(
        entries=[
            EventEntry(
                case=o.case,
                kind=EventKind.SUPERVISION,
                from_status=o.case.status,
                to_status=o.case.status,
                data={
                    "supervision": supervision_id,
                    "level": o.level,
                    "stage": o.stage,
                    "due_at": o.timer.due_at,
                    "lateness_seconds": round((now - o.timer.due_at).total_seconds(), 3),
                    "addressee": addressee.label,
                },
            )
            for o, supervision_id, addressee in zip(
                openings, supervision_ids, addressees, strict=True
            )
        ]
    )
    answer_timers = [
        row
        for o, supervision_id in zip(openings, supervision_ids, strict=True)
        if o.level < TOP_LEVEL
        and (row := _answer_timer_row(o.case, supervision_id, batch)) is not None
    ]
    # A supervision opened just now has no timer yet: nothing to cancel first (timer_start's
    # one-live-timer rule holds without its UPDATE).
    rows_insert(Timer, ANSWER_TIMER_FIELDS, answer_timers)
    # The departments' systems hear of supervisions of their calls: one emission per batch.
    webhooks_on_supervisions(
        opened=[
            SupervisionOpened(o.case, o.call, supervision_id, o.level, o.stage)
            for o, supervision_id in zip(openings, supervision_ids, strict=True)
            if o.call is not None
        ]
    )
    # The texts' formats once per batch, not a translation lookup per message.
    title, body = (
        _("Supervision (level %(level)d): %(number)s"),
        _("%(stage)s is overdue since %(due)s. Answer the supervision."),
    )
    stage_labels = {}
    for o, addressee in zip(openings, addressees, strict=True):
        if o.stage not in stage_labels:
            stage_labels[o.stage] = str(TimerStage(o.stage).label)
        _notify(
            addressee,
            o.case,
            batch,
            kind="supervision",
            title=title % {"level": o.level, "number": o.case.number},
            body=body
            % {
                "stage": stage_labels[o.stage],
                "due": timezone.localtime(o.timer.due_at).strftime("%Y-%m-%d %H:%M"),
            },
            reference=o.case.number,
        )


ANSWER_TIMER_FIELDS = [
    "case",
    "supervision",
    "stage",
    "policy",
    "state",
    "started_at",
    "amount",
    "unit",
    "warn_at",
    "due_at",
    "provisional",
    "next_at",
]


def _answer_timer_row(case: Case, supervision_id: int, batch: _Batch) -> tuple | None:
    """The SUPERVISION_RESPONSE timer of a new supervision, as timer_start would start it, as a
    row of ANSWER_TIMER_FIELDS."""
    stage = T.SUPERVISION_RESPONSE
    policy = sla_policy_for(case=case, stage=stage)
    if policy is None:
        logger.warning("no SLA policy for stage %s of case %s: no timer", stage, case.number)
        return None
    if policy.pk not in batch.deadlines:  # the same instant and policy: the same deadline
        batch.deadlines[policy.pk] = _timer_times(policy, batch.now)
    times = batch.deadlines[policy.pk]
    return (
        case.pk,
        supervision_id,
        stage,
        policy.pk,
        TimerState.PENDING,
        batch.now,
        policy.amount,
        policy.unit,
        times.warn,
        times.due,
        times.provisional,
        times.warn or times.due,
    )


def _supervision_escalate(timer: Timer, batch: _Batch) -> None:
    supervision = timer.supervision
    updated = Supervision.objects.filter(pk=supervision.pk, state=SupervisionState.OPEN).update(
        state=SupervisionState.ESCALATED
    )
    if not updated:
        return  # answered or closed meanwhile
    batch.openings.append(
        _Opening(
            case=timer.case,
            timer=timer,
            stage=supervision.stage,
            call=supervision.call,
            level=supervision.level + 1,
            previous=supervision,
        )
    )
