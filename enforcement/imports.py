"""Bulk import of past cases (back-filling history from the 12345 platform or an older system).

An imported case has ended already (closed, rejected or transferred): it is numbered in its
street and year after the numbers given so far, located in its cell, and gets a one-event
hash-chained history (IMPORT, at the time it ended, with what intake would have recorded and
when it was reported), so that ``history_verify`` checks it like any other case. It starts no
timer and links no likely duplicate: nothing is left to do on it.

Rows are taken ``chunk_size`` at a time. A chunk is checked row by row first (a bad row is
reported with its number and left out, never written in part), its points are located in one
query of the cells' STRtree, and it is written in one transaction: its numbers, then its cases
and its events (``core.bulk.rows_copy``: COPY on PostgreSQL). Idempotent on (source, external
id): a row whose case exists already, or that repeats an earlier row, is skipped.

Speed (bench/api_intake.py): a thread checks and locates the next chunk, and another hashes a
chunk's events while its cases are inserted, both in the time the main thread waits for
PostgreSQL; neither touches the database."""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from types import SimpleNamespace

import numpy as np
import shapely
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.bulk import rows_copy
from enforcement.choices import CaseSource, CaseStatus, EventKind, Severity
from enforcement.events import EVENT_COLUMNS, GENESIS, _canonical, _digest
from enforcement.models import Case, CaseEvent, MatterType
from enforcement.services import case_numbers_allocate
from grids.choices import RegionLevel

# The process's locate index itself, to query all of a chunk's points at once (cell_locate
# answers one point).
from grids.locate import _current_index
from grids.models import GridCell, Region

# How an imported case may have ended: the statuses that leave nothing to do (a merged case
# needs the case it went into, which an import cannot name).
ENDED_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.TRANSFERRED})
# Looked up once per row: a TextChoices' ``values`` builds a new list at each call.
_SOURCES = frozenset(CaseSource.values)
_SEVERITIES = frozenset(Severity.values)
DEFAULT_CHUNK_SIZE = 5_000
EXTERNAL_ID_MAX = Case._meta.get_field("external_id").max_length
ADDRESS_MAX = Case._meta.get_field("address").max_length

# The case columns an import sets; every other column gets its field's default.
_CASE_COLUMNS = [
    "street",
    "year",
    "sequence",
    "number",
    "source",
    "external_id",
    "matter_type",
    "severity",
    "handling_mode",
    "description",
    "lat",
    "lng",
    "cell",
    "address",
    "reported_by",
    "status",
    "created_at",
    "updated_at",
]


