"""Imports and exports of the net (GeoJSON) and of the subject directory (.xlsx / .csv): all or
nothing, every bad row named with its column and reason, formula-safe exports that import back."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from grids.choices import GridLevel, RiskLevel, SubjectKind
from grids.crs import distance_m, to_wgs84
from grids.imports import SUBJECT_COLUMNS, RowError, cells_import, subjects_import
from grids.locate import cell_index_reset
from grids.models import GridCell, Subject
from tests.factories.grids import (
    LAT,
    LNG,
    CommunityFactory,
    ComprehensiveCellFactory,
    FirstLevelCellFactory,
    SubjectFactory,
    credit_code,
    square,
)

pytestmark = pytest.mark.django_db

HEADER = [chinese for _name, chinese in SUBJECT_COLUMNS]
COLUMN = dict(SUBJECT_COLUMNS)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted as their English msgids, whatever translations are compiled."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_locate_index():
    """The locate index lives in the process and is checked against the net's version at most
    every LOCATE_VERSION_CHECK_SECONDS: a test that changes no cell would otherwise locate in the
    previous test's rolled-back cells."""
    cell_index_reset()
    yield
    cell_index_reset()


@pytest.fixture
def net():
    """One first-level cell holding a west and an east comprehensive cell, side by side."""
    community = CommunityFactory()
    first = FirstLevelCellFactory(community=community, half=0.02)
    west = ComprehensiveCellFactory(community=community, parent=first, lng=LNG - 0.006)
    east = ComprehensiveCellFactory(community=community, parent=first, lng=LNG + 0.006)
    return first, west, east


