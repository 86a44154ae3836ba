"""The assessment app's panels on the command centre's dashboard: who may open them, the figures
shown equal to the registry's (kpis_compute, from the raw tables) on a small month of cases made
through the workflow with some days rolled up, the small-count rule shown as such, the departments'
published ranking or the month so far marked provisional, and query budgets that grow with
neither the cases nor the departments.

The month is November 2026, read on Wednesday 18 at 10:00 (Asia/Shanghai); Monday 16 and before
are rolled up, Wednesday is read live."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessment import panels
from assessment.choices import PeriodKind, TargetKind
from assessment.kpis import Scope, kpis_compute
from assessment.models import Scheme
from assessment.rollups import kpis_from_rollups, kpis_from_rollups_many, rollups_rebuild
from assessment.schemes import period_for, period_publish, scheme_version_new
from enforcement import workflow
from enforcement.choices import HandlingMode
from enforcement.models import Case, DepartmentCall
from enforcement.web.dashboard import dashboard_panels
from grids.models import Region
from powers.models import Department
from tests.enforcement.api.conftest import FZM, HH, HH_GRID_CELL, intake, point_in
from tests.factories.powers import DepartmentFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY_10 = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
NOVEMBER = {"start": date(2026, 11, 1), "end": date(2026, 12, 1)}
OCTOBER = {"start": date(2026, 10, 1), "end": date(2026, 11, 1)}
KPIS_URL, SPLIT_URL = "/dashboard/assessment/kpis/", "/dashboard/assessment/split/"
DEPARTMENTS_URL = "/dashboard/assessment/departments/"
URLS = [KPIS_URL, SPLIT_URL, DEPARTMENTS_URL]


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


def client_as(world, username: str | None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if username:
        client.force_login(world["users"][username])
    return client


def street(code: str = HH) -> Region:
    return Region.objects.get(code=code)


def close_in_grid(world, n: int, mode=HandlingMode.SERVICE) -> Case:
    """A case of hh_grid's cell handled in the grid and verified by the command centre."""
    users = world["users"]
    lat, lng = point_in(HH_GRID_CELL)
    case = intake(HH_GRID_CELL, f"{n}: 网格自处置", actor=users["hh_grid"])
    case = workflow.case_self_handle(
        case=case, actor=users["hh_grid"], result="已劝离", handling_mode=mode, lat=lat, lng=lng
    )
    return workflow.case_verify(case=case, actor=users["hh_command"])


def month_of_cases(world, clock, today: int = 3) -> list[Case]:
    """Monday 16: two cases closed in the grid (service, management), one left received. The
    days up to Tuesday are rolled up. Wednesday (read live): ``today`` more closed in the grid,
    every third by management. The first of Monday's is recorded as enforcement before the days
    are rolled up (a penalty step needs two certified officers: the row is set directly, the
    facts read it)."""
    cases = [close_in_grid(world, 1), close_in_grid(world, 2, HandlingMode.MANAGEMENT)]
    intake(HH_GRID_CELL, "3: 未受理")
    Case.objects.filter(pk=cases[0].pk).update(handling_mode=HandlingMode.ENFORCEMENT)
    clock.move_to(WEDNESDAY_10)
    rollups_rebuild(date(2026, 10, 1), date(2026, 11, 17))
    for n in range(today):
        mode = HandlingMode.MANAGEMENT if n % 3 == 2 else HandlingMode.SERVICE
        cases.append(close_in_grid(world, 10 + n, mode))
    return cases


def row(html: str, attribute: str, value: str) -> str:
    """The HTML of the table row marked ``attribute="value"``."""
    found = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


def cell_value(row_html: str) -> str:
    """The data-value of the first figure cell of a row ("" when too few)."""
    return re.search(r'data-value="([^"]*)"', row_html).group(1)


# --- who may open them -----------------------------------------------------------------------


def test_the_panels_are_registered_on_the_dashboard():
    assert set(panels.PANEL_URLS) == {
        "assessment:panel-kpis",
        "assessment:panel-split",
        "assessment:panel-departments",
    }
    assert set(panels.PANEL_URLS) <= set(dashboard_panels())


