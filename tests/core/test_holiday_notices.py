"""The calendar past chinesecalendar's data: provisional years by rule, the warnings from 1
November of the year before, and the State Council's notice imported from a checked file."""

from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from core.calendar import (
    HOLIDAY_NAMES,
    calendar_cache_clear,
    calendar_official_until,
    deadline_compute,
    statutory_days,
    working_day_is,
    year_is_official,
)
from core.choices import DurationUnit, Role
from core.holiday_notice import NoticeInvalid, holiday_notice_import, notice_parse
from core.models import CalendarAlert, HolidayNotice, HolidayNoticeDay, Notification
from core.services import calendar_alert_send
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOTICES = Path(__file__).resolve().parents[2] / "core" / "holiday_notices"
HEADER = "kind,name,first_day,last_day\n"

# A notice for 2027 as it might come: every holiday's statutory days inside its range, and
# make-up working weekends (the real one is not published yet).
NOTICE_2027 = (
    HEADER + "notice,国务院办公厅关于2027年部分节假日安排的通知（测试）,,\n"
    "holiday,元旦,2027-01-01,2027-01-03\n"
    "holiday,春节,2027-02-05,2027-02-10\n"
    "workday,春节,2027-01-30,\n"
    "holiday,清明节,2027-04-03,2027-04-05\n"
    "holiday,劳动节,2027-05-01,2027-05-05\n"
    "workday,劳动节,2027-04-25,\n"
    "holiday,端午节,2027-06-09,\n"
    "holiday,中秋节,2027-09-15,\n"
    "holiday,国庆节,2027-10-01,2027-10-07\n"
    "workday,国庆节,2027-09-26,\n"
    "workday,国庆节,2027-10-09,\n"
)


@pytest.fixture(autouse=True)
def _calendar_isolated(settings, monkeypatch):
    """Whole working days; chinesecalendar's data ends with 2026 whatever version is installed
    (1.11 ends there), so the years after it are provisional unless a test imports them."""
    settings.WORKING_HOURS = []
    monkeypatch.setattr("core.calendar._package_covers", lambda year: year <= 2026)
    calendar_cache_clear()
    yield
    calendar_cache_clear()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


# --- provisional years ------------------------------------------------------------------------


def test_a_provisional_year_counts_the_2027_spring_festival_by_rule_and_marks_the_deadline():
    with time_machine.travel(at(2027, 1, 20, 10, 0), tick=False):
        deadline = deadline_compute(at(2027, 1, 20, 10, 0), 15, DurationUnit.WORKING_DAYS)

    # Jan 21-22, 25-29, Feb 1-4 are 11 working days; 除夕 (Fri 02-05) and 初三 (Mon 02-08) are
    # statutory, and 初一/初二 fell on the weekend, so Tue 02-09 and Wed 02-10 are their 补假;
    # Feb 11, 12, 15 and 16 make 15. Monday to Friday would have ended on Feb 10.
    assert deadline.due == at(2027, 2, 17, 0, 0)
    assert deadline.provisional is True
    assert sorted(d for d in statutory_days(2027) if d.month == 2) == [
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),
    ]
    assert working_day_is(date(2027, 2, 9)) is False
    assert working_day_is(date(2027, 2, 11)) is True


def test_a_deadline_inside_official_years_is_not_provisional_and_minutes_never_are():
    assert deadline_compute(at(2026, 11, 16, 10), 1, DurationUnit.WORKING_DAYS).provisional is False
    # Counted from 2026 into 2027: the part in 2027 is by rule.
    assert deadline_compute(at(2026, 12, 30, 10), 5, DurationUnit.WORKING_DAYS).provisional is True
    assert deadline_compute(at(2027, 3, 1, 10), 30, DurationUnit.MINUTES).provisional is False


