"""The case page and its actions: who sees it (404 for a case one may not see), which actions
each role is offered and may take (403 otherwise), a stale form refused as a conflict and never
applied, the recorded reveal of the reporter's phone, evidence files, supervision answers, and
a query budget that does not grow with the case's history."""

import re

import pytest

from enforcement import workflow
from enforcement.choices import CaseStatus, DispatchTarget, EventKind
from enforcement.models import Case
from tests.enforcement.views.conftest import HH_GRID_CELL, browser_for, intake

pytestmark = pytest.mark.django_db


def page(number: str) -> str:
    return f"/cases/{number}/"


def offered_in(response) -> list[str]:
    """The actions whose forms a page or panel draws, in order."""
    return re.findall(r'class="action-form action-(\w+)"', response.content.decode())


def panel(number: str) -> str:
    """The case page's actions panel (loaded by the page once drawn)."""
    return f"/cases/{number}/actions/"


def act(number: str, action: str) -> str:
    return f"/cases/{number}/act/{action}/"


@pytest.mark.parametrize(
    ("who", "case", "status"),
    [
        ("anonymous", "B", 302),
        ("fzm_command", "B", 404),  # another street's staff
        ("fzm_leader", "B", 404),
        ("hh_command", "B", 200),
        ("hh_leader", "B", 200),
        ("dept_liaison", "D", 200),  # the case of its department's call
        ("dept_liaison", "B", 404),
        ("hh_officer", "A", 200),  # the case of the officer's team
        ("hh_command", "C", 404),
        ("fzm_command", "C", 200),
    ],
)
def test_who_sees_the_case_page(world, who, case, status):
    response = browser_for(world, who).get(page(world["cases"][case].number))

    assert response.status_code == status


def test_the_actions_offered_follow_the_status_and_the_role(world):
    cases = world["cases"]

    def offered(who, key):
        response = browser_for(world, who).get(panel(cases[key].number))
        return offered_in(response)

    assert offered("hh_command", "F") == ["accept", "reject", "merge"]
    assert offered("hh_command", "B") == [
        "route",
        "dispatch",
        "whistle",
        "merge",
        "transfer",
        "suspend",
    ]
    assert offered("hh_command", "A") == ["reassign", "transfer", "suspend"]
    assert "reassign" not in offered("hh_command", "D")  # with the departments
    assert offered("dept_liaison", "D") == []
    assert offered("hh_officer", "A") == []


@pytest.mark.parametrize(
    ("who", "status"), [("dept_liaison", 404), ("hh_officer", 403), ("hh_grid", 403)]
)
def test_a_role_without_the_right_cannot_act(world, who, status):
    b = world["cases"]["B"]
    if who in ("hh_officer", "hh_grid"):
        b = world["cases"]["A"]  # seen through the officer's team, in the grid worker's cell

    response = browser_for(world, who).post(
        act(b.number, "transfer"), {"version": b.version, "to": "police", "reason": "x"}
    )

    assert response.status_code == status
    assert Case.objects.get(pk=b.pk).status == b.status


def test_the_command_centre_accepts_and_the_event_is_recorded(world):
    f = world["cases"]["F"]
    client = browser_for(world, "hh_command")

    response = client.post(act(f.number, "accept"), {"version": f.version})

    assert response.status_code == 302
    assert response["Location"] == page(f.number)
    f.refresh_from_db()
    assert f.status == CaseStatus.ACCEPTED
    last = f.events.order_by("-sequence").first()
    assert (last.kind, last.actor.username) == (EventKind.ACCEPT, "hh_command")


