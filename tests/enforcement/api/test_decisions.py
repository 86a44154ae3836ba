"""The decision matrix of the case API (enforcement.permissions): who answers a supervision,
who approves a suspension, who verifies a result, who files as an integration, who acts for a
street; each finding of the security review replayed as its request, refused for the attacker
and accepted for the rightful user."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from enforcement import workflow
from enforcement.choices import CaseSource, EventKind
from enforcement.timers import timers_fire_due
from tests.enforcement.api.conftest import HH_GRID_CELL, client_for, intake, other_cell, point_in
from tests.enforcement.api.test_cases import intake_body

pytestmark = pytest.mark.django_db
HH = "320104010"


def post(client, url, body=None, *, case=None):
    headers = {"HTTP_IF_MATCH": f'"{case.version}"'} if case is not None else {}
    return client.post(url, body or {}, format="json", HTTP_ACCEPT_LANGUAGE="en", **headers)


def command_centre_supervision(world):
    """A level-1 supervision addressed to the command centre: a case in hh_grid's cell, accepted
    and never dispatched (hh_grid sees it through its cell)."""
    case = intake(HH_GRID_CELL, "已受理未派发")
    case = workflow.case_accept(case=case, actor=world["users"]["hh_command"])
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        timers_fire_due(case=case)
    supervision = case.supervisions.get(level=1)
    return case, supervision


def test_a_supervision_records_whom_it_addresses(world):
    _case, supervision = command_centre_supervision(world)
    assert (supervision.addressee, supervision.addressee_team, supervision.addressee_role) == (
        None,
        None,
        "command_centre",
    )
    d = world["cases"]["D"]
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        timers_fire_due(case=d)
    call_supervision = d.supervisions.filter(call__isnull=False, level=1).first()
    assert call_supervision.addressee_role == "department_liaison"
    assert call_supervision.addressee_department == world["items"]["cg"].department


def test_a_grid_worker_does_not_answer_the_command_centres_supervision(world):
    _case, supervision = command_centre_supervision(world)
    url = f"/api/v1/supervisions/{supervision.pk}/respond/"
    # the review's proof: hh_grid sees the case (its cell) and answered for the command centre
    refused = post(client_for(world, "hh_grid"), url, {"response": "已处理"})
    assert refused.status_code == 403
    # the other street's command centre does not even see it; the street leader is not addressed
    assert post(client_for(world, "fzm_command"), url, {"response": "x"}).status_code == 404
    assert post(client_for(world, "hh_leader"), url, {"response": "x"}).status_code == 403
    supervision.refresh_from_db()
    assert supervision.state == "open"
    assert supervision.timers.filter(state__in=["pending", "warned"]).exists()  # escalation runs
    listed = client_for(world, "hh_grid").get(f"/api/v1/supervisions/{supervision.pk}/").json()
    assert (listed["addressee"], listed["addressee_team"], listed["addressee_role"]) == (
        None,
        None,
        "command_centre",
    )
    answered = post(client_for(world, "hh_command"), url, {"response": "已派发"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "answered"


def test_a_suspension_is_approved_by_another_person_a_leader_of_the_street(world):
    a = world["cases"]["A"]
    url = f"/api/v1/cases/{a.number}/suspend/"
    command = client_for(world, "hh_command")
    for approver, says in [
        ("hh_command", "someone other than who suspends"),  # the review's proof
        ("hh_grid", "a street leader"),
        ("fzm_leader", "is not a leader of"),
    ]:
        a.refresh_from_db()
        response = post(command, url, {"reason": "当事人住院", "approved_by": approver}, case=a)
        assert response.status_code == 400, (approver, response.content)
        assert says in str(response.json()["errors"]["approved_by"]), approver
    a.refresh_from_db()
    assert a.status == "dispatched"
    # the leader may suspend too, but not on their own approval
    leader_self = post(
        client_for(world, "hh_leader"),
        url,
        {"reason": "当事人住院", "approved_by": "hh_leader"},
        case=a,
    )
    assert leader_self.status_code == 400
    done = post(command, url, {"reason": "当事人住院", "approved_by": "hh_leader"}, case=a)
    assert done.status_code == 200, done.content
    event = a.events.get(kind=EventKind.SUSPEND)
    assert (event.actor, event.data["approved_by"]) == (
        world["users"]["hh_command"],
        world["users"]["hh_leader"].pk,
    )


def test_a_result_is_not_verified_by_who_recorded_it(world):
    b = world["cases"]["B"]  # accepted; the command centre sends the grid and records the result
    command = world["users"]["hh_command"]
    b = workflow.case_dispatch(case=b, actor=command, target="grid")
    b = workflow.case_arrive(case=b, actor=command, lat=32.0, lng=118.8)
    b = workflow.case_resolve(case=b, actor=command, result="已劝离", handling_mode="service")
    url = f"/api/v1/cases/{b.number}/verify/"
    refused = post(client_for(world, "hh_command"), url, case=b)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "The person who recorded the result does not verify it."
    b.refresh_from_db()
    assert b.status == "resolved"
    assert post(client_for(world, "hh_leader"), url, case=b).status_code == 200


def test_people_file_as_people_and_only_the_integration_sets_its_work_orders_id(world):
    grid = client_for(world, "hh_grid")
    # the review's proof: a grid worker filing as the hotline, with the hotline's next id
    body = intake_body(world, source="hotline_12345", external_id="12345-WO-20261202-0001")
    refused = post(grid, "/api/v1/cases/", body)
    assert refused.status_code == 400 and "source" in refused.json()["errors"]
    own_source = post(grid, "/api/v1/cases/", intake_body(world, external_id="WO-1"))
    assert own_source.status_code == 400 and "external_id" in own_source.json()["errors"]
    for source in ("video", "drone", "media", "department"):
        assert post(grid, "/api/v1/cases/", intake_body(world, source=source)).status_code == 400
    # the hotline's real work order then goes in
    hotline = client_for(world, "key:hotline")
    body = intake_body(world, external_id="12345-WO-20261202-0001")
    body.pop("source")
    filed = post(hotline, "/api/v1/cases/", body)
    assert filed.status_code == 201, filed.content
    assert filed.json()["source"] == CaseSource.HOTLINE_12345
    # and people still file as grid, patrol or resident complaint
    for source in ("grid_report", "patrol", "resident"):
        response = post(grid, "/api/v1/cases/", intake_body(world, source=source))
        assert response.status_code == 201, (source, response.content)


def test_the_street_acts_for_its_own_street_only(world):
    # 夫子庙's command centre files a report that lies in 红花: it sees the case as its reporter,
    # but accepting, rejecting or dispatching it is 红花's
    fzm = client_for(world, "fzm_command")
    lat, lng = point_in(other_cell(HH, HH_GRID_CELL))
    filed = post(fzm, "/api/v1/cases/", intake_body(world, source="resident", lat=lat, lng=lng))
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    assert number.startswith(HH)
    case = world["cases"]["A"].__class__.objects.get(number=number)
    refused = post(fzm, f"/api/v1/cases/{number}/accept/", case=case)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This case is not yours to act on."
    accepted = post(client_for(world, "hh_command"), f"/api/v1/cases/{number}/accept/", case=case)
    assert accepted.status_code == 200, accepted.content
    case.refresh_from_db()
    assert case.status == "accepted"


def test_a_likely_duplicate_is_named_only_to_who_may_see_it(world):
    # hh_grid reports at the point of case B, a case of a cell that is not hh_grid's
    b = world["cases"]["B"]
    grid = client_for(world, "hh_grid")
    body = intake_body(world, source="grid_report", lat=float(b.lat), lng=float(b.lng))
    filed = post(grid, "/api/v1/cases/", body)
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    assert filed.json()["likely_duplicate_of"] is None
    mine = grid.get(f"/api/v1/cases/{number}/").json()
    assert mine["likely_duplicate_of"] is None
    listed = grid.get("/api/v1/cases/", {"page_size": 100}).json()["results"]
    assert [row["likely_duplicate_of"] for row in listed if row["number"] == number] == [None]
    # the command centre, who sees both, is shown the pair
    seen = client_for(world, "hh_command").get(f"/api/v1/cases/{number}/").json()
    assert seen["likely_duplicate_of"] is not None
    assert seen["likely_duplicate_of"] != number
