"""The business calendar: which days are working days, and deadline arithmetic. The one place
where a time limit is turned into a due time.

Which days are working days, in order of precedence:

1. a local override (CalendarDay): a typhoon closure, a local make-up day;
2. the State Council's notice of the year as imported (HolidayNotice, ``calendar_import``);
3. the national data of ``chinesecalendar`` (statutory holidays and 调休, up to its last year);
4. for a year none of these covers, a **provisional** year: the statutory holidays by rule
   (``holidays``'s China calendar, pinned: 全国年节及纪念日放假办法 as revised in 2024, 13 days,
   with its Art. 6 补假 when a holiday falls on a weekend) and Monday to Friday otherwise. It
   knows no 调休: the make-up working days only the annual notice fixes.

A year covered by 2 or 3 is official. A deadline counted in working days or hours over a
provisional year is marked provisional (``deadline_compute``), and from 1 November of the year
before, a year without official data is reported (``calendar_warning``: /healthz, /metrics, the
admin, the district administrators). When the calendar of a day changes (an override, an
import), the subscribers (``calendar_changed_subscribe``: enforcement moves its running
deadlines) are called in the same transaction.

Working time within a day is ``settings.WORKING_HOURS``, or the whole day when unset. All
datetimes are timezone-aware; "local" is ``settings.TIME_ZONE``."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
import holidays
from cachetools import TTLCache, cached
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import DurationUnit
from core.constants import REFERENCE_MAX_AGE
from core.models import CalendarDay, HolidayNotice, HolidayNoticeDay

logger = logging.getLogger(__name__)

# Provisional years already warned about in the log, so the log is not flooded.
_years_warned: set[int] = set()
# The holidays of the national rule (全国年节及纪念日放假办法), by the names a notice uses.
HOLIDAY_NAMES = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
# holidays' name of a statutory day that belongs to the Spring Festival.
_EVE = "农历除夕"
# The month and day from which the next year's missing notice is reported.
WARN_FROM = (11, 1)


def calendar_cache_clear() -> None:
    """Forget the cached overrides and notices; the next lookup reads them again. Cheap,
    idempotent."""
    _overrides_get.cache_clear()
    _notices_get.cache_clear()


@cached(cache=TTLCache(maxsize=1, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def _overrides_get() -> dict[date, bool]:
    """date -> is_working_day of every CalendarDay row, kept per process for REFERENCE_MAX_AGE
    seconds, so that an edit made in the admin (web) reaches the workers' sweeps within a
    minute without a restart."""
    return dict(CalendarDay.objects.values_list("date", "is_working_day"))


@dataclass(frozen=True)
class _Notices:
    days: dict[date, bool]
    years: frozenset[int]


@cached(cache=TTLCache(maxsize=1, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def _notices_get() -> _Notices:
    """The imported notices' days and years, kept per process like the overrides."""
    rows = HolidayNoticeDay.objects.values_list("date", "is_working_day", "notice__year")
    days, years = {}, set()
    for day, working, year in rows:
        days[day] = working
        years.add(year)
    years.update(HolidayNotice.objects.values_list("year", flat=True))
    return _Notices(days=days, years=frozenset(years))


# --- the national rule, for provisional years and for checking a notice ---


