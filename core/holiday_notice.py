"""The State Council's annual holiday notice as a file, read and checked before anything is
written (``calendar_import``, the admin's import form).

The file is CSV in UTF-8 (a spreadsheet saves it so), one row per holiday range or make-up
working day; blank lines and lines starting with ``#`` are ignored::

    kind,name,first_day,last_day
    notice,国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）,,
    holiday,元旦,2026-01-01,2026-01-03
    workday,元旦,2026-01-04,
    holiday,国庆节、中秋节,2025-10-01,2025-10-08

``kind`` is ``holiday`` (放假), ``workday`` (上班: a weekend day worked in exchange, 调休) or
``notice`` (the notice's title, once). ``name`` is the holiday, or holidays joined by 、 when a
notice joins them; a make-up day names the holiday it makes up for. ``last_day`` may be left
empty for a single day.

A notice is refused, naming every bad line, unless: each make-up day falls on a Saturday or a
Sunday; each holiday range contains the statutory days of the holidays it names (by rule:
``core.calendar.statutory_days``); no day is in two rows; every one of the seven holidays has
its range (the year is complete); and every day lies in the notice's year or in December of the
year before (元旦 ranges may start on 31 December)."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from core.calendar import HOLIDAY_NAMES, calendar_change_apply, statutory_days
from core.models import HolidayNotice, HolidayNoticeDay

HEADER = ["kind", "name", "first_day", "last_day"]
KINDS = {
    "holiday": "holiday",
    "放假": "holiday",
    "workday": "workday",
    "上班": "workday",
    "notice": "notice",
    "通知": "notice",
}
# No notice has given a holiday range longer than this (the 2020 Spring Festival's extension
# came by a separate notice); a longer range is a typing error.
LONGEST_RANGE = 15
NAME_SEPARATORS = ("、", ",", "，", "/")


class NoticeInvalid(Exception):
    """The file is not a complete, consistent notice; ``errors`` names each bad line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class NoticeFile:
    """A checked notice: its year, title and the days that are not what their weekday says
    (date -> (is_working_day, holiday))."""

    year: int
    title: str
    sha256: str
    days: dict[date, tuple[bool, str]] = field(default_factory=dict)


