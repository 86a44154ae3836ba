"""How CaseEvent rows are written, and the check of their hash chain. Every event goes through
``case_event_record`` or ``case_events_record``, except a case's first on PostgreSQL, which the
intake writes in the statement that numbers the case, with the hash ``first_event_hash_parts``
prepares (enforcement.services).

Each event's hash is SHA-256 over the previous event's hash of the same case and the event's
canonical content: a JSON object with sorted keys of the case number, sequence, kind, actor id,
time (ISO 8601, UTC, microseconds), statuses and details. Changing, inserting or deleting a row
breaks the chain from that row on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from core.bulk import instance_insert, rows_insert
from enforcement.models import Case, CaseEvent

GENESIS = "0" * 64
# The columns of a bulk insert of events, in the order of its rows.
EVENT_COLUMNS = [
    "case",
    "sequence",
    "kind",
    "actor",
    "at",
    "from_status",
    "to_status",
    "data",
    "previous_hash",
    "hash",
]


def _canonical(*, number: str, event: CaseEvent) -> bytes:
    content = {
        "case": number,
        "sequence": event.sequence,
        "kind": event.kind,
        "actor": event.actor_id,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "from": event.from_status,
        "to": event.to_status,
        "data": event.data,
    }
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _digest(previous_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical).hexdigest()


# Stands for the case number in a first event's canonical content until the database assigns it.
NUMBER_SLOT = "\ue000"


def first_event_hash_parts(
    *, kind: str, actor_id: int | None, at: datetime, to_status: str, data: dict
) -> tuple[str, str, dict]:
    """For the first event of a case whose number the database assigns in the statement that
    writes both (case_intake on PostgreSQL): (head, tail, details as stored), such that the
    event's hash is the SHA-256 of the UTF-8 of head + number + tail, exactly as
    case_event_record computes it. The number is the first thing in the content after the
    actor and the time ("case" sorts after "actor" and "at"), so the slot standing for it is
    found first whatever the details hold."""
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    event = SimpleNamespace(
        sequence=1,
        kind=kind,
        actor_id=actor_id,
        at=at,
        from_status="",
        to_status=to_status,
        data=data,
    )
    head, slot, tail = _canonical(number=NUMBER_SLOT, event=event).decode().partition(NUMBER_SLOT)
    if not slot:
        raise RuntimeError("the canonical content lost the case number")
    return GENESIS + head, tail, data


def case_event_record(
    *,
    case: Case,
    kind: str,
    actor=None,
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
    first: bool = False,
) -> CaseEvent:
    """Append an event to the case's chain. Call inside the transaction that changes the case,
    holding its row lock (workflow functions do), so the chain has one writer at a time; the
    unique (case, sequence) constraint refuses a second writer that slipped through. ``first``:
    the case was created in this transaction and has no event yet (its intake), so its chain is
    not read; were it wrong, the unique constraint would refuse the event."""
    last = (
        None
        if first
        else CaseEvent.objects.filter(case=case)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    # Details go through JSON once, so what is hashed is exactly what the database returns.
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    event = CaseEvent(
        case=case,
        sequence=sequence,
        kind=kind,
        actor=actor,
        at=timezone.now(),
        from_status=from_status,
        to_status=to_status,
        data=data,
        previous_hash=previous_hash,
    )
    event.hash = _digest(previous_hash, _canonical(number=case.number, event=event))
    instance_insert(event)
    return event


@dataclass
class EventEntry:
    """One event for ``case_events_record``: the arguments of one ``case_event_record``."""

    case: Case
    kind: str
    actor: object = None
    from_status: str = ""
    to_status: str = ""
    data: dict | None = None


def case_events_record(*, entries: list[EventEntry]) -> list[int]:
    """``case_event_record`` for many events at once (the timer sweeper's batch): the same
    chain, each case's events appended in the order given, with one read of the cases' last
    events and one bulk INSERT. Same contract: hold the cases' row locks. Returns the new
    events' ids, in the order of ``entries``."""
    if not entries:
        return []
    case_ids = {entry.case.pk for entry in entries}
    newest = CaseEvent.objects.filter(case=OuterRef("case")).order_by("-sequence")
    tail = {
        case_id: (sequence, hash_)
        for case_id, sequence, hash_ in CaseEvent.objects.filter(
            case__in=case_ids, sequence=Subquery(newest.values("sequence")[:1])
        ).values_list("case", "sequence", "hash")
    }
    events = []
    for entry in entries:
        sequence, previous_hash = tail.get(entry.case.pk, (0, GENESIS))
        # What _canonical reads, without a model instance per event (a sweep writes thousands).
        event = SimpleNamespace(
            case_id=entry.case.pk,
            sequence=sequence + 1,
            kind=entry.kind,
            actor_id=entry.actor.pk if entry.actor else None,
            at=timezone.now(),
            from_status=entry.from_status,
            to_status=entry.to_status,
            data=json.loads(json.dumps(entry.data or {}, cls=DjangoJSONEncoder)),
            previous_hash=previous_hash,
        )
        event.hash = _digest(previous_hash, _canonical(number=entry.case.number, event=event))
        tail[entry.case.pk] = (event.sequence, event.hash)
        events.append(event)
    ids = rows_insert(
        CaseEvent,
        EVENT_COLUMNS,
        [
            (
                e.case_id,
                e.sequence,
                e.kind,
                e.actor_id,
                e.at,
                e.from_status,
                e.to_status,
                e.data,
                e.previous_hash,
                e.hash,
            )
            for e in events
        ],
    )
    return ids


@dataclass
class BrokenEvent:
    case_number: str
    sequence: int
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"case {self.case_number}, event {self.sequence} (id {self.event_id}): {self.reason}"


def history_verify(*, cases=None) -> BrokenEvent | None:
    """The first event whose chain is broken, case by case in number order; None when intact."""
    cases = (cases if cases is not None else Case.objects.all()).order_by("number")
    for case in cases.iterator():
        events = CaseEvent.objects.filter(case=case).order_by("sequence").iterator()
        broken = case_history_check(number=case.number, events=events)
        if broken is not None:
            return broken
    return None


def case_history_check(*, number: str, events: Iterable[CaseEvent]) -> BrokenEvent | None:
    """The first broken link of one case's chain, its ``events`` given in sequence order (the
    case page checks the events it shows, without reading them twice); None when intact."""
    previous_hash, expected_sequence = GENESIS, 1
    for event in events:
        if event.sequence != expected_sequence:
            return BrokenEvent(
                number, event.sequence, event.pk, f"sequence {expected_sequence} is missing"
            )
        if event.previous_hash != previous_hash:
            return BrokenEvent(
                number, event.sequence, event.pk, "does not follow the previous event"
            )
        if event.hash != _digest(previous_hash, _canonical(number=number, event=event)):
            return BrokenEvent(number, event.sequence, event.pk, "content does not match its hash")
        previous_hash, expected_sequence = event.hash, expected_sequence + 1
    return None