@functools.cache
def statutory_days(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` by rule, date -> the holiday's name as a notice
    writes it (HOLIDAY_NAMES; 除夕 belongs to 春节). Without 补假 or 调休."""
    days = {}
    for day, name in holidays.China(years=year, language="zh_CN", observed=False).items():
        name = "春节" if name == _EVE else name
        if name in HOLIDAY_NAMES:  # not the notices' 休息日 that holidays knows for past years
            days[day] = name
    return days


@functools.cache
def _rule_days_off(year: int) -> frozenset[date]:
    """The days off of a provisional year apart from weekends: the statutory holidays and,
    when one falls on a weekend, its 补假 on the next working day (Art. 6 of the rule)."""
    calendar = holidays.China(years=year, language="zh_CN", observed=True)
    return frozenset(
        day for day, name in calendar.items() if day.year == year and not name.startswith("休息日")
    )


@functools.cache
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_is_official(year: int) -> bool:
    """True when the State Council's arrangement of ``year`` is known: imported, or in the
    installed chinesecalendar."""
    return year in _notices_get().years or _package_covers(year)


def working_day_is(day: date) -> bool:
    """True when ``day`` is a working day (the order of precedence in the module's docstring).
    For a provisional year, one warning per year and process in the log."""
    override = _overrides_get().get(day)
    if override is not None:
        return override
    notices = _notices_get()
    noticed = notices.days.get(day)
    if noticed is not None:
        return noticed
    if day.year in notices.years:
        return day.weekday() < 5
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _years_warned:
            _years_warned.add(day.year)
            logger.warning(
                "no holiday notice for %s: counting its statutory holidays by rule, without "
                "调休 (provisional); import the State Council's notice (manage.py calendar_import)",
                day.year,
            )
        return day.weekday() < 5 and day not in _rule_days_off(day.year)


# --- how far the official calendar reaches ---


def calendar_official_until(today: date | None = None) -> date:
    """The last day up to which every year from ``today``'s on is official: 31 December of the
    last official year in a row (31 December of last year when this year is provisional)."""
    year = (today or timezone.localdate()).year
    while year_is_official(year):
        year += 1
    return date(year - 1, 12, 31)


def calendar_missing_year(today: date | None = None) -> int | None:
    """The year people must be told has no official data, or None: this year when it is
    provisional, next year from 1 November (WARN_FROM) when it is."""
    today = today or timezone.localdate()
    if not year_is_official(today.year):
        return today.year
    if (today.month, today.day) >= WARN_FROM and not year_is_official(today.year + 1):
        return today.year + 1
    return None


def calendar_warning(today: date | None = None) -> str | None:
    """What to tell people about ``calendar_missing_year``, or None."""
    year = calendar_missing_year(today)
    if year is None:
        return None
    return _(
        "The State Council's holiday notice for %(year)s has not been imported: deadlines in "
        "%(year)s count its statutory holidays by rule, without make-up working days, and are "
        "marked provisional. Import the notice when it is published (manage.py calendar_import "
        "or the admin's holiday notices)."
    ) % {"year": year}


def calendar_provisional_years(today: date | None = None) -> list[int]:
    """This year and the next, those of them without official data."""
    year = (today or timezone.localdate()).year
    return [y for y in (year, year + 1) if not year_is_official(y)]


# --- changes of the calendar ---


@dataclass(frozen=True)
class CalendarChange:
    """What a change of the calendar changed: the days whose working status changed, the
    years whose official data it touched (an imported notice), and why."""

    days: frozenset[date]
    years: frozenset[int]
    reason: str


@dataclass
class CalendarApplied:
    """What ``calendar_change_apply`` did: what the change returned, the changed days, and what
    each subscriber returned."""

    result: object
    days: set[date]
    effects: list


# Called in the transaction that changes the calendar; enforcement moves its running deadlines
# (its AppConfig.ready subscribes).
_subscribers: list[Callable[[CalendarChange], object]] = []


def calendar_changed_subscribe(subscriber: Callable[[CalendarChange], object]) -> None:
    """Call ``subscriber(change)`` whenever the calendar changes, in the changing transaction
    (an error in it undoes the change). Idempotent per subscriber."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def calendar_change_apply(
    change: Callable[[], object],
    *,
    days: Iterable[date],
    reason: str,
    years: Iterable[int] = (),
) -> CalendarApplied:
    """Run ``change`` (writes to the calendar's tables) in one transaction with what follows
    from it: when it changed the working status of some of ``days``, or touched the official
    data of ``years``, the subscribers are called with a CalendarChange. The caches of this
    process are cleared at once, again after commit, and after a rollback, so that no process
    keeps a calendar that was never committed."""
    days = sorted(set(days))
    years = frozenset(years)
    effects = []
    try:
        with transaction.atomic():
            calendar_cache_clear()
            before = {day: working_day_is(day) for day in days}
            result = change()
            calendar_cache_clear()
            changed = {day for day in days if working_day_is(day) != before[day]}
            if changed or years:
                what = CalendarChange(days=frozenset(changed), years=years, reason=reason)
                effects = [subscriber(what) for subscriber in _subscribers]
            transaction.on_commit(calendar_cache_clear)
    finally:
        calendar_cache_clear()
    return CalendarApplied(result=result, days=changed, effects=effects)


def calendar_day_save(*, day: date, is_working_day: bool, reason: str) -> CalendarDay:
    """Create or replace the override of ``day``. Idempotent. When it changes whether ``day``
    is a working day, the running deadlines over it move (calendar_change_apply). Other
    processes (workers) read the overrides again within REFERENCE_MAX_AGE seconds."""

    def change():
        row, _created = CalendarDay.objects.update_or_create(
            date=day, defaults={"is_working_day": is_working_day, "reason": reason}
        )
        return row

    return calendar_change_apply(change, days=[day], reason=reason).result


def calendar_day_delete(*, day: date, reason: str = "") -> None:
    """Remove the override of ``day``, so the notice or national calendar applies again.
    Deleting a date without an override changes nothing. Moves deadlines as calendar_day_save
    does."""
    calendar_change_apply(
        lambda: CalendarDay.objects.filter(date=day).delete(),
        days=[day],
        reason=reason or _("local calendar override removed"),
    )


def _minutes_parse(text: str) -> int:
    hours, _, minutes = str(text).strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ImproperlyConfigured(f"WORKING_HOURS: expected HH:MM, got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ImproperlyConfigured(f"WORKING_HOURS: not a time of day: {text!r}")
    return value


def _working_periods() -> list[tuple[int, int]]:
    """settings.WORKING_HOURS as (start, end) minutes after local midnight, in order; the whole
    day when unset. Raises ImproperlyConfigured for a malformed, empty or overlapping period."""
    pairs = getattr(settings, "WORKING_HOURS", [])
    if not pairs:
        return [(0, 24 * 60)]
    periods = [(_minutes_parse(start), _minutes_parse(end)) for start, end in pairs]
    previous_end = 0
    for start, end in periods:
        if not previous_end <= start < end:
            raise ImproperlyConfigured(
                f"WORKING_HOURS: periods must be non-empty, in order and not overlap: {pairs!r}"
            )
        previous_end = end
    return periods


def _at(day: date, minutes: int) -> datetime:
    """Local time ``minutes`` after the midnight that starts ``day`` (1440 is the next midnight)."""
    midnight = datetime.combine(day, time(0), tzinfo=timezone.get_default_timezone())
    return midnight + timedelta(minutes=minutes)


def deadline_add(start: datetime, amount: int, unit: str) -> datetime:
    """The due time of a limit of ``amount`` ``unit`` (a DurationUnit) running from ``start``.

    - minutes, natural days: plain time arithmetic.
    - working days: the day of ``start`` is not counted (期间开始的日不计算在期间内, Civil
      Procedure Law Art. 85, which administrative procedure follows; the Administrative Penalty
      Law, Art. 85, counts its short limits in working days without statutory holidays). The
      limit ends at the end of the ``amount``-th working day after that day: the end of its last
      WORKING_HOURS period, or 24:00 (00:00 of the next day) when WORKING_HOURS is unset.
    - working hours: only time inside working periods of working days counts; a start outside
      working time begins counting at the next working period.

    Returns a local aware datetime (``start`` itself when amount is 0). Pure apart from reading
    CalendarDay once per process. Raises ValueError for a naive start, a negative amount or an
    unknown unit; ImproperlyConfigured for a malformed WORKING_HOURS."""
    if timezone.is_naive(start):
        raise ValueError("deadline_add needs a timezone-aware start")
    if amount < 0:
        raise ValueError(f"amount must be >= 0, got {amount}")
    if unit not in DurationUnit.values:
        raise ValueError(f"unknown duration unit {unit!r}")
    if amount == 0:
        return start
    local = start.astimezone(timezone.get_default_timezone())
    if unit == DurationUnit.MINUTES:
        return local + timedelta(minutes=amount)
    if unit == DurationUnit.NATURAL_DAYS:
        return local + timedelta(days=amount)
    periods = _working_periods()
    if unit == DurationUnit.WORKING_DAYS:
        day = local.date()
        remaining = amount
        while remaining:
            day += timedelta(days=1)
            if working_day_is(day):
                remaining -= 1
        return _at(day, periods[-1][1])
    return _working_hours_add(local, timedelta(hours=amount), periods)


# The units counted over the calendar (the others are plain time).
CALENDAR_UNITS = (DurationUnit.WORKING_DAYS, DurationUnit.WORKING_HOURS)


@dataclass(frozen=True)
class Deadline:
    """A due time, and whether it was counted over a provisional year."""

    due: datetime
    provisional: bool


def deadline_compute(start: datetime, amount: int, unit: str) -> Deadline:
    """``deadline_add``, marked provisional when the limit counts working days or hours and a
    year from ``start``'s to the due time's is provisional. Same errors as deadline_add."""
    due = deadline_add(start, amount, unit)
    if unit not in CALENDAR_UNITS:
        return Deadline(due=due, provisional=False)
    first = start.astimezone(timezone.get_default_timezone()).year
    provisional = any(not year_is_official(year) for year in range(first, due.year + 1))
    return Deadline(due=due, provisional=provisional)


def _working_hours_add(
    local: datetime, remaining: timedelta, periods: list[tuple[int, int]]
) -> datetime:
    day = local.date()
    while True:
        if working_day_is(day):
            for start_minutes, end_minutes in periods:
                period_start = max(_at(day, start_minutes), local)
                period_end = _at(day, end_minutes)
                if period_start >= period_end:
                    continue
                if remaining <= period_end - period_start:
                    return period_start + remaining
                remaining -= period_end - period_start
        day += timedelta(days=1)
