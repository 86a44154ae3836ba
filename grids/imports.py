"""Import and export of cells (GeoJSON) and subjects (CSV / Excel). An import is all-or-nothing:
every row is checked first and every bad row is reported (row, column, reason); only a file
without a bad row is written, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from grids.choices import Crs, GridLevel, RegionLevel, RiskLevel, SubjectKind
from grids.exchange import geojson_features, table_rows
from grids.geometry import geometry_clean, geometry_shape
from grids.models import GridCell, Region, Subject
from grids.services import SubjectInput, cell_save, subject_input_clean, subject_save

Progress = Callable[[Iterable], Iterable]


def _no_progress(items: Iterable) -> Iterable:
    return items


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.row == 0:  # the file as a whole
            return f"{self.column}: {self.reason}"
        return _("row %(row)d, %(column)s: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
        }


@dataclass
class ImportReport:
    """What an import did: nothing at all when ``errors`` is not empty."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _choice_lookup(choices) -> dict[str, str]:
    """Accept a choice by its code, its Chinese label or its English label."""
    lookup = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                lookup[str(label).strip().lower()] = value
    return lookup


# --- cells ---------------------------------------------------------------------------------------


def cells_import(
    path: Path, *, crs: str = Crs.WGS84, progress: Progress = _no_progress
) -> ImportReport:
    """Features with properties ``code``, ``name``, ``level``, ``community`` (community code),
    and optionally ``area`` and ``parent`` (the first-level cell's code; without it, the
    first-level cell holding the polygon's centre). Updates cells whose code exists."""
    report = ImportReport()
    try:
        features = geojson_features(path)
    except ValidationError as exc:
        report.errors.append(RowError(0, _("file"), exc.messages[0]))
        return report
    levels = _choice_lookup(GridLevel)
    communities = {r.code: r for r in Region.objects.filter(level=RegionLevel.COMMUNITY)}
    rows = []
    seen = set()
    for number, feature in enumerate(progress(features), start=1):
        errors_before = len(report.errors)
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            report.errors.append(
                RowError(number, "feature", _("A feature is an object with properties."))
            )
            continue
        properties = feature.get("properties") or {}

        def bad(column: str, reason: str, number=number) -> None:
            report.errors.append(RowError(number, column, reason))

        code = str(properties.get("code") or "").strip()
        if len(code) != 15 or not code.isdigit():
            bad("code", _("A grid code has 15 digits: the community code and 3 more."))
        elif code in seen:
            bad("code", _("Code %(code)s appears twice in the file.") % {"code": code})
        seen.add(code)
        name = str(properties.get("name") or "").strip()
        if not name:
            bad("name", _("Required."))
        level = levels.get(str(properties.get("level") or "").strip().lower())
        if level is None:
            bad("level", _("Unknown level %(value)r.") % {"value": properties.get("level")})
        community = communities.get(str(properties.get("community") or "").strip())
        if community is None:
            bad(
                "community",
                _("No community with code %(value)r.") % {"value": properties.get("community")},
            )
        elif code and not code.startswith(community.code):
            bad(
                "code",
                _("The code must begin with the community code %(code)s.")
                % {"code": community.code},
            )
        try:
            geometry = geometry_clean(feature.get("geometry"), crs=crs)
        except ValidationError as exc:
            bad("geometry", exc.messages[0])
            geometry = None
        if len(report.errors) == errors_before:
            rows.append(
                {
                    "number": number,
                    "code": code,
                    "name": name,
                    "level": level,
                    "community": community,
                    "area": str(properties.get("area") or "").strip(),
                    "parent": str(properties.get("parent") or "").strip(),
                    "geometry": geometry,
                }
            )
    _cells_parents(rows, report)
    if not report.ok:
        return report
    # First-level cells first, so that comprehensive cells find their parent saved.
    rows.sort(key=lambda row: (row["level"] != GridLevel.FIRST_LEVEL, row["code"]))
    try:
        with transaction.atomic():
            for row in rows:
                parent = GridCell.objects.get(code=row["parent"]) if row["parent"] else None
                saved = cell_save(
                    code=row["code"],
                    name=row["name"],
                    level=row["level"],
                    community=row["community"],
                    geometry=row["geometry"],
                    area=row["area"],
                    parent=parent,
                )
                report.created += saved.created
                report.updated += not saved.created
                report.warnings.extend(saved.warnings)
    except ValidationError as exc:  # a rule only the model sees; nothing was kept
        report.errors.append(RowError(row["number"], "code", "; ".join(exc.messages)))
        report.created = report.updated = 0
    return report


