"""File formats of the grids app: GeoJSON for cells, CSV and Excel for the subject directory.
Reading turns a file into plain rows with their row numbers; writing neutralises spreadsheet
formulas. What the rows mean is decided by grids.services."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

# A cell starting with one of these is run as a formula by Excel, LibreOffice and WPS (CSV
# injection, OWASP): exported text gets a leading apostrophe, which spreadsheets show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text a spreadsheet would run gets a leading apostrophe; so does text that already starts
    with an apostrophe before such a character, so that spreadsheet_unescape gives it back."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_START)
        or (value.startswith("'") and value.lstrip("'").startswith(FORMULA_START))
    ):
        return "'" + value
    return value


def spreadsheet_unescape(value):
    """Undo spreadsheet_safe on import, so that an exported file imports unchanged."""
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value.lstrip("'").startswith(FORMULA_START)
    ):
        return value[1:]
    return value


def geojson_features(path: Path) -> list[dict]:
    """The features of a GeoJSON FeatureCollection. Raises ValidationError for anything else."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationError(_("%(path)s is not a GeoJSON FeatureCollection.") % {"path": path})
    features = document.get("features")
    if not isinstance(features, list):
        raise ValidationError(_("%(path)s has no features list.") % {"path": path})
    return features


def geojson_write(path: Path, features: Iterable[dict]) -> int:
    features = list(features)
    Path(path).write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1
        ),
        encoding="utf-8",
    )
    return len(features)


def table_rows(
    path: Path, *, header_marker: str | None = None
) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """The header and the data rows of a .csv (UTF-8, with or without BOM; GB18030 as exported
    by Chinese Excel) or .xlsx file, each row with its number as a spreadsheet shows it (the
    header is row 1, or with ``header_marker`` the first of the first ten rows holding a cell
    equal to it: published lists often carry a title row above). Raises ValidationError for an
    unreadable file or another format."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = _csv_rows(path)
        elif suffix == ".xlsx":
            workbook = load_workbook(path, read_only=True, data_only=True)
            rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
            workbook.close()
        else:
            raise ValidationError(
                _("Use a .csv or .xlsx file, not %(suffix)s.") % {"suffix": suffix or path.name}
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        # openpyxl raises these for a broken file, or an old .xls renamed to .xlsx
        raise ValidationError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from None
    if not rows:
        raise ValidationError(_("%(path)s is empty.") % {"path": path})
    start = 0
    if header_marker is not None:
        for index, row in enumerate(rows[:10]):
            if header_marker in [str(cell or "").strip() for cell in row]:
                start = index
                break
        else:
            raise ValidationError(
                _("%(path)s has no header row with a column %(column)s.")
                % {"path": path, "column": header_marker}
            )
    header = [str(cell or "").strip() for cell in rows[start]]
    # Excel pads rows to the sheet's width when a cell right of the table is formatted.
    while header and not header[-1]:
        header.pop()
    data = (
        (number, [spreadsheet_unescape(cell) for cell in row])
        for number, row in enumerate(rows[start + 1 :], start=start + 2)
        if any(cell not in (None, "") for cell in row)
    )
    return header, data


def _csv_rows(path: Path) -> list[list]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(_("not UTF-8 or GB18030 text"))
    return list(csv.reader(io.StringIO(text, newline="")))


def table_write(path: Path, header: list[str], rows: Iterable[list]) -> int:
    """Write a .csv (UTF-8 with BOM, so Excel shows Chinese) or .xlsx; every text cell that a
    spreadsheet would run as a formula is neutralised."""
    path = Path(path)
    count = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([spreadsheet_safe(value) for value in row])
                count += 1
        return count
    if path.suffix.lower() != ".xlsx":
        raise ValidationError(
            _("Use a .csv or .xlsx file, not %(suffix)s.") % {"suffix": path.suffix}
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        # openpyxl writes a string starting with "=" as a live formula (NOTES.md).
        sheet.append([spreadsheet_safe(value) for value in row])
        count += 1
    workbook.save(path)
    return count


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_bytes(fmt: str, header: list[str], rows: Iterable[list]) -> tuple[bytes, str]:
    """The table as a file's content and content type, as table_write writes it (``fmt`` "csv"
    or "xlsx"; every cell a spreadsheet would run as a formula neutralised)."""
    if fmt not in CONTENT_TYPES:
        raise ValidationError(_("Use a .csv or .xlsx file, not %(suffix)s.") % {"suffix": fmt})
    if fmt == "csv":
        handle = io.StringIO(newline="")
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([spreadsheet_safe(value) for value in row])
        return ("\ufeff" + handle.getvalue()).encode("utf-8"), CONTENT_TYPES[fmt]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([spreadsheet_safe(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), CONTENT_TYPES[fmt]