def test_the_dashboard_loads_each_panel_for_its_street(world):
    html = client_as(world, "hh_leader").get("/dashboard/").content.decode()

    for url in URLS:
        assert f'hx-get="{url}?street={HH}" hx-trigger="load"' in html
    assert "assessment/panels.css" in html


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        (None, "", 302),
        ("hh_officer", "", 403),
        ("hh_grid", "", 403),
        ("dept_liaison", "", 403),
        ("hh_command", "", 200),
        ("hh_leader", f"?street={HH}", 200),
        ("hh_leader", f"?street={FZM}", 404),
        ("fzm_command", f"?street={HH}", 404),
        ("hh_leader", "?street=999999999", 404),
    ],
)
def test_a_panel_is_the_streets_own(world, url, who, query, status):
    response = client_as(world, who).get(url + query)

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == f"/accounts/login/?next={url}"
    if status == 200:
        assert "no-cache" in response["Cache-Control"]
        assert "<h2" in response.content.decode()


def test_a_panel_answers_get_only(world):
    assert client_as(world, "hh_leader").post(KPIS_URL).status_code == 405


# --- the figures -----------------------------------------------------------------------------


def test_the_kpis_shown_are_the_registrys(clock, world, settings):
    settings.ASSESSMENT_MIN_CASES = 1
    month_of_cases(world, clock)
    hh = street()
    expected = kpis_compute(panels.KPI_CODES, scope=hh, **NOVEMBER)
    read = panels.kpi_panel_read(hh)

    assert read.month.label == "2026年11月" and read.previous_month.label == "2026年10月"
    assert [f.code for f in read.figures] == list(panels.KPI_CODES)
    for figure in read.figures:
        result = expected[figure.code]
        assert (figure.value, figure.numerator, figure.denominator) == (
            result.value,
            result.numerator,
            result.denominator,
        ), figure.code
    closed = next(f for f in read.figures if f.code == "self_handling")
    assert (closed.value, closed.numerator, closed.denominator) == (Decimal("100.0"), 5, 5)

    html = client_as(world, "hh_command").get(f"{KPIS_URL}?street={HH}").content.decode()
    for code in panels.KPI_CODES:
        result = expected[code]
        shown = row(html, "data-kpi", code)
        assert cell_value(shown) == ("" if result.value is None else str(result.value))
        assert f">{result.denominator}</a>" in shown
    self_handling = row(html, "data-kpi", "self_handling")
    assert "100.0%" in self_handling and ">5</a>/" in self_handling
    # each part links to the desk's list of its cases (assessment.drill's live link)
    assert (
        "/desk/?queue=all&amp;drill=live%2Cself_handling%2Cnumerator%2Cstreet%2C"
        f"{hh.pk}%2C2026-11-01%2C2026-12-01" in self_handling
    )
    assert "2026年10月" in html  # last month's column


def test_a_figure_with_too_few_cases_is_shown_as_too_few_never_0_or_100(clock, world):
    month_of_cases(world, clock)  # five closed: under the default minimum of ten
    html = client_as(world, "hh_command").get(f"{KPIS_URL}?street={HH}").content.decode()

    for code in panels.KPI_CODES:
        shown = row(html, "data-kpi", code)
        assert cell_value(shown) == "", code
        assert "Too few cases" in shown
        assert "100.0%" not in shown and "0.0%" not in shown
    assert ">5</a>/" in row(html, "data-kpi", "self_handling")  # the counts stay shown
    assert "under 10 counted" in html


def test_the_split_is_the_registrys_beside_the_seeds_70_20_10(clock, world, settings):
    settings.ASSESSMENT_MIN_CASES = 1
    month_of_cases(world, clock)  # closed: 2 service, 2 management, 1 enforcement
    hh = street()
    expected = kpis_compute(list(panels.MODE_CODES.values()), scope=hh, **NOVEMBER)
    read = panels.split_panel_read(hh)

    assert read.closed == 5 and not read.too_few
    by_mode = {share.mode: share for share in read.shares}
    assert {mode: share.figure.numerator for mode, share in by_mode.items()} == {
        "service": 2,
        "management": 2,
        "enforcement": 1,
    }
    for mode, code in panels.MODE_CODES.items():
        assert by_mode[mode].figure.value == expected[code].value
    assert [s.width for s in read.shares] == [40, 40, 20]
    assert [s.benchmark_width for s in read.shares] == [70, 20, 10]

    html = client_as(world, "hh_leader").get(f"{SPLIT_URL}?street={HH}").content.decode()
    service = row(html, "data-mode", "service")
    assert "40.0%" in service and "70%" in service and ">2</a>/" in service
    assert "ap-mode-service ap-w-40" in html and "ap-mode-service ap-w-70" in html
    assert 'class="ap-split" aria-hidden="true"' in html  # the table carries the numbers
    assert "style=" not in html


