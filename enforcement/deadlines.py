"""Deadlines: a stage's due time from its policy, and running deadlines that follow a changed
calendar.

A timer's deadline is counted when its stage starts. When the calendar of a day changes
afterwards (a local override such as a typhoon day, the year's holiday notice imported), the
deadlines of the timers running over it are counted again from their start with the limit they
started with (``Timer.amount`` / ``unit``), in the transaction of the change
(``deadlines_follow_calendar``, subscribed by the app's ready):

- a deadline not yet passed moves, its warning with it (at the same share of the time), and its
  case records one event per moved deadline (``deadline_move``: from, to, reason);
- a timer that fired, was cancelled, or is paused stays as it is; so does a deadline already
  passed (it is due now: the sweeper fires it), and one that restarted after a suspension
  (``resumed_at``: it carries the time that was left, not a count from its start);
- counting again gives the same due time when nothing changed, so a repeated change moves
  nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from core.calendar import CALENDAR_UNITS, CalendarChange, Deadline, deadline_compute
from core.choices import DurationUnit
from enforcement.choices import EventKind, TimerState
from enforcement.events import EventEntry, case_events_record
from enforcement.models import Case, Timer
from enforcement.models.timers import SWEPT_STATES

logger = logging.getLogger(__name__)

# Timers handled per round of a recount: cases locked, events and updates written together.
RECOUNT_BATCH = 2000


def sla_deadline(start: datetime, amount: int, unit: str) -> Deadline:
    """``start`` plus a policy's time: seconds (drills and tests) and minutes are natural time,
    the rest goes through the business calendar (core.calendar)."""
    if unit == "seconds":
        return Deadline(due=start + timedelta(seconds=amount), provisional=False)
    return deadline_compute(start, amount, unit)


@dataclass(frozen=True)
class TimerTimes:
    """The due time, warning time and provisional mark of a timer started at some moment."""

    due: datetime
    warn: datetime | None
    provisional: bool


def timer_times(*, start: datetime, amount: int, unit: str, warn_percent: int) -> TimerTimes:
    """The times of a timer started at ``start`` with the given limit: the warning at
    ``warn_percent`` of the time to the deadline (none at 0, or when it would not come first)."""
    deadline = sla_deadline(start, amount, unit)
    due = deadline.due
    warn = start + (due - start) * warn_percent / 100 if warn_percent else None
    if warn is not None and warn >= due:
        warn = None
    return TimerTimes(due=due, warn=warn, provisional=deadline.provisional)


@dataclass
class DeadlinesMoved:
    """What ``deadlines_follow_calendar`` did: timers looked at, deadlines moved, provisional
    marks changed without a move, timers kept because they restarted after a suspension."""

    examined: int = 0
    moved: int = 0
    marked: int = 0
    kept_resumed: int = 0


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _candidates(change: CalendarChange, now: datetime):
    """The running timers whose deadline may follow the change: counted over the calendar,
    running from before the last changed day to after the first, or marked provisional over
    a year whose official data changed."""
    running = Timer.objects.filter(
        state__in=SWEPT_STATES, unit__in=CALENDAR_UNITS, amount__isnull=False, due_at__gt=now
    )
    span = Q(pk__in=[])
    if change.days:
        span |= Q(
            started_at__lt=_local_midnight(max(change.days) + timedelta(days=1)),
            due_at__gte=_local_midnight(min(change.days)),
        )
    for year in change.years:
        span |= Q(
            provisional=True,
            started_at__lt=_local_midnight(date(year + 1, 1, 1)),
            due_at__gte=_local_midnight(date(year, 1, 1)),
        )
    return running.filter(span)


def deadlines_follow_calendar(change: CalendarChange) -> DeadlinesMoved:
    """Count again the deadlines of the running timers over ``change`` (the module's
    docstring). Runs in the transaction that changes the calendar, after the change, so the
    counting reads the new calendar. Locks the cases of the moved deadlines (their events are
    appended to the cases' chains), in batches of RECOUNT_BATCH. Idempotent."""
    now = timezone.now()
    report = DeadlinesMoved()
    candidates = _candidates(change, now)
    report.kept_resumed = candidates.filter(resumed_at__isnull=False).count()
    rows = candidates.filter(resumed_at__isnull=True).order_by("case_id", "pk")
    running = [_Running(*row) for row in rows.values_list(*_Running._fields)]
    counted: dict[tuple, Deadline] = {}
    batch: list[_Running] = []
    for timer in running:
        # Batches end between cases: a case's events are appended in one batch (each batch
        # reads the last event of its cases once).
        if len(batch) >= RECOUNT_BATCH and timer.case_id != batch[-1].case_id:
            _batch_recount(batch, counted, change, report)
            batch = []
        batch.append(timer)
    if batch:
        _batch_recount(batch, counted, change, report)
    report.examined = len(running)
    if report.moved or report.marked:
        logger.info(
            "calendar change (%s): %s deadlines moved, %s provisional marks changed, %s kept "
            "(resumed after a suspension), of %s running timers over it",
            change.reason,
            report.moved,
            report.marked,
            report.kept_resumed,
            report.examined,
        )
    return report


class _Running(NamedTuple):
    """What the recount reads of a running timer (no model instance per row: there may be
    100,000)."""

    pk: int
    case_id: int | None
    stage: str
    state: str
    started_at: datetime
    amount: int
    unit: str
    warn_at: datetime | None
    due_at: datetime
    provisional: bool


def _recount(timer: _Running, counted: dict) -> Deadline:
    # A limit in working days ends at the end of a day that depends only on the start's day
    # (the start's day is not counted): one count per start day and limit, not per timer.
    local = timer.started_at.astimezone(timezone.get_default_timezone())
    key = (
        (local.date(), timer.amount, timer.unit)
        if timer.unit == DurationUnit.WORKING_DAYS
        else (timer.started_at, timer.amount, timer.unit)
    )
    if key not in counted:
        counted[key] = sla_deadline(timer.started_at, timer.amount, timer.unit)
    return counted[key]


def _batch_recount(
    batch: list[_Running], counted: dict, change: CalendarChange, report: DeadlinesMoved
) -> None:
    changes, marks = [], {True: [], False: []}
    for timer in batch:
        deadline = _recount(timer, counted)
        if deadline.due != timer.due_at:
            changes.append((timer, deadline))
        elif deadline.provisional != timer.provisional:
            marks[deadline.provisional].append(timer.pk)
    for provisional, ids in marks.items():
        if ids:
            Timer.objects.filter(pk__in=ids).update(provisional=provisional)
            report.marked += len(ids)
    if not changes:
        return
    cases = _cases_lock({timer.case_id for timer, _deadline in changes if timer.case_id})
    entries, rows = [], []
    for timer, deadline in changes:
        warn = timer.warn_at
        if timer.state != TimerState.WARNED and warn is not None:
            # The warning keeps its share of the time to the deadline.
            share = (warn - timer.started_at) / (timer.due_at - timer.started_at)
            warn = timer.started_at + (deadline.due - timer.started_at) * share
        next_at = deadline.due if timer.state == TimerState.WARNED or warn is None else warn
        rows.append((timer.pk, deadline.due, warn, next_at, deadline.provisional))
        case = cases.get(timer.case_id)
        if case is not None:
            entries.append(
                EventEntry(
                    case=case,
                    kind=EventKind.DEADLINE_MOVE,
                    data={
                        "timer": timer.pk,
                        "stage": timer.stage,
                        "from": timezone.localtime(timer.due_at).isoformat(),
                        "to": timezone.localtime(deadline.due).isoformat(),
                        "provisional": deadline.provisional,
                        "reason": change.reason,
                    },
                )
            )
    _timers_update(rows)
    case_events_record(entries=entries)
    report.moved += len(rows)


def _cases_lock(case_ids: set[int]) -> dict[int, Case]:
    """The cases of the moved deadlines, locked for their event chains. Waits for a case a
    person is changing (the calendar change must move every deadline, and holds no case lock a
    workflow transaction could be waiting for); in id order, as every other locker."""
    cases = Case.objects.filter(pk__in=case_ids).only("pk", "number").order_by("pk")
    if connection.vendor == "postgresql":
        cases = cases.select_for_update(no_key=True)
    return {case.pk: case for case in cases}


def _timers_update(rows: list[tuple]) -> None:
    """Set (due_at, warn_at, next_at, provisional) of each timer id in ``rows``: one statement
    per batch on PostgreSQL, bulk_update elsewhere."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Timer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table} AS t
                       SET due_at = v.due_at, warn_at = v.warn_at, next_at = v.next_at,
                           provisional = v.provisional
                      FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[],
                                  %s::timestamptz[], %s::boolean[])
                           AS v(id, due_at, warn_at, next_at, provisional)
                     WHERE t.id = v.id""",  # noqa: S608 (the table name is ours)
                [list(column) for column in zip(*rows, strict=True)],
            )
        return
    timers = [
        Timer(pk=pk, due_at=due, warn_at=warn, next_at=next_at, provisional=provisional)
        for pk, due, warn, next_at, provisional in rows
    ]
    Timer.objects.bulk_update(
        timers, ["due_at", "warn_at", "next_at", "provisional"], batch_size=500
    )
