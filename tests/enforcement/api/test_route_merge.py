"""Routing by power and merging through the case API: ``GET …/route-proposal/`` (what routing
would do, and why), ``POST …/route/`` (do it; ``expect`` refuses a stale proposal) and
``POST …/merge/`` (a duplicate into its original). Each endpoint's permission matrix, its happy
paths and its refusals; and ``case_route_propose`` itself."""

from datetime import date

import pytest
import time_machine
from django.utils import timezone, translation

from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus, EventKind, HandlingMode
from enforcement.models import MatterType
from enforcement.services import case_intake
from grids.models import Region
from powers.models import CatalogueVersion, PowerItem
from powers.selectors import street_powers
from powers.services import catalogue_publish
from tests.enforcement.api.conftest import HH, HH_GRID_CELL, client_for, other_cell, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def routing(world):
    """Two matter types of the demo's list: one whose item Honghua holds (the first of the
    city management bureau's it holds), one whose item it lacks (environmental items are never
    Honghua's, seed 000); and the first team of Honghua, whose area is hh_grid's cell's."""
    street = Region.objects.get(code=HH)
    held_item = (
        street_powers(street=street, on=timezone.localdate())
        .filter(department__code="CG")
        .order_by("code")
        .first()
    )
    lacked_item = PowerItem.objects.filter(category__code="HB").order_by("code").first()
    held = MatterType.objects.create(
        code="T-HELD", name="占道经营（测试）", default_handling_mode=HandlingMode.MANAGEMENT
    )
    held.power_items.set([held_item])
    lacked = MatterType.objects.create(
        code="T-LACKED", name="油烟扰民（测试）", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    lacked.power_items.set([lacked_item])
    return {
        "street": street,
        "held": held,
        "held_item": held_item,
        "lacked": lacked,
        "lacked_item": lacked_item,
        "command": world["users"]["hh_command"],
    }


def reported(world, matter, *, cell=HH_GRID_CELL, description="占道经营", reporter="hh_officer"):
    """A case of ``matter`` in ``cell``, filed on patrol by ``reporter`` (who sees it as its
    reporter, without any right of the street's)."""
    lat, lng = point_in(cell)
    return case_intake(
        source=CaseSource.PATROL,
        matter_type=matter,
        description=description,
        lat=lat,
        lng=lng,
        actor=world["users"][reporter],
    ).case


def accepted(world, matter, **kwargs):
    return workflow.case_accept(
        case=reported(world, matter, **kwargs), actor=world["users"]["hh_command"]
    )


def returned_to_the_street(world):
    """Case D, whistled to the city management bureau and returned by its liaison: accepted
    again, and still seen by the liaison through the call."""
    d = world["cases"]["D"]
    workflow.call_return(
        call=d.calls.get(), actor=world["users"]["dept_liaison"], reason="非本部门职责"
    )
    d.refresh_from_db()
    assert d.status == CaseStatus.ACCEPTED
    return d


def post(world, who, url, body=None, *, version=None):
    headers = {"HTTP_IF_MATCH": f'"{version}"'} if version is not None else {}
    return client_for(world, who).post(
        url, body or {}, format="json", HTTP_ACCEPT_LANGUAGE="en", **headers
    )


def get(world, who, url):
    return client_for(world, who).get(url, HTTP_ACCEPT_LANGUAGE="en")


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def kinds(case):
    return list(case.events.order_by("sequence").values_list("kind", flat=True))


# --- case_route_propose ---------------------------------------------------------------------


def test_the_proposal_for_a_held_power_is_the_streets_team_and_records_nothing(world, routing):
    # Given an accepted case of a matter whose item Honghua holds
    case = accepted(world, routing["held"])
    code = routing["held_item"].code

    # When the route is proposed on a day of version 1
    with translation.override("en"):
        proposal = workflow.case_route_propose(case=case, on=date(2026, 3, 2))

    # Then the street's team of the cell's area, naming the item and the version
    assert proposal == workflow.RouteProposal(
        kind="team",
        held=(routing["held_item"],),
        items=(routing["held_item"],),
        team=world["team"],
        departments=(),
        catalogue_version=CatalogueVersion.objects.get(street=routing["street"], number=1),
        reason=f"The street holds {code} on 2026-03-02 (catalogue version 1).",
    )
    # and nothing was written: a pure read
    case.refresh_from_db()
    assert (case.status, kinds(case)) == (CaseStatus.ACCEPTED, ["intake", "accept"])


def test_the_proposal_for_a_missing_power_whistles_the_owning_department(world, routing):
    # Given an accepted case of a matter whose item Honghua lacks
    case = accepted(world, routing["lacked"])
    item = routing["lacked_item"]

    # When the route is proposed
    with translation.override("en"):
        proposal = workflow.case_route_propose(case=case, on=date(2026, 3, 2))

    # Then a whistle to the item's department, naming the item and the version
    assert (proposal.kind, proposal.held, proposal.items, proposal.team) == (
        "whistle",
        (),
        (item,),
        None,
    )
    assert [d.code for d in proposal.departments] == ["HB"]
    assert proposal.catalogue_version.number == 1
    assert proposal.reason == (
        f"The street holds none of {item.code} on 2026-03-02 (catalogue version 1): "
        "whistle the owning department."
    )


def test_before_any_list_is_in_force_the_proposal_whistles_and_names_no_version(world, routing):
    # Given a case of a held matter, routed on a day before Honghua's first list
    case = accepted(world, routing["held"])
    code = routing["held_item"].code

    # When the route is proposed, then done, on that day
    with translation.override("en"):
        proposal = workflow.case_route_propose(case=case, on=date(2023, 6, 1))
        routed = workflow.case_route(case=case, actor=routing["command"], on=date(2023, 6, 1))

    # Then the street holds nothing: a whistle, without a version, recorded as such
    assert (proposal.kind, proposal.catalogue_version, proposal.held) == ("whistle", None, ())
    assert proposal.reason == (
        f"The street has no power list in force on 2023-06-01, so holds none of {code}: "
        "whistle the owning department."
    )
    assert routed.dispatch_target == "department"
    assert routed.events.get(kind=EventKind.ROUTE).data == {
        "held": [],
        "items": [code],
        "reason": proposal.reason,
        "catalogue_version": None,
    }


def test_a_matter_without_power_items_has_no_proposal(world, routing):
    # Given a matter type naming no power item
    bare = MatterType.objects.create(
        code="T-BARE", name="其他（测试）", default_handling_mode=HandlingMode.SERVICE
    )
    case = accepted(world, bare)

    # When the route is proposed, then it is refused as case_route refuses it
    with translation.override("en"), pytest.raises(workflow.InvalidInput) as refused:
        workflow.case_route_propose(case=case)
    assert str(refused.value) == (
        "This matter type names no power item: dispatch the case by hand."
    )


def test_case_route_refuses_a_confirmation_of_an_unknown_kind(world, routing):
    case = accepted(world, routing["held"])

    with pytest.raises(workflow.InvalidInput):
        workflow.case_route(case=case, actor=routing["command"], proposal_kind="grid")

    assert kinds(case) == ["intake", "accept"]


# --- GET route-proposal -----------------------------------------------------------------------


def test_route_proposal_permission_matrix(world, routing):
    # Given an accepted case reported by hh_officer, and D, which the liaison sees by its call
    case = accepted(world, routing["held"])
    d = returned_to_the_street(world)
    url = f"/api/v1/cases/{case.number}/route-proposal/"

    # When each caller asks, then: 401 anonymous, 404 out of sight, 403 seen without the right
    problem(get(world, "anonymous", url), 401)
    problem(get(world, "fzm_command", url), 404)
    problem(get(world, "hh_officer", url), 403)  # its reporter
    problem(get(world, "hh_grid", url), 403)  # its cell's grid worker
    problem(get(world, "dept_liaison", f"/api/v1/cases/{d.number}/route-proposal/"), 403)
    # and the street's command centre reads it, with the case's ETag
    response = get(world, "hh_command", url)
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{case.version}"'


def test_the_route_proposal_names_the_item_codes_and_the_catalogue_version(world, routing):
    # Given an accepted case of a matter Honghua holds, and one of a matter it lacks
    held = accepted(world, routing["held"])
    lacked = accepted(world, routing["lacked"])
    held_code, lacked_code = routing["held_item"].code, routing["lacked_item"].code

    # When the command centre asks for both proposals
    with time_machine.travel(timezone.now(), tick=False):
        today = timezone.localdate()
        to_team = get(world, "hh_command", f"/api/v1/cases/{held.number}/route-proposal/")
        to_whistle = get(world, "hh_command", f"/api/v1/cases/{lacked.number}/route-proposal/")

    # Then each names its items, where it would go and the version of the list in force
    assert to_team.json() == {
        "kind": "team",
        "held": [held_code],
        "items": [held_code],
        "team": {"id": world["team"].pk, "name": "红花执法1中队"},
        "departments": [],
        "catalogue_version": 1,
        "reason": f"The street holds {held_code} on {today} (catalogue version 1).",
    }
    assert to_whistle.json() == {
        "kind": "whistle",
        "held": [],
        "items": [lacked_code],
        "team": None,
        "departments": [{"code": "HB", "name": "南京市秦淮生态环境局"}],
        "catalogue_version": 1,
        "reason": (
            f"The street holds none of {lacked_code} on {today} (catalogue version 1): "
            "whistle the owning department."
        ),
    }
    # and nothing was routed
    assert kinds(held) == kinds(lacked) == ["intake", "accept"]


# --- POST route -----------------------------------------------------------------------------


def test_route_permission_matrix(world, routing):
    # Given an accepted case reported by hh_officer, and D, which the liaison sees by its call
    case = accepted(world, routing["held"])
    d = returned_to_the_street(world)
    url = f"/api/v1/cases/{case.number}/route/"

    # When each caller routes it, then: 401, 404 out of sight, 403 seen without the right
    problem(post(world, "anonymous", url, version=case.version), 401)
    problem(post(world, "fzm_command", url, version=case.version), 404)
    problem(post(world, "hh_officer", url, version=case.version), 403)
    problem(post(world, "hh_grid", url, version=case.version), 403)
    refused = post(world, "dept_liaison", f"/api/v1/cases/{d.number}/route/", version=d.version)
    problem(refused, 403)
    assert kinds(case) == ["intake", "accept"]
    # and the street's command centre routes it
    response = post(world, "hh_command", url, version=case.version)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dispatched"


def test_route_sends_a_case_of_a_held_power_to_the_streets_own_team(world, routing):
    # Given an accepted case of a matter Honghua holds
    case = accepted(world, routing["held"])
    code = routing["held_item"].code

    # When the command centre confirms the proposal to the team
    with time_machine.travel(timezone.now(), tick=False):
        today = timezone.localdate()
        response = post(
            world,
            "hh_command",
            f"/api/v1/cases/{case.number}/route/",
            {"expect": "team"},
            version=case.version,
        )

    # Then it is dispatched to the team of its cell's area, one version on
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["dispatch_target"], body["team"], body["calls"]) == (
        "dispatched",
        "team",
        "红花执法1中队",
        [],
    )
    assert response["ETag"] == f'"{case.version + 1}"'
    # and the decision is in its history, with the version of the list it was read from
    assert kinds(case) == ["intake", "accept", "route", "dispatch"]
    assert case.events.get(kind=EventKind.ROUTE).data == {
        "held": [code],
        "items": [code],
        "reason": f"The street holds {code} on {today} (catalogue version 1).",
        "catalogue_version": 1,
    }