@dataclass
class RowError:
    """A row left out: its number (the first row is 1) and why."""

    row: int
    message: str

    def __str__(self) -> str:
        return _("row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class ImportReport:
    """What ``cases_import`` did: cases created, rows skipped because their case exists, rows
    refused (with the reasons), and the seconds it took."""

    created: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Cases created per second."""
        return self.created / self.seconds if self.seconds else 0.0


@dataclass
class _Row:
    """A checked row, ready to be numbered and written."""

    row: int
    source: str
    external_id: str
    matter: tuple[int, str, str, str]  # id, code, default severity, default handling mode
    description: str
    lat: float
    lng: float
    street_id: int | None
    address: str
    severity: str
    reported_at: datetime
    ended_at: datetime
    status: str
    result: str
    year: int  # of the case number: the report's year in the project's time zone
    # The times as the writes send them (ISO 8601 text to PostgreSQL, which COPY writes
    # without a Python call per value), made in the checking thread.
    reported_db: datetime | str
    ended_db: datetime | str
    cell: tuple[int, str] | None = None  # id, code
    # Given under the counter's lock, in the chunk's transaction.
    sequence: int = 0
    number: str = ""


class _RowInvalid(Exception):
    pass


class RowUnreadable(str):
    """Stands in ``rows`` for a record a reader could not parse (its text says why): reported
    as that row's error, so that one broken line does not stop an import."""


class _Context:
    """What every chunk reads: loaded once per import."""

    def __init__(self, actor):
        self.actor_id = actor.pk if actor is not None else None
        self.now = timezone.now()
        # The project's zone, not the thread's: rows are checked in a helper thread.
        self.zone = timezone.get_default_timezone()
        self.matters = {
            code: (pk, code, severity, mode)
            for pk, code, severity, mode in MatterType.objects.values_list(
                "pk", "code", "default_severity", "default_handling_mode"
            )
        }
        self.streets = {
            street.pk: street for street in Region.objects.filter(level=RegionLevel.STREET)
        }
        self.street_by_code = {street.code: street.pk for street in self.streets.values()}
        self.cell_streets = dict(GridCell.objects.values_list("pk", "community__parent"))
        self.index = _current_index()
        self.times_as_text = connection.vendor == "postgresql"
        # Columns an import does not set, with their fields' defaults (version 1, blanks):
        # rows_copy leaves a column it is not given NULL on PostgreSQL.
        self.case_columns = list(_CASE_COLUMNS)
        self.case_defaults = []
        for model_field in Case._meta.concrete_fields:
            if model_field.primary_key or model_field.name in _CASE_COLUMNS:
                continue
            default = model_field.get_default()
            if default is None and model_field.null:
                continue  # NULL without naming it: less for PostgreSQL to parse per row
            self.case_columns.append(model_field.name)
            self.case_defaults.append(default)
        self.case_defaults = tuple(self.case_defaults)


def cases_import(
    rows: Iterable[dict], *, actor=None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> ImportReport:
    """Import past cases from ``rows``: dicts with ``source`` (a CaseSource value),
    ``external_id`` (required: the key a re-import is recognised by), ``matter_type`` (a
    MatterType code), ``description``, ``lat`` and ``lng`` (WGS-84), ``reported_at`` (ISO 8601;
    without an offset, in the project's time zone) and either ``closed_at`` (the case was
    closed then) or ``status`` (closed, rejected or transferred; ``closed_at`` is then when it
    ended, the report time if absent); optionally ``address``, ``severity``, ``result`` (what
    was done) and ``street`` (a street's code, needed only for a point outside every cell).

    Writes in one transaction per chunk of ``chunk_size`` rows, holding the chunk's counter rows
    (per street and year) until it commits. A bad row is reported and left out; a row whose
    (source, external id) exists, in the database or earlier in ``rows``, is skipped. ``actor``
    is recorded as the reporter and in the events. ``rows`` is read in a helper thread, one
    chunk ahead: give plain records (a file's lines), not a query. Whatever reading ``rows``
    raises is raised here, after the chunks before it were written. Returns an ImportReport."""
    started = time.perf_counter()
    report = ImportReport()
    context = _Context(actor)
    seen: set[tuple[str, str]] = set()
    # Two helper threads use what the main thread leaves while PostgreSQL works (psycopg
    # releases the GIL while it waits): one checks and locates the next chunk, one hashes the
    # events of this chunk while its cases are inserted. Neither touches the database.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cases_import_hash") as hasher:
        for checked, errors in _chunks_checked(rows, context, chunk_size):
            report.errors.extend(errors)
            fresh = []
            for row in checked:
                key = (row.source, row.external_id)
                if key in seen:
                    report.skipped += 1
                else:
                    seen.add(key)
                    fresh.append(row)
            report.created += _chunk_write(fresh, context, report, hasher)
    report.seconds = time.perf_counter() - started
    return report


def _chunks_checked(
    rows: Iterable[dict], context: _Context, chunk_size: int
) -> Iterator[tuple[list[_Row], list[RowError]]]:
    """The chunks of ``rows``, checked and located (with their errors) one chunk ahead, in a
    thread that reads ``rows`` and stops when the caller stops reading."""
    done = object()
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    language = translation.get_language()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            with translation.override(language):
                numbered = enumerate(rows, start=1)
                while chunk := list(islice(numbered, chunk_size)):
                    checked, errors = [], []
                    for number, raw in chunk:
                        try:
                            checked.append(_row_check(number, raw, context))
                        except _RowInvalid as exc:
                            errors.append(RowError(number, str(exc)))
                    if not put((_rows_locate(checked, context, errors), errors)):
                        return
        except BaseException as exc:  # handed to the caller's thread, raised there
            put(exc)
        else:
            put(done)

    thread = threading.Thread(target=work, name="cases_import_check", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# --- checking ------------------------------------------------------------------------------------


def _row_check(number: int, raw: dict, context: _Context) -> _Row:
    if isinstance(raw, RowUnreadable):
        raise _RowInvalid(str(raw))
    if not isinstance(raw, dict):
        raise _RowInvalid(_("not a record of named values"))

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    source = text("source")
    if source not in _SOURCES:
        raise _RowInvalid(_("unknown source %(value)r") % {"value": source})
    external_id = text("external_id")
    if not external_id:
        raise _RowInvalid(_("external_id is required for an import"))
    if len(external_id) > EXTERNAL_ID_MAX:
        raise _RowInvalid(
            _("external_id is longer than %(max)d characters") % {"max": EXTERNAL_ID_MAX}
        )
    matter = context.matters.get(text("matter_type"))
    if matter is None:
        raise _RowInvalid(_("unknown matter type %(value)r") % {"value": text("matter_type")})
    description = text("description")
    if not description:
        raise _RowInvalid(_("description is empty"))
    lat, lng = _coordinate(raw, "lat", 90.0), _coordinate(raw, "lng", 180.0)
    street_id = None
    if street_code := text("street"):
        street_id = context.street_by_code.get(street_code)
        if street_id is None:
            raise _RowInvalid(_("unknown street %(value)r") % {"value": street_code})
    address = text("address")
    if len(address) > ADDRESS_MAX:
        raise _RowInvalid(_("address is longer than %(max)d characters") % {"max": ADDRESS_MAX})
    severity = text("severity") or matter[2]
    if severity not in _SEVERITIES:
        raise _RowInvalid(_("unknown severity %(value)r") % {"value": severity})
    reported_at = _moment(raw, "reported_at")
    if reported_at is None:
        raise _RowInvalid(_("reported_at is required"))
    if reported_at > context.now:
        raise _RowInvalid(_("reported_at lies in the future"))
    closed_at = _moment(raw, "closed_at")
    status = text("status") or (CaseStatus.CLOSED if closed_at else "")
    if not status:
        raise _RowInvalid(_("give closed_at or status: an import holds only ended cases"))
    if status not in ENDED_STATUSES:
        raise _RowInvalid(
            _("status %(value)r: an import holds only closed, rejected or transferred cases")
            % {"value": status}
        )
    ended_at = closed_at or reported_at
    if ended_at < reported_at:
        raise _RowInvalid(_("closed_at is before reported_at"))
    if ended_at > context.now:
        raise _RowInvalid(_("closed_at lies in the future"))
    as_text = context.times_as_text
    return _Row(
        row=number,
        source=source,
        external_id=external_id,
        matter=matter,
        description=description,
        lat=lat,
        lng=lng,
        street_id=street_id,
        address=address,
        severity=severity,
        reported_at=reported_at,
        ended_at=ended_at,
        status=str(status),
        result=text("result"),
        year=timezone.localtime(reported_at, context.zone).year,
        reported_db=reported_at.isoformat() if as_text else reported_at,
        ended_db=ended_at.isoformat() if as_text else ended_at,
    )


def _coordinate(raw: dict, name: str, limit: float) -> float:
    try:
        value = float(raw.get(name))
    except (TypeError, ValueError):
        raise _RowInvalid(_("%(name)s is not a number") % {"name": name}) from None
    if not math.isfinite(value) or abs(value) > limit:
        raise _RowInvalid(_("%(name)s is out of range") % {"name": name})
    # What case_intake stores: a centimetre is all a phone's fix is worth.
    return round(value, 7)


def _moment(raw: dict, name: str) -> datetime | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise _RowInvalid(
                _("%(name)s is not an ISO 8601 time: %(value)r") % {"name": name, "value": value}
            ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _rows_locate(rows: list[_Row], context: _Context, errors: list[RowError]) -> list[_Row]:
    """Set each row's cell and street: one query of the cells' STRtree for the whole chunk. A
    point on a shared boundary goes to the cell with the smallest code, as ``cell_locate``
    decides. A point outside every cell keeps the street its row names, or is refused."""
    tree = context.index.tree
    if rows and tree is not None:
        points = shapely.points([row.lng for row in rows], [row.lat for row in rows])
        row_of, cell_of = tree.query(points, predicate="intersects")
        # The tree's indices follow the cells' code order: the smallest index wins.
        best = np.full(len(rows), len(context.index.refs), dtype=np.int64)
        np.minimum.at(best, row_of, cell_of)
        for row, found in zip(rows, best.tolist(), strict=True):
            if found < len(context.index.refs):
                ref = context.index.refs[found]
                row.cell = (ref.id, ref.code)
                row.street_id = context.cell_streets[ref.id]
    located = []
    for row in rows:
        if row.street_id is None:
            errors.append(
                RowError(row.row, _("the point lies outside every grid cell: name the street"))
            )
        else:
            located.append(row)
    return located


# --- writing -------------------------------------------------------------------------------------


def _chunk_write(
    rows: list[_Row], context: _Context, report: ImportReport, hasher: Executor
) -> int:
    """Write the rows whose case does not exist yet; returns how many. Retried once when a
    concurrent intake of the same (source, external id) commits between the check and the
    INSERT: the second check skips that row."""
    for attempt in (1, 2):
        fresh = _rows_new(rows, context)
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # The commit need not wait for its WAL to reach the disk: a chunk lost to
                    # a crash is lost whole, numbers included, and importing again redoes it.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                _cases_write(fresh, context, hasher)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        report.skipped += len(rows) - len(fresh)
        return len(fresh)
    raise AssertionError("unreachable")


def _rows_new(rows: list[_Row], context: _Context) -> list[_Row]:
    """The rows whose (source, external id) has no case yet."""
    if not rows:
        return []
    sources = sorted({row.source for row in rows})
    external_ids = sorted({row.external_id for row in rows})
    if connection.vendor == "postgresql":
        # One array parameter: the ORM's IN list of a chunk's 5,000 ids compiles and quotes
        # each one in Python (a tenth of the import's time).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT source, external_id FROM enforcement_case "
                # The condition of the partial unique index, so that PostgreSQL may use it.
                "WHERE external_id = ANY(%s) AND source = ANY(%s) AND NOT (external_id = '')",
                [external_ids, sources],
            )
            existing = set(cursor.fetchall())
    else:
        existing = set(
            Case.objects.filter(source__in=sources, external_id__in=external_ids)
            .exclude(external_id="")
            .values_list("source", "external_id")
        )
    return [row for row in rows if (row.source, row.external_id) not in existing]


def _cases_write(rows: list[_Row], context: _Context, hasher: Executor) -> None:
    """Number, insert and chain ``rows``, inside the chunk's transaction."""
    if not rows:
        return
    by_counter: dict[tuple[int, int], list[_Row]] = {}
    for row in rows:
        by_counter.setdefault((row.street_id, row.year), []).append(row)
    # Counters in a fixed order: two imports locking the same ones cannot deadlock.
    for (street_id, year), group in sorted(by_counter.items()):
        allocated = case_numbers_allocate(
            street=context.streets[street_id], year=year, count=len(group)
        )
        for row, (sequence, number) in zip(group, allocated, strict=True):
            row.sequence, row.number = sequence, number

    # The events' hashes need the numbers, not the ids: computed while the cases go in.
    chains = hasher.submit(_events_chain, rows, context.actor_id)
    actor_id = context.actor_id
    case_ids = rows_copy(
        Case,
        context.case_columns,
        [
            (
                row.street_id,
                row.year,
                row.sequence,
                row.number,
                row.source,
                row.external_id,
                row.matter[0],
                row.severity,
                row.matter[3],
                row.description,
                row.lat,
                row.lng,
                row.cell[0] if row.cell else None,
                row.address,
                actor_id,
                row.status,
                row.reported_db,
                row.ended_db,
                *context.case_defaults,
            )
            for row in rows
        ],
    )
    if connection.vendor != "postgresql":
        # bulk_create (rows_copy's path off PostgreSQL) stamps auto_now fields with now.
        Case.objects.bulk_update(
            [
                Case(pk=pk, created_at=row.reported_at, updated_at=row.ended_at)
                for pk, row in zip(case_ids, rows, strict=True)
            ],
            ["created_at", "updated_at"],
        )
    rows_copy(
        CaseEvent,
        EVENT_COLUMNS,
        [
            (case_id, *event)
            for case_id, events in zip(case_ids, chains.result(), strict=True)
            for event in events
        ],
    )


def _events_chain(rows: list[_Row], actor_id: int | None) -> list[tuple[tuple]]:
    """For each row its one event, IMPORT: the case came in from another system's history,
    from nothing to the status it ended in, at its end; what intake would have recorded
    (source, work order, cell, matter, point) and when it was reported go in its details. As
    EVENT_COLUMNS values without the case, chained exactly as enforcement.events does, so
    that history_verify holds. One event, not an intake and an end: a back-fill writes
    hundreds of thousands, and each event row is most of an imported case's cost."""
    chains = []
    for row in rows:
        event = SimpleNamespace(
            sequence=1,
            kind=EventKind.IMPORT.value,
            actor_id=actor_id,
            at=row.ended_at,
            from_status="",
            to_status=row.status,
            data={
                "source": row.source,
                "external_id": row.external_id,
                "cell": row.cell[1] if row.cell else None,
                "matter_type": row.matter[1],
                "lat": row.lat,
                "lng": row.lng,
                "reported_at": row.reported_at.astimezone(UTC).isoformat(),
                "result": row.result,
            },
        )
        event_hash = _digest(GENESIS, _canonical(number=row.number, event=event))
        chains.append(
            (
                (
                    1,
                    event.kind,
                    actor_id,
                    row.ended_db,
                    "",
                    event.to_status,
                    event.data,
                    GENESIS,
                    event_hash,
                ),
            )
        )
    return chains