@dataclass
class _Row:
    line: int
    kind: str
    names: list[str]
    first: date
    last: date

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _weekday_name(day: date) -> str:
    return str(WEEKDAYS[day.weekday()])


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines that hold data."""
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _date_parse(text: str, line: int, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(
            _("line %(line)s: %(value)r is not a date (YYYY-MM-DD)") % {"line": line, "value": text}
        )
        return None


def _names_split(text: str) -> list[str]:
    for separator in NAME_SEPARATORS[1:]:
        text = text.replace(separator, NAME_SEPARATORS[0])
    return [name.strip() for name in text.split(NAME_SEPARATORS[0]) if name.strip()]


def _rows_parse(text: str, errors: list[str]) -> tuple[list[_Row], str]:
    lines = _lines(text)
    if not lines:
        errors.append(_("the file holds no rows"))
        return [], ""
    number, header = lines[0]
    if [cell.strip() for cell in next(csv.reader([header]))] != HEADER:
        errors.append(
            _("line %(line)s: the first row must be the header %(header)s")
            % {"line": number, "header": ",".join(HEADER)}
        )
        return [], ""
    rows, title = [], ""
    for number, line in lines[1:]:
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if len(cells) < 3 or len(cells) > 4:
            errors.append(
                _("line %(line)s: expected 3 or 4 cells (%(header)s), found %(count)s")
                % {"line": number, "header": ",".join(HEADER), "count": len(cells)}
            )
            continue
        kind_text, name, first_text = cells[:3]
        last_text = cells[3] if len(cells) == 4 else ""
        kind = KINDS.get(kind_text)
        if kind is None:
            errors.append(
                _("line %(line)s: unknown kind %(kind)r (holiday, workday or notice)")
                % {"line": number, "kind": kind_text}
            )
            continue
        if kind == "notice":
            if title:
                errors.append(_("line %(line)s: a second notice row") % {"line": number})
            elif not name:
                errors.append(_("line %(line)s: the notice row has no title") % {"line": number})
            title = name
            continue
        names = _names_split(name)
        unknown = [n for n in names if n not in HOLIDAY_NAMES]
        if not names or unknown:
            errors.append(
                _("line %(line)s: %(name)r is not a holiday of the rule (%(known)s)")
                % {"line": number, "name": name, "known": "、".join(HOLIDAY_NAMES)}
            )
            continue
        first = _date_parse(first_text, number, errors)
        last = _date_parse(last_text, number, errors) if last_text else first
        if first is None or last is None:
            continue
        if last < first:
            errors.append(
                _("line %(line)s: the last day %(last)s is before the first %(first)s")
                % {"line": number, "first": first, "last": last}
            )
            continue
        if (last - first).days >= LONGEST_RANGE:
            errors.append(
                _("line %(line)s: %(first)s to %(last)s is %(days)s days, longer than any notice")
                % {"line": number, "days": (last - first).days + 1, "first": first, "last": last}
            )
            continue
        rows.append(_Row(line=number, kind=kind, names=names, first=first, last=last))
    return rows, title


def _rows_check(rows: list[_Row], errors: list[str]) -> int | None:
    holidays_rows = [row for row in rows if row.kind == "holiday"]
    if not holidays_rows:
        errors.append(_("the file gives no holiday range"))
        return None
    year = Counter(row.last.year for row in holidays_rows).most_common(1)[0][0]
    statutory = statutory_days(year)
    earliest, latest = date(year - 1, 12, 1), date(year, 12, 31)
    seen: dict[date, int] = {}
    named: dict[str, int] = {}
    for row in rows:
        if row.first < earliest or row.last > latest:
            errors.append(
                _("line %(line)s: %(first)s to %(last)s lies outside the notice's year %(year)s")
                % {"line": row.line, "first": row.first, "last": row.last, "year": year}
            )
            continue
        for day in row.dates():
            if day in seen:
                errors.append(
                    _("line %(line)s: %(day)s is already in line %(other)s")
                    % {"line": row.line, "day": day, "other": seen[day]}
                )
            else:
                seen[day] = row.line
        if row.kind == "workday":
            for day in row.dates():
                if day.weekday() < 5:
                    errors.append(
                        _("line %(line)s: make-up day %(day)s is a %(weekday)s, not a weekend")
                        % {"line": row.line, "day": day, "weekday": _weekday_name(day)}
                    )
            continue
        span = set(row.dates())
        for name in row.names:
            if name in named:
                errors.append(
                    _("line %(line)s: %(name)s already has its range in line %(other)s")
                    % {"line": row.line, "name": name, "other": named[name]}
                )
                continue
            named[name] = row.line
            missing = sorted(day for day, n in statutory.items() if n == name and day not in span)
            if missing:
                errors.append(
                    _("line %(line)s: the range of %(name)s leaves out statutory day(s) %(days)s")
                    % {
                        "line": row.line,
                        "name": name,
                        "days": ", ".join(day.isoformat() for day in missing),
                    }
                )
    absent = [name for name in HOLIDAY_NAMES if name not in named]
    if absent:
        errors.append(
            _("the year %(year)s is not complete: no range for %(names)s")
            % {"year": year, "names": "、".join(absent)}
        )
    return year


def notice_parse(content: bytes) -> NoticeFile:
    """The checked notice of ``content``. Raises NoticeInvalid naming every bad line; nothing
    is written here."""
    errors: list[str] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NoticeInvalid([_("the file is not UTF-8 text")]) from None
    rows, title = _rows_parse(text, errors)
    year = _rows_check(rows, errors) if rows else None
    if errors or year is None:
        raise NoticeInvalid(errors or [_("the file gives no holiday range")])
    days = {}
    for row in rows:
        for day in row.dates():
            days[day] = (row.kind == "workday", "、".join(row.names))
    return NoticeFile(
        year=year,
        title=title or _("Holiday arrangements of %(year)s") % {"year": year},
        sha256=hashlib.sha256(content).hexdigest(),
        days=days,
    )


@dataclass
class NoticeImport:
    """What an import did: ``unchanged`` when the same file was imported before; ``days`` the
    days whose working status changed; ``effects`` what the subscribers returned (enforcement:
    its report of moved deadlines)."""

    notice: HolidayNotice
    unchanged: bool
    days: set[date] = field(default_factory=set)
    effects: list = field(default_factory=list)

    @property
    def moved(self) -> int:
        """Running deadlines the subscribers moved."""
        return sum(getattr(effect, "moved", 0) for effect in self.effects)


def holiday_notice_import(*, content: bytes, user=None) -> NoticeImport:
    """Check ``content`` (notice_parse) and make it the notice of its year, replacing the one
    imported before, in one transaction with the deadlines it moves (calendar_change_apply).
    Idempotent: the same file again changes nothing. Raises NoticeInvalid, writing nothing."""
    parsed = notice_parse(content)
    existing = HolidayNotice.objects.filter(year=parsed.year).first()
    if existing is not None and existing.sha256 == parsed.sha256:
        return NoticeImport(notice=existing, unchanged=True)
    first = date(parsed.year - 1, 12, 1)
    days = {first + timedelta(days=n) for n in range((date(parsed.year, 12, 31) - first).days + 1)}
    if existing is not None:
        days.update(existing.days.values_list("date", flat=True))

    def change() -> HolidayNotice:
        HolidayNotice.objects.filter(year=parsed.year).delete()
        # A day another year's notice lists (a 元旦 range in December) now belongs to this one.
        HolidayNoticeDay.objects.filter(date__in=list(parsed.days)).delete()
        notice = HolidayNotice.objects.create(
            year=parsed.year, title=parsed.title, sha256=parsed.sha256, imported_by=user
        )
        HolidayNoticeDay.objects.bulk_create(
            HolidayNoticeDay(notice=notice, date=day, is_working_day=working, holiday=holiday)
            for day, (working, holiday) in sorted(parsed.days.items())
        )
        return notice

    reason = _("holiday notice imported: %(title)s") % {"title": parsed.title}
    applied = calendar_change_apply(change, days=days, years={parsed.year}, reason=reason)
    return NoticeImport(
        notice=applied.result, unchanged=False, days=applied.days, effects=applied.effects
    )