def test_the_split_with_too_few_closed_cases_draws_no_share(clock, world):
    month_of_cases(world, clock)
    read = panels.split_panel_read(street())
    html = client_as(world, "hh_leader").get(f"{SPLIT_URL}?street={HH}").content.decode()

    assert read.too_few and [s.width for s in read.shares] == [0, 0, 0]
    assert cell_value(row(html, "data-mode", "service")) == ""
    assert "Too few cases" in html and "ap-stack-empty" in html


def test_widths_add_up_to_the_whole_bar():
    thirds = [Decimal(100) / 3] * 3
    assert panels._widths(thirds) == [34, 33, 33]
    assert panels._widths([Decimal("66.7"), Decimal("33.3"), Decimal(0)]) == [67, 33, 0]


# --- the departments -------------------------------------------------------------------------


def test_without_a_published_ranking_the_month_so_far_is_provisional(clock, world, settings):
    settings.ASSESSMENT_MIN_CASES = 1
    clock.move_to(WEDNESDAY_10)
    hh = street()
    cg, zj = (Department.objects.get(code=code) for code in ("CG", "ZJ"))
    read = panels.departments_panel_read(hh)

    assert read.published is None
    rows = {r.department: r for r in read.provisional.rows}
    assert set(rows) == {cg.name, zj.name}  # the two called this month (the world's D and E)
    assert read.provisional.quiet == len(
        panels.scheme_targets(Scheme(target_kind=TargetKind.DEPARTMENT, assessor=hh))
    ) - len(rows)
    for department in (cg, zj):
        expected = kpis_compute(
            panels.DEPARTMENT_CODES, scope=Scope.of_department_in(hh.pk, department.pk), **NOVEMBER
        )
        shown = rows[department.name]
        assert shown.calls == expected["dept_calls"].value == 1
        assert [(f.value, f.numerator, f.denominator) for f in shown.figures] == [
            (expected[c].value, expected[c].numerator, expected[c].denominator)
            for c in panels.DEPARTMENT_RATES
        ]

    html = client_as(world, "hh_leader").get(f"{DEPARTMENTS_URL}?street={HH}").content.decode()
    assert "Provisional" in html and "not a ranking" in html
    assert "Rank" not in html
    assert cg.name in html and zj.name in html


def test_the_published_ranking_is_shown_with_its_period_and_version(clock, world):
    clock.move_to(WEDNESDAY_10)
    hh, leader = street(), world["users"]["hh_leader"]
    cg, zj = (Department.objects.get(code=code) for code in ("CG", "ZJ"))
    scheme = Scheme.objects.create(
        code="hh-departments",
        name="红花街道对区级部门考核",
        target_kind=TargetKind.DEPARTMENT,
        assessor=hh,
    )
    version = scheme_version_new(
        scheme=scheme,
        indicators={"dept_report_in_on_time": 60, "dept_completion": 40},
        manual_items={},
        valid_from=date(2026, 1, 1),
        by=leader,
    )

    def figure(value):
        return type(
            "F",
            (),
            {
                "value": Decimal(value),
                "numerator": value,
                "denominator": 100,
                "too_few": False,
                "denominator_ids": (),
                "numerator_ids": (),
                "excluded_ids": (),
                "ids_of": "calls",
            },
        )()

    scores = {cg.pk: 90, zj.pk: 70}

    def provider(codes, *, start, end, scope, now=None):
        return {code: figure(scores[scope.street_department[1]]) for code in codes}

    period_publish(
        period=period_for(PeriodKind.MONTH, date(2026, 10, 1)),
        scheme_version=version,
        by=leader,
        targets=[cg, zj],
        provider=provider,
    )
    read = panels.departments_panel_read(hh)

    assert read.provisional is None
    published = read.published
    assert (published.period_label, published.version) == ("2026年10月", 1)
    assert [(r.rank, r.department, r.total) for r in published.rows] == [
        (1, cg.name, Decimal("90.00")),
        (2, zj.name, Decimal("70.00")),
    ]
    html = client_as(world, "hh_command").get(f"{DEPARTMENTS_URL}?street={HH}").content.decode()
    assert "2026年10月" in html and "version 1" in html and "Provisional" not in html
    assert re.search(r"1</td>\s*<th scope=\"row\">" + re.escape(cg.name), html)
    # another street's panel does not show Honghua's ranking
    fzm = panels.departments_panel_read(street(FZM))
    assert fzm.published is None


