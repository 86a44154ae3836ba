"""Import and export of a street's power list in the published columns, all or nothing."""

import csv
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook, load_workbook

from grids.imports import RowError
from powers.choices import ImplementationMode, PenaltyKind, PowerScope
from powers.imports import EXTENDED_COLUMNS, PUBLISHED_COLUMNS, catalogue_import
from powers.models import CatalogueVersion, PowerItem
from powers.selectors import street_holds_power
from tests.factories.powers import sample_departments_create

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "powers" / "data" / "sample_catalogue.csv"
HEADER = PUBLISHED_COLUMNS + EXTENDED_COLUMNS


@pytest.fixture
def departments():
    sample_departments_create()


def row(n: int, **overrides) -> list:
    values = {
        "序号": n,
        "事项编码": f"SR-{n:03d}",
        "事项名称": f"对擅自占道经营的行政处罚（{n}）",
        "实施依据": "《城市市容和环境卫生管理条例》第三十六条",
        "处罚种类": "警告、罚款",
        "实施部门": "秦淮区城市管理局",
        "下放方式": "下放",
        "共性/个性": "共性",
        "备注": "",
        "类别": "市容环境卫生",
        "罚款下限": "",
        "罚款上限": "",
        "裁量基准": "",
        "高频率": 5,
        "高综合": 4,
        "高需求": 5,
        "易发现": 5,
        "易处置": 5,
        "重大处罚": "否",
    }
    values.update(overrides)
    return [values[title] for title in HEADER]


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list], title: str | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def test_the_sample_list_imports_as_version_1(street, departments):
    with translation.override("en"):
        report = catalogue_import(
            SAMPLE, street=street, effective_on=date(2024, 1, 1), notice_number="秦政发〔2023〕88号"
        )

    assert report.errors == []
    assert report.version.number == 1
    count = PowerItem.objects.count()
    assert count >= 150 and report.created == count
    assert report.version.entries.count() == count
    assert PowerItem.objects.values("category").distinct().count() == 8
    assert SAMPLE.read_text(encoding="utf-8").startswith("样例数据")


def test_an_xlsx_list_with_a_title_row_imports_every_field(street, departments, tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        [
            row(1, 罚款下限=50, 罚款上限=500, 重大处罚="否"),
            row(2, 下放方式="委托", 共性个性="个性", 处罚种类="罚款、吊销许可证件", 重大处罚="是"),
        ],
        title="红花街道赋权事项清单",
    )

    report = catalogue_import(
        path, street=street, effective_on=date(2024, 1, 1), notice_number="秦政发〔2023〕88号"
    )

    assert report.errors == []
    first, second = PowerItem.objects.order_by("code")
    assert (first.fine_min, first.fine_max, first.mode, first.scope) == (
        50,
        500,
        ImplementationMode.DELEGATED,
        PowerScope.MANDATORY,
    )
    assert second.penalty_kinds == [PenaltyKind.FINE, PenaltyKind.REVOKE_PERMIT]
    assert (second.mode, second.is_major) == (ImplementationMode.ENTRUSTED, True)
    assert first.score_total == 24
    assert street_holds_power(street, second, on=date(2024, 1, 1))


def test_a_bad_row_names_its_row_and_column_and_nothing_is_imported(street, departments, tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        [
            row(1),
            row(2, 下放方式="下发"),
            row(3, 高频率=9),
            row(4, 实施部门="不存在的局"),
            row(5, 处罚种类="警告、拘役"),
        ],
        title="样例",
    )

    with translation.override("en"):
        report = catalogue_import(
            path, street=street, effective_on=date(2024, 1, 1), notice_number="x"
        )

    assert [(e.row, e.column) for e in report.errors] == [
        (4, "下放方式"),
        (5, "高频率"),
        (6, "实施部门"),
        (7, "处罚种类"),
    ]
    assert report.errors[0].reason == "'下发' is not one of 下放, 委托, 派驻, 联合."
    assert PowerItem.objects.count() == 0
    assert CatalogueVersion.objects.count() == 0


def test_the_command_reports_rows_and_fails(street, departments, tmp_path, capsys):
    path = write_xlsx(tmp_path / "list.xlsx", [row(1), row(2, 事项名称="")])
    with pytest.raises(CommandError, match="1 bad row"):
        call_command(
            "powers_import", str(path), street="320104010", effective=date(2024, 1, 1), notice="x"
        )
    assert capsys.readouterr().err == "第3行，事项名称：必填。\n"


def test_duplicate_codes_and_missing_columns(street, departments, tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [row(1), row(1)])
    report = catalogue_import(path, street=street, effective_on=date(2024, 1, 1), notice_number="x")
    assert [(e.row, e.column) for e in report.errors] == [(3, "事项编码")]

    path = tmp_path / "short.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["序号", "事项编码", "事项名称"])
    report = catalogue_import(path, street=street, effective_on=date(2024, 1, 1), notice_number="x")
    assert [e.column for e in report.errors] == [
        "实施依据",
        "处罚种类",
        "实施部门",
        "下放方式",
        "共性/个性",
    ]
    assert all(isinstance(e, RowError) and e.row == 1 for e in report.errors)


def test_export_then_import_round_trips_and_formulas_stay_text(street, departments, tmp_path):
    # a CSV keeps the text as typed (an .xlsx written by openpyxl would hold a formula)
    path = write_csv(tmp_path / "list.csv", [row(1, 事项名称="=1+1 占道经营"), row(2)])
    catalogue_import(path, street=street, effective_on=date(2024, 1, 1), notice_number="v1")

    out = tmp_path / "out.xlsx"
    call_command("powers_export", str(out), street="320104010", on=date(2024, 6, 1))
    cell = (
        load_workbook(out)["Sheet"]["C2"]
        if "Sheet" in load_workbook(out).sheetnames
        else load_workbook(out).worksheets[0]["C2"]
    )
    assert (cell.value, cell.data_type) == ("'=1+1 占道经营", "s")

    report = catalogue_import(out, street=street, effective_on=date(2025, 1, 1), notice_number="v2")
    assert (report.errors, report.created, report.updated, report.version.number) == ([], 0, 2, 2)
    assert PowerItem.objects.get(code="SR-001").name == "=1+1 占道经营"