def test_route_whistles_the_owning_department_when_the_street_lacks_the_power(world, routing):
    # Given an accepted case of a matter Honghua lacks
    case = accepted(world, routing["lacked"])
    code = routing["lacked_item"].code

    # When the command centre routes it, with an empty body
    response = client_for(world, "hh_command").post(
        f"/api/v1/cases/{case.number}/route/", HTTP_IF_MATCH=f'"{case.version}"'
    )

    # Then the environment bureau is called for the item
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["dispatch_target"], body["team"]) == (
        "dispatched",
        "department",
        None,
    )
    assert [(c["department"], c["power_item"], c["status"]) for c in body["calls"]] == [
        ("HB", code, "called")
    ]
    route = case.events.get(kind=EventKind.ROUTE)
    assert (route.data["held"], route.data["items"], route.data["catalogue_version"]) == (
        [],
        [code],
        1,
    )
    assert kinds(case) == ["intake", "accept", "route", "dispatch", "call"]


def test_route_needs_a_current_if_match(world, routing):
    # Given an accepted case
    case = accepted(world, routing["held"])
    url = f"/api/v1/cases/{case.number}/route/"

    # When it is routed without If-Match, then 428; with a stale one, 412
    missing = problem(post(world, "hh_command", url), 428)
    assert "If-Match" in missing["detail"]
    problem(post(world, "hh_command", url, version=case.version - 1), 412)

    # and nothing was routed
    case.refresh_from_db()
    assert (case.status, kinds(case)) == (CaseStatus.ACCEPTED, ["intake", "accept"])


