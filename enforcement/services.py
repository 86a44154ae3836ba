"""Writes of the enforcement app other than state changes: numbering and intake."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import instance_insert, json_records
from core.choices import DeliveryState
from core.crypto import field_decrypt, field_encrypt
from core.models import Notification, NotificationDelivery
from core.notifications import (
    NotificationMessage,
    channels_enabled,
    deliveries_enqueue_on_commit,
    notifications_send,
)
from core.sql import cursor_prepared
from enforcement.choices import CaseSource, CaseStatus, EventKind
from enforcement.events import GENESIS, NUMBER_SLOT, case_event_record, first_event_hash_parts
from enforcement.models import Case, CaseEvent, CaseNumberCounter, MatterType, Timer
from enforcement.permissions import street_command_centre
from enforcement.selectors import likely_duplicate_find
from enforcement.timers import intake_timers_build, timers_on_transition
from grids.choices import Crs, RegionLevel
from grids.crs import to_wgs84
from grids.locate import cell_locate
from grids.models import Region, Subject
from grids.selectors import cell_with_street, phone_mask
from grids.services import phone_clean


def case_number_allocate(*, street: Region, year: int) -> tuple[int, str]:
    """The next sequence and number of ``street`` in ``year``: ``<street>-<year>-<6 digits>``.

    Must run inside the transaction that creates the case: the statement locks the counter row
    until that transaction ends, so concurrent intakes queue, and a rolled-back intake gives its
    number back. Gap-free and never reused."""
    return case_numbers_allocate(street=street, year=year, count=1)[0]


def case_numbers_allocate(*, street: Region, year: int, count: int) -> list[tuple[int, str]]:
    """``count`` consecutive sequences and numbers of ``street`` in ``year`` (one for an intake,
    a chunk's for a bulk import), with one statement: PostgreSQL and SQLite ≥ 3.35 both have
    INSERT … ON CONFLICT … RETURNING, so the first case of a year makes the counter row and later
    ones move it on under its lock. Same contract as ``case_number_allocate``; a caller
    allocating for several streets or years takes them in a fixed order, so two such callers
    cannot deadlock; rolled back, the whole range is given back."""
    if count <= 0:
        return []
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (street_id, year, last) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (street_id, year) DO UPDATE SET last = {table}.last + %s "
            "RETURNING last",
            [street.pk, year, count, count],
        )
        last = cursor.fetchone()[0]
    return [
        (sequence, f"{street.code}-{year}-{sequence:06d}")
        for sequence in range(last - count + 1, last + 1)
    ]


@dataclass
class Intake:
    case: Case
    created: bool


def case_intake(
    *,
    source: str,
    matter_type: MatterType,
    description: str,
    lat: float,
    lng: float,
    crs: str = Crs.WGS84,
    external_id: str = "",
    street: Region | None = None,
    address: str = "",
    subject: Subject | None = None,
    severity: str | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    actor=None,
    channel: str = "",
) -> Intake:
    """Register a problem from any source as a numbered case in status reported.

    Idempotent on (source, external id): a work order sent twice returns the first case with
    ``created`` False (a unique constraint decides, not a check). The point is converted to
    WGS-84 and located in its cell; the street follows from the cell, and must be given for a
    point outside the net. An open case of the same matter nearby and recent is linked as the
    likely original (``likely_duplicate_of``), for the command centre to merge or keep.
    ``channel``, when given, names the interface the case came in through, kept in the intake
    event where a later reader asks it (``"open311"``: enforcement.open311 publishes what was
    filed through it). Raises ValidationError."""
    if source not in CaseSource.values:
        raise ValidationError({"source": _("Unknown source %(value)r.") % {"value": source}})
    external_id = (external_id or "").strip()
    if external_id:
        # A retried work order is answered from its case at once, before any other work (the
        # unique constraint below still decides a race between two first tries).
        existing = _case_of_work_order(source, external_id)
        if existing is not None:
            return Intake(case=existing, created=False)
    if not (description or "").strip():
        raise ValidationError({"description": _("Describe the problem.")})
    try:
        reporter_phone = phone_clean(reporter_phone)
    except ValidationError as exc:
        raise ValidationError({"reporter_phone": exc.messages}) from None
    w_lat, w_lng = to_wgs84(lat, lng, crs)
    located = cell_locate(w_lat, w_lng)
    cell = cell_with_street(located.cell.id, located.cell.version) if located.cell else None
    if cell is not None:
        street = cell.community.parent
    elif street is None or street.level != RegionLevel.STREET:
        raise ValidationError(
            {"lat": _("The point lies outside every grid cell: name the street.")}
        )
    now = timezone.now()
    original = likely_duplicate_find(
        matter_type=matter_type, lat=round(w_lat, 7), lng=round(w_lng, 7), at=now
    )
    year = timezone.localtime(now).year
    case = Case(
        street=street,
        year=year,
        source=source,
        external_id=external_id,
        matter_type=matter_type,
        severity=severity or matter_type.default_severity,
        handling_mode=matter_type.default_handling_mode,
        description=description.strip(),
        lat=round(w_lat, 7),
        lng=round(w_lng, 7),
        cell=cell,
        address=address.strip(),
        subject=subject,
        reporter_name=reporter_name.strip(),
        reporter_phone_encrypted=field_encrypt(reporter_phone),
        reporter_phone_masked=phone_mask(reporter_phone) if reporter_phone else "",
        reported_by=actor,
        status=CaseStatus.REPORTED,
        likely_duplicate_of=original,
    )
    event_data = {
        "source": source,
        "external_id": external_id,
        "cell": cell.code if cell else None,
        "matter_type": matter_type.code,
        "lat": case.lat,
        "lng": case.lng,
        "likely_duplicate_of": original.number if original else None,
    }
    if channel:
        event_data["channel"] = channel
    try:
        if connection.vendor == "postgresql":
            if connection.in_atomic_block:
                # A savepoint: a refused work order leaves the caller's transaction usable.
                with transaction.atomic():
                    _case_write_at_once(case, event_data=event_data, actor=actor, now=now)
            else:
                _case_write_at_once(case, event_data=event_data, actor=actor, now=now)
        else:
            with transaction.atomic():
                case.sequence, case.number = case_number_allocate(street=street, year=year)
                instance_insert(case)
                case_event_record(
                    case=case,
                    first=True,
                    kind=EventKind.INTAKE,
                    actor=actor,
                    to_status=CaseStatus.REPORTED,
                    data=event_data,
                )
                timers_on_transition(case=case, action=EventKind.INTAKE)
                notifications_send(messages=[_intake_message(case)], batched=True)
    except IntegrityError:
        # The same work order arrived twice at once: the other request made the case.
        existing = _case_of_work_order(source, external_id) if external_id else None
        if existing is None:
            raise
        return Intake(case=existing, created=False)
    return Intake(case=case, created=True)


def _case_of_work_order(source: str, external_id: str) -> Case | None:
    """The case made of the work order ``external_id`` of ``source``, if any. Asked by every
    intake of an outside system, nearly always for nothing: the first look is one written-out
    statement (the ORM spent ten times the database's time compiling it)."""
    with cursor_prepared() as cursor:
        cursor.execute(_WORK_ORDER_SQL, [source, external_id])
        found = cursor.fetchone()
    return Case.objects.get(pk=found[0]) if found else None


_WORK_ORDER_SQL = (
    f"SELECT id FROM {Case._meta.db_table} "  # noqa: S608 -- the model's table
    "WHERE source = %s AND external_id = %s"
)


def _intake_message(case: Case) -> NotificationMessage:
    """The street's command centre hears of a new case: a notification each (in the app, and
    by the channels configured), written with the case and sent after commit."""
    return NotificationMessage(
        recipients=street_command_centre(case.street_id),
        kind="case_reported",
        title=_("New case %(number)s: %(matter)s")
        % {"number": case.number, "matter": case.matter_type.name},
        body=(case.address or case.description)[:200],
        reference=case.number,
    )


def _case_write_at_once(case: Case, *, event_data: dict, actor, now) -> None:
    """PostgreSQL: what the other path's transaction writes (the street's next number, the
    case, its first event, its timers, the command centre's notifications and their
    deliveries), in one statement of data-modifying CTEs: a statement is a transaction of its
    own, so there is no BEGIN and COMMIT either. Six statements were most of an intake's time
    (each compiled by Django, each a round trip).

    The database assigns the number, so what holds it is finished there: the event's hash
    (SHA-256 of the content around the number, enforcement.events.first_event_hash_parts)
    and the notifications' title and reference. The same rows as the other path, which the
    suite checks on both databases (history_verify included). Sets the case's id, sequence
    and number; enqueues the deliveries after commit. Raises IntegrityError as INSERT does."""
    prep = connection.ops
    case.number = NUMBER_SLOT  # until the database numbers it (the message is built with it)
    params: dict = {
        "street": case.street_id,
        "year": case.year,
        "prefix": f"{case.street.code}-{case.year}-",
        "slot": NUMBER_SLOT,
        "now": now,
    }
    # The case and its timers as JSON records (json_populate_record): two parameters instead of
    # fifty, which psycopg would convert one by one, and a statement short enough for psycopg
    # to keep its parsed form.
    params["case"] = json_records({f.column: f.pre_save(case, True) for f in _CASE_FIELDS})
    head, tail, data = first_event_hash_parts(
        kind=EventKind.INTAKE,
        actor_id=actor.pk if actor else None,
        at=now,
        to_status=CaseStatus.REPORTED,
        data=event_data,
    )
    params.update(
        e_kind=EventKind.INTAKE.value,
        e_actor=actor.pk if actor else None,
        e_to=CaseStatus.REPORTED.value,
        e_data=prep.adapt_json_value(data, CaseEvent._meta.get_field("data").encoder),
        e_genesis=GENESIS,
        e_head=head,
        e_tail=tail,
    )
    params["timers"] = json_records(
        [
            {f.column: f.pre_save(timer, True) for f in _TIMER_FIELDS}
            for timer in intake_timers_build(case=case, now=now)
        ]
    )
    message = _intake_message(case)
    recipients = list(dict.fromkeys(user.pk for user in message.recipients))
    params.update(
        n_kind=message.kind,
        n_title=str(message.title),
        n_body=message.body,
        n_recipients=recipients,
        d_channels=channels_enabled() if recipients else [],
        d_state=DeliveryState.PENDING.value,
    )
    if not _AT_ONCE_SQL:
        _AT_ONCE_SQL.append(_at_once_sql())
    with cursor_prepared() as cursor:
        cursor.execute(_AT_ONCE_SQL[0], params)
        case.pk, case.sequence, case.number, delivery_ids = cursor.fetchone()
    case._state.adding = False
    case._state.db = connection.alias
    deliveries_enqueue_on_commit(delivery_ids, batched=True)


# The columns _case_write_at_once sends (the database fills the case's id, sequence, number).
_CASE_FIELDS = [f for f in Case._meta.concrete_fields if f.name not in ("id", "sequence", "number")]
_TIMER_FIELDS = [f for f in Timer._meta.concrete_fields if f.name not in ("id", "case")]
# The statement of _case_write_at_once, once written (PostgreSQL only).
_AT_ONCE_SQL: list[str] = []


def _at_once_sql() -> str:
    """The statement of _case_write_at_once (table and column names from the models, every
    value a parameter)."""
    quote = connection.ops.quote_name
    counter = quote(CaseNumberCounter._meta.db_table)
    case_table = quote(Case._meta.db_table)
    timer_table = quote(Timer._meta.db_table)
    case_columns = ", ".join(quote(f.column) for f in _CASE_FIELDS)
    timer_columns = ", ".join(quote(f.column) for f in _TIMER_FIELDS)
    ctes = [
        f"""counter AS (
            INSERT INTO {counter} (street_id, year, last) VALUES (%(street)s, %(year)s, 1)
            ON CONFLICT (street_id, year) DO UPDATE SET last = {counter}.last + 1
            RETURNING last)""",  # noqa: S608
        f"""new_case AS (
            INSERT INTO {case_table} ({case_columns}, sequence, number)
            SELECT {case_columns}, (SELECT last FROM counter),
                   %(prefix)s || (SELECT lpad(last::text, greatest(6, length(last::text)), '0')
                                    FROM counter)
              FROM json_populate_record(NULL::{case_table}, %(case)s::json)
            RETURNING id, sequence, number)""",  # noqa: S608
        f"""new_event AS (
            INSERT INTO {quote(CaseEvent._meta.db_table)} (case_id, sequence, kind, actor_id,
              at, from_status, to_status, data, previous_hash, hash)
            VALUES ((SELECT id FROM new_case), 1, %(e_kind)s, %(e_actor)s, %(now)s, '',
                    %(e_to)s, %(e_data)s, %(e_genesis)s,
                    (SELECT encode(sha256(convert_to(%(e_head)s || number || %(e_tail)s,
                                                     'UTF8')), 'hex') FROM new_case)))""",  # noqa: S608
        f"""new_timers AS (
            INSERT INTO {timer_table} (case_id, {timer_columns})
            SELECT (SELECT id FROM new_case), {timer_columns}
              FROM json_populate_recordset(NULL::{timer_table}, %(timers)s::json))""",  # noqa: S608
        f"""new_notifications AS (
            INSERT INTO {quote(Notification._meta.db_table)}
              (recipient_id, kind, title, body, reference, created_at)
            SELECT r.id, %(n_kind)s, replace(%(n_title)s, %(slot)s, number), %(n_body)s,
                   number, %(now)s
              FROM new_case, unnest(%(n_recipients)s::bigint[]) AS r(id)
            RETURNING id)""",  # noqa: S608
        f"""new_deliveries AS (
            INSERT INTO {quote(NotificationDelivery._meta.db_table)}
              (notification_id, channel, state, attempts, last_error, created_at)
            SELECT n.id, c.channel, %(d_state)s, 0, '', %(now)s
              FROM new_notifications n, unnest(%(d_channels)s::text[]) AS c(channel)
            RETURNING id)""",  # noqa: S608
    ]
    return (
        f"WITH {', '.join(ctes)} "  # noqa: S608
        "SELECT id, sequence, number, ARRAY(SELECT id FROM new_deliveries ORDER BY id) "
        "FROM new_case"
    )


def case_reporter_phone_reveal(*, case: Case, user) -> str:
    """The reporter's phone number whole, for a user holding enforcement.view_reporter_phone;
    the reading is recorded in the case's history (who, when). Raises PermissionDenied."""
    if not user.has_perm("enforcement.view_reporter_phone"):
        raise PermissionDenied(_("You may not read reporters' phone numbers."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        case_event_record(
            case=locked,
            kind=EventKind.PHONE_REVEAL,
            actor=user,
            from_status=locked.status,
            to_status=locked.status,
        )
    return field_decrypt(locked.reporter_phone_encrypted)


def matter_types_load() -> tuple[int, int]:
    """Create the matter types of enforcement.matter_types that are missing and add the links to
    power items that exist and are missing. Never removes a link an administrator made.
    Returns (types created, links added)."""
    from enforcement.matter_types import MATTER_TYPES
    from powers.models import PowerItem

    items = PowerItem.objects.in_bulk(field_name="code")
    created = linked = 0
    with transaction.atomic():
        for code, name, handling, severity, item_codes in MATTER_TYPES:
            matter, was_created = MatterType.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "default_handling_mode": handling,
                    "default_severity": severity,
                },
            )
            created += was_created
            present = set(matter.power_items.values_list("code", flat=True))
            wanted = [items[c] for c in item_codes if c in items and c not in present]
            matter.power_items.add(*wanted)
            linked += len(wanted)
    return created, linked