def _cells_parents(rows: list[dict], report: ImportReport) -> None:
    """Name every comprehensive row's first-level cell, from the file or the database."""
    first_level = {
        cell.code: geometry_shape(cell.geometry)
        for cell in GridCell.objects.filter(level=GridLevel.FIRST_LEVEL)
    }
    first_level.update(
        {
            row["code"]: geometry_shape(row["geometry"])
            for row in rows
            if row["level"] == GridLevel.FIRST_LEVEL
        }
    )
    for row in rows:
        if row["level"] == GridLevel.FIRST_LEVEL:
            if row["parent"]:
                report.errors.append(
                    RowError(row["number"], "parent", _("A first-level cell has no parent cell."))
                )
            continue
        if row["parent"]:
            if row["parent"] not in first_level:
                report.errors.append(
                    RowError(
                        row["number"],
                        "parent",
                        _("No first-level cell %(code)s.") % {"code": row["parent"]},
                    )
                )
            continue
        centre = geometry_shape(row["geometry"]).representative_point()
        holders = sorted(code for code, shape in first_level.items() if shape.covers(centre))
        if not holders:
            report.errors.append(
                RowError(
                    row["number"],
                    "parent",
                    _("No first-level cell holds this cell; name one in 'parent'."),
                )
            )
        else:
            row["parent"] = holders[0]


def cells_export_features(cells: Iterable[GridCell]) -> Iterable[dict]:
    for cell in cells:
        yield {
            "type": "Feature",
            "geometry": cell.geometry,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "level": cell.level,
                "community": cell.community.code,
                "area": cell.area,
                "parent": cell.parent.code if cell.parent_id else "",
            },
        }


# --- subjects ------------------------------------------------------------------------------------

# (field, the Chinese header published directories use). Headers are accepted in either form.
SUBJECT_COLUMNS = [
    ("name", "名称"),
    ("kind", "类型"),
    ("credit_code", "统一社会信用代码"),
    ("address", "地址"),
    ("lat", "纬度"),
    ("lng", "经度"),
    ("crs", "坐标系"),
    ("risk_level", "风险等级"),
    ("contact_name", "联系人"),
    ("contact_phone", "联系电话"),
    ("is_active", "状态"),
]
_REQUIRED = {"name", "kind", "address", "lat", "lng"}
# Written on export for the reader, ignored on import (the cell follows from the location).
_EXPORT_ONLY = {"cell": "所在网格", "number": "序号"}
_ACTIVE = {
    "1": True,
    "true": True,
    "yes": True,
    "是": True,
    "正常": True,
    "active": True,
    "0": False,
    "false": False,
    "no": False,
    "否": False,
    "停用": False,
    "inactive": False,
}


def subjects_import(path: Path, *, progress: Progress = _no_progress) -> ImportReport:
    """Rows of the subject directory. A row whose credit code exists updates that subject; a row
    without a code updates the subject of the same name and address, else creates one."""
    report = ImportReport()
    try:
        header, data = table_rows(path)
    except ValidationError as exc:
        report.errors.append(RowError(0, _("file"), exc.messages[0]))
        return report
    columns = _subject_columns(header, report)
    if not report.ok:
        return report
    kinds, risks = _choice_lookup(SubjectKind), _choice_lookup(RiskLevel)
    inputs: list[tuple[int, SubjectInput]] = []
    seen_codes: dict[str, int] = {}
    for number, row in progress(list(data)):
        values = {name: row[index] if index < len(row) else None for name, index in columns.items()}
        row_errors: list[RowError] = []
        data_in = _subject_row(number, values, kinds, risks, row_errors)
        if data_in is not None:
            try:
                fields = subject_input_clean(data_in)
            except ValidationError as exc:
                row_errors.extend(
                    RowError(number, _header_of(name), message)
                    for name, messages in exc.message_dict.items()
                    for message in messages
                )
            else:
                code = fields["credit_code"]
                if code and code in seen_codes:
                    row_errors.append(
                        RowError(
                            number,
                            _header_of("credit_code"),
                            _("Same credit code as row %(row)d.") % {"row": seen_codes[code]},
                        )
                    )
                elif code:
                    seen_codes[code] = number
        if row_errors:
            report.errors.extend(row_errors)
        else:
            inputs.append((number, data_in))
    if not report.ok:
        return report
    with transaction.atomic():
        for _number, data_in in inputs:
            fields = subject_input_clean(data_in)
            existing = (
                Subject.objects.filter(credit_code=fields["credit_code"]).first()
                if fields["credit_code"]
                else Subject.objects.filter(
                    name=fields["name"], address=fields["address"], credit_code=None
                ).first()
            )
            subject_save(data=data_in, subject=existing)
            report.created += existing is None
            report.updated += existing is not None
    return report