def test_routing_a_case_not_yet_accepted_is_a_409_and_records_nothing(world, routing):
    # Given a case only reported
    case = reported(world, routing["held"])

    # When the command centre routes it
    response = post(world, "hh_command", f"/api/v1/cases/{case.number}/route/", version=1)

    # Then the transition is refused, naming the states it is allowed from
    body = problem(response, 409)
    assert body["detail"] == (
        "Cannot dispatch a case that is reported; only a case that is accepted or reopened."
    )
    assert kinds(case) == ["intake"]


def test_a_stale_proposal_is_refused_and_the_new_one_shown(world, routing):
    # Given the command centre was shown a whistle for a case of a matter Honghua lacked
    case = accepted(world, routing["lacked"])
    url = f"/api/v1/cases/{case.number}/route-proposal/"
    shown = get(world, "hh_command", url)
    assert (shown.json()["kind"], shown.json()["catalogue_version"]) == ("whistle", 1)
    # and, before it confirmed, a new list granting that item came into force
    version_1 = CatalogueVersion.objects.get(street=routing["street"], number=1)
    catalogue_publish(
        street=routing["street"],
        items=[*version_1.items.all(), routing["lacked_item"]],
        effective_on=timezone.localdate(),
        notice_number="秦政发〔2026〕12号（测试）",
    )

    # When it confirms the whistle it was shown
    response = client_for(world, "hh_command").post(
        f"/api/v1/cases/{case.number}/route/",
        {"expect": "whistle"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_IF_MATCH=shown["ETag"],
    )

    # Then it is refused, and nothing was routed
    body = problem(response, 400)
    assert body["errors"] == {
        "detail": [
            "The power list changed since the proposal was shown: it now proposes to dispatch "
            "to the street's team, not to whistle the owning departments. Look at the new "
            "proposal and confirm again."
        ]
    }
    case.refresh_from_db()
    assert (case.status, kinds(case)) == (CaseStatus.ACCEPTED, ["intake", "accept"])
    assert not case.calls.exists()
    # and the proposal now shown is the team's, under version 2
    again = get(world, "hh_command", url).json()
    assert (again["kind"], again["held"], again["catalogue_version"]) == (
        "team",
        [routing["lacked_item"].code],
        2,
    )


def test_an_unknown_expected_kind_is_a_400_naming_the_field(world, routing):
    case = accepted(world, routing["held"])

    response = post(
        world,
        "hh_command",
        f"/api/v1/cases/{case.number}/route/",
        {"expect": "grid"},
        version=case.version,
    )

    assert list(problem(response, 400)["errors"]) == ["expect"]
    assert kinds(case) == ["intake", "accept"]


# --- POST merge -----------------------------------------------------------------------------


def test_merge_permission_matrix(world, routing):
    # Given a duplicate report of B by hh_officer, and D, which the liaison sees by its call
    b = world["cases"]["B"]
    duplicate = reported(world, routing["held"], cell=other_cell(HH, HH_GRID_CELL))
    d = returned_to_the_street(world)
    url = f"/api/v1/cases/{duplicate.number}/merge/"
    body = {"into": b.number, "reason": "同一摊点重复上报"}

    # When each caller merges, then: 401, 404 out of sight, 403 seen without the right
    problem(post(world, "anonymous", url, body, version=duplicate.version), 401)
    problem(post(world, "fzm_command", url, body, version=duplicate.version), 404)
    problem(post(world, "hh_officer", url, body, version=duplicate.version), 403)  # reporter
    liaison = post(
        world, "dept_liaison", f"/api/v1/cases/{d.number}/merge/", body, version=d.version
    )
    problem(liaison, 403)
    duplicate.refresh_from_db()
    assert duplicate.status == CaseStatus.REPORTED
    # and the street's command centre merges it
    response = post(world, "hh_command", url, body, version=duplicate.version)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "merged"


def test_merge_marks_the_duplicate_merged_and_records_it_on_the_original(world, routing):
    # Given a duplicate report of the accepted case B
    b = world["cases"]["B"]
    duplicate = reported(world, routing["held"], cell=other_cell(HH, HH_GRID_CELL))

    # When the command centre merges it into B
    response = post(
        world,
        "hh_command",
        f"/api/v1/cases/{duplicate.number}/merge/",
        {"into": b.number, "reason": "同一摊点重复上报"},
        version=duplicate.version,
    )

    # Then the duplicate is merged and points at B, one version on
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["merged_into"]) == ("merged", b.number)
    assert response["ETag"] == f'"{duplicate.version + 1}"'
    assert duplicate.events.get(kind=EventKind.MERGE).data == {
        "into": b.number,
        "reason": "同一摊点重复上报",
    }
    # and B goes on as it was, the merge in its own history
    b_after = client_for(world, "hh_command").get(f"/api/v1/cases/{b.number}/")
    assert (b_after.json()["status"], b_after["ETag"]) == ("accepted", f'"{b.version}"')
    merged_in = b.events.order_by("-sequence").first()
    assert (merged_in.kind, merged_in.data) == (
        EventKind.MERGED_IN,
        {"case": duplicate.number, "reason": "同一摊点重复上报"},
    )


