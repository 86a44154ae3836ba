"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): our matter types as *services*
and our cases as *service requests*, so that existing civic-issue clients can file problems and
follow them. The HTTP side (formats, authentication, error bodies) is enforcement.api.open311;
this module holds the mapping, the reads (selectors, taking the reader) and the one write.

The mapping, field by field:

- service: one per MatterType. ``service_code`` its code, ``service_name`` and ``description``
  its name (a matter type has no longer text), ``metadata`` false (no extra form fields, so the
  service definition has no attributes), ``type`` realtime (the case number is given at once),
  ``group`` the category of its first candidate power item (the power list's categories: 市容环境
  卫生, 城乡规划 …), ``keywords`` its usual handling (服务/管理/执法) and those categories.
- service request: one per Case. ``service_request_id`` the case number; ``status`` closed for a
  case closed, rejected, merged or transferred (nothing more will be done to it here), open for
  every other; ``status_notes`` our own stage, the case status label in the reader's language
  (Chinese by default: 已受理, 已派发 …); ``service_notice`` the case's handling mode (服务, 管理,
  执法: what kind of action to expect); ``agency_responsible`` the team, else the departments
  called by whistle, else the street; ``requested_datetime`` when it was reported;
  ``updated_datetime`` its last recorded event (a transition does not touch ``updated_at``);
  ``expected_datetime`` the due time of its running timer (pending or warned) that falls due
  first, empty when none runs; ``address`` the case's address; ``lat``/``long`` WGS-84;
  ``address_id``, ``zipcode`` and ``media_url`` empty (evidence files are not public).
  Nothing of the reporter (name, phone, e-mail, account) is ever part of a request: the
  spec's optional personal fields are left out for every reader.

Choices where the spec leaves room:

- Filing (POST) needs ``lat`` and ``long``: a case is located in its grid cell, which decides the
  street and who handles it. ``address_string`` is kept as the case's address; an address alone is
  refused (we have no geocoder). ``description`` may be left out (the spec makes it optional): the
  service's name stands in. ``first_name``/``last_name`` become the reporter's name, ``phone``
  the reporter's phone (encrypted by case_intake); ``email``, ``device_id``, ``account_id``,
  ``media_url`` and ``attribute[…]`` are accepted and not kept (no field holds them, and none of
  our services has attributes), so ``account_id`` is returned empty.
