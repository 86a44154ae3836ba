"""Deadlines in working days and working hours: the national calendar (chinesecalendar), local
overrides (CalendarDay) and working hours from settings."""

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured

from core.calendar import (
    calendar_cache_clear,
    calendar_day_delete,
    calendar_day_save,
    deadline_add,
    working_day_is,
)
from core.choices import DurationUnit
from core.models import CalendarDay

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
LUNCH_BREAK = [("09:00", "12:00"), ("13:30", "17:30")]


@pytest.fixture(autouse=True)
def _calendar_isolated(settings):
    """No overrides cached from another test, none left for the next; whole working days unless
    a test sets WORKING_HOURS (the environment may set it)."""
    settings.WORKING_HOURS = []
    calendar_cache_clear()
    yield
    calendar_cache_clear()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


# --- natural time -------------------------------------------------------------------------------


def test_minutes_and_natural_days_are_plain_time():
    start = at(2025, 10, 1, 10, 0)  # National Day: holidays do not matter here

    assert deadline_add(start, 30, DurationUnit.MINUTES) == at(2025, 10, 1, 10, 30)
    assert deadline_add(start, 3, DurationUnit.NATURAL_DAYS) == at(2025, 10, 4, 10, 0)


def test_a_start_in_utc_is_counted_on_its_local_date():
    # 2025-11-13 17:00 UTC is Friday 01:00 in Shanghai: Friday is the start day, not counted.
    start = datetime(2025, 11, 13, 17, 0, tzinfo=ZoneInfo("UTC"))

    assert deadline_add(start, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 18, 0, 0)


def test_amount_zero_returns_the_start():
    start = at(2025, 11, 14, 15, 0)

    for unit in DurationUnit.values:
        assert deadline_add(start, 0, unit) == start


def test_a_negative_amount_an_unknown_unit_and_a_naive_start_are_refused():
    with pytest.raises(ValueError, match="amount must be >= 0"):
        deadline_add(at(2025, 11, 14, 15, 0), -1, DurationUnit.WORKING_DAYS)
    with pytest.raises(ValueError, match="unknown duration unit"):
        deadline_add(at(2025, 11, 14, 15, 0), 1, "fortnights")
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_add(datetime(2025, 11, 14, 15, 0), 1, DurationUnit.MINUTES)


# --- working days -------------------------------------------------------------------------------


def test_one_working_day_from_friday_afternoon_ends_with_monday():
    friday = at(2025, 11, 14, 15, 0)

    # 24:00 of Monday 2025-11-17, i.e. 00:00 of Tuesday
    assert deadline_add(friday, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 18, 0, 0)
    assert deadline_add(friday, 3, DurationUnit.WORKING_DAYS) == at(2025, 11, 20, 0, 0)


def test_with_working_hours_a_working_day_ends_at_the_end_of_the_last_period(settings):
    settings.WORKING_HOURS = LUNCH_BREAK

    assert deadline_add(at(2025, 11, 14, 15, 0), 1, DurationUnit.WORKING_DAYS) == at(
        2025, 11, 17, 17, 30
    )


def test_the_2025_national_day_holiday_and_its_adjusted_working_weekends():
    # given the State Council's 2025 calendar, as the installed chinesecalendar has it
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, adjusted working day
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, adjusted working day
    assert not any(chinese_calendar.is_workday(date(2025, 10, d)) for d in range(1, 9))
    assert working_day_is(date(2025, 9, 28)) is True
    assert working_day_is(date(2025, 10, 11)) is True
    assert working_day_is(date(2025, 10, 4)) is False

    # Tuesday before the holiday: the next working day is Thursday 10-09
    assert deadline_add(at(2025, 9, 30, 10, 0), 1, DurationUnit.WORKING_DAYS) == at(
        2025, 10, 10, 0, 0
    )
    # 10-09, 10-10 and the adjusted Saturday 10-11
    assert deadline_add(at(2025, 9, 30, 10, 0), 3, DurationUnit.WORKING_DAYS) == at(
        2025, 10, 12, 0, 0
    )
    # Friday 09-26: the next working day is the adjusted Sunday 09-28, not Monday
    assert deadline_add(at(2025, 9, 26, 16, 0), 1, DurationUnit.WORKING_DAYS) == at(
        2025, 9, 29, 0, 0
    )


def test_a_start_on_an_adjusted_working_saturday(settings):
    saturday = at(2025, 10, 11, 9, 0)

    # the Saturday is the start day; Sunday 10-12 is off; Monday 10-13 counts
    assert deadline_add(saturday, 1, DurationUnit.WORKING_DAYS) == at(2025, 10, 14, 0, 0)
    # in working hours the Saturday itself is working time
    settings.WORKING_HOURS = LUNCH_BREAK
    assert deadline_add(at(2025, 10, 11, 16, 0), 3, DurationUnit.WORKING_HOURS) == at(
        2025, 10, 13, 10, 30
    )


# --- working hours ------------------------------------------------------------------------------


def test_working_hours_skip_the_lunch_break_and_the_night(settings):
    settings.WORKING_HOURS = LUNCH_BREAK

    # within the morning
    assert deadline_add(at(2025, 11, 13, 9, 0), 3, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 13, 12, 0
    )
    # across the lunch break
    assert deadline_add(at(2025, 11, 13, 11, 0), 2, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 13, 14, 30
    )
    # a start during the lunch break counts from 13:30
    assert deadline_add(at(2025, 11, 13, 12, 15), 1, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 13, 14, 30
    )
    # a start after hours counts from the next morning: 3 h before lunch, 1 h after
    assert deadline_add(at(2025, 11, 13, 18, 0), 4, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 14, 14, 30
    )
    # Friday evening: the weekend is skipped
    assert deadline_add(at(2025, 11, 14, 17, 0), 2, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 17, 10, 30
    )