def test_healthz_warns_from_the_first_of_november_without_failing_the_check(client):
    with time_machine.travel(at(2026, 10, 31, 12, 0), tick=False):
        before = client.get("/healthz").json()["calendar"]
    with time_machine.travel(at(2026, 11, 1, 0, 30), tick=False):
        november = client.get("/healthz").json()
    with time_machine.travel(at(2027, 1, 20, 10, 0), tick=False):
        january = client.get("/healthz").json()["calendar"]

    assert before == {
        "ok": True,
        "official_until": "2026-12-31",
        "provisional_years": [2027],
        "warning": None,
    }
    assert november["calendar"]["ok"] is True
    assert "2027" in november["calendar"]["warning"]
    assert january["official_until"] == "2026-12-31"
    assert january["provisional_years"] == [2027, 2028]
    assert "2027" in january["warning"]


def test_metrics_carry_the_end_of_the_official_calendar(client):
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=False):
        text = client.get("/metrics").content.decode()
    line = next(x for x in text.splitlines() if x.startswith("shaoxiang_calendar_official_until "))
    assert float(line.split()[1]) == at(2027, 1, 1, 0, 0).timestamp()
    assert "shaoxiang_timers_provisional 0.0" in text


def test_the_district_administrators_are_told_once(client):
    admins = [UserFactory(username=f"admin{n}", roles=[Role.DISTRICT_ADMIN]) for n in (1, 2)]
    UserFactory(username="command", roles=[Role.COMMAND_CENTRE])

    with time_machine.travel(at(2026, 10, 31, 9, 0), tick=False):
        assert calendar_alert_send() == 0
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        assert calendar_alert_send() == 2
        assert calendar_alert_send() == 0

    told = Notification.objects.filter(kind="calendar_provisional")
    assert sorted(n.recipient.username for n in told) == [a.username for a in admins]
    assert {n.reference for n in told} == {"2027"}
    assert list(CalendarAlert.objects.values_list("year", flat=True)) == [2027]


def test_the_admin_shows_the_warning_as_a_banner(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=False):
        page = client.get("/admin/").content.decode()
    assert 'class="warning" role="alert"' in page
    assert "2027" in page


