"""The field's phone pages (issue 16): who may open each (anonymous → the login page, the
other roles → 403, a case out of sight → 404), what the pages carry for the outbox in the page
(the forms' data-outbox attributes, the JSON blocks, no inline script or style), the service
worker and the manifest, the command centre's field-sync page, and query budgets that do not
grow with the cases."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enforcement import workflow
from enforcement.choices import CaseSource, DispatchTarget
from enforcement.evidence import evidence_attach
from tests.enforcement.views.conftest import HH_GRID_CELL, browser_for, intake

pytestmark = pytest.mark.django_db

HOME = "/field/"
TASKS = "/field/tasks/"
REPORT = "/field/report/"
REPORTS = "/field/reports/"
OUTBOX = "/field/outbox/"
SYNC = "/desk/field-sync/"
SW = "/field/sw.js"
MANIFEST = "/field/manifest.webmanifest"
# A 1×1 JPEG: enough for the evidence's content check.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc000"
    "0b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400"
    "b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c1"
    "1552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63"
    "6465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6"
    "b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008"
    "010100003f00fbd3ffd9"
)


def task(number: str) -> str:
    return f"/field/tasks/{number}/"


def _dispatch_to_team(world, description: str):
    command = world["users"]["hh_command"]
    case = intake(HH_GRID_CELL, description)
    case = workflow.case_accept(case=case, actor=command)
    return workflow.case_dispatch(
        case=case, actor=command, target=DispatchTarget.TEAM, team=world["team"]
    )


# --- who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("anonymous", HOME, 302),
        ("hh_command", HOME, 403),
        ("dept_liaison", HOME, 403),
        ("anonymous", TASKS, 302),
        ("hh_officer", TASKS, 200),
        ("hh_grid", TASKS, 403),
        ("hh_command", TASKS, 403),
        ("dept_liaison", TASKS, 403),
        ("anonymous", REPORT, 302),
        ("hh_grid", REPORT, 200),
        ("hh_officer", REPORT, 403),
        ("hh_command", REPORT, 403),
        ("dept_liaison", REPORT, 403),
        ("anonymous", REPORTS, 302),
        ("hh_grid", REPORTS, 200),
        ("hh_officer", REPORTS, 403),
        ("hh_command", REPORTS, 403),
        ("dept_liaison", REPORTS, 403),
        ("anonymous", OUTBOX, 302),
        ("hh_officer", OUTBOX, 200),
        ("hh_grid", OUTBOX, 200),
        ("hh_command", OUTBOX, 403),
        ("dept_liaison", OUTBOX, 403),
        ("anonymous", SYNC, 302),
        ("hh_command", SYNC, 200),
        ("hh_leader", SYNC, 200),
        ("fzm_command", SYNC, 200),
        ("hh_officer", SYNC, 403),
        ("hh_grid", SYNC, 403),
        ("dept_liaison", SYNC, 403),
    ],
)
def test_who_opens_the_field_pages(world, who, url, status):
    response = browser_for(world, who).get(url)

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "key", "status"),
    [
        ("anonymous", "A", 302),
        ("hh_officer", "A", 200),  # dispatched to the officer's team
        ("hh_officer", "B", 404),  # the officer's street, not the officer's team
        ("hh_officer", "C", 404),  # another street
        ("hh_grid", "A", 403),  # the grid worker sees the case, but the task page is the officer's
        ("hh_command", "A", 403),
        ("dept_liaison", "D", 403),
    ],
)
def test_who_opens_a_task(world, who, key, status):
    response = browser_for(world, who).get(task(world["cases"][key].number))

    assert response.status_code == status


@pytest.mark.parametrize(("who", "to"), [("hh_officer", TASKS), ("hh_grid", REPORTS)])
def test_the_field_start_leads_each_role_to_its_page(world, who, to):
    response = browser_for(world, who).get(HOME)

    assert (response.status_code, response["Location"]) == (302, to)


def test_the_service_worker_and_the_manifest_are_served_to_anyone(world):
    client = browser_for(world, "anonymous")

    sw = client.get(SW)
    manifest = client.get(MANIFEST)

    assert sw.status_code == 200
    assert sw["Content-Type"].startswith("text/javascript")
    assert "no-cache" in sw["Cache-Control"]
    body = sw.content.decode()
    config = json.loads(re.match(r"self\.FIELD_SW = (.*?);\n", body).group(1))
    assert config["scope"] == "/field/"
    assert "/static/field/outbox.js" in config["shell"]
    assert "/static/vendor/idb-keyval-6.3.0/umd.js" in config["shell"]
    assert "/field/outbox/" in config["pages"]
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
    assert 'request.method !== "GET"' in body  # POSTs are never touched
    assert manifest.status_code == 200
    assert manifest["Content-Type"].startswith("application/manifest+json")
    data = json.loads(manifest.content)
    assert (data["start_url"], data["scope"], data["display"]) == (
        "/field/",
        "/field/",
        "standalone",
    )
    assert data["icons"]


# --- what the pages carry ---------------------------------------------------------------------


def _no_inline_script_or_style(html: str) -> None:
    for script in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in script or 'type="application/json"' in script, script
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_the_tasks_page_lists_the_team_s_cases_with_their_clock(world):
    a = world["cases"]["A"]

    response = browser_for(world, "hh_officer").get(TASKS)

    html = response.content.decode()
    assert f'data-case="{a.number}"' in html
    assert f'href="{task(a.number)}"' in html
    assert "data-deadline=" in html  # the live countdown
    assert 'id="outbox-badge"' in html
    assert 'id="field-strings"' in html and 'id="field-config"' in html
    assert 'rel="manifest"' in html
    assert "<noscript>" in html
    _no_inline_script_or_style(html)


def test_the_task_page_carries_the_on_scene_and_result_forms_for_the_outbox(world):
    a = world["cases"]["A"]

    response = browser_for(world, "hh_officer").get(task(a.number))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-version="{a.version}"' in html
    arrive = re.search(r'<form id="arrive-form"[^>]*>', html).group(0)
    assert 'data-outbox-action="arrive"' in arrive
    assert f'data-outbox-url="/api/v1/cases/{a.number}/arrive/"' in arrive
    assert f'data-outbox-case="{a.number}"' in arrive
    assert f'data-outbox-version="{a.version}"' in arrive
    resolve = re.search(r'<form id="resolve-form"[^>]*>', html).group(0)
    assert 'data-outbox-action="resolve"' in resolve
    assert "hidden" in resolve  # dispatched: shown once the sign-in is queued
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert 'name="second_officer"' in html and "第四十二条" in html
    assert 'class="cell-map"' in html  # the cell drawn from its GeoJSON
    snapshot = json.loads(
        re.search(
            r'<script id="field-case-snapshot" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert snapshot == {
        "status": "dispatched",
        "status_label": snapshot["status_label"],
        "officer": None,
        "team": world["team"].name,
        "version": a.version,
    }
    _no_inline_script_or_style(html)


def test_the_second_officers_offered_are_the_team_s_with_valid_certificates(world):
    a = world["cases"]["A"]

    html = browser_for(world, "hh_officer").get(task(a.number)).content.decode()

    select = re.search(r'<select id="second-officer".*?</select>', html, re.S).group(0)
    offered = set(re.findall(r'<option value="([^"]+)"', select))
    assert offered
    assert "hh_officer" not in offered
    from enforcement.models import Officer

    team_officers = set(
        Officer.objects.filter(team=world["team"]).values_list("user__username", flat=True)
    )
    assert offered <= team_officers


def test_an_on_scene_task_shows_the_result_form_without_the_sign_in(world):
    a = world["cases"]["A"]
    a = workflow.case_arrive(case=a, actor=world["users"]["hh_officer"], lat=a.lat, lng=a.lng)

    html = browser_for(world, "hh_officer").get(task(a.number)).content.decode()

    assert 'id="arrive-form"' not in html
    resolve = re.search(r'<form id="resolve-form"[^>]*>', html).group(0)
    assert " hidden" not in resolve
    assert f'data-outbox-version="{a.version}"' in resolve


def test_the_report_form_offers_the_matter_types_and_the_self_handling_switch(world):
    html = browser_for(world, "hh_grid").get(REPORT).content.decode()

    form = re.search(r'<form id="report-form"[^>]*>', html).group(0)
    assert 'data-outbox-action="report"' in form
    assert 'data-outbox-url="/api/v1/cases/"' in form
    assert '<datalist id="report-matter-types">' in html
    codes = json.loads(
        re.search(
            r'<script id="field-matter-codes" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert codes
    assert 'id="report-self-handle"' in html and 'name="after_photos"' in html
    assert 'value="enforcement"' not in html  # a grid worker settles by service or management
    _no_inline_script_or_style(html)


def test_my_reports_lists_what_the_grid_worker_reported(world):
    grid = world["users"]["hh_grid"]
    mine = intake(HH_GRID_CELL, "井盖缺失", actor=grid, source=CaseSource.GRID_REPORT)

    html = browser_for(world, "hh_grid").get(REPORTS).content.decode()

    assert f'data-case="{mine.number}"' in html
    assert world["cases"]["A"].number not in html


def test_the_outbox_page_is_drawn_in_the_page(world):
    html = browser_for(world, "hh_officer").get(OUTBOX).content.decode()

    for hook in ('id="outbox-attention"', 'id="outbox-waiting"', 'id="outbox-done"'):
        assert hook in html
    assert "/static/field/outbox-page.js" in html
    _no_inline_script_or_style(html)


def _arrive_late(world, case, *, minutes: int, metres_north: float = 0.0):
    """hh_officer's on-scene sign-in, captured ``minutes`` before the platform receives it."""
    from datetime import timedelta

    from django.utils import timezone

    from enforcement import field

    return field.field_arrive(
        case=case,
        actor=world["users"]["hh_officer"],
        capture=field.Capture(
            key=f"late-{case.number}",
            captured_at=timezone.now() - timedelta(minutes=minutes),
            lat=case.lat + metres_north / 111_000,
            lng=case.lng,
            accuracy=8.0,
        ),
        expected_version=case.version,
    )


