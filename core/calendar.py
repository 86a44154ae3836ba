"""The business calendar: which days are working days, and deadline arithmetic. The one place
where a time limit is turned into a due time.

A day is a working day when a local override (CalendarDay) says so, otherwise when the State
Council's calendar does (``chinese_calendar``: statutory holidays and adjusted working weekends,
调休). Working time within a day is ``settings.WORKING_HOURS``, or the whole day when unset.
All datetimes are timezone-aware; "local" is ``settings.TIME_ZONE``."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time, timedelta

import chinese_calendar
from cachetools import TTLCache, cached
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from core.choices import DurationUnit
from core.constants import REFERENCE_MAX_AGE
from core.models import CalendarDay

logger = logging.getLogger(__name__)

# Years outside chinese_calendar's data already warned about, so the log is not flooded.
_years_warned: set[int] = set()


def calendar_cache_clear() -> None:
    """Forget the cached overrides; the next lookup reads CalendarDay again. Cheap, idempotent."""
    _overrides_get.cache_clear()


@cached(cache=TTLCache(maxsize=1, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def _overrides_get() -> dict[date, bool]:
    """date -> is_working_day of every CalendarDay row, kept per process for REFERENCE_MAX_AGE
    seconds, so that an edit made in the admin (web) reaches the workers' sweeps within a
    minute without a restart."""
    return dict(CalendarDay.objects.values_list("date", "is_working_day"))


def calendar_day_save(*, day: date, is_working_day: bool, reason: str) -> CalendarDay:
    """Create or replace the override of ``day``. Idempotent. Clears this process's cache at once
    and again after commit; other processes (workers) read the overrides again within
    REFERENCE_MAX_AGE seconds."""
    row, _ = CalendarDay.objects.update_or_create(
        date=day, defaults={"is_working_day": is_working_day, "reason": reason}
    )
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)
    return row


def calendar_day_delete(*, day: date) -> None:
    """Remove the override of ``day``, so the national calendar applies again. Deleting a date
    without an override changes nothing. Clears the cache as calendar_day_save does."""
    CalendarDay.objects.filter(date=day).delete()
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)


def working_day_is(day: date) -> bool:
    """True when ``day`` is a working day: a CalendarDay override wins; otherwise the national
    calendar. For a year the installed chinesecalendar has no data for, Monday to Friday (with
    one warning per year and process: upgrade the package once the State Council publishes)."""
    override = _overrides_get().get(day)
    if override is not None:
        return override
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _years_warned:
            _years_warned.add(day.year)
            logger.warning(
                "chinesecalendar has no holidays for %s; counting Monday to Friday as working days",
                day.year,
            )
        return day.weekday() < 5


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