def test_without_working_hours_the_whole_working_day_counts():
    # Friday 20:00: four hours to midnight, then the weekend, then one hour of Monday
    assert deadline_add(at(2025, 11, 14, 20, 0), 5, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 17, 1, 0
    )


def test_working_hours_as_the_environment_reader_gives_them(settings):
    settings.WORKING_HOURS = [("09:00 ", " 12:00"), ["13:30", "17:30"]]

    assert deadline_add(at(2025, 11, 13, 11, 0), 2, DurationUnit.WORKING_HOURS) == at(
        2025, 11, 13, 14, 30
    )


@pytest.mark.parametrize(
    "periods",
    [
        [("9", "12:00")],
        [("09:00", "24:30")],
        [("12:00", "09:00")],
        [("09:00", "12:00"), ("11:00", "17:00")],
    ],
)
def test_malformed_working_hours_fail_loudly(settings, periods):
    settings.WORKING_HOURS = periods

    with pytest.raises(ImproperlyConfigured, match="WORKING_HOURS"):
        deadline_add(at(2025, 11, 13, 9, 0), 1, DurationUnit.WORKING_HOURS)


# --- local overrides ----------------------------------------------------------------------------


def test_a_typhoon_day_off_moves_the_deadline_and_the_service_clears_the_cache():
    friday = at(2025, 11, 14, 15, 0)
    assert deadline_add(friday, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 18, 0, 0)  # cached

    calendar_day_save(day=date(2025, 11, 17), is_working_day=False, reason="台风停工")

    assert working_day_is(date(2025, 11, 17)) is False
    assert deadline_add(friday, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 19, 0, 0)

    calendar_day_delete(day=date(2025, 11, 17))

    assert CalendarDay.objects.count() == 0
    assert deadline_add(friday, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 18, 0, 0)


def test_an_extra_working_saturday_counts():
    friday = at(2025, 11, 14, 15, 0)

    calendar_day_save(day=date(2025, 11, 15), is_working_day=True, reason="补班")

    assert deadline_add(friday, 1, DurationUnit.WORKING_DAYS) == at(2025, 11, 16, 0, 0)
    row = CalendarDay.objects.get()
    assert (row.date, row.is_working_day, row.reason) == (date(2025, 11, 15), True, "补班")


def test_saving_the_same_day_again_replaces_its_override():
    calendar_day_save(day=date(2025, 11, 15), is_working_day=True, reason="补班")
    calendar_day_save(day=date(2025, 11, 15), is_working_day=False, reason="台风停工")

    assert list(CalendarDay.objects.values_list("date", "is_working_day", "reason")) == [
        (date(2025, 11, 15), False, "台风停工")
    ]
    assert working_day_is(date(2025, 11, 15)) is False


def test_overrides_are_read_once_per_process_until_the_cache_is_cleared():
    assert working_day_is(date(2025, 11, 17)) is True  # reads the (empty) overrides

    # written behind the service's back: this process does not see it yet
    CalendarDay.objects.create(date=date(2025, 11, 17), is_working_day=False, reason="台风停工")
    assert working_day_is(date(2025, 11, 17)) is True

    calendar_cache_clear()
    assert working_day_is(date(2025, 11, 17)) is False


def test_an_override_wins_over_the_national_calendar():
    # National Day is off nationally; a local duty day makes it a working day here
    calendar_day_save(day=date(2025, 10, 3), is_working_day=True, reason="补班")

    assert working_day_is(date(2025, 10, 3)) is True
    assert deadline_add(at(2025, 9, 30, 10, 0), 1, DurationUnit.WORKING_DAYS) == at(
        2025, 10, 4, 0, 0
    )


# --- years chinesecalendar does not cover -------------------------------------------------------


def test_a_year_without_data_counts_the_statutory_holidays_by_rule_and_warns_once(
    caplog, monkeypatch
):
    monkeypatch.setattr("core.calendar._years_warned", set())
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2030, 5, 1))

    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert working_day_is(date(2030, 5, 1)) is False  # Labour Day by rule (a Wednesday)
        assert working_day_is(date(2030, 5, 2)) is False  # its second statutory day
        assert working_day_is(date(2030, 5, 3)) is True  # a Friday: no 调休 is known
        assert working_day_is(date(2030, 5, 4)) is False  # a Saturday
        # Friday 2030-05-03: Saturday and Sunday off, Monday 05-06 counts
        assert deadline_add(
            datetime(2030, 5, 3, 15, 0, tzinfo=SH), 1, DurationUnit.WORKING_DAYS
        ) == datetime(2030, 5, 7, 0, 0, tzinfo=SH)

    warnings = [r.getMessage() for r in caplog.records if r.name == "core.calendar"]
    assert warnings == [
        "no holiday notice for 2030: counting its statutory holidays by rule, without 调休 "
        "(provisional); import the State Council's notice (manage.py calendar_import)"
    ]


def test_the_last_covered_year_still_uses_the_national_calendar():
    # 2026's National Day (10-01..10-07) is in the data; the fallback would count Thursday 10-01
    assert working_day_is(date(2026, 10, 1)) is False
    assert deadline_add(at(2026, 9, 30, 10, 0), 1, DurationUnit.WORKING_DAYS) == at(
        2026, 10, 9, 0, 0
    )