# --- the notice imported ----------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_past_notices_import_to_exactly_what_chinesecalendar_says(year, monkeypatch):
    done = holiday_notice_import(content=(NOTICES / f"{year}.csv").read_bytes())
    assert done.notice.year == year
    assert done.days == set()  # nothing changes: the same calendar as the package's

    # Without the package: only the imported notice decides.
    monkeypatch.setattr("core.calendar.chinese_calendar", None)
    day = date(year, 1, 1)
    while day <= date(year, 12, 31):
        assert working_day_is(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_importing_a_year_makes_it_official_and_the_same_file_again_changes_nothing():
    content = NOTICE_2027.encode()
    assert year_is_official(2027) is False

    first = holiday_notice_import(content=content)
    again = holiday_notice_import(content=content)

    assert first.unchanged is False and again.unchanged is True
    assert year_is_official(2027) is True
    assert calendar_official_until(date(2027, 1, 20)) == date(2027, 12, 31)
    # The make-up Saturday works; the range's Wednesday is off; other days follow the weekday.
    assert working_day_is(date(2027, 1, 30)) is True
    assert working_day_is(date(2027, 2, 10)) is False
    assert working_day_is(date(2027, 2, 11)) is True
    # Changed from the rule: the make-up days, and the days the notice adds to 国庆节's 补假.
    assert first.days >= {date(2027, 1, 30), date(2027, 10, 6), date(2027, 10, 9)}
    assert date(2027, 2, 11) not in first.days  # a working day by rule and by the notice
    assert HolidayNotice.objects.count() == 1
    assert HolidayNoticeDay.objects.filter(is_working_day=True).count() == 4


def test_a_make_up_day_on_a_wednesday_and_overlapping_ranges_are_refused_naming_the_lines():
    bad = (
        NOTICE_2027.replace("workday,春节,2027-01-30,", "workday,春节,2027-01-27,")
        .replace("holiday,清明节,2027-04-03,2027-04-05", "holiday,清明节,2027-04-05,2027-04-19")
        .replace("holiday,劳动节,2027-05-01,2027-05-05", "holiday,劳动节,2027-04-19,2027-05-03")
    )

    with translation.override("en"), pytest.raises(NoticeInvalid) as refused:
        holiday_notice_import(content=bad.encode())

    assert refused.value.errors == [
        "line 5: make-up day 2027-01-27 is a Wednesday, not a weekend",
        "line 7: 2027-04-19 is already in line 6",
        "line 8: 2027-04-25 is already in line 7",  # the make-up Sunday inside the range
    ]
    assert HolidayNotice.objects.count() == 0
    assert working_day_is(date(2027, 1, 27)) is True


def test_the_errors_are_in_chinese_by_default():
    with pytest.raises(NoticeInvalid) as refused:
        notice_parse(NOTICE_2027.replace("2027-01-30", "2027-01-27").encode())
    assert refused.value.errors == ["第 5 行：调休上班日 2027-01-27 是星期三，不是周末"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            lambda text: text.replace("holiday,端午节,2027-06-09,\n", ""),
            "the year 2027 is not complete: no range for 端午节",
        ),
        (
            lambda text: text.replace("2027-02-05,2027-02-10", "2027-02-06,2027-02-10"),
            "line 4: the range of 春节 leaves out statutory day(s) 2027-02-05",
        ),
        (
            lambda text: text.replace("holiday,元旦", "holliday,元旦"),
            "line 3: unknown kind 'holliday' (holiday, workday or notice)",
        ),
        (
            lambda text: text.replace("2027-04-03,2027-04-05", "2027-04-03,2027-04-31"),
            "line 6: '2027-04-31' is not a date (YYYY-MM-DD)",
        ),
        (
            lambda text: text.replace("劳动节,2027-05-01", "五一,2027-05-01"),
            "line 7: '五一' is not a holiday of the rule (" + "、".join(HOLIDAY_NAMES) + ")",
        ),
        (
            lambda text: text.replace(HEADER, "type,name,from,to\n"),
            "line 1: the first row must be the header kind,name,first_day,last_day",
        ),
    ],
)
def test_each_kind_of_bad_file_is_refused_with_its_line(change, error):
    with translation.override("en"), pytest.raises(NoticeInvalid) as refused:
        notice_parse(change(NOTICE_2027).encode())
    assert error in refused.value.errors


def test_the_command_imports_and_refuses_with_every_bad_line(tmp_path):
    good, bad = tmp_path / "2027.csv", tmp_path / "bad.csv"
    good.write_text(NOTICE_2027, encoding="utf-8")
    bad.write_text(NOTICE_2027.replace("2027-09-26", "2027-09-29"), encoding="utf-8")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="refused"):
        call_command("calendar_import", str(bad), stdout=out, stderr=err)
    assert "2027-09-29" in err.getvalue()
    assert HolidayNotice.objects.count() == 0

    call_command("calendar_import", str(good), "--check", stdout=out)
    assert HolidayNotice.objects.count() == 0
    call_command("calendar_import", str(good), stdout=out)
    call_command("calendar_import", str(good), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("valid")
    assert "imported;" in lines[1]
    assert lines[2].endswith("already imported; nothing changed")


def test_the_admin_imports_a_notice_and_shows_the_errors_of_a_bad_one(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    url = "/admin/core/holidaynotice/import/"
    bad = NOTICE_2027.replace("2027-10-09", "2027-10-06")

    refused = client.post(url, {"file": SimpleUploadedFile("bad.csv", bad.encode())})
    imported = client.post(url, {"file": SimpleUploadedFile("2027.csv", NOTICE_2027.encode())})

    assert refused.status_code == 200
    assert "2027-10-06" in refused.content.decode()
    assert imported.status_code == 302
    notice = HolidayNotice.objects.get()
    assert (notice.year, notice.imported_by) == (2027, root)


def test_a_staff_member_without_calendar_rights_may_not_import(client):
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get("/admin/core/holidaynotice/import/").status_code == 403