def test_merge_needs_a_current_if_match(world, routing):
    # Given a duplicate report of B
    b = world["cases"]["B"]
    duplicate = reported(world, routing["held"], cell=other_cell(HH, HH_GRID_CELL))
    url = f"/api/v1/cases/{duplicate.number}/merge/"

    # When it is merged without If-Match, then 428; with a stale one, 412
    problem(post(world, "hh_command", url, {"into": b.number}), 428)
    problem(post(world, "hh_command", url, {"into": b.number}, version=duplicate.version + 1), 412)

    # and nothing was merged
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (CaseStatus.REPORTED, None)
    assert not b.events.filter(kind=EventKind.MERGED_IN).exists()


def test_a_case_is_not_merged_into_itself(world, routing):
    # Given the accepted case B
    b = world["cases"]["B"]
    version = b.version

    # When the command centre merges it into itself
    response = post(
        world, "hh_command", f"/api/v1/cases/{b.number}/merge/", {"into": b.number}, version=version
    )

    # Then it is refused, and B did not change
    assert problem(response, 400)["errors"] == {"detail": ["A case cannot be merged into itself."]}
    b.refresh_from_db()
    assert (b.status, b.version) == (CaseStatus.ACCEPTED, version)


def test_a_case_of_another_street_is_no_such_case_to_merge_into(world, routing):
    # Given a Honghua case, and Fuzimiao's case C, which Honghua's command centre may not see
    b, c = world["cases"]["B"], world["cases"]["C"]
    version = b.version
    url = f"/api/v1/cases/{b.number}/merge/"

    # When Honghua's command centre merges B into C, and into a number that does not exist
    into_c = post(world, "hh_command", url, {"into": c.number}, version=version)
    into_nothing = post(
        world, "hh_command", url, {"into": "320104003-2026-999999"}, version=version
    )

    # Then both are the same 400 on the field, which says nothing of C
    body = problem(into_c, 400)
    assert body["errors"] == {"into": ["No such case."]}
    assert into_c.content == into_nothing.content
    # and neither case changed
    b.refresh_from_db()
    assert (b.status, b.version) == (CaseStatus.ACCEPTED, version)
    assert kinds(c) == ["intake"]