def _header_of(name: str) -> str:
    return dict(SUBJECT_COLUMNS).get(name, name)


def _subject_columns(header: list[str], report: ImportReport) -> dict[str, int]:
    by_header = {}
    for name, chinese in SUBJECT_COLUMNS:
        by_header[chinese] = name
        by_header[name] = name
    ignored = set(_EXPORT_ONLY) | set(_EXPORT_ONLY.values())
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        if title in ignored:
            continue
        name = by_header.get(title) or by_header.get(title.lower())
        if name is None:
            report.errors.append(RowError(1, title or str(index + 1), _("Unknown column.")))
        elif name in columns:
            report.errors.append(RowError(1, title, _("The column appears twice.")))
        else:
            columns[name] = index
    for name in sorted(_REQUIRED - set(columns)):
        report.errors.append(RowError(1, _header_of(name), _("Required column is missing.")))
    return columns


def _subject_row(number, values, kinds, risks, errors) -> SubjectInput | None:
    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value).strip()

    coordinates = {}
    for name in ("lat", "lng"):
        try:
            coordinates[name] = float(text(name))
        except ValueError:
            errors.append(
                RowError(
                    number,
                    _header_of(name),
                    _("%(value)r is not a number.") % {"value": text(name)},
                )
            )
    kind = kinds.get(text("kind").lower())
    if kind is None:
        errors.append(
            RowError(
                number, _header_of("kind"), _("Unknown kind %(value)r.") % {"value": text("kind")}
            )
        )
    risk = risks.get(text("risk_level").lower() or RiskLevel.LOW)
    if risk is None:
        errors.append(
            RowError(
                number,
                _header_of("risk_level"),
                _("Unknown risk level %(value)r.") % {"value": text("risk_level")},
            )
        )
    active = _ACTIVE.get(text("is_active").lower() or "1")
    if active is None:
        errors.append(
            RowError(
                number,
                _header_of("is_active"),
                _("%(value)r is neither active nor inactive.") % {"value": text("is_active")},
            )
        )
    if errors:
        return None
    return SubjectInput(
        kind=kind,
        name=text("name"),
        address=text("address"),
        lat=coordinates["lat"],
        lng=coordinates["lng"],
        crs=text("crs").lower() or Crs.WGS84,
        credit_code=text("credit_code"),
        risk_level=risk,
        contact_name=text("contact_name"),
        contact_phone=text("contact_phone"),
        is_active=active,
    )


def subjects_export_rows(subjects: Iterable[Subject]) -> tuple[list[str], Iterable[list]]:
    """Header and rows in the import's format, plus the cell. Labels are Chinese whatever the
    active language: the file follows the published directories' format."""
    header = (
        [_EXPORT_ONLY["number"]]
        + [chinese for _name, chinese in SUBJECT_COLUMNS]
        + [_EXPORT_ONLY["cell"]]
    )

    def rows():
        with translation.override("zh-hans"):
            yield from _subject_export_rows(subjects)

    return header, rows()


def _subject_export_rows(subjects: Iterable[Subject]) -> Iterable[list]:
    for number, subject in enumerate(subjects, start=1):
        yield [
            number,
            subject.name,
            subject.get_kind_display(),
            subject.credit_code or "",
            subject.address,
            subject.lat,
            subject.lng,
            Crs.WGS84.value,
            subject.get_risk_level_display(),
            subject.contact_name,
            subject.contact_phone,
            "正常" if subject.is_active else "停用",
            subject.cell.code if subject.cell_id else "",
        ]
