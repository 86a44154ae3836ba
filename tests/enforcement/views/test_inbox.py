"""The department's calls inbox (部门来单): who may open it and whose calls it holds, the answers
(report in, take on, complete, return) through the web forms with their version, the refusals
(another department's call, a stale form, an empty result), the htmx fragments, and a query
budget that does not grow with the calls."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from enforcement import workflow
from enforcement.choices import CallStatus, CaseSource, CaseStatus, EventKind, HandlingMode
from enforcement.models import CaseEvent, DepartmentCall, MatterType, Timer
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from enforcement.views.inbox import DONE_MESSAGES
from enforcement.web.inbox import PAGE_SIZE
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory, region_holder

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
INBOX = reverse("enforcement:inbox")
REPORTER_NAME, REPORTER_PHONE = "钱多多", "13912345678"


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    """A street with one cell; two departments, city management (CG) and environment (HB),
    each with a power item and a liaison; a joint case whistled to both (a call of each) and
    a case whistled to CG alone; an officer and the street's command centre, who hold no
    department."""
    cell = ComprehensiveCellFactory()
    street = cell.community.parent
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    stalls = PowerItemFactory(code="CG-001", department=city)
    fumes = PowerItemFactory(code="HB-003", department=environment)
    matter = MatterType.objects.create(
        code="YYRM", name="油烟扰民", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    command = region_holder("command", "command_centre", street)
    liaison_cg = UserFactory(username="liaison_cg", roles=["department_liaison"])
    access_grant(user=liaison_cg, container=city)
    liaison_hb = UserFactory(username="liaison_hb", roles=["department_liaison"])
    access_grant(user=liaison_hb, container=environment)
    world = {
        "street": street,
        "matter": matter,
        "items": {"CG": stalls, "HB": fumes},
        "command": command,
        "liaison_cg": liaison_cg,
        "liaison_hb": liaison_hb,
        "officer": UserFactory(username="officer", roles=["officer"]),
    }
    joint = whistled(world, ["CG", "HB"], description="烧烤油烟, 联系人 13812345678")
    single = whistled(world, ["CG"], description="占道经营")
    world["joint"] = joint
    world["single"] = single
    world["calls"] = {
        "joint_cg": joint.calls.get(department=city),
        "joint_hb": joint.calls.get(department=environment),
        "single_cg": single.calls.get(department=city),
    }
    return world


def whistled(world, departments, *, description="油烟扰民"):
    case = case_intake(
        source=CaseSource.HOTLINE_12345,
        matter_type=world["matter"],
        description=description,
        address="应天大街88号",
        lat=LAT,
        lng=LNG,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
    ).case
    case = workflow.case_accept(case=case, actor=world["command"])
    items = [world["items"][code] for code in departments]
    return workflow.case_whistle(case=case, actor=world["command"], items=items)


def login(client, user):
    client.force_login(user)
    return client


def act(client, call, action, **data):
    return client.post(
        reverse("enforcement:inbox-call-action", args=[call.pk, action]),
        {"version": call.version, **data},
    )


def shown(response) -> list[int]:
    """The ids of the calls the page shows, in order."""
    return [call.pk for call in response.context["rows"]]


# --- who may open it, and whose calls it holds ---


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["officer", "command"])
def test_a_user_holding_no_department_is_refused(client, world, who):
    response = login(client, world[who]).get(INBOX)

    assert response.status_code == 403


def test_a_liaison_sees_the_calls_of_their_department_only(client, world):
    calls = world["calls"]

    response = login(client, world["liaison_cg"]).get(INBOX)

    assert response.status_code == 200
    # HB's call of the same joint case is not in CG's inbox
    assert sorted(shown(response)) == sorted([calls["joint_cg"].pk, calls["single_cg"].pk])
    assert f'id="call-{calls["joint_hb"].pk}"' not in response.content.decode()


def test_the_other_liaison_sees_their_own_call_of_the_joint_case(client, world):
    response = login(client, world["liaison_hb"]).get(INBOX)

    assert shown(response) == [world["calls"]["joint_hb"].pk]


def test_a_superuser_sees_every_departments_calls(client, world):
    root = UserFactory(username="root", is_superuser=True)

    response = login(client, root).get(INBOX)

    assert sorted(shown(response)) == sorted(c.pk for c in world["calls"].values())


def test_the_page_shows_the_public_facts_and_never_the_reporter(client, world):
    call = world["calls"]["joint_cg"]

    page = login(client, world["liaison_cg"]).get(INBOX).content.decode()

    assert world["joint"].number in page
    assert "油烟扰民" in page  # the matter type
    assert "应天大街88号" in page
    assert call.case.cell.name in page
    assert f"{LAT:.5f}, {LNG:.5f}" in page
    assert "CG-001" in page  # the power item
    assert REPORTER_NAME not in page
    assert REPORTER_PHONE not in page
    assert "13812345678" not in page  # a phone number typed into the description is masked
    assert "138****5678" in page


def test_acting_on_another_departments_call_of_a_case_one_sees_is_403(client, world):
    hb_call = world["calls"]["joint_hb"]
    events = CaseEvent.objects.count()

    response = act(login(client, world["liaison_cg"]), hb_call, "report_in")

    assert response.status_code == 403
    hb_call.refresh_from_db()
    assert (hb_call.status, hb_call.version) == (CallStatus.CALLED, 1)
    assert CaseEvent.objects.count() == events


def test_acting_on_a_call_one_may_not_see_is_404(client, world):
    cg_call = world["calls"]["single_cg"]

    response = act(login(client, world["liaison_hb"]), cg_call, "report_in")

    assert response.status_code == 404
    cg_call.refresh_from_db()
    assert cg_call.status == CallStatus.CALLED


def test_the_command_centre_may_not_answer_a_call_of_its_street(client, world):
    call = world["calls"]["single_cg"]

    response = act(login(client, world["command"]), call, "report_in")

    assert response.status_code == 403
    call.refresh_from_db()
    assert call.status == CallStatus.CALLED


def test_anonymous_may_not_act(client, world):
    response = act(client, world["calls"]["single_cg"], "report_in")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_action_is_404(client, world):
    response = act(login(client, world["liaison_cg"]), world["calls"]["single_cg"], "verify")

    assert response.status_code == 404


def test_acting_takes_a_post_only(client, world):
    call = world["calls"]["single_cg"]
    url = reverse("enforcement:inbox-call-action", args=[call.pk, "report_in"])

    response = login(client, world["liaison_cg"]).get(url)

    assert response.status_code == 405


# --- the answers ---


def test_report_in_take_on_and_complete_resolve_the_case_of_the_last_call(client, world):
    call = world["calls"]["single_cg"]
    client = login(client, world["liaison_cg"])

    response = act(client, call, "report_in")
    assert (response.status_code, response["Location"]) == (302, INBOX)
    call.refresh_from_db()
    assert (call.status, call.version) == (CallStatus.REPORTED_IN, 2)

    assert act(client, call, "accept").status_code == 302
    call.refresh_from_db()
    assert (call.status, call.version) == (CallStatus.ACCEPTED, 3)

    response = act(client, call, "complete", result="已责令摊主撤离, 现场恢复")
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.result) == (CallStatus.COMPLETED, "已责令摊主撤离, 现场恢复")
    case = call.case
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.events.get(kind=EventKind.CALLS_DONE).data["results"] == {
        "CG": "已责令摊主撤离, 现场恢复"
    }
    page = client.get(INBOX)
    with translation.override("zh-hans"):  # the default UI language, the page's
        expected = [
            DONE_MESSAGES[a] % {"number": case.number} for a in DONE_MESSAGES if a != "return"
        ]
    assert [str(m) for m in page.context["messages"]] == expected
    assert call.pk not in shown(page)
    assert call.pk in shown(client.get(INBOX, {"state": "done"}))


def test_a_joint_case_stays_dispatched_while_the_other_department_works(client, world):
    call = world["calls"]["joint_cg"]
    client = login(client, world["liaison_cg"])
    act(client, call, "report_in")
    call.refresh_from_db()
    act(client, call, "accept")
    call.refresh_from_db()

    act(client, call, "complete", result="已处理")

    call.case.refresh_from_db()
    assert call.case.status == CaseStatus.DISPATCHED


def test_return_with_a_reason(client, world):
    call = world["calls"]["single_cg"]

    response = act(login(client, world["liaison_cg"]), call, "return", reason="不属于本局职责")

    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.return_reason) == (CallStatus.RETURNED, "不属于本局职责")
    call.case.refresh_from_db()
    assert call.case.status == CaseStatus.ACCEPTED  # every department returned it


def test_a_stale_form_is_a_conflict_and_changes_nothing(client, world):
    call = world["calls"]["single_cg"]
    stale = call.version
    workflow.call_report_in(call=call, actor=world["liaison_cg"])  # a colleague, meanwhile
    call.refresh_from_db()
    events = CaseEvent.objects.count()

    response = login(client, world["liaison_cg"]).post(
        reverse("enforcement:inbox-call-action", args=[call.pk, "return"]),
        {"version": stale, "reason": "不属于本局职责"},
    )

    assert response.status_code == 409
    assert response.context["conflict"]
    assert response.context["refused_case"] == call.case.number
    assert shown(response)[0] == call.pk  # the call as it is now, first
    fresh = DepartmentCall.objects.get(pk=call.pk)
    assert (fresh.status, fresh.version, fresh.return_reason) == (
        CallStatus.REPORTED_IN,
        call.version,
        "",
    )
    assert CaseEvent.objects.count() == events


def test_an_action_the_status_no_longer_allows_is_a_conflict(client, world):
    call = world["calls"]["single_cg"]

    response = act(login(client, world["liaison_cg"]), call, "accept")  # not reported in yet

    assert response.status_code == 409
    call.refresh_from_db()
    assert (call.status, call.version) == (CallStatus.CALLED, 1)


@pytest.mark.parametrize("result", ["", "   "])
def test_an_empty_result_is_400_with_the_form_error(client, world, result):
    call = world["calls"]["single_cg"]
    client = login(client, world["liaison_cg"])
    act(client, call, "report_in")
    call.refresh_from_db()
    act(client, call, "accept")
    call.refresh_from_db()

    response = act(client, call, "complete", result=result)

    assert response.status_code == 400
    form = response.context["rows"][0].forms["complete"]
    assert list(form.errors) == ["result"]
    assert 'aria-invalid="true"' in response.content.decode()
    call.refresh_from_db()
    assert (call.status, call.version) == (CallStatus.ACCEPTED, 3)


def test_a_return_without_a_reason_is_400(client, world):
    call = world["calls"]["single_cg"]

    response = act(login(client, world["liaison_cg"]), call, "return", reason="")

    assert response.status_code == 400
    assert list(response.context["rows"][0].forms["return"].errors) == ["reason"]
    call.refresh_from_db()
    assert call.status == CallStatus.CALLED


def test_a_form_without_its_version_is_400(client, world):
    call = world["calls"]["single_cg"]
    url = reverse("enforcement:inbox-call-action", args=[call.pk, "report_in"])

    response = login(client, world["liaison_cg"]).post(url, {})

    assert response.status_code == 400
    call.refresh_from_db()
    assert call.status == CallStatus.CALLED


# --- what a row offers, its clock and the order ---


def test_each_row_offers_what_its_status_allows(client, world):
    calls = world["calls"]
    client = login(client, world["liaison_cg"])
    act(client, calls["joint_cg"], "report_in")

    rows = {call.pk: call for call in client.get(INBOX).context["rows"]}

    assert list(rows[calls["joint_cg"].pk].forms) == ["accept", "return"]
    assert list(rows[calls["single_cg"].pk].forms) == ["report_in", "return"]


def test_the_countdown_is_to_report_in_then_to_complete(client, world):
    call = world["calls"]["single_cg"]
    client = login(client, world["liaison_cg"])
    report_in = Timer.objects.get(call=call, stage="call_report_in")

    row = client.get(INBOX).context["rows"]
    assert [(c.clock_stage, c.clock_due) for c in row if c.pk == call.pk] == [
        ("call_report_in", report_in.due_at)
    ]

    act(client, call, "report_in")
    complete = Timer.objects.get(call=call, stage="call_complete")
    response = client.get(INBOX)

    assert [(c.clock_stage, c.clock_due) for c in response.context["rows"] if c.pk == call.pk] == [
        ("call_complete", complete.due_at)
    ]
    assert f'data-deadline="{complete.due_at.astimezone(SHANGHAI).isoformat()}"' in (
        response.content.decode()
    )


def test_the_most_urgent_call_comes_first_then_the_newest(client, world, clock):
    calls = world["calls"]
    client = login(client, world["liaison_cg"])
    # joint_cg reported in: its clock is now five working days to complete, single_cg still
    # has its half hour to report in
    act(client, calls["joint_cg"], "report_in")
    unclocked = []
    for description in ("早些的", "后来的"):
        clock.shift(60)
        call = whistled(world, ["CG"], description=description).calls.get()
        Timer.objects.filter(call=call).delete()  # no clock (as when no policy covers it)
        unclocked.append(call.pk)
    earlier, later = unclocked

    assert shown(client.get(INBOX)) == [
        calls["single_cg"].pk,
        calls["joint_cg"].pk,
        later,
        earlier,
    ]


def test_the_finished_tab_shows_the_result(client, world):
    call = world["calls"]["single_cg"]
    client = login(client, world["liaison_cg"])
    act(client, call, "return", reason="不属于本局职责")

    response = client.get(INBOX, {"state": "done"})

    assert shown(response) == [call.pk]
    assert "不属于本局职责" in response.content.decode()
    assert [(name, n) for name, _label, n in response.context["tabs"]] == [("open", 1), ("done", 1)]


@pytest.mark.parametrize("query", [{"state": "late"}, {"page": "0"}, {"page": "x"}])
def test_a_broken_link_is_400(client, world, query):
    assert login(client, world["liaison_cg"]).get(INBOX, query).status_code == 400


def test_pages_of_fifty(client, world, monkeypatch):
    monkeypatch.setattr("enforcement.web.inbox.PAGE_SIZE", 1)
    client = login(client, world["liaison_cg"])

    first, second = client.get(INBOX), client.get(INBOX, {"page": 2})

    assert PAGE_SIZE == 50
    assert (len(shown(first)), first.context["page"].has_next) == (1, True)
    assert (len(shown(second)), second.context["page"].has_next) == (1, False)
    assert shown(first) != shown(second)


# --- htmx ---


def test_the_list_refreshes_itself_as_a_fragment(client, world):
    client = login(client, world["liaison_cg"])

    page = client.get(INBOX).content.decode()
    fragment = client.get(INBOX, headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 10s"' in page
    assert fragment.lstrip().startswith('<div id="inbox-list"')
    assert "<html" not in fragment
    assert f'id="call-{world["calls"]["single_cg"].pk}"' in fragment


def test_an_htmx_answer_gets_the_row_as_it_is_now(client, world):
    call = world["calls"]["single_cg"]
    client = login(client, world["liaison_cg"])

    response = client.post(
        reverse("enforcement:inbox-call-action", args=[call.pk, "report_in"]),
        {"version": call.version},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith(f'<li id="call-{call.pk}"')
    assert 'data-call-status="reported_in"' in body


def test_an_htmx_stale_answer_is_409_with_the_row(client, world):
    call = world["calls"]["single_cg"]
    workflow.call_report_in(call=call, actor=world["liaison_cg"])

    response = login(client, world["liaison_cg"]).post(
        reverse("enforcement:inbox-call-action", args=[call.pk, "report_in"]),
        {"version": 1},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409
    assert response.content.decode().strip().startswith(f'<li id="call-{call.pk}"')


# --- the query budget ---


@pytest.mark.parametrize("count", [2, 20])
def test_the_page_costs_the_same_queries_for_2_and_20_calls(
    client, world, django_assert_max_num_queries, count
):
    for n in range(count - 2):  # CG has two calls already
        whistled(world, ["CG", "HB"], description=f"第{n}起")
    client = login(client, world["liaison_cg"])
    client.get(INBOX)  # the session, warmed

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(INBOX)

    assert len(shown(response)) == count


# The session, the user, the user's containers and roles, the calls, their counts, the
# departments' names, the top bar's unread notifications.
QUERY_BUDGET = 8
