"""The command centre's dashboard in Chromium on a 1920×1080 desk screen: every grid cell of the
street drawn by ECharts, no CSP violation (ECharts styles elements through the CSSOM only), no
serious axe finding, the counters following a case filed through the API within 10 s, and a
click on a cell opening the desk filtered to it."""

import json
import random
from datetime import timedelta

import pytest
import shapely
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect
from shapely.geometry import shape

from enforcement import workflow
from enforcement.choices import CaseSource
from enforcement.models import MatterType
from enforcement.services import case_intake
from grids.choices import GridLevel
from grids.models import GridCell
from powers.models import PowerItem
from tests.browser.conftest import PageWatch, axe_serious, login
from tests.enforcement.api.conftest import HH, point_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every Content-Security-Policy violation of the page, as the page itself hears of it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def street_cells() -> list[str]:
    return list(
        GridCell.objects.filter(community__parent__code=HH, level=GridLevel.COMPREHENSIVE)
        .order_by("code")
        .values_list("code", flat=True)
    )


def file_in(cell: str, description: str, rng: random.Random, source=CaseSource.PATROL):
    """A case at a random point of ``cell``, as reports fall over a cell, not on its centre."""
    polygon = shape(GridCell.objects.get(code=cell).geometry)
    west, south, east, north = polygon.bounds
    while True:
        lng, lat = rng.uniform(west, east), rng.uniform(south, north)
        if polygon.contains(shapely.Point(lng, lat)):
            break
    return case_intake(
        source=source,
        matter_type=MatterType.objects.order_by("code").first(),
        description=description,
        lat=lat,
        lng=lng,
    ).case


def a_morning(cells: list[str]) -> None:
    """Two dozen cases over the street: some reported two hours ago and not accepted (overdue),
    some accepted, some whistled to the city management bureau, the rest just in."""
    rng = random.Random(16)
    command = get_user_model().objects.get(username="hh_command")
    cg = PowerItem.objects.filter(department__code="CG").order_by("code").first()
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        for i, cell in enumerate(cells[0:30:6]):
            file_in(cell, f"早间上报{i}：占道经营", rng)
    for i, cell in enumerate(cells[1:42:2]):
        case = file_in(cell, f"上报{i}：乱堆乱放", rng, source=CaseSource.RESIDENT)
        if i % 3 == 1:
            workflow.case_accept(case=case, actor=command)
        elif i % 3 == 2:
            case = workflow.case_accept(case=case, actor=command)
            workflow.case_whistle(case=case, actor=command, items=[cg])


def pixel_of(page, cell: str) -> tuple[float, float]:
    """Where the map draws a point inside ``cell``, in pixels of the map panel."""
    lng, lat = shapely.get_coordinates(
        shape(GridCell.objects.get(code=cell).geometry).representative_point()
    )[0]
    return page.evaluate(
        """([lng, lat]) => echarts.getInstanceByDom(document.getElementById("grid-map"))
            .convertToPixel({geoIndex: 0}, [lng, lat])""",
        [float(lng), float(lat)],
    )


def counter(page, name: str) -> int:
    return int(page.locator(f'[data-counter="{name}"]').inner_text())


def test_the_dashboard_draws_the_street_and_follows_new_cases(
    live_server, new_page, demo, sla_defaults, tmp_path
):
    cells = street_cells()
    a_morning(cells)
    page = new_page(locale="zh-CN", width=1920, height=1080)
    page.add_init_script(CSP_LISTENER)
    watch = PageWatch(page)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    # the street leader starts on the dashboard
    login(page, live_server.url, "hh_leader")
    assert page.url == f"{live_server.url}/dashboard/"

    # every cell of the street is drawn
    page.wait_for_function(
        "n => document.getElementById('grid-map').dataset.cellsDrawn === String(n)",
        arg=len(cells),
        timeout=15_000,
    )
    assert len(cells) == 42
    assert counter(page, "overdue") == 5
    assert counter(page, "open") == 5 + 21
    # a wall screen does not scroll: the page is the screen
    assert page.evaluate("() => document.documentElement.scrollHeight") == 1080

    # a case filed through the API (session and CSRF token, as the page's own scripts would)
    # shows in the counters at their next refresh, within 10 s
    reported, patrol = counter(page, "reported"), counter(page, "intake-patrol")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    lat, lng = point_in(cells[10])
    filed = page.request.post(
        f"{live_server.url}/api/v1/cases/",
        data=json.dumps(
            {
                "source": "patrol",
                "matter_type": MatterType.objects.order_by("code").first().code,
                "description": "巡查发现：店外经营",
                "lat": lat,
                "lng": lng,
            }
        ),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert filed.status == 201, filed.text()
    expect(page.locator('[data-counter="reported"]')).to_have_text(
        str(reported + 1), timeout=10_000
    )
    assert counter(page, "intake-patrol") == patrol + 1

    # the tooltip of a cell, drawn on the canvas too
    box = page.locator("#grid-map").bounding_box()
    x, y = pixel_of(page, cells[0])
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.screenshot(path=str(tmp_path / "dashboard.png"))
    assert page.evaluate("window.__cspViolations") == []
    assert watch.csp == [] and watch.errors == [] and script_errors == []
    assert axe_serious(page) == []

    # a click on a cell without a case dot opens the desk filtered to that cell
    target = cells[2]
    x, y = pixel_of(page, target)
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(f"{live_server.url}/desk/?cell={target}")
