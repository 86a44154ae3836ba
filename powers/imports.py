"""Excel/CSV import and export of a street's power list, in the columns published lists use
(序号, 事项编码, 事项名称, 实施依据, 处罚种类, 实施部门, 下放方式, 共性/个性, 备注) plus optional
columns for what this system keeps beyond them. An import is all-or-nothing: it upserts the items
and publishes them as the street's next catalogue version, or reports every bad row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grids.exchange import table_rows
from grids.imports import ImportReport, RowError
from grids.models import Region
from powers.choices import MODE_CHINESE, PENALTY_KIND_CHINESE, SCOPE_CHINESE
from powers.constants import SCORE_MAX, SCORE_MIN
from powers.models import CatalogueVersion, Department, PowerCategory, PowerItem
from powers.services import catalogue_publish

PUBLISHED_COLUMNS = [
    "序号",
    "事项编码",
    "事项名称",
    "实施依据",
    "处罚种类",
    "实施部门",
    "下放方式",
    "共性/个性",
    "备注",
]
EXTENDED_COLUMNS = [
    "类别",
    "罚款下限",
    "罚款上限",
    "裁量基准",
    "高频率",
    "高综合",
    "高需求",
    "易发现",
    "易处置",
    "重大处罚",
]
REQUIRED = ["事项编码", "事项名称", "实施依据", "处罚种类", "实施部门", "下放方式", "共性/个性"]
SCORES = {
    "高频率": "score_frequency",
    "高综合": "score_integration",
    "高需求": "score_demand",
    "易发现": "score_detect",
    "易处置": "score_handle",
}
_MODES = {chinese: value for value, chinese in MODE_CHINESE.items()}
_SCOPES = {chinese: value for value, chinese in SCOPE_CHINESE.items()}
_PENALTIES = {chinese: value for value, chinese in PENALTY_KIND_CHINESE.items()}
_YES_NO = {"是": True, "否": False, "": False}


@dataclass
class CatalogueImportReport(ImportReport):
    version: CatalogueVersion | None = None


def catalogue_import(
    path: Path,
    *,
    street: Region | None,
    effective_on: date | None = None,
    notice_number: str = "",
    published_on: date | None = None,
    actor=None,
) -> CatalogueImportReport:
    """Upsert the file's items and publish them as ``street``'s next version effective on
    ``effective_on``; with ``street`` None, only the district's master list of items is
    updated. All or nothing."""
    report = CatalogueImportReport()
    try:
        header, data = table_rows(path, header_marker="事项编码")
    except ValidationError as exc:
        report.errors.append(RowError(0, _("file"), exc.messages[0]))
        return report
    columns = {}
    for index, title in enumerate(header):
        if title not in PUBLISHED_COLUMNS + EXTENDED_COLUMNS:
            report.errors.append(RowError(1, title or str(index + 1), _("Unknown column.")))
        elif title in columns:
            report.errors.append(RowError(1, title, _("The column appears twice.")))
        else:
            columns[title] = index
    for title in REQUIRED:
        if title not in columns:
            report.errors.append(RowError(1, title, _("Required column is missing.")))
    if not report.ok:
        return report
    departments = {d.name: d for d in Department.objects.all()}
    categories = {c.name: c for c in PowerCategory.objects.all()} | {
        c.code: c for c in PowerCategory.objects.all()
    }
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in data:
        cell = {
            title: ("" if i >= len(row) or row[i] is None else str(row[i]).strip())
            for title, i in columns.items()
        }
        fields = _item_fields(number, cell, departments, categories, report)
        if fields is None:
            continue
        if fields["code"] in seen:
            report.errors.append(
                RowError(
                    number,
                    "事项编码",
                    _("Same code as row %(row)d.") % {"row": seen[fields["code"]]},
                )
            )
            continue
        seen[fields["code"]] = number
        rows.append(fields)
    if not rows and report.ok:
        report.errors.append(RowError(0, _("file"), _("The file lists no item.")))
    if not report.ok:
        return report
    with transaction.atomic():
        items = []
        for fields in rows:
            code = fields.pop("code")
            item, created = PowerItem.objects.update_or_create(code=code, defaults=fields)
            report.created += created
            report.updated += not created
            items.append(item)
        if street is None:
            return report
        report.version = catalogue_publish(
            street=street,
            items=items,
            effective_on=effective_on,
            notice_number=notice_number,
            published_on=published_on,
            actor=actor,
        )
    return report


def _item_fields(
    number: int, cell: dict, departments, categories, report: ImportReport
) -> dict | None:
    errors_before = len(report.errors)

    def bad(column: str, reason: str) -> None:
        report.errors.append(RowError(number, column, reason))

    code = cell.get("事项编码", "")
    for title in REQUIRED:
        if not cell.get(title):
            bad(title, _("Required."))
    department = departments.get(cell.get("实施部门", ""))
    if cell.get("实施部门") and department is None:
        bad("实施部门", _("No department named %(value)r.") % {"value": cell["实施部门"]})
    mode = _MODES.get(cell.get("下放方式", ""))
    if cell.get("下放方式") and mode is None:
        bad(
            "下放方式",
            _("%(value)r is not one of 下放, 委托, 派驻, 联合.") % {"value": cell["下放方式"]},
        )
    scope = _SCOPES.get(cell.get("共性/个性", ""))
    if cell.get("共性/个性") and scope is None:
        bad("共性/个性", _("%(value)r is neither 共性 nor 个性.") % {"value": cell["共性/个性"]})
    penalties = []
    for name in filter(
        None,
        (
            p.strip()
            for p in cell.get("处罚种类", "").replace(",", "、").replace("，", "、").split("、")
        ),
    ):
        if name not in _PENALTIES:
            bad(
                "处罚种类",
                _("%(value)r is not a penalty kind of the Administrative Penalty Law, Art. 9.")
                % {"value": name},
            )
        else:
            penalties.append(_PENALTIES[name])
    category = categories.get(cell.get("类别", "")) or categories.get(code.split("-")[0])
    if category is None:
        bad(
            "类别",
            _("No category %(value)r (and none from the code's prefix).")
            % {"value": cell.get("类别", "")},
        )
    fines = {}
    for title, field in (("罚款下限", "fine_min"), ("罚款上限", "fine_max")):
        value = cell.get(title, "").replace(",", "")
        try:
            fines[field] = Decimal(value) if value else None
        except InvalidOperation:
            bad(title, _("%(value)r is not an amount in yuan.") % {"value": cell[title]})
            fines[field] = None
        if fines[field] is not None and fines[field] < 0:
            bad(title, _("An amount cannot be negative."))
    if (
        fines.get("fine_min") is not None
        and fines.get("fine_max") is not None
        and fines["fine_min"] > fines["fine_max"]
    ):
        bad("罚款上限", _("The highest fine is below the lowest."))
    scores = {}
    for title, field in SCORES.items():
        value = cell.get(title, "") or "3"
        if not value.isdigit() or not SCORE_MIN <= int(value) <= SCORE_MAX:
            bad(
                title, _("A score is a whole number from 1 to 5, not %(value)r.") % {"value": value}
            )
        else:
            scores[field] = int(value)
    major = _YES_NO.get(cell.get("重大处罚", ""))
    if major is None:
        bad("重大处罚", _("%(value)r is neither 是 nor 否.") % {"value": cell["重大处罚"]})
    if len(report.errors) > errors_before:
        return None
    return {
        "code": code,
        "name": cell["事项名称"],
        "category": category,
        "department": department,
        "legal_basis": cell["实施依据"],
        "penalty_kinds": penalties,
        "mode": mode,
        "scope": scope,
        "discretion": cell.get("裁量基准", ""),
        "is_major": major,
        "note": cell.get("备注", ""),
        **fines,
        **scores,
    }


def catalogue_export_rows(version: CatalogueVersion) -> tuple[list[str], list[list]]:
    """The version's items in the import's columns (published ones first)."""
    rows = []
    items = version.items.select_related("category", "department").order_by("code")
    for number, item in enumerate(items, start=1):
        rows.append(
            [
                number,
                item.code,
                item.name,
                item.legal_basis,
                "、".join(PENALTY_KIND_CHINESE[kind] for kind in item.penalty_kinds),
                item.department.name,
                MODE_CHINESE[item.mode],
                SCOPE_CHINESE[item.scope],
                item.note,
                item.category.name,
                item.fine_min if item.fine_min is not None else "",
                item.fine_max if item.fine_max is not None else "",
                item.discretion,
                item.score_frequency,
                item.score_integration,
                item.score_demand,
                item.score_detect,
                item.score_handle,
                "是" if item.is_major else "否",
            ]
        )
    return PUBLISHED_COLUMNS + EXTENDED_COLUMNS, rows
