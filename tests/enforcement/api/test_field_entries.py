"""The field phones' entries as the platform applies them (enforcement.field through the REST
API): capture and receipt recorded, the far-from-case warning, photos checked against the
phone's hash, each entry applied once however often it comes, conflicts refused not forced,
discards recorded, Art. 42 on enforcement-mode results, grid reports and self-handling."""

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.models import IdempotencyRecord
from enforcement import workflow
from enforcement.choices import CaseStatus, EventKind, FieldOutcome, HandlingMode
from enforcement.field import distance_m, field_lateness, field_reports, field_tasks
from enforcement.models import Case, Evidence, FieldEntry, MatterType, Officer, Team
from tests.enforcement.api.conftest import HH, HH_GRID_CELL, client_for, other_cell, point_in


def jpeg(tag: str) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + tag.encode() * 50


def photo(tag: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{tag}.jpg", jpeg(tag), content_type="image/jpeg")


def sha(tag: str) -> str:
    return hashlib.sha256(jpeg(tag)).hexdigest()


def post(client, url, data, *, version=None, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4()), "HTTP_ACCEPT_LANGUAGE": "en"}
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'"{version}"'
    return client.post(url, data, format="multipart", **headers)


def captured(minutes_ago: float = 0) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


def offset(lat: float, lng: float, metres_north: float) -> tuple[float, float]:
    return lat + metres_north / 111_195.0, lng


@pytest.fixture
def officer_a(world):
    """Case A (dispatched to 红花执法1中队 without an officer) and hh_officer of that team."""
    return world["cases"]["A"], world["users"]["hh_officer"]


