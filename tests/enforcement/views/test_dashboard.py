"""The command centre's dashboard (指挥中心看板): who may open it and which street, counters and map
equal to cases counted by hand on a frozen clock, query budgets that do not grow with the
cases, and the strict CSP."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from core.choices import Role
from enforcement import workflow
from enforcement.choices import CaseSource
from enforcement.models import Case
from enforcement.timers import timers_fire_due
from enforcement.web.dashboard import dashboard_counters_read
from grids.models import GridCell, Region
from powers.models import PowerItem
from tests.enforcement.views.conftest import FZM, HH, intake, other_cell
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
PAGE, COUNTERS, MAP = "/dashboard/", "/dashboard/counters/", "/dashboard/map.json"
HH_CELLS = 42  # comprehensive cells of the demo's Honghua street (grids.demo: 3 × 14)


def user(username: str):
    return get_user_model().objects.get(username=username)


def street(code: str) -> Region:
    return Region.objects.get(code=code)


def client_as(username: str | None) -> Client:
    client = Client()
    if username:
        client.force_login(user(username))
    return client


def hh_cells(n: int) -> list[str]:
    return list(
        GridCell.objects.filter(code__startswith=HH, level="comprehensive")
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street_day(demo, clock):
    """Honghua's Monday morning, read at 10:00 (accept, dispatch and report-in clocks run 30
    minutes, SLA defaults):

    - Y  cell A, reported Sunday 20:00: its accept clock ran out at 20:30, not swept: overdue
    - S  cell A, reported 09:00, its accept clock fired at 09:31: a level-1 supervision, open:
      overdue too (the late step is not done)
    - T1 cell B, reported 09:00, accepted 09:05: dispatch clock out at 09:35: overdue
    - R  cell B, reported 09:20 and rejected: not open, but reported today
    - T2 cell B, reported 09:50 (grid report): accept clock runs to 10:20
    - W1 cell C, reported 09:55, whistled to the city management bureau: reports in by 10:26
    - W2 cell C, reported 09:57 (resident), whistled to the housing bureau: by 10:28
    - F  in Fuzimiao street, reported 09:40: another street's
    """
    users = {u.username: u for u in get_user_model().objects.filter(username__endswith="command")}
    command = users["hh_command"]
    a, b, c = hh_cells(3)
    cg = PowerItem.objects.filter(department__code="CG").order_by("code").first()
    zj = PowerItem.objects.filter(department__code="ZJ").order_by("code").first()
    at = clock.move_to
    cases = {}
    at(MONDAY_10 - timedelta(hours=14))
    cases["Y"] = intake(a, "Y: 昨晚上报")
    at(MONDAY_10 - timedelta(hours=1))
    cases["S"] = intake(a, "S: 督办", source=CaseSource.RESIDENT)
    cases["T1"] = intake(b, "T1: 待派遣")
    at(MONDAY_10 - timedelta(minutes=55))
    cases["T1"] = workflow.case_accept(case=cases["T1"], actor=command)
    at(MONDAY_10 - timedelta(minutes=40))
    cases["R"] = workflow.case_reject(case=intake(b, "R: 不予受理"), actor=command, reason="重复")
    at(MONDAY_10 - timedelta(minutes=29))
    timers_fire_due(case=cases["S"])
    at(MONDAY_10 - timedelta(minutes=20))
    cases["F"] = intake(other_cell(FZM, ""), "F: 夫子庙")
    at(MONDAY_10 - timedelta(minutes=10))
    cases["T2"] = intake(b, "T2: 网格上报", source=CaseSource.GRID_REPORT)
    at(MONDAY_10 - timedelta(minutes=5))
    w1 = workflow.case_accept(case=intake(c, "W1: 城管"), actor=command)
    at(MONDAY_10 - timedelta(minutes=4))
    cases["W1"] = workflow.case_whistle(case=w1, actor=command, items=[cg])
    at(MONDAY_10 - timedelta(minutes=3))
    w2 = workflow.case_accept(case=intake(c, "W2: 住建", source=CaseSource.RESIDENT), actor=command)
    at(MONDAY_10 - timedelta(minutes=2))
    cases["W2"] = workflow.case_whistle(case=w2, actor=command, items=[zj])
    at(MONDAY_10)
    return {"cases": cases, "cells": (a, b, c)}


# --- who may open it ---


@pytest.mark.parametrize("url", [PAGE, COUNTERS, MAP])
@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        (None, "", 302),
        ("hh_officer", "", 403),
        ("dept_liaison", "", 403),
        ("hh_grid", "", 403),
        ("fzm_leader", f"?street={HH}", 404),
        ("hh_leader", "?street=999999999", 404),
        ("hh_leader", "", 200),
        ("hh_leader", f"?street={HH}", 200),
        ("hh_command", "", 200),
        ("district_admin", f"?street={FZM}", 200),
    ],
)
def test_the_dashboard_is_the_streets_own(demo, url, who, query, status):
    response = client_as(who).get(url + query)

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == f"/accounts/login/?next={url}"


def test_the_leader_of_two_streets_chooses_one_and_starts_on_the_first(demo):
    client = client_as("district_admin")

    first = client.get(PAGE)
    chosen = client.get(PAGE, {"street": HH})

    # both streets of the district, by code: Fuzimiao (003) before Honghua (010)
    assert [s.code for s in first.context["streets"]] == [FZM, HH]
    assert first.context["street"].code == FZM
    assert chosen.context["street"].code == HH
    html = chosen.content.decode()
    assert f'<option value="{HH}" selected>红花街道</option>' in html
    assert f'data-map-url="/dashboard/map.json?street={HH}"' in html
    assert f'hx-get="/dashboard/counters/?street={HH}"' in html


def test_a_leader_of_one_street_gets_no_street_selector(demo):
    html = client_as("hh_leader").get(PAGE).content.decode()

    assert 'name="street"' not in html
    assert " · 红花街道</h1>" in html


def test_a_command_centre_without_a_street_is_told_so_and_its_fragments_are_404(demo):
    UserFactory(username="new_command", roles=[Role.COMMAND_CENTRE])
    client = client_as("new_command")

    page = client.get(PAGE)

    assert page.status_code == 200
    assert page.context["street"] is None
    assert 'id="grid-map"' not in page.content.decode()
    assert client.get(COUNTERS).status_code == 404
    assert client.get(MAP).status_code == 404
    assert client.get(PAGE, {"street": HH}).status_code == 404


def test_the_street_leader_starts_on_the_dashboard(demo):
    response = Client().post(
        "/accounts/login/", {"username": "hh_leader", "password": "shaoxiang-demo"}, follow=True
    )

    assert response.redirect_chain[-1][0] == PAGE


# --- what it counts ---


def test_the_counters_are_the_cases_counted_by_hand(street_day):
    cases = street_day["cases"]

    counters = dashboard_counters_read(user=user("hh_command"), street=street(HH))

    assert counters.queues == {"reported": 3, "accepted": 1, "in_hand": 2, "resolved": 0}
    assert counters.open_total == 6
    assert counters.overdue == 3  # Y and T1 (clock past due), S (open supervision)
    assert counters.supervision_levels == [(1, 1)]  # S
    assert counters.calls_waiting == 2
    oldest = counters.oldest_call
    assert oldest.case_number == cases["W1"].number
    assert oldest.department == "秦淮区城市管理局"
    assert oldest.due_at == MONDAY_10 - timedelta(minutes=4) + timedelta(minutes=30)
    assert oldest.warn_at == MONDAY_10 - timedelta(minutes=4) + timedelta(minutes=24)
    intake = {source: n for source, _label, n in counters.intake_today}
    assert intake == {
        "grid_report": 1,
        "hotline_12345": 0,
        "patrol": 3,  # T1, R, W1 (Y was yesterday's, F another street's)
        "video": 0,
        "drone": 0,
        "media": 0,
        "resident": 2,  # S, W2
        "department": 0,
    }
    assert counters.intake_total == 6
    assert counters.today == datetime(2026, 11, 16, tzinfo=SHANGHAI)


def test_the_counters_fragment_shows_the_counts_and_keeps_polling(street_day):
    response = client_as("hh_command").get(COUNTERS, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="dashboard-counters"')
    assert 'hx-trigger="every 5s"' in html
    assert f'hx-get="/dashboard/counters/?street={HH}"' in html
    for counter, n in [
        ("open", 6),
        ("overdue", 3),
        ("reported", 3),
        ("accepted", 1),
        ("in_hand", 2),
        ("resolved", 0),
        ("supervisions", 1),
        ("calls-waiting", 2),
        ("intake-today", 6),
        ("intake-patrol", 3),
    ]:
        assert f'data-counter="{counter}">{n}<' in html
    # the oldest report-in clock ticks in the browser from the server's deadline
    assert 'data-deadline="2026-11-16T10:26:00+08:00"' in html
    assert 'data-warn="2026-11-16T10:20:00+08:00"' in html
    assert "tile tile-alarm" in html  # overdue shown as an alarm
    assert f'href="/desk/?street={HH}&amp;overdue=true"' in html


def test_the_counters_of_another_street_are_its_own(street_day):
    counters = dashboard_counters_read(user=user("district_admin"), street=street(FZM))

    assert counters.queues == {"reported": 1, "accepted": 0, "in_hand": 0, "resolved": 0}
    assert counters.overdue == 0
    assert counters.calls_waiting == 0 and counters.oldest_call is None
    assert counters.intake_total == 1


def test_the_map_has_every_cell_of_the_street_with_its_open_and_overdue_cases(street_day):
    cases = street_day["cases"]
    a, b, c = street_day["cells"]

    response = client_as("hh_leader").get(MAP)

    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert data["street"] == {"code": HH, "name": "红花街道"}
    features = {f["properties"]["code"]: f for f in data["features"]}
    assert len(data["features"]) == HH_CELLS == len(features)
    assert set(features) == set(
        GridCell.objects.filter(community__parent__code=HH, level="comprehensive").values_list(
            "code", flat=True
        )
    )
    counts = {
        code: (f["properties"]["open"], f["properties"]["overdue"])
        for code, f in features.items()
        if f["properties"]["open"] or f["properties"]["overdue"]
    }
    assert counts == {a: (2, 2), b: (2, 1), c: (2, 0)}
    cell_a = features[a]
    assert cell_a["type"] == "Feature"
    assert cell_a["geometry"]["type"] == "Polygon"
    assert cell_a["properties"]["name"] == GridCell.objects.get(code=a).name
    # the open cases, newest first, as [lng, lat, number, status]
    newest_first = ["W2", "W1", "T2", "T1", "S", "Y"]
    assert [p[2] for p in data["cases"]] == [cases[k].number for k in newest_first]
    w2 = Case.objects.get(pk=cases["W2"].pk)
    assert data["cases"][0] == [w2.lng, w2.lat, w2.number, "dispatched"]
    assert data["cases_truncated"] is False
    assert data["status_labels"]["reported"] == "已上报"


def test_the_map_draws_at_most_the_newest_cases(street_day, monkeypatch):
    monkeypatch.setattr("enforcement.web.dashboard.MAP_CASES_LIMIT", 2)
    cases = street_day["cases"]

    data = client_as("hh_leader").get(MAP).json()

    assert [p[2] for p in data["cases"]] == [cases["W2"].number, cases["W1"].number]
    assert data["cases_truncated"] is True


def test_the_page_carries_the_map_and_the_counters(street_day):
    response = client_as("hh_leader").get(PAGE)

    html = response.content.decode()
    assert '<body class="wall"' in html
    assert 'id="grid-map"' in html
    assert 'data-desk-url="/desk/"' in html
    assert 'data-case-url="/cases/CASE-NUMBER/"' in html
    assert 'src="/static/vendor/echarts-6.1.0/echarts.min.js" defer' in html
    assert 'src="/static/enforcement/dashboard.js" defer' in html
    assert 'href="/static/enforcement/dashboard.css"' in html
    assert 'id="dashboard-counters"' in html and 'data-counter="overdue">3<' in html


def test_the_page_is_under_a_strict_csp(demo):
    response = client_as("hh_leader").get(PAGE)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    html = response.content.decode()
    assert " style=" not in html and "<style" not in html


# --- query budgets: the same with 3 cases as with 30 ---

BUDGETS = {PAGE: 13, COUNTERS: 12, MAP: 11}


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("url", [PAGE, COUNTERS, MAP])
def test_the_queries_do_not_grow_with_the_cases(demo, clock, django_assert_max_num_queries, n, url):
    command = get_user_model().objects.get(username="hh_command")
    cells = hh_cells(5)
    cg = PowerItem.objects.filter(department__code="CG").order_by("code").first()
    clock.move_to(MONDAY_10 - timedelta(hours=2))
    for i in range(n):
        case = intake(cells[i % 5], f"{i}: 占道经营")
        if i % 3 == 1:
            case = workflow.case_accept(case=case, actor=command)
        if i % 3 == 2:
            case = workflow.case_accept(case=case, actor=command)
            workflow.case_whistle(case=case, actor=command, items=[cg])
    clock.move_to(MONDAY_10)
    timers_fire_due()  # supervisions of every late stage
    client = client_as("hh_leader")

    with django_assert_max_num_queries(BUDGETS[url]):
        response = client.get(url)

    assert response.status_code == 200


def test_a_panel_registered_by_a_later_app_is_loaded_with_the_street(street_day, monkeypatch):
    from enforcement.web import dashboard

    monkeypatch.setattr(dashboard, "_PANELS", [])
    dashboard.dashboard_panel_register("enforcement:dashboard-counters")  # any fragment URL
    dashboard.dashboard_panel_register("enforcement:dashboard-counters")

    html = client_as("hh_leader").get("/dashboard/").content.decode()

    assert html.count(f'hx-get="/dashboard/counters/?street={HH}" hx-trigger="load"') == 1