def test_many_departments_from_rollups_equal_each_departments_own(clock, world, settings):
    """kpis_from_rollups_many (one reading for every department) gives what kpis_from_rollups
    gives department by department, with days rolled up and today read live."""
    settings.ASSESSMENT_MIN_CASES = 1
    hh, command = street(), world["users"]["hh_command"]
    cg = Department.objects.get(code="CG")
    liaison, item = world["users"]["dept_liaison"], world["items"]["cg"]
    call = DepartmentCall.objects.get(case=world["cases"]["D"])  # whistled Monday 10:00
    clock.move_to(MONDAY_10 + timedelta(minutes=10))
    call = workflow.call_report_in(call=call, actor=liaison)
    clock.move_to(MONDAY_10 + timedelta(days=1))
    call = workflow.call_accept(call=call, actor=liaison)
    workflow.call_complete(call=call, actor=liaison, result="已整改")  # on a rolled-up day
    clock.move_to(WEDNESDAY_10)
    rollups_rebuild(date(2026, 11, 1), date(2026, 11, 17))
    case = workflow.case_accept(case=intake(HH_GRID_CELL, "今天: 城管"), actor=command)
    workflow.case_whistle(case=case, actor=command, items=[item])
    clock.move_to(WEDNESDAY_10 + timedelta(minutes=5))
    workflow.call_return(
        call=DepartmentCall.objects.get(case=case), actor=liaison, reason="非本部门职责"
    )
    scopes = [Scope.of_department_in(hh.pk, d.pk) for d in Department.objects.order_by("code")]

    many = kpis_from_rollups_many(
        panels.DEPARTMENT_CODES, scopes=scopes, within=Scope.of(hh), **NOVEMBER
    )

    for scope in scopes:
        own = kpis_from_rollups(panels.DEPARTMENT_CODES, scope=scope, **NOVEMBER)
        for code in panels.DEPARTMENT_CODES:
            a, b = many[scope][code], own[code]
            assert (a.value, a.numerator, a.denominator, a.too_few, a.tally) == (
                b.value,
                b.numerator,
                b.denominator,
                b.too_few,
                b.tally,
            ), (scope, code)
    assert many[Scope.of_department_in(hh.pk, cg.pk)]["dept_calls"].value == 2


# --- query budgets ---------------------------------------------------------------------------

# Per panel, with November rolled up to Tuesday and Wednesday read live: the session, the user,
# their groups and grants, the desk's street (five), then the panel's reads — kpis: 8 (this
# month: the days' marks, the rolled-up rows, the six of today's facts) + 2 (October, rolled up);
# split: 8; departments, none published: 1 (the latest snapshot) + 1 (the departments) + 8 (all of
# them at once).
BUDGETS = {KPIS_URL: 15, SPLIT_URL: 13, DEPARTMENTS_URL: 15}


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}?street={HH}")
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", URLS)
def test_the_queries_grow_with_neither_the_cases_nor_the_departments(clock, world, url):
    month_of_cases(world, clock, today=2)
    client = client_as(world, "hh_leader")
    queries(client, url)  # warm: the content types, the sessions' first read
    few = queries(client, url)
    for n in range(6):
        close_in_grid(world, 100 + n)
    for n in range(5):
        DepartmentFactory(code=f"X{n}", name=f"区测试局{n}")  # serving every street
    many = queries(client, url)

    assert few == many <= BUDGETS[url], (few, many)


def test_a_wall_screen_refreshes_each_panel_itself(world):
    for url in URLS:
        html = client_as(world, "hh_leader").get(f"{url}?street={HH}").content.decode()
        assert f'hx-get="{url}?street={HH}" hx-trigger="every 300s"' in html


def test_the_panels_read_in_chinese(clock, world):
    clock.move_to(WEDNESDAY_10)
    client = client_as(world, "hh_leader", language="zh-hans")
    html = "".join(client.get(f"{url}?street={HH}").content.decode() for url in URLS)

    shown = ("本月指标", "按期结案率", "样本不足", "本月结案的处置方式", "参照（江苏经验）", "暂定")
    assert [text for text in shown if text not in html] == []