def test_a_far_sign_in_is_recorded_with_its_capture_and_warned_not_refused(world, officer_a):
    case, officer = officer_a
    client = client_for(world, "hh_officer")
    lat, lng = offset(case.lat, case.lng, 350)
    key = str(uuid.uuid4())
    response = post(
        client,
        f"/api/v1/cases/{case.number}/arrive/",
        {"lat": lat, "lng": lng, "accuracy": 18, "captured_at": captured(12)},
        version=case.version,
        key=key,
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{case.version + 1}"'
    event = case.events.get(kind=EventKind.ARRIVE)
    assert 340 < event.data["distance_m"] < 360
    assert event.data["far"] is True and event.data["accuracy"] == 18
    captured_at = timezone.datetime.fromisoformat(event.data["captured_at"])
    assert timedelta(minutes=11) < event.at - captured_at < timedelta(minutes=13)
    entry = FieldEntry.objects.get(user=officer, key=key)
    assert entry.far and entry.outcome == FieldOutcome.APPLIED and entry.case_id == case.pk
    # The command centre sees it on the case page.
    browser = Client()
    browser.force_login(world["users"]["hh_command"])
    html = browser.get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "farther than the warning distance" in html
    assert "on-scene sign-in was farther than 200 m" in html


def test_a_near_sign_in_is_not_marked_far(world, officer_a):
    case, _officer = officer_a
    lat, lng = offset(case.lat, case.lng, 60)
    response = post(
        client_for(world, "hh_officer"),
        f"/api/v1/cases/{case.number}/arrive/",
        {"lat": lat, "lng": lng, "accuracy": 8, "captured_at": captured()},
        version=case.version,
    )
    assert response.status_code == 200
    data = case.events.get(kind=EventKind.ARRIVE).data
    assert "far" not in data and 55 < data["distance_m"] < 65


def _arrive(world, case):
    return post(
        client_for(world, "hh_officer"),
        f"/api/v1/cases/{case.number}/arrive/",
        {"lat": case.lat, "lng": case.lng, "captured_at": captured(3)},
        version=case.version,
    )


def test_a_result_with_two_photos_is_applied_once_however_often_it_is_sent(world, officer_a):
    case, officer = officer_a
    assert _arrive(world, case).status_code == 200
    case.refresh_from_db()
    client = client_for(world, "hh_officer")
    key = str(uuid.uuid4())
    body = lambda: {  # noqa: E731 -- a new upload each time
        "result": "已劝离，现场清理",
        "handling_mode": HandlingMode.SERVICE,
        "captured_at": captured(20),
        "lat": case.lat,
        "lng": case.lng,
        "photos": [photo("before"), photo("after")],
        "photos_sha256": [sha("before"), sha("after")],
    }
    fixed = body()
    first = post(
        client, f"/api/v1/cases/{case.number}/resolve/", fixed, version=case.version, key=key
    )
    assert first.status_code == 200, first.content
    # The answer was lost; the phone sends the same entry again (same key, same capture).
    fixed["photos"] = [photo("before"), photo("after")]
    again = post(
        client, f"/api/v1/cases/{case.number}/resolve/", fixed, version=case.version, key=key
    )
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    # Beyond the idempotency records' 24 hours, the platform's receipt still knows it.
    IdempotencyRecord.objects.all().delete()
    fixed["photos"] = [photo("before"), photo("after")]
    late = post(
        client, f"/api/v1/cases/{case.number}/resolve/", fixed, version=case.version, key=key
    )
    assert late.status_code == 200 and late["Idempotent-Replayed"] == "true"
    assert case.events.filter(kind=EventKind.RESOLVE).count() == 1
    assert case.events.filter(kind=EventKind.EVIDENCE).count() == 2
    assert sorted(Evidence.objects.filter(case=case).values_list("sha256", flat=True)) == sorted(
        [sha("before"), sha("after")]
    )
    resolve = case.events.get(kind=EventKind.RESOLVE)
    assert resolve.data["photos"] == [sha("before"), sha("after")]
    assert "captured_at" in resolve.data
    assert FieldEntry.objects.filter(user=officer).count() == 2  # the arrive and the result


def test_a_photo_damaged_on_the_way_is_refused_and_nothing_is_kept(world, officer_a):
    case, _officer = officer_a
    _arrive(world, case)
    case.refresh_from_db()
    response = post(
        client_for(world, "hh_officer"),
        f"/api/v1/cases/{case.number}/resolve/",
        {
            "result": "已处理",
            "handling_mode": HandlingMode.SERVICE,
            "captured_at": captured(),
            "photos": [photo("cut")],
            "photos_sha256": [sha("whole")],
        },
        version=case.version,
    )
    assert response.status_code == 400
    assert "arrived damaged" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.ON_SCENE
    assert not Evidence.objects.filter(case=case).exists()
    assert not case.events.filter(kind=EventKind.EVIDENCE).exists()


def test_an_entry_captured_before_a_reassignment_is_a_conflict_then_applied_or_discarded(
    world, officer_a
):
    case, officer = officer_a
    seen = case.version  # the phone read the case, then lost the network
    team = Team.objects.get(street__code=HH, name="红花执法2中队")
    workflow.case_reassign(
        case=case, actor=world["users"]["hh_command"], team=team, reason="一中队人手不足"
    )
    client = client_for(world, "hh_officer")
    key = str(uuid.uuid4())
    data = {"lat": case.lat, "lng": case.lng, "captured_at": captured(30)}
    response = post(client, f"/api/v1/cases/{case.number}/arrive/", data, version=seen, key=key)
    # Another team's now: the officer does not see it, and is told it is no longer theirs.
    assert response.status_code == 409
    assert "no longer yours" in response.json()["detail"]
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED and case.team == team
    assert not FieldEntry.objects.filter(key=key).exists()
    # Discarded by its author: recorded once, in the case's history.
    body = {
        "key": key,
        "action": "arrive",
        "case": case.number,
        "captured_at": data["captured_at"],
        "based_on_version": seen,
        "reason": "已改派二中队",
    }
    assert client.post("/api/v1/field-entries/discard/", body, format="json").status_code == 201
    assert client.post("/api/v1/field-entries/discard/", body, format="json").status_code == 201
    event = case.events.get(kind=EventKind.FIELD_DISCARD)
    assert event.actor == officer and event.data["based_on_version"] == seen
    assert FieldEntry.objects.get(key=key).outcome == FieldOutcome.DISCARDED


def test_a_conflict_applied_by_its_author_says_so_in_the_event(world, officer_a):
    case, officer = officer_a
    seen = case.version
    workflow.case_reassign(
        case=case,
        actor=world["users"]["hh_command"],
        team=case.team,
        officer=Officer.objects.get(user=officer),
    )
    case.refresh_from_db()
    client = client_for(world, "hh_officer")
    key = str(uuid.uuid4())
    data = {"lat": case.lat, "lng": case.lng, "captured_at": captured(30)}
    assert (
        post(client, f"/api/v1/cases/{case.number}/arrive/", data, version=seen, key=key)
    ).status_code == 412
    data["after_conflict"] = seen
    response = post(
        client, f"/api/v1/cases/{case.number}/arrive/", data, version=case.version, key=key
    )
    assert response.status_code == 200, response.content
    event = case.events.get(kind=EventKind.ARRIVE)
    assert event.data["after_conflict"] == seen
    entry = FieldEntry.objects.get(key=key)
    assert entry.outcome == FieldOutcome.APPLIED_AFTER_CONFLICT
    assert (entry.based_on_version, entry.applied_on_version) == (seen, case.version)
    # An applied entry is not discarded afterwards.
    body = {"key": key, "action": "arrive", "captured_at": data["captured_at"]}
    assert client.post("/api/v1/field-entries/discard/", body, format="json").status_code == 400


def test_an_enforcement_result_names_a_second_certified_officer(world, officer_a):
    case, _officer = officer_a
    _arrive(world, case)
    case.refresh_from_db()
    client = client_for(world, "hh_officer")
    url = f"/api/v1/cases/{case.number}/resolve/"
    base = {"result": "立案查处", "handling_mode": HandlingMode.ENFORCEMENT}
    missing = post(client, url, {**base, "captured_at": captured()}, version=case.version)
    assert missing.status_code == 400 and "Art. 42" in missing.content.decode()
    response = post(
        client,
        url,
        {**base, "captured_at": captured(), "second_officer": "hh_t1_officer1"},
        version=case.version,
    )
    assert response.status_code == 200, response.content
    officers = case.events.get(kind=EventKind.RESOLVE).data["officers"]
    expected = Officer.objects.filter(
        user__username__in=["hh_officer", "hh_t1_officer1"]
    ).values_list("certificate_number", flat=True)
    assert officers == sorted(expected)


def test_an_expired_second_certificate_is_refused_with_its_number(world):
    lapsed = Officer.objects.get(user__username="hh_t3_officer2")
    first = Officer.objects.get(user__username="hh_t3_officer1")
    case = world["cases"]["B"]
    case = workflow.case_dispatch(
        case=case,
        actor=world["users"]["hh_command"],
        target="team",
        team=first.team,
        officer=first,
    )
    case = workflow.case_arrive(case=case, actor=first.user, lat=case.lat, lng=case.lng)
    with pytest.raises(workflow.InvalidInput, match=lapsed.certificate_number):
        workflow.case_resolve(
            case=case,
            actor=first.user,
            result="x",
            handling_mode=HandlingMode.ENFORCEMENT,
            officers=[first, lapsed],
        )


def test_a_grid_report_with_a_photo_becomes_a_case_in_its_cell(world):
    grid = world["users"]["hh_grid"]
    lat, lng = point_in(HH_GRID_CELL)
    matter = MatterType.objects.order_by("code").first()
    response = post(
        client_for(world, "hh_grid"),
        "/api/v1/cases/",
        {
            "source": "grid_report",
            "matter_type": matter.code,
            "description": "占道经营",
            "lat": lat,
            "lng": lng,
            "accuracy": 12,
            "captured_at": captured(40),
            "photos": [photo("stall")],
            "photos_sha256": [sha("stall")],
        },
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert case.cell.code == HH_GRID_CELL and case.status == CaseStatus.REPORTED
    assert case.reported_by == grid
    assert list(case.evidence.values_list("sha256", flat=True)) == [sha("stall")]
    assert field_reports(grid)[0] == case
    assert FieldEntry.objects.get(user=grid).action == "report"


def test_a_problem_handled_in_the_grid_waits_for_verification(world):
    grid = world["users"]["hh_grid"]
    lat, lng = point_in(HH_GRID_CELL)
    matter = MatterType.objects.order_by("code").first()
    response = post(
        client_for(world, "hh_grid"),
        "/api/v1/cases/",
        {
            "source": "grid_report",
            "matter_type": matter.code,
            "description": "垃圾满溢",
            "lat": lat,
            "lng": lng,
            "captured_at": captured(5),
            "photos": [photo("full")],
            "photos_sha256": [sha("full")],
            "self_handle": "true",
            "result": "已联系保洁清运",
            "handling_mode": HandlingMode.SERVICE,
            "after_photos": [photo("clean")],
            "after_photos_sha256": [sha("clean")],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["self_handle_refused"] == ""
    case = Case.objects.get(number=response.json()["number"])
    assert case.status == CaseStatus.RESOLVED and case.dispatch_target == "grid"
    kinds = list(case.events.order_by("sequence").values_list("kind", flat=True))
    for step in ("intake", "accept", "dispatch", "arrive", "resolve"):
        assert step in kinds
    resolve = case.events.get(kind=EventKind.RESOLVE)
    assert resolve.actor == grid and resolve.data["self_handled"] is True
    assert resolve.data["photos_before"] == [sha("full")]
    assert resolve.data["photos_after"] == [sha("clean")]
    # The worker does not verify it; the command centre does.
    with pytest.raises(Exception):  # noqa: B017 -- PermissionDenied from the workflow's rule
        workflow.case_verify(case=case, actor=grid)
    case = workflow.case_verify(case=case, actor=world["users"]["hh_command"])
    assert case.status == CaseStatus.CLOSED


def test_self_handling_outside_ones_cells_files_the_report_and_says_why(world):
    lat, lng = point_in(other_cell(HH, HH_GRID_CELL))
    matter = MatterType.objects.order_by("code").first()
    response = post(
        client_for(world, "hh_grid"),
        "/api/v1/cases/",
        {
            "source": "grid_report",
            "matter_type": matter.code,
            "description": "别的网格",
            "lat": lat,
            "lng": lng,
            "captured_at": captured(),
            "self_handle": "true",
            "result": "已处理",
            "handling_mode": HandlingMode.SERVICE,
        },
    )
    assert response.status_code == 201
    assert response.json()["self_handle_refused"]
    case = Case.objects.get(number=response.json()["number"])
    assert case.status == CaseStatus.REPORTED


def test_the_tasks_are_mine_and_my_teams_the_soonest_due_first(world, officer_a):
    case, officer = officer_a
    tasks = field_tasks(officer)
    assert case in tasks
    assert all(t.status in (CaseStatus.DISPATCHED, CaseStatus.ON_SCENE) for t in tasks)
    other = Team.objects.get(street__code=HH, name="红花执法2中队")
    workflow.case_reassign(case=case, actor=world["users"]["hh_command"], team=other)
    assert case not in field_tasks(officer)
    dues = [t.clock_due for t in field_tasks(world["users"]["hh_t2_officer1"]) if t.clock_due]
    assert dues == sorted(dues)


def test_lateness_per_author_counts_entries_received_late(world, officer_a):
    case, _officer = officer_a
    assert (
        post(
            client_for(world, "hh_officer"),
            f"/api/v1/cases/{case.number}/arrive/",
            {"lat": case.lat, "lng": case.lng, "captured_at": captured(45)},
            version=case.version,
        ).status_code
        == 200
    )
    rows = {row.user.username: row for row in field_lateness(world["users"]["hh_command"])}
    row = rows["hh_officer"]
    assert (row.entries, row.late) == (1, 1)
    assert timedelta(minutes=44) < row.late_median < timedelta(minutes=46)
    # Another street's command centre does not see them.
    assert "hh_officer" not in {
        r.user.username for r in field_lateness(world["users"]["fzm_command"])
    }


def test_distance_is_the_great_circle():
    assert distance_m(32.0, 118.8, 32.0, 118.8) == 0
    assert 110_000 < distance_m(32.0, 118.8, 33.0, 118.8) < 112_000


def test_only_the_field_and_the_street_record_discards(world):
    body = {"key": str(uuid.uuid4()), "action": "report", "captured_at": captured()}
    url = "/api/v1/field-entries/discard/"
    assert client_for(world, "key:cg").post(url, body, format="json").status_code == 403
    assert client_for(world, "anonymous").post(url, body, format="json").status_code in (401, 403)
    assert client_for(world, "hh_grid").post(url, body, format="json").status_code == 201


def test_an_intake_with_photos_keeps_the_reporter_and_the_severity(world):
    lat, lng = point_in(HH_GRID_CELL)
    matter = MatterType.objects.order_by("code").first()
    response = post(
        client_for(world, "hh_command"),
        "/api/v1/cases/",
        {
            "source": "resident",
            "matter_type": matter.code,
            "description": "居民来访，带照片",
            "lat": lat,
            "lng": lng,
            "severity": "major",
            "reporter_name": "赵女士",
            "reporter_phone": "13912345678",
            "photos": [photo("visit")],
        },
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert (case.severity, case.reporter_name, case.reporter_phone_masked) == (
        "major",
        "赵女士",
        "139****5678",
    )
    assert list(case.evidence.values_list("sha256", flat=True)) == [sha("visit")]