def _subject_row(n: int, **values) -> list:
    """Row ``n`` of a subjects file in HEADER order: a valid subject in the west cell of ``net``
    unless ``values`` (by field name) say otherwise."""
    row = {
        "name": f"红花商户{n:03d}",
        "kind": "street_shop",
        "credit_code": credit_code(1000 + n),
        "address": f"南京市秦淮区应天大街{n}号",
        "lat": round(LAT + ((n % 10) - 4.5) * 0.0008, 7),
        "lng": round(LNG - 0.006 + ((n // 10 % 10) - 4.5) * 0.0008, 7),
        "crs": "wgs84",
        "risk_level": "low",
        "contact_name": "王伟",
        "contact_phone": "13812345678",
        "is_active": "正常",
    } | values
    return [row[name] for name, _chinese in SUBJECT_COLUMNS]


def _table_write(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    if path.suffix == ".xlsx":
        workbook = Workbook()
        sheet = workbook.active
        for row in [header, *rows]:
            sheet.append(row)
        workbook.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    return path


def _table_read(path: Path) -> list[list]:
    if path.suffix == ".xlsx":
        workbook = load_workbook(path)
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _subjects():
    return list(
        Subject.objects.order_by("pk").values_list(
            "name",
            "kind",
            "credit_code",
            "address",
            "lat",
            "lng",
            "cell__code",
            "risk_level",
            "contact_name",
            "contact_phone",
            "is_active",
        )
    )


def _command(name: str, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _command_fails(name: str, *args) -> tuple[str, str]:
    """The CommandError's message and what the command wrote to stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command(name, *args, stdout=out, stderr=err)
    assert out.getvalue() == ""
    return str(error.value), err.getvalue()


# --- subjects: acceptance ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_hundred_rows_with_three_bad_ones_import_nothing_and_name_the_three(
    net, tmp_path, suffix
):
    # given: a subject the file would update, and 100 rows of which 3 are bad
    SubjectFactory(name="原名称", credit_code=credit_code(1050))
    before = _subjects()
    good_code = credit_code(1012)
    wrong_check = "1" if good_code[17] != "1" else "2"
    bad = {
        12: {"credit_code": good_code[:17] + wrong_check},
        47: {"lat": "北纬32度"},
        90: {"kind": "火锅店"},
    }
    rows = [_subject_row(n, **bad.get(n, {})) for n in range(1, 101)]
    path = _table_write(tmp_path / f"subjects{suffix}", rows)

    # when
    report = subjects_import(path)

    # then: nothing is written, and the three rows are named as a spreadsheet numbers them
    expected = [
        RowError(
            13,
            "统一社会信用代码",
            f"The check character (character 18) should be “{good_code[17]}”, not “{wrong_check}”.",
        ),
        RowError(48, "纬度", "'北纬32度' is not a number."),
        RowError(91, "类型", "Unknown kind '火锅店'."),
    ]
    assert report.errors == expected
    assert (report.created, report.updated) == (0, 0)
    assert _subjects() == before

    # and the command fails with the count, listing every bad row on stderr
    message, stderr = _command_fails("subjects_import", str(path))
    assert message == f"{path}: 3 bad row(s); nothing was imported."
    assert stderr == "".join(f"{error}\n" for error in expected)
    assert stderr.splitlines()[0] == (
        f"row 13, 统一社会信用代码: The check character (character 18) should be "
        f"“{good_code[17]}”, not “{wrong_check}”."
    )
    assert _subjects() == before


# --- subjects: clean imports ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_clean_import_places_each_subject_into_its_cell(net, tmp_path, suffix):
    # given: west spans lng 118.779-118.789, east 118.791-118.801, both lat 31.995-32.005
    _first, west, east = net
    rows = [
        _subject_row(1, lat=32.001, lng=118.784),
        _subject_row(2, lat=31.996, lng=118.788, kind="Restaurant"),
        _subject_row(3, lat=32.004, lng=118.799, risk_level="High risk"),
        _subject_row(4, lat=32.0, lng=118.796, credit_code="", is_active="停用"),
        _subject_row(5, lat=32.1, lng=118.79, contact_phone=""),
    ]
    path = _table_write(tmp_path / f"subjects{suffix}", rows)

    # when
    report = subjects_import(path)

    # then
    assert (report.errors, report.created, report.updated) == ([], 5, 0)
    assert _subjects() == [
        (
            "红花商户001",
            "street_shop",
            credit_code(1001),
            "南京市秦淮区应天大街1号",
            32.001,
            118.784,
            west.code,
            "low",
            "王伟",
            "13812345678",
            True,
        ),
        (
            "红花商户002",
            "catering",
            credit_code(1002),
            "南京市秦淮区应天大街2号",
            31.996,
            118.788,
            west.code,
            "low",
            "王伟",
            "13812345678",
            True,
        ),
        (
            "红花商户003",
            "street_shop",
            credit_code(1003),
            "南京市秦淮区应天大街3号",
            32.004,
            118.799,
            east.code,
            "high",
            "王伟",
            "13812345678",
            True,
        ),
        (
            "红花商户004",
            "street_shop",
            None,
            "南京市秦淮区应天大街4号",
            32.0,
            118.796,
            east.code,
            "low",
            "王伟",
            "13812345678",
            False,
        ),
        (
            "红花商户005",
            "street_shop",
            credit_code(1005),
            "南京市秦淮区应天大街5号",
            32.1,
            118.79,
            None,
            "low",
            "王伟",
            "",
            True,
        ),
    ]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_importing_the_same_file_again_updates_instead_of_duplicating(net, tmp_path, suffix):
    # given: an imported file, one row of it without a credit code
    rows = [_subject_row(n) for n in range(1, 7)] + [_subject_row(7, credit_code="")]
    path = _table_write(tmp_path / f"subjects{suffix}", rows)
    first = subjects_import(path)
    assert (first.errors, first.created, first.updated) == ([], 7, 0)
    pks = list(Subject.objects.order_by("pk").values_list("pk", flat=True))

    # when
    again = subjects_import(path)

    # then
    assert (again.errors, again.created, again.updated) == ([], 0, 7)
    assert list(Subject.objects.order_by("pk").values_list("pk", flat=True)) == pks


def test_an_import_updates_the_subject_with_the_same_credit_code(net, tmp_path):
    # given
    subject = SubjectFactory(name="旧名称", credit_code=credit_code(1001), contact_phone="")
    path = _table_write(tmp_path / "subjects.csv", [_subject_row(1, credit_code=credit_code(1001))])

    # when
    report = subjects_import(path)

    # then
    assert (report.errors, report.created, report.updated) == ([], 0, 1)
    subject.refresh_from_db()
    assert (subject.name, subject.contact_phone) == ("红花商户001", "13812345678")


def test_english_field_names_are_accepted_as_headers(net, tmp_path):
    path = _table_write(
        tmp_path / "subjects.csv",
        [_subject_row(1)],
        header=[name for name, _chinese in SUBJECT_COLUMNS],
    )

    report = subjects_import(path)

    assert (report.errors, report.created) == ([], 1)


def test_rows_in_gcj02_are_stored_in_wgs84(net, tmp_path):
    path = _table_write(tmp_path / "subjects.csv", [_subject_row(1, lat=LAT, lng=LNG, crs="GCJ02")])

    report = subjects_import(path)

    assert (report.errors, report.created) == ([], 1)
    lat, lng = to_wgs84(LAT, LNG, "gcj02")
    assert Subject.objects.values_list("lat", "lng").get() == (round(lat, 7), round(lng, 7))


# --- subjects: bad files -------------------------------------------------------------------------


def test_a_repeated_credit_code_is_reported_naming_the_first_row(net, tmp_path):
    # given: row 5 repeats row 2's code in lower case
    code = credit_code(1001)
    rows = [
        _subject_row(1, credit_code=code),
        _subject_row(2),
        _subject_row(3),
        _subject_row(4, credit_code=code.lower()),
    ]
    path = _table_write(tmp_path / "subjects.csv", rows)

    # when
    report = subjects_import(path)

    # then
    assert report.errors == [RowError(5, "统一社会信用代码", "Same credit code as row 2.")]
    assert Subject.objects.count() == 0


def test_every_problem_of_a_row_is_reported_under_its_column(net, tmp_path):
    rows = [
        _subject_row(1, lng="东经118度", risk_level="极高", is_active="也许"),
        _subject_row(2, lat=51.5, lng=-0.12, contact_phone="电话", crs="utm"),
    ]
    path = _table_write(tmp_path / "subjects.xlsx", rows)

    report = subjects_import(path)

    assert report.errors == [
        RowError(2, "经度", "'东经118度' is not a number."),
        RowError(2, "风险等级", "Unknown risk level '极高'."),
        RowError(2, "状态", "'也许' is neither active nor inactive."),
        RowError(3, "坐标系", "Unknown coordinate system 'utm'."),
        RowError(3, "联系电话", "'电话' is not a phone number."),
    ]
    assert Subject.objects.count() == 0


@pytest.mark.parametrize(
    ("header", "errors"),
    [
        ([*HEADER, "备注"], [RowError(1, "备注", "Unknown column.")]),
        (
            [title for title in HEADER if title not in ("纬度", "名称")],
            [
                RowError(1, "纬度", "Required column is missing."),
                RowError(1, "名称", "Required column is missing."),
            ],
        ),
        ([*HEADER, "名称"], [RowError(1, "名称", "The column appears twice.")]),
    ],
    ids=["unknown", "missing", "twice"],
)
def test_a_bad_header_is_reported_on_row_1(net, tmp_path, header, errors):
    # given
    rows = [_subject_row(1)[: len(header)]]
    path = _table_write(tmp_path / "subjects.xlsx", rows, header=header)

    # when
    report = subjects_import(path)

    # then
    assert report.errors == errors
    assert Subject.objects.count() == 0


def test_a_text_file_is_refused_with_a_file_error(tmp_path):
    # given
    path = tmp_path / "subjects.txt"
    path.write_text("名称,类型\n", encoding="utf-8")

    # when
    report = subjects_import(path)

    # then
    assert report.errors == [RowError(0, "file", "Use a .csv or .xlsx file, not .txt.")]
    message, stderr = _command_fails("subjects_import", str(path))
    assert message == f"{path}: cannot be imported; nothing was imported."
    assert stderr == "file: Use a .csv or .xlsx file, not .txt.\n"


def test_a_broken_xlsx_file_is_refused_with_a_file_error(tmp_path):
    path = tmp_path / "subjects.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls renamed")

    report = subjects_import(path)

    assert report.errors == [
        RowError(0, "file", f"Cannot read {path}: File is not a zip file"),
    ]


def test_the_command_counts_bad_rows_not_errors(net, tmp_path):
    path = _table_write(tmp_path / "subjects.csv", [_subject_row(1, lat="x", lng="y")])

    message, _stderr = _command_fails("subjects_import", str(path))

    assert message == f"{path}: 1 bad row(s); nothing was imported."


def test_a_formatted_empty_column_in_excel_is_ignored(net, tmp_path):
    # given
    path = _table_write(tmp_path / "subjects.xlsx", [_subject_row(1)])
    workbook = load_workbook(path)
    workbook.active["M1"].font = Font(bold=True)
    workbook.save(path)

    # when
    report = subjects_import(path)

    # then
    assert (report.errors, report.created) == ([], 1)


# --- subjects: export ----------------------------------------------------------------------------


@pytest.fixture
def directory(net):
    """Four subjects: two cells, another kind and risk, one inactive without a credit code, one
    outside every cell."""
    return [
        SubjectFactory(name="红花便利店", credit_code=credit_code(1), lng=118.784),
        SubjectFactory(
            name="红花面馆",
            kind=SubjectKind.CATERING,
            risk_level=RiskLevel.MEDIUM,
            credit_code=credit_code(2),
            lng=118.796,
        ),
        SubjectFactory(
            name="无照摊点", credit_code="", is_active=False, contact_phone="", lng=118.782
        ),
        SubjectFactory(name="城外工地", credit_code=credit_code(3), lat=32.1),
    ]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_imports_back_unchanged(directory, tmp_path, suffix):
    # given
    path = tmp_path / f"subjects{suffix}"
    before = _subjects()

    # when
    out, _err = _command("subjects_export", str(path))
    report = subjects_import(path)

    # then
    assert out == f"{path}: 4 subjects.\n"
    assert (report.errors, report.created, report.updated) == ([], 0, 4)
    assert _subjects() == before


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_has_chinese_headers_and_the_cell(net, directory, tmp_path, suffix):
    # given
    path = tmp_path / f"subjects{suffix}"
    _first, west, _east = net

    # when
    _command("subjects_export", str(path))

    # then
    header, first, *_rest = _table_read(path)
    assert header == ["序号", *HEADER, "所在网格"]
    exported = dict(zip(header, first, strict=True))
    del exported["类型"], exported["风险等级"]  # labels: see the next test
    as_text = suffix == ".csv"
    assert exported == {
        "序号": "1" if as_text else 1,
        "名称": "红花便利店",
        "统一社会信用代码": credit_code(1),
        "地址": directory[0].address,
        "纬度": "32.0" if as_text else 32.0,
        "经度": "118.784" if as_text else 118.784,
        "坐标系": "wgs84",
        "联系人": "王伟",
        "联系电话": "13812345678",
        "状态": "正常",
        "所在网格": west.code,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_export_writes_kind_and_risk_in_chinese(directory, tmp_path, language):
    # given
    path = tmp_path / "subjects.csv"

    # when
    with translation.override(language):
        _command("subjects_export", str(path))

    # then
    header, first, second, *_rest = _table_read(path)
    kind, risk = header.index("类型"), header.index("风险等级")
    assert [(first[kind], first[risk]), (second[kind], second[risk])] == [
        ("沿街商铺", "低风险"),
        ("餐饮单位", "中风险"),
    ]


# --- subjects: formula injection -----------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+86红花热线", "-1折扣店", "@红花超市"]


@pytest.fixture
def formulas(net):
    return [SubjectFactory(name=name, contact_phone="+8613812345678") for name in FORMULAS]


def test_an_xlsx_export_writes_formulas_as_text_and_imports_them_back(formulas, tmp_path):
    # given
    path = tmp_path / "subjects.xlsx"

    # when
    _command("subjects_export", str(path))

    # then: every cell of the sheet is a value, the names and phones are text behind a quote
    sheet = load_workbook(path).worksheets[0]
    assert [cell.data_type for row in sheet.iter_rows() for cell in row].count("f") == 0
    names = [
        (cell.value, cell.data_type) for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2)
    ]
    assert names == [("'" + name, "s") for name in FORMULAS]
    phones = {cell.value for (cell,) in sheet.iter_rows(min_row=2, min_col=11, max_col=11)}
    assert phones == {"'+8613812345678"}

    # and an import restores the original text
    report = subjects_import(path)
    assert (report.errors, report.created, report.updated) == ([], 0, 4)
    assert list(Subject.objects.order_by("pk").values_list("name", "contact_phone")) == [
        (name, "+8613812345678") for name in FORMULAS
    ]


def test_a_csv_export_writes_formulas_as_text_and_imports_them_back(formulas, tmp_path):
    # given
    path = tmp_path / "subjects.csv"

    # when
    _command("subjects_export", str(path))

    # then
    _header, *rows = _table_read(path)
    assert [(row[1], row[10]) for row in rows] == [
        ("'" + name, "'+8613812345678") for name in FORMULAS
    ]

    # and an import restores the original text
    report = subjects_import(path)
    assert (report.errors, report.created, report.updated) == ([], 0, 4)
    assert list(Subject.objects.order_by("pk").values_list("name", flat=True)) == FORMULAS


def test_a_name_that_starts_with_a_quote_survives_the_round_trip(net, tmp_path):
    # given
    SubjectFactory(name="'=1号店")
    path = tmp_path / "subjects.csv"

    # when
    _command("subjects_export", str(path))
    report = subjects_import(path)

    # then
    assert (report.errors, report.updated) == ([], 1)
    assert Subject.objects.get().name == "'=1号店"


# --- cells ---------------------------------------------------------------------------------------


def _feature(code, level, community, geometry, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"code": code, "name": f"网格{code[-3:]}", "level": level}
        | {"community": community}
        | properties,
    }


def _geojson_write(path: Path, features: list[dict]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def _cells():
    return list(
        GridCell.objects.order_by("code").values_list(
            "code",
            "name",
            "level",
            "parent__code",
            "community__code",
            "area",
            "geometry",
            "min_lng",
            "min_lat",
            "max_lng",
            "max_lat",
        )
    )


def test_first_level_and_comprehensive_cells_import_with_their_parents(tmp_path):
    # given: comprehensive cells listed first, one naming its parent, one to be placed
    community = CommunityFactory()
    first, west, east = (f"{community.code}{n:03d}" for n in (0, 1, 2))
    path = _geojson_write(
        tmp_path / "cells.geojson",
        [
            _feature(west, "comprehensive", community.code, square(LAT, LNG - 0.005, 0.004)),
            _feature(
                east,
                "Comprehensive grid",
                community.code,
                square(LAT, LNG + 0.005, 0.004),
                parent=first,
            ),
            _feature(first, "first_level", community.code, square(LAT, LNG, 0.01), area="一片区"),
        ],
    )

    # when
    out, err = _command("grids_import", str(path))

    # then
    assert (out, err) == (f"{path}: 3 created, 0 updated.\n", "")
    assert list(
        GridCell.objects.order_by("code").values_list("code", "level", "parent__code", "area")
    ) == [
        (first, GridLevel.FIRST_LEVEL, None, "一片区"),
        (west, GridLevel.COMPREHENSIVE, first, ""),
        (east, GridLevel.COMPREHENSIVE, first, ""),
    ]
    assert GridCell.objects.values_list("min_lng", "min_lat", "max_lng", "max_lat").get(
        code=west
    ) == (round(LNG - 0.009, 7), LAT - 0.004, round(LNG - 0.001, 7), LAT + 0.004)


def test_a_bad_cells_file_imports_nothing_and_names_every_bad_feature(tmp_path):
    # given: feature 2 is a bow-tie, feature 3 names an unknown community
    community = CommunityFactory()
    west, east, south, north = LNG - 0.01, LNG + 0.01, LAT - 0.01, LAT + 0.01
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, north], [east, south], [west, north], [west, south]]
        ],
    }
    unknown = f"{community.parent.code}999"
    features = [
        _feature(f"{community.code}000", "first_level", community.code, square(LAT, LNG, 0.01)),
        _feature(f"{community.code}001", "first_level", community.code, bow_tie),
        _feature(f"{unknown}000", "first_level", unknown, square(LAT + 0.1, LNG, 0.01)),
    ]
    path = _geojson_write(tmp_path / "cells.geojson", features)

    # when
    report = cells_import(path)

    # then
    expected = [
        RowError(2, "geometry", "Invalid polygon: self-intersection at 118.790000, 32.000000."),
        RowError(3, "community", f"No community with code '{unknown}'."),
    ]
    assert report.errors == expected
    assert GridCell.objects.count() == 0

    # and the command says so
    message, stderr = _command_fails("grids_import", str(path))
    assert message == f"{path}: 2 bad row(s); nothing was imported."
    assert stderr == "".join(f"{error}\n" for error in expected)
    assert GridCell.objects.count() == 0


def test_a_comprehensive_cell_outside_every_first_level_cell_is_reported(tmp_path):
    community = CommunityFactory()
    path = _geojson_write(
        tmp_path / "cells.geojson",
        [_feature(f"{community.code}001", "comprehensive", community.code, square())],
    )

    report = cells_import(path)

    assert report.errors == [
        RowError(1, "parent", "No first-level cell holds this cell; name one in 'parent'.")
    ]


def test_a_file_that_is_no_feature_collection_is_refused(tmp_path):
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps(square()), encoding="utf-8")

    report = cells_import(path)

    assert report.errors == [RowError(0, "file", f"{path} is not a GeoJSON FeatureCollection.")]


def test_cells_in_gcj02_are_stored_in_wgs84(tmp_path):
    # given: a square as AMap shows it
    community = CommunityFactory()
    code = f"{community.code}000"
    given = square(LAT, LNG, 0.01)
    path = _geojson_write(
        tmp_path / "cells.geojson", [_feature(code, "first_level", community.code, given)]
    )

    # when
    out, _err = _command("grids_import", str(path), "--crs", "gcj02")

    # then: every vertex converted, about 540 m from where the file puts it in Nanjing
    assert out == f"{path}: 1 created, 0 updated.\n"
    stored = GridCell.objects.get(code=code).geometry["coordinates"][0]
    expected = []
    for lng, lat in given["coordinates"][0]:
        w_lat, w_lng = to_wgs84(lat, lng, "gcj02")
        expected.append([round(w_lng, 7), round(w_lat, 7)])
    assert stored == expected
    shifts = [
        distance_m(lat, lng, w_lat, w_lng)
        for (lng, lat), (w_lng, w_lat) in zip(given["coordinates"][0], stored, strict=True)
    ]
    assert all(450 < shift < 650 for shift in shifts), shifts


def test_exported_cells_import_back_unchanged(net, tmp_path):
    # given
    path = tmp_path / "cells.geojson"
    before = _cells()

    # when
    exported, _err = _command("grids_export", str(path))
    imported, _err = _command("grids_import", str(path))

    # then
    assert exported == f"{path}: 3 cells.\n"
    assert imported == f"{path}: 0 created, 3 updated.\n"
    assert _cells() == before