def test_a_stale_form_is_a_conflict_and_changes_nothing(world):
    f = world["cases"]["F"]
    seen = f.version
    workflow.case_accept(case=f, actor=world["users"]["hh_leader"])  # someone else, meanwhile

    response = browser_for(world, "hh_command").post(
        act(f.number, "reject"), {"version": seen, "reason": "重复"}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "changed" in html or "已被" in html or "更改" in html
    f.refresh_from_db()
    assert f.status == CaseStatus.ACCEPTED
    assert not f.events.filter(kind=EventKind.REJECT).exists()


def test_a_rejection_without_its_reason_is_sent_back_with_the_error(world):
    f = world["cases"]["F"]

    response = browser_for(world, "hh_command").post(
        act(f.number, "reject"), {"version": f.version, "reason": ""}
    )

    assert response.status_code == 400
    assert response.context["actions"][1][2].errors["reason"]
    assert Case.objects.get(pk=f.pk).status == CaseStatus.REPORTED


def test_routing_confirms_the_proposal_that_names_the_power(world):
    b = world["cases"]["B"]
    client = browser_for(world, "hh_command")

    proposal = workflow.case_route_propose(case=b)
    shown = client.get(panel(b.number)).content.decode()
    response = client.post(act(b.number, "route"), {"version": b.version, "expect": proposal.kind})

    assert response.status_code == 302
    assert f'data-proposal-kind="{proposal.kind}"' in shown
    assert all(item.code in shown for item in proposal.items)
    b.refresh_from_db()
    assert b.status == CaseStatus.DISPATCHED
    route = b.events.get(kind=EventKind.ROUTE)
    assert route.data["items"] == [item.code for item in proposal.items]
    assert route.data["catalogue_version"] == (
        proposal.catalogue_version.number if proposal.catalogue_version else None
    )


def test_a_duplicate_is_merged_into_its_original_from_the_desk(world):
    command = world["users"]["hh_command"]
    original = workflow.case_accept(case=intake(HH_GRID_CELL, "原案"), actor=command)
    duplicate = intake(HH_GRID_CELL, "重复上报")
    assert duplicate.likely_duplicate_of_id is not None

    response = browser_for(world, "hh_command").post(
        act(duplicate.number, "merge"),
        {"version": duplicate.version, "into": original.number, "next": "/desk/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/desk/"
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (CaseStatus.MERGED, original.pk)
    assert original.events.filter(kind=EventKind.MERGED_IN).exists()


def test_a_merge_into_a_case_one_may_not_see_is_no_such_case(world):
    f, c = world["cases"]["F"], world["cases"]["C"]

    response = browser_for(world, "hh_command").post(
        act(f.number, "merge"), {"version": f.version, "into": c.number}
    )

    assert response.status_code == 400
    assert c.description not in response.content.decode()
    assert Case.objects.get(pk=f.pk).status == CaseStatus.REPORTED


def test_a_redirect_elsewhere_is_refused(world):
    f = world["cases"]["F"]

    response = browser_for(world, "hh_command").post(
        act(f.number, "accept"), {"version": f.version, "next": "https://evil.example/"}
    )

    assert response["Location"] == page(f.number)


def test_verification_is_offered_to_another_than_the_resolver_and_closes(world):
    a = world["cases"]["A"]
    officer = world["users"]["hh_officer"]
    a = workflow.case_arrive(case=a, actor=officer, lat=a.lat, lng=a.lng)
    a = workflow.case_resolve(case=a, actor=officer, result="已清理", handling_mode="service")

    shown = browser_for(world, "hh_command").get(panel(a.number))
    response = browser_for(world, "hh_command").post(
        act(a.number, "verify"), {"version": a.version, "note": "现场核查"}
    )

    assert "verify" in offered_in(shown)
    assert response.status_code == 302
    assert Case.objects.get(pk=a.pk).status == CaseStatus.CLOSED


def test_the_resolver_is_not_offered_verification(world):
    b = world["cases"]["B"]
    command = world["users"]["hh_command"]
    b = workflow.case_dispatch(
        case=b, actor=command, target=DispatchTarget.TEAM, team=world["team"]
    )
    b = workflow.case_arrive(case=b, actor=command, lat=b.lat, lng=b.lng)
    b = workflow.case_resolve(case=b, actor=command, result="已处理", handling_mode="service")

    shown = browser_for(world, "hh_command").get(panel(b.number))
    refused = browser_for(world, "hh_command").post(act(b.number, "verify"), {"version": b.version})

    assert "verify" not in offered_in(shown)
    assert refused.status_code == 403
    assert Case.objects.get(pk=b.pk).status == CaseStatus.RESOLVED


def test_the_phone_is_masked_and_its_reveal_is_recorded(world):
    b = world["cases"]["B"]

    shown = browser_for(world, "hh_command").get(page(b.number)).content.decode()
    revealed = browser_for(world, "hh_command").post(
        f"/cases/{b.number}/reveal-phone/", headers={"HX-Request": "true"}
    )
    refused = browser_for(world, "hh_leader").post(f"/cases/{b.number}/reveal-phone/")

    assert "138****5678" in shown and "13812345678" not in shown
    assert "13812345678" in revealed.content.decode()
    assert b.events.filter(kind=EventKind.PHONE_REVEAL, actor__username="hh_command").count() == 1
    assert refused.status_code == 403


def test_an_evidence_file_is_served_only_with_its_case(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enforcement.evidence import evidence_attach

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
        b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
        b"\x00\x00\x00IEND\xaeB`\x82"
    )
    b = world["cases"]["B"]
    evidence = evidence_attach(
        case=b, actor=world["users"]["hh_command"], upload=SimpleUploadedFile("p.png", png)
    )
    url = f"/cases/{b.number}/evidence/{evidence.pk}/"

    served = browser_for(world, "hh_command").get(url)
    page_html = browser_for(world, "hh_command").get(page(b.number)).content.decode()

    assert b"".join(served.streaming_content) == png
    assert evidence.sha256 in page_html
    assert browser_for(world, "fzm_command").get(url).status_code == 404


def test_the_history_badge_says_whether_the_chain_holds(world):
    from enforcement.models import CaseEvent

    b = world["cases"]["B"]
    client = browser_for(world, "hh_command")
    intact = client.get(page(b.number))
    CaseEvent.objects.filter(case=b, sequence=1).update(data={"forged": True})
    broken = client.get(page(b.number))

    assert intact.context["history_broken"] is None
    assert broken.context["history_broken"].sequence == 1


def test_a_supervision_is_answered_from_the_case_page_by_its_addressee(world):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from enforcement.timers import timers_fire_due

    d = world["cases"]["D"]
    for days in (40, 80):
        with time_machine.travel(timezone.now() + timedelta(days=days), tick=False):
            timers_fire_due(case=d)
    escalated = d.supervisions.filter(call__isnull=False, level=2).first()
    url = f"/cases/{d.number}/supervisions/{escalated.pk}/answer/"

    refused = browser_for(world, "hh_command").post(url, {"response": "x"})
    answered = browser_for(world, "hh_leader").post(url, {"response": "已协调城管"})

    assert refused.status_code == 403
    assert answered.status_code == 302
    escalated.refresh_from_db()
    assert (escalated.state, escalated.response) == ("answered", "已协调城管")


# The case page: the session, the user, their rights and roles, the case and its five parts
# (events, supervisions, timers, calls, evidence), the phone right, the unread count.
CASE_PAGE_QUERIES = 13
# The heaviest actions panel: an accepted case, the route proposal and the choices of the
# dispatch, whistle and suspension forms.
ACTIONS_PANEL_QUERIES = 17


def test_the_case_pages_queries_do_not_grow_with_its_history(world, django_assert_max_num_queries):
    b = world["cases"]["B"]
    client = browser_for(world, "hh_command")
    client.get(page(b.number))
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        assert client.get(page(b.number)).status_code == 200
    with django_assert_max_num_queries(ACTIONS_PANEL_QUERIES):
        assert client.get(panel(b.number)).status_code == 200
    with django_assert_max_num_queries(ACTIONS_PANEL_QUERIES):
        assert client.get(panel(b.number)).status_code == 200
    command = world["users"]["hh_command"]
    for _n in range(5):
        b = workflow.case_suspend(
            case=b, actor=command, reason="等待", approved_by=world["users"]["hh_leader"]
        )
        b = workflow.case_resume(case=b, actor=command)
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        assert client.get(page(b.number)).status_code == 200
    with django_assert_max_num_queries(ACTIONS_PANEL_QUERIES):
        assert client.get(panel(b.number)).status_code == 200


def test_the_page_loads_its_actions_after_and_without_javascript_on_request(world):
    f = world["cases"]["F"]
    client = browser_for(world, "hh_command")

    html = client.get(page(f.number)).content.decode()
    inline = client.get(page(f.number), {"actions": "1"})
    fragment = client.get(panel(f.number)).content.decode()

    assert f'hx-get="/cases/{f.number}/actions/" hx-trigger="load"' in html
    assert "action-accept" not in html
    assert [name for name, _l, _f in inline.context["actions"]] == ["accept", "reject", "merge"]
    assert fragment.lstrip().startswith('<section id="case-actions"')
    assert "hx-trigger" not in fragment and "action-accept" in fragment
    assert browser_for(world, "fzm_command").get(panel(f.number)).status_code == 404


def test_a_provisional_deadline_and_a_calendar_move_are_shown(world):
    from enforcement.events import case_event_record
    from enforcement.models import Timer

    f = world["cases"]["F"]
    Timer.objects.filter(case=f).update(provisional=True)
    case_event_record(
        case=f,
        kind=EventKind.DEADLINE_MOVE,
        actor=None,
        from_status=f.status,
        to_status=f.status,
        data={
            "stage": "accept",
            "from": "2027-01-29T17:00:00+08:00",
            "to": "2027-02-01T17:00:00+08:00",
            "provisional": False,
            "reason": "2027年节假日安排通知",
        },
    )

    html = browser_for(world, "hh_command").get(page(f.number)).content.decode()

    assert 'class="badge badge-provisional"' in html
    assert "受理: 2027-01-29 17:00 → 2027-02-01 17:00" in html
    assert "2027年节假日安排通知" in html


def test_the_command_centre_reassigns_a_case_in_hand(world):
    from enforcement.models import Officer, Team

    a = world["cases"]["A"]
    team = Team.objects.get(street__code=a.street.code, name="红花执法2中队")
    officer = Officer.objects.filter(team=team).order_by("pk").first()
    response = browser_for(world, "hh_command").post(
        act(a.number, "reassign"),
        {"version": a.version, "team": team.pk, "officer": officer.pk, "reason": "就近"},
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.team, a.officer, a.status, a.version) == (team, officer, "dispatched", 4)
    event = a.events.order_by("-sequence").first()
    assert (event.kind, event.data["reason"]) == ("reassign", "就近")
    # From the version seen before: a conflict, nothing changed.
    stale = browser_for(world, "hh_command").post(
        act(a.number, "reassign"), {"version": a.version - 1, "team": team.pk}
    )
    assert stale.status_code == 409
