"""Daily rollups of the KPI registry (issue 17, "Rollups"): the figures stay fast at millions of
cases because a period's figure is the sum of its days' rows (assessment.models.DailyRollup)
plus the live counts of the days not rolled up (today, always) read from the raw tables.

A day's rows are computed from the registry's own facts (assessment.facts.facts_load over
assessment.kpis.cases_touching the day), by the registry's own predicates, so a figure from
rollups equals ``kpi_compute``'s (assessment.kpis's docstring explains why the counts add up):

- per day of ``counts_on`` and dimension: the population, the excluded and the numerator;
- for a KPI with ``numerator_by``: the numerator per day of the second moment; a period sums the
  days before its end. The rows of the rolled-up days are summed up to the first day read live
  (``live_from``); a second moment on a day read live (a case due last week closed today) is
  counted from the raw tables, so nothing is counted twice;
- for a median: a count per whole minute; the lower middle value of the histogram is the median.

A day is recomputed whole (its rows deleted and inserted again, in one transaction), so rolling
it up again gives the same rows. Rows are as of the moment they were written: a late event (a
verification recorded on a later day for a case due earlier, a resume moving a deadline, a
callback sending a closed case back) changes an older day's facts, and that day is right again
when it is rolled up again (``rollups_refresh``, the beat task).

Drill-down (the ids of each part) always reads the raw tables (``kpi_compute``): the rows keep
counts only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessment.facts import CaseFacts, facts_load
from assessment.kpis import (
    KPIS,
    Base,
    Kpi,
    KpiResult,
    Period,
    Scope,
    ScopeKind,
    Unit,
    cases_touching,
    period_make,
)
from assessment.models import DailyRollup
from core.bulk import rows_insert

# The dimensions rolled up: every kind of scope of the registry (the district as a whole too).
DIMENSIONS = (
    ScopeKind.DISTRICT,
    ScopeKind.STREET,
    ScopeKind.COMMUNITY,
    ScopeKind.CELL,
    ScopeKind.TEAM,
    ScopeKind.OFFICER,
    ScopeKind.DEPARTMENT,
    ScopeKind.STREET_DEPARTMENT,
    ScopeKind.MATTER_TYPE,
    ScopeKind.SOURCE,
    ScopeKind.HANDLING_MODE,
)
_CASE_ATTRIBUTE = {
    ScopeKind.DISTRICT: "district_id",
    ScopeKind.STREET: "street_id",
    ScopeKind.COMMUNITY: "community_id",
    ScopeKind.CELL: "cell_id",
    ScopeKind.TEAM: "team_id",
    ScopeKind.OFFICER: "officer_id",
    ScopeKind.MATTER_TYPE: "matter_type_id",
    ScopeKind.SOURCE: "source",
    ScopeKind.HANDLING_MODE: "handling_mode",
}
_ROW_FIELDS = [
    "day",
    "kpi",
    "kind",
    "key",
    "second_day",
    "minute",
    "population",
    "excluded",
    "numerator",
    "apart",
    "tally",
]
DAY_MARK = ""  # the kpi (and kind, key) of the row marking a day as rolled up
DEFAULT_DAYS_BACK = 35


class _Everywhere(Scope):
    """Every case (a day is rolled up for all scopes at once)."""

    def cases_filter(self) -> Q:
        return Q()


_EVERYWHERE = _Everywhere(ScopeKind.DISTRICT, "*")


# --- counting ----------------------------------------------------------------------------------


@dataclass
class _Counts:
    population: int = 0
    excluded: int = 0
    numerator: int = 0
    apart: Counter = field(default_factory=Counter)
    tally: Counter = field(default_factory=Counter)


def _key(value) -> str:
    return str(value)


def _case_keys(case: CaseFacts, department_id: int | None) -> list[tuple[str, str]]:
    """The (kind, key) of every dimension a fact of ``case`` (of a call to ``department_id``)
    falls in: as assessment.kpis.Scope.holds reads it."""
    keys = [
        (kind, _key(value))
        for kind, attribute in _CASE_ATTRIBUTE.items()
        if (value := getattr(case, attribute)) not in (None, "")
    ]
    departments = [department_id] if department_id is not None else sorted(case.department_ids)
    for department in departments:
        keys.append((ScopeKind.DEPARTMENT, _key(department)))
        keys.append((ScopeKind.STREET_DEPARTMENT, f"{case.street_id}:{department}"))
    return keys


def _facts_by_base(facts: Iterable[CaseFacts], scope: Scope | None) -> dict[str, list]:
    """(fact, keys) per base; with ``scope``, only the facts in it, keyed by it alone."""
    bases: dict[str, list] = {base: [] for base in (Base.CASE, Base.CALLBACK, Base.CALL)}
    bases[Base.SUPERVISION] = []

    def keys(case, department_id=None):
        if scope is None:
            return _case_keys(case, department_id)
        if scope.holds(case, department_id):
            return [(scope.kind, _key(scope.value))]
        return []

    for case in facts:
        if case.imported:
            continue
        if held := keys(case):
            bases[Base.CASE].append((case, held))
            if case.callback is not None:
                bases[Base.CALLBACK].append((case.callback, held))
        for call in case.calls:
            if held := keys(case, call.department_id):
                bases[Base.CALL].append((call, held))
                bases[Base.SUPERVISION].extend((s, held) for s in call.supervisions)
    return bases


def _count(
    kpi: Kpi,
    facts: list,
    period: Period,
    rows: dict,
    *,
    second_from: datetime | None = None,
) -> None:
    """Add the counts of ``kpi`` over ``facts`` ((fact, keys) pairs) whose ``counts_on`` falls
    in ``period`` to ``rows``, keyed (kpi, kind, key, second day, minute). With
    ``second_from``: the facts counting from the period's start to ``second_from`` are summed
    from rollups already; count only the numerator of those whose second moment falls from
    ``second_from`` to the period's end (the live part of a KPI with ``numerator_by``)."""
    local = timezone.localdate
    for fact, keys in facts:
        moment = getattr(fact, kpi.counts_on)
        if second_from is not None:
            if moment is None or not period.start <= moment < second_from:
                continue
        elif not period.holds(moment):
            continue
        adds = []  # (second day, minute, population, excluded, numerator)
        if kpi.population(fact):
            excluded = kpi.excluded is not None and kpi.excluded(fact)
            if second_from is None:
                adds.append((None, None, 1, int(excluded), 0))
            if excluded:
                pass
            elif kpi.unit == Unit.MINUTES:
                duration = kpi.duration(fact)
                if duration is not None and second_from is None:
                    adds.append((None, int(duration.total_seconds() // 60), 0, 0, 1))
            elif kpi.unit == Unit.PERCENT and (kpi.numerator is None or kpi.numerator(fact)):
                if kpi.numerator_by:
                    second = getattr(fact, kpi.numerator_by)
                    if (
                        second is not None
                        and second <= period.now
                        and (second_from is None or second_from <= second < period.end)
                    ):
                        adds.append((local(second), None, 0, 0, 1))
                elif second_from is None:
                    adds[0] = (None, None, 1, 0, 1)
        apart = [name for name, test in kpi.apart if test(fact)] if second_from is None else []
        tally = kpi.tally(fact) if kpi.tally is not None else None
        for kind, key in keys:
            for second_day, minute, population, excluded_n, numerator in adds:
                counts = rows[(kpi.code, kind, key, second_day, minute)]
                counts.population += population
                counts.excluded += excluded_n
                counts.numerator += numerator
                if numerator and minute is None and tally is not None:
                    counts.tally[tally] += 1
            for name in apart:  # facts of the period beside the figure, whatever the population
                rows[(kpi.code, kind, key, None, None)].apart[name] += 1


def _day_period(day: date, now: datetime | None = None) -> Period:
    return period_make(day, day + timedelta(days=1), now)


# --- writing -----------------------------------------------------------------------------------


def rollup_day(day: date, *, now: datetime | None = None) -> int:
    """Recompute the rows of ``day`` (a day before today, local time) from the raw tables: its
    rows deleted and inserted again in one transaction, so that rolling a day up twice gives the
    same rows. Returns the number of rows written (the day's mark included). Today is never
    rolled up (its facts are still coming): ValueError."""
    period = _day_period(day, now)
    if day >= timezone.localdate(period.now):
        raise ValueError(f"{day} has not ended: only past days are rolled up")
    facts = facts_load(cases_touching(period, _EVERYWHERE)).values()
    bases = _facts_by_base(facts, None)
    rows: dict = defaultdict(_Counts)
    for kpi in KPIS.values():
        _count(kpi, bases[kpi.base], period, rows)
    values = [
        (
            day,
            code,
            kind,
            key,
            second_day,
            minute,
            counts.population,
            counts.excluded,
            counts.numerator,
            dict(sorted(counts.apart.items())),
            dict(sorted(counts.tally.items())),
        )
        for (code, kind, key, second_day, minute), counts in sorted(
            rows.items(), key=lambda item: tuple("" if v is None else str(v) for v in item[0])
        )
    ]
    values.append((day, DAY_MARK, DAY_MARK, DAY_MARK, None, None, 0, 0, 0, {}, {}))
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        # One statement with the rows as JSON on PostgreSQL (core.bulk): Django's bulk_create
        # prepared every value in Python, a second for the 10,000 rows of a busy day.
        rows_insert(DailyRollup, _ROW_FIELDS, values)
    return len(values)


def rollups_rebuild(start: date, end: date, *, now: datetime | None = None) -> dict[date, int]:
    """Roll up every day from ``start`` to ``end`` inclusive (the days before today); returns
    the rows written per day."""
    if end < start:
        raise ValueError("the rebuild ends before it starts")
    today = timezone.localdate(now or timezone.now())
    written = {}
    day = start
    while day <= end and day < today:
        written[day] = rollup_day(day, now=now)
        day += timedelta(days=1)
    return written


def rollups_refresh(*, now: datetime | None = None) -> dict[date, int]:
    """The beat's work: roll up again the last ``settings.ROLLUP_DAYS_BACK`` days (default 35),
    yesterday included, and the older days on which the cases touched yesterday count.

    Why: a day's rows change only when a case counted on it gets a later event (verified or
    closed late, resolved again, sent back by verification or by a callback, resumed — the
    resumed timer moves its deadline —, transferred, a department's call returned or completed).
    Recomputing the window puts every day of the last N right; the older days that yesterday's
    events touched (a long-overdue case finally closed) are found from those cases' facts. What
    this misses: a day older than N on which a case *no longer* counts (a resume moving a
    deadline: the case left its old deadline day, which its facts no longer name; the old day
    keeps it, excluded from 应结案 but in 延期率 until that day is rebuilt), and any day whose
    rows went stale while the task did not run for more than N days."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    back = int(getattr(settings, "ROLLUP_DAYS_BACK", DEFAULT_DAYS_BACK))
    first = today - timedelta(days=back)
    days = set()
    day = first
    while day < today:
        days.add(day)
        day += timedelta(days=1)
    yesterday = _day_period(today - timedelta(days=1), now)
    for case in facts_load(cases_touching(yesterday, _EVERYWHERE)).values():
        for kpi in KPIS.values():
            for fact in _base_facts(case, kpi.base):
                moment = getattr(fact, kpi.counts_on)
                if moment is not None and timezone.localdate(moment) < first:
                    days.add(timezone.localdate(moment))
    return {day: rollup_day(day, now=now) for day in sorted(days)}


def _base_facts(case: CaseFacts, base: str) -> list:
    if case.imported:
        return []
    if base == Base.CASE:
        return [case]
    if base == Base.CALLBACK:
        return [case.callback] if case.callback is not None else []
    if base == Base.CALL:
        return list(case.calls)
    return [s for call in case.calls for s in call.supervisions]


# --- reading -----------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def kpi_from_rollups(
    code: str, *, start: date | datetime, end: date | datetime, scope, now=None
) -> KpiResult:
    """One KPI over ``[start, end)`` for ``scope``, as ``kpi_compute`` gives it (the same
    KpiResult, without the ids: the drill-down reads the raw tables; ``apart`` holds counts by
    name): ``kpis_from_rollups`` for one code. KeyError for an unknown code."""
    return kpis_from_rollups([code], start=start, end=end, scope=scope, now=now)[code]


def kpis_from_rollups(
    codes: Iterable[str] | None = None,
    *,
    start: date | datetime,
    end: date | datetime,
    scope,
    now: datetime | None = None,
) -> dict[str, KpiResult]:
    """Every KPI of ``codes`` (default: the whole registry) over ``[start, end)`` for ``scope``,
    by code, as ``kpis_compute`` gives them (without the ids), from the rows of the days rolled
    up plus the live counts, from the raw tables, of the days from the first one not rolled up
    (today at the latest) to the period's end: ``kpis_from_rollups_many`` for one scope. Two
    queries for a period wholly rolled up; the six of the facts more when a part is read live.
    ``start`` and ``end`` are days (or local midnights). KeyError for an unknown code."""
    scope = Scope.of(scope)
    codes = list(codes) if codes is not None else list(KPIS)
    return kpis_from_rollups_many(
        codes, start=start, end=end, scopes=[scope], within=scope, now=now
    )[scope]


def kpis_from_rollups_many(
    codes: Iterable[str],
    *,
    start: date,
    end: date,
    scopes: Iterable[Scope],
    within: Scope,
    now: datetime | None = None,
) -> dict[Scope, dict[str, KpiResult]]:
    """``assessment.rollups.kpis_from_rollups`` for each of ``scopes`` at once (the street's
    departments), by scope then code, with the same results: the days' marks (one query), the
    rows of every scope and code of the rolled-up days (one) and, for the days read live (today
    at least), the facts of ``within`` (a scope holding them all: the street; six), whatever
    the number of scopes and cases."""
    kpis = [KPIS[code] for code in codes]
    scopes = [Scope.of(s) for s in scopes]
    period = period_make(start, end, now)
    first, last = timezone.localdate(period.start), timezone.localdate(period.end)
    if period.start != _midnight(first) or period.end != _midnight(last):
        raise ValueError("rollups hold whole days: a period from midnight to midnight")
    today = timezone.localdate(period.now)
    if not scopes or not kpis:
        return {scope: {} for scope in scopes}
    rolled_until = min(last, today)
    marked = set(
        DailyRollup.objects.filter(
            kpi=DAY_MARK, kind=DAY_MARK, day__gte=first, day__lt=rolled_until
        ).values_list("day", flat=True)
    )
    live_from = first
    while live_from < rolled_until and live_from in marked:
        live_from += timedelta(days=1)

    by_key = {(scope.kind, _key(scope.value)): scope for scope in scopes}
    rows: dict = {scope: {kpi.code: defaultdict(_Counts) for kpi in kpis} for scope in scopes}
    if live_from > first:
        for row in DailyRollup.objects.filter(
            kpi__in=[kpi.code for kpi in kpis],
            kind__in=sorted({kind for kind, _k in by_key}),
            key__in=sorted({key for _kind, key in by_key}),
            day__gte=first,
            day__lt=live_from,
        ).values_list(
            "kpi",
            "kind",
            "key",
            "second_day",
            "minute",
            "population",
            "excluded",
            "numerator",
            "apart",
            "tally",
        ):
            code, kind, key, second_day, minute, population, excluded, numerator, apart, tally = row
            scope = by_key.get((kind, key))
            if scope is None or (second_day is not None and second_day >= live_from):
                continue  # another kind's key; or counted live below
            counts = rows[scope][code][(code, kind, key, second_day, minute)]
            counts.population += population
            counts.excluded += excluded
            counts.numerator += numerator
            counts.apart.update(apart)
            counts.tally.update(tally)
    if live_from < last:
        live = period_make(_midnight(live_from), period.end, period.now)
        facts = list(facts_load(cases_touching(live, Scope.of(within))).values())
        for scope in scopes:
            bases = _facts_by_base(facts, scope)
            for kpi in kpis:
                _count(kpi, bases[kpi.base], live, rows[scope][kpi.code])
                if kpi.numerator_by and live_from > first:
                    _count(
                        kpi,
                        bases[kpi.base],
                        period,
                        rows[scope][kpi.code],
                        second_from=_midnight(live_from),
                    )
    return {
        scope: {
            kpi.code: _result(kpi, scope, period, rows[scope][kpi.code], before=last)
            for kpi in kpis
        }
        for scope in scopes
    }


def _result(kpi: Kpi, scope: Scope, period: Period, rows: dict, *, before: date) -> KpiResult:
    """The figure from summed ``rows``: the second days from ``before`` (the period's end) on
    are not counted."""
    population = excluded = numerator = 0
    minutes: Counter = Counter()
    apart: Counter = Counter()
    tally: Counter = Counter()
    for (_code, _kind, _key, second_day, minute), counts in rows.items():
        if second_day is not None and second_day >= before:
            continue
        population += counts.population
        excluded += counts.excluded
        apart.update(counts.apart)
        if minute is not None:
            minutes[minute] += counts.numerator
        else:
            numerator += counts.numerator
            tally.update(counts.tally)
    denominator = population - excluded
    value = None
    result_numerator = None
    if kpi.unit == Unit.MINUTES:
        value = _median_low(minutes)
    elif kpi.unit == Unit.COUNT:
        value = Decimal(denominator)
    else:
        result_numerator = numerator
        if denominator:
            value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
    too_few = kpi.small_count_rule and denominator < settings.ASSESSMENT_MIN_CASES
    return KpiResult(
        kpi=kpi,
        scope=scope,
        period=period,
        value=None if too_few else value,
        numerator=result_numerator,
        denominator=denominator,
        too_few=too_few,
        apart={name: count for name, count in sorted(apart.items()) if count},
        tally={reason: count for reason, count in sorted(tally.items()) if count},
    )


def _median_low(histogram: Counter) -> Decimal | None:
    """statistics.median_low over the minutes a histogram counts."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = (total - 1) // 2  # the lower middle, 0-based
    seen = 0
    for minute in sorted(histogram):
        seen += histogram[minute]
        if seen > rank:
            return Decimal(minute)
    raise AssertionError("unreachable")


def rollup_rows(start: date, end: date) -> int:
    """The rows of the days from ``start`` to ``end`` inclusive, day marks left out."""
    return DailyRollup.objects.filter(day__gte=start, day__lte=end).exclude(kpi=DAY_MARK).count()


__all__ = [
    "DIMENSIONS",
    "kpi_from_rollups",
    "kpis_from_rollups",
    "kpis_from_rollups_many",
    "rollup_day",
    "rollup_rows",
    "rollups_rebuild",
    "rollups_refresh",
]