def test_the_field_sync_page_shows_how_late_each_person_s_entries_arrived(world):
    _arrive_late(world, world["cases"]["A"], minutes=95, metres_north=500)

    response = browser_for(world, "hh_command").get(SYNC)

    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(r'<tr data-user="hh_officer".*?</tr>', html, re.S).group(0)
    cells = dict(re.findall(r'data-col="(\w+)">([^<]*)</td>', row))
    assert cells["entries"] == "1"
    assert cells["late"] == "1"
    assert cells["late_median"] == cells["late_max"] == "1 小时 35 分"
    assert cells["far_arrivals"] == "1"


def test_another_street_s_command_centre_does_not_see_the_entries(world):
    _arrive_late(world, world["cases"]["A"], minutes=30)

    html = browser_for(world, "fzm_command").get(SYNC).content.decode()

    assert 'data-user="hh_officer"' not in html


# --- query budgets ------------------------------------------------------------------------------


def test_the_tasks_page_s_queries_do_not_grow_with_the_tasks(world, django_assert_max_num_queries):
    client = browser_for(world, "hh_officer")
    client.get(TASKS)  # warm the per-process caches
    with django_assert_max_num_queries(7):
        assert client.get(TASKS).status_code == 200
    for n in range(8):
        _dispatch_to_team(world, f"更多 {n}")
    with django_assert_max_num_queries(7):
        response = client.get(TASKS)
    assert response.content.decode().count('class="task"') >= 9