- Reading requests: the spec lets anybody read them without a key, and so do we (unless
  settings.OPEN311_PUBLIC_READ is false: enforcement.api.open311). Every read here takes the
  reader: ``user=None`` is the public, anyone else (an api_key's account, a signed-in one)
  sees the cases enforcement.permissions lets it see, as they are.
- What the public reads, as a street that publishes its work would show it:

  - every request filed through Open311, whatever became of it (the one who filed it follows
    it to the end by its service_request_id, and filed it through a channel made for
    publishing: a GeoReport client shows it in its own app already);
  - every other case once the street took it up, accepted or further on (已受理, 已派发 …
    已结案, 返工, 中止): a problem in the street's public space that it is working on. Not a
    case only reported and not yet looked at (it may be a private dispute or a mistake), one
    rejected (不予受理: not the street's matter), merged into another (the other shows it) or
    transferred (移送: to the police or another authority, whose matter it now is);
  - with the phone numbers and ID-card numbers in the description and the address masked
    (enforcement.privacy.personal_numbers_mask: 138****5678, 1101**********1234); names
    typed into a text cannot be told from other words and are left as they are.

  A case filed through Open311 is one whose intake event has the channel ``open311``
  (OPEN311_CHANNEL): requests filed before the channel was recorded are public once accepted.
- ``jurisdiction_id`` is accepted and ignored: one installation serves one jurisdiction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from enforcement.choices import CallStatus, CaseSource, CaseStatus, EventKind
from enforcement.models import ApiKey, Case, CaseEvent, DepartmentCall, MatterType, Timer
from enforcement.models.timers import SWEPT_STATES
from enforcement.permissions import cases_visible
from enforcement.privacy import personal_numbers_mask
from enforcement.services import case_intake
from powers.models import PowerItem

# A case in one of these states is "closed" for Open311: nothing more will be done to it here.
CLOSED_STATUSES = frozenset(
    {CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.MERGED, CaseStatus.TRANSFERRED}
)
OPEN, CLOSED = "open", "closed"
# The public reads what the street took up (the module docstring), and whatever was filed here.
PUBLIC_STATUSES = frozenset(CaseStatus) - {
    CaseStatus.REPORTED,
    CaseStatus.REJECTED,
    CaseStatus.MERGED,
    CaseStatus.TRANSFERRED,
}
# The intake event's "channel" of a case filed through Open311 (case_intake's ``channel``).
OPEN311_CHANNEL = "open311"
# GeoReport v2, GET Service Requests, "Response Volume": "a span of 90 days or first 1000
# requests returned, whichever is smallest"; start_date to end_date "may not span more than 90
# days".
REQUESTS_WINDOW = timedelta(days=90)
REQUESTS_LIMIT = 1000
# GeoReport v2, POST Service Request: description is "free form text limited to 4,000 characters".
DESCRIPTION_MAX = 4000

# The query parameters each method takes (GeoReport v2, "Required/Optional Arguments"); api_key
# and jurisdiction_id are accepted everywhere. Anything else is refused (house rule: an unknown
# parameter is an error, never silently ignored).
COMMON_PARAMETERS = frozenset({"api_key", "jurisdiction_id"})
REQUEST_LIST_PARAMETERS = COMMON_PARAMETERS | {
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
}
REQUEST_CREATE_PARAMETERS = COMMON_PARAMETERS | {
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
}
# attribute[CODE]=value and attribute[CODE][]=value (a multivaluelist)
ATTRIBUTE_PARAMETER = re.compile(r"^attribute\[[^\[\]]*\](\[\])?$")


class Open311Error(Exception):
    """A failure as GeoReport v2 reports it ("Errors"): the HTTP status (404 for what does not
    exist, 403 for a wrong or missing api_key, 400 for anything else) and one or more
    descriptions meant for the user; each error's ``code`` is the HTTP status."""

    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None):
        super().__init__(*descriptions)
        self.status = status
        self.errors = [{"code": status, "description": str(text)} for text in descriptions]
        self.retry_after = retry_after  # seconds, for a 429


def parameters_check(names, allowed, *, attributes: bool = False) -> None:
    """Raise Open311Error 400 naming every parameter in ``names`` that is not in ``allowed``
    (``attributes``: ``attribute[…]`` parameters are allowed too)."""
    unknown = sorted(
        name
        for name in set(names)
        if name not in allowed and not (attributes and ATTRIBUTE_PARAMETER.match(name))
    )
    if unknown:
        raise Open311Error(
            400,
            *(_("Unknown parameter %(name)s.") % {"name": name} for name in unknown),
        )


def open311_datetime(value: datetime | None) -> str | None:
    """A W3C date-time with its offset, in the local time zone: 2024-05-01T09:30:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# --- services ---


def _categories(matter: MatterType) -> list[str]:
    """The categories of the matter's candidate power items, in the power list's order, once."""
    return list(dict.fromkeys(item.category.name for item in matter.power_items.all()))


def _service(matter: MatterType) -> dict:
    categories = _categories(matter)
    keywords = [str(matter.get_default_handling_mode_display()), *categories]
    return {
        "service_code": matter.code,
        "service_name": matter.name,
        "description": matter.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": categories[0] if categories else None,
    }


def _matter_types() -> QuerySet[MatterType]:
    items = PowerItem.objects.select_related("category").order_by(
        "category__order", "category__code", "code"
    )
    return MatterType.objects.prefetch_related(Prefetch("power_items", queryset=items))


def open311_service_list() -> list[dict]:
    """GET Service List: every matter type, by code. Public."""
    return [_service(matter) for matter in _matter_types().order_by("code")]


def open311_service_get(*, code: str) -> dict:
    """GET Service Definition of ``code``: no attributes (``metadata`` is false for every
    service). Raises Open311Error 404 for an unknown code."""
    if not MatterType.objects.filter(code=code).exists():
        raise Open311Error(404, _("No service has the code %(code)s.") % {"code": code})
    return {"service_code": code, "attributes": []}


# --- service requests: reads ---


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET Service Requests, parsed. ``numbers``, when given, overrides all the
    others (the spec: service_request_id "overrides all other arguments")."""

    numbers: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset({OPEN, CLOSED})


def _values(params, name: str) -> list[str]:
    """Every value of ``name``, declared once comma-delimited or several times; blanks dropped
    (the spec: an empty optional parameter is the same as none)."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist else [params.get(name, "")]
    return [part.strip() for value in raw for part in (value or "").split(",") if part.strip()]


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _moment(name: str, value: str) -> datetime:
    """A W3C date-time with its time zone (2010-01-01T00:00:00Z, …+08:00), or a date alone
    (the start of that day here). A '+' sent unencoded arrives as a space: taken back."""
    text = value.strip()
    if "T" in text:
        text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text)
    try:
        # A date alone first: parse_datetime would take it as a naive midnight.
        day = parse_date(text) if _DATE_ONLY.match(text) else None
        moment = None if day else parse_datetime(text)
    except ValueError:
        moment = day = None
    if day is not None:
        return timezone.make_aware(datetime.combine(day, time.min))
    if moment is None:
        raise Open311Error(
            400,
            _("%(name)s must be a W3C date-time such as 2010-01-01T00:00:00Z.") % {"name": name},
        )
    if timezone.is_naive(moment):
        raise Open311Error(
            400,
            _("%(name)s must include its time zone (Z or an offset such as +08:00).")
            % {"name": name},
        )
    return moment


def open311_request_query_parse(params: Mapping, *, now: datetime | None = None) -> RequestQuery:
    """The filters of GET Service Requests from the query ``params`` (a QueryDict or a dict).
    Without service_request_id the requested time window is at most 90 days: neither date gives
    the last 90 days, one date the 90 days after (or before) it. Raises Open311Error 400 for a
    malformed date, a window longer than 90 days or ending before it starts, an unknown status
    or an unknown service_code."""
    numbers = tuple(dict.fromkeys(_values(params, "service_request_id")))
    if numbers:
        return RequestQuery(numbers=numbers[:REQUESTS_LIMIT])
    statuses = frozenset(_values(params, "status")) or frozenset({OPEN, CLOSED})
    wrong = sorted(statuses - {OPEN, CLOSED})
    if wrong:
        raise Open311Error(
            400,
            _("status must be open, closed or both (comma-delimited), not %(value)s.")
            % {"value": ", ".join(wrong)},
        )
    codes = tuple(dict.fromkeys(_values(params, "service_code")))
    known = set(MatterType.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [code for code in codes if code not in known]
    if missing:
        raise Open311Error(
            400,
            *(_("No service has the code %(code)s.") % {"code": code} for code in missing),
        )
    start_values, end_values = _values(params, "start_date"), _values(params, "end_date")
    start = _moment("start_date", start_values[0]) if start_values else None
    end = _moment("end_date", end_values[0]) if end_values else None
    if start is None and end is None:
        end = now or timezone.now()
    if start is None:
        start = end - REQUESTS_WINDOW
    elif end is None:
        end = start + REQUESTS_WINDOW
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > REQUESTS_WINDOW:
        raise Open311Error(400, _("start_date to end_date may not span more than 90 days."))
    return RequestQuery(service_codes=codes, start=start, end=end, statuses=statuses)


def open311_public_cases() -> QuerySet[Case]:
    """The cases the public reads (the module docstring): filed through Open311, or taken up
    by the street and not sent elsewhere."""
    filed_here = CaseEvent.objects.filter(
        # The (case, sequence) constraint's index finds a case's events; its intake is one.
        case=OuterRef("pk"),
        kind=EventKind.INTAKE,
        data__channel=OPEN311_CHANNEL,
    )
    return Case.objects.filter(Q(status__in=PUBLIC_STATUSES) | Q(Exists(filed_here)))


def _cases(user) -> QuerySet[Case]:
    """The cases ``user`` may see (``None``: the public's), with what a request shows: the time
    of the last event and the first due time of a running timer in one query each, the calls
    for agency_responsible."""
    last_event = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-sequence").values("at")
    first_due = (
        Timer.objects.filter(case=OuterRef("pk"), state__in=SWEPT_STATES)
        .order_by("due_at")
        .values("due_at")
    )
    calls = (
        DepartmentCall.objects.exclude(status=CallStatus.RETURNED)
        .select_related("department")
        .order_by("called_at", "pk")
    )
    cases = open311_public_cases() if user is None else cases_visible(user)
    return (
        cases.select_related("matter_type", "team", "street")
        .prefetch_related(Prefetch("calls", queryset=calls, to_attr="open311_calls"))
        .annotate(
            open311_updated=Subquery(last_event[:1]), open311_expected=Subquery(first_due[:1])
        )
    )


def _agency(case: Case) -> str | None:
    if case.team_id:
        return case.team.name
    departments = list(dict.fromkeys(call.department.name for call in case.open311_calls))
    if departments:
        return "、".join(departments)
    return case.street.name


def open311_request(case: Case, *, public: bool = False) -> dict:
    """A case as a GeoReport v2 service request (a case from ``_cases``: it carries the
    annotations). Never anything of the reporter; ``public``: the personal numbers in its free
    texts (description, address) masked."""
    shown = personal_numbers_mask if public else str
    return {
        "service_request_id": case.number,
        "status": CLOSED if case.status in CLOSED_STATUSES else OPEN,
        "status_notes": str(case.get_status_display()),
        "service_name": case.matter_type.name,
        "service_code": case.matter_type.code,
        "description": shown(case.description),
        "agency_responsible": _agency(case),
        "service_notice": str(case.get_handling_mode_display()),
        "requested_datetime": open311_datetime(case.created_at),
        "updated_datetime": open311_datetime(case.open311_updated or case.created_at),
        "expected_datetime": open311_datetime(case.open311_expected),
        "address": shown(case.address) or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": None,
    }


def open311_request_list(*, user, query: RequestQuery) -> list[dict]:
    """GET Service Requests: the cases ``user`` may see (``None``: the public, masked) that
    match ``query``, newest first, at most REQUESTS_LIMIT of them."""
    cases = _cases(user)
    if query.numbers:
        cases = cases.filter(number__in=query.numbers)
    else:
        cases = cases.filter(created_at__gte=query.start, created_at__lte=query.end)
        if query.service_codes:
            cases = cases.filter(matter_type__code__in=query.service_codes)
        if query.statuses == {OPEN}:
            cases = cases.exclude(status__in=CLOSED_STATUSES)
        elif query.statuses == {CLOSED}:
            cases = cases.filter(status__in=CLOSED_STATUSES)
    return [
        open311_request(case, public=user is None)
        for case in cases.order_by("-created_at", "-pk")[:REQUESTS_LIMIT]
    ]


def open311_request_get(*, user, number: str) -> dict:
    """GET Service Request ``number`` if ``user`` (``None``: the public, masked) may see it.
    Raises Open311Error 404 otherwise (a case you may not see does not exist for you)."""
    case = _cases(user).filter(number=number).first()
    if case is None:
        raise Open311Error(404, _("No service request has the id %(id)s.") % {"id": number})
    return open311_request(case, public=user is None)


# --- service requests: the write ---


def _text(data: Mapping, name: str) -> str:
    return (data.get(name) or "").strip()


def _coordinate(data: Mapping, name: str, limit: float) -> float:
    raw = _text(data, name)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(
            400,
            _("%(name)s must be a number from -%(limit)d to %(limit)d (WGS-84), not %(value)s.")
            % {"name": name, "limit": limit, "value": raw},
        )
    return value


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" for char in text)


def _reporter_name(first: str, last: str) -> str:
    """A Chinese name is written family name first and without a space (张 + 伟 → 张伟)."""
    if _has_cjk(first + last):
        return last + first
    return f"{first} {last}".strip()


# Field names of case_intake's errors as the Open311 client named them.
_INTAKE_FIELDS = {"reporter_phone": "phone", "lng": "long", "reporter_name": "first_name"}


def open311_request_create(*, key: ApiKey, data: Mapping) -> dict:
    """POST Service Request with ``key`` (already authenticated) and the form ``data``: a case
    through enforcement.services.case_intake, from the key's source (an integration), acting as
    the key's account (so the key sees the cases it filed), on the channel OPEN311_CHANNEL (so
    the public reads it back). Returns the request as the spec's POST response. Not
    idempotent: the spec has no request id (the duplicate check of case_intake links a repeat
    to its original).

    Raises Open311Error: 403 for a department's key (a department answers calls, it does not
    file cases); 400 for a missing service_code, a missing or malformed lat/long, an address
    without coordinates, a text too long, or what case_intake refuses (a point outside every
    grid cell, a malformed phone number); 404 for an unknown service_code."""
    if key.department_id is not None:
        raise Open311Error(
            403, _("This api_key belongs to a department: it may read, not file, requests.")
        )
    code = _text(data, "service_code")
    if not code:
        raise Open311Error(400, _("service_code is required."))
    matter = MatterType.objects.filter(code=code).first()
    if matter is None:
        raise Open311Error(404, _("No service has the code %(code)s.") % {"code": code})
    if not _text(data, "lat") and not _text(data, "long"):
        if _text(data, "address_string") or _text(data, "address_id"):
            raise Open311Error(
                400,
                _(
                    "lat and long are required: a request is located in its grid cell, "
                    "which an address alone cannot give."
                ),
            )
        raise Open311Error(400, _("lat and long are required."))
    lat = _coordinate(data, "lat", 90)
    lng = _coordinate(data, "long", 180)
    description = _text(data, "description") or matter.name
    reporter_name = _reporter_name(_text(data, "first_name"), _text(data, "last_name"))
    address = _text(data, "address_string")
    too_long = [
        (name, limit)
        for name, value, limit in (
            ("description", description, DESCRIPTION_MAX),
            (
                "first_name, last_name",
                reporter_name,
                Case._meta.get_field("reporter_name").max_length,
            ),
            ("address_string", address, Case._meta.get_field("address").max_length),
        )
        if len(value) > limit
    ]
    if too_long:
        raise Open311Error(
            400,
            *(
                _("%(name)s is longer than %(limit)d characters.") % {"name": name, "limit": limit}
                for name, limit in too_long
            ),
        )
    try:
        intake = case_intake(
            source=key.source or CaseSource.RESIDENT,
            matter_type=matter,
            description=description,
            lat=lat,
            lng=lng,
            address=address,
            reporter_name=reporter_name,
            reporter_phone=_text(data, "phone"),
            actor=key.user,
            channel=OPEN311_CHANNEL,
        )
    except ValidationError as exc:
        by_field = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise Open311Error(
            400,
            *(
                _("%(field)s: %(message)s")
                % {"field": _INTAKE_FIELDS.get(field, field), "message": message}
                if field
                else message
                for field, messages in by_field.items()
                for message in messages
            ),
        ) from None
    case = intake.case
    return {
        "service_request_id": case.number,
        "service_notice": str(case.get_handling_mode_display()),
        "account_id": None,
    }