def test_the_task_page_s_queries_do_not_grow_with_its_history(world, django_assert_max_num_queries):
    a = world["cases"]["A"]
    client = browser_for(world, "hh_officer")
    client.get(task(a.number))
    with django_assert_max_num_queries(11):
        assert client.get(task(a.number)).status_code == 200
    for n in range(4):
        upload = SimpleUploadedFile(f"p{n}.jpg", JPEG, content_type="image/jpeg")
        evidence_attach(case=a, actor=world["users"]["hh_officer"], upload=upload)
    a = workflow.case_arrive(case=a, actor=world["users"]["hh_officer"], lat=a.lat, lng=a.lng)
    with django_assert_max_num_queries(11):
        assert client.get(task(a.number)).status_code == 200


def test_my_reports_queries_do_not_grow_with_the_reports(world, django_assert_max_num_queries):
    grid = world["users"]["hh_grid"]
    client = browser_for(world, "hh_grid")
    client.get(REPORTS)
    with django_assert_max_num_queries(6):
        assert client.get(REPORTS).status_code == 200
    for n in range(8):
        intake(HH_GRID_CELL, f"上报 {n}", actor=grid, source=CaseSource.GRID_REPORT)
    with django_assert_max_num_queries(6):
        assert client.get(REPORTS).status_code == 200


@pytest.mark.parametrize(("who", "url"), [("hh_grid", REPORT), ("hh_officer", OUTBOX)])
def test_the_form_and_outbox_pages_stay_within_their_budget(
    world, django_assert_max_num_queries, who, url
):
    client = browser_for(world, who)
    client.get(url)
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200


def test_the_field_sync_page_s_queries_do_not_grow_with_the_entries(
    world, django_assert_max_num_queries
):
    client = browser_for(world, "hh_command")
    client.get(SYNC)
    with django_assert_max_num_queries(8):
        assert client.get(SYNC).status_code == 200
    _arrive_late(world, world["cases"]["A"], minutes=20)
    for n in range(3):
        _arrive_late(world, _dispatch_to_team(world, f"迟到 {n}"), minutes=10 + n)
    with django_assert_max_num_queries(8):
        assert client.get(SYNC).status_code == 200
