"""The permission matrix of the case API: for every endpoint, every role sees exactly the cases
of its containers (a case it may not see is a 404), and may take only its role's actions (403)."""

import pytest

from tests.enforcement.api.conftest import client_for

pytestmark = pytest.mark.django_db

ALL = {"A", "B", "C", "D", "E", "F"}
VISIBLE = {
    "nobody": set(),
    "hh_officer": {"A"},  # the team's case
    "fzm_officer": set(),
    "hh_grid": {"A"},  # the cell's case
    "fzm_grid": set(),
    "hh_command": {"A", "B", "D", "E", "F"},  # the street's cases
    "hh_leader": {"A", "B", "D", "E", "F"},
    "fzm_command": {"C"},
    "fzm_leader": {"C"},
    "dept_liaison": {"D"},  # called to the city management bureau
    "legal_reviewer": set(),
    "key:cg": {"D"},
    "key:zj": {"E"},  # the other department
    "key:hotline": {"F"},  # what the hotline filed
    "district_admin": ALL,
}


def numbers(world, letters):
    return {world["cases"][letter].number for letter in letters}


def test_anonymous_gets_401_on_every_endpoint(world):
    client = client_for(world, "anonymous")
    number = world["cases"]["A"].number
    for method, url in [
        ("get", "/api/v1/cases/"),
        ("get", f"/api/v1/cases/{number}/"),
        ("get", f"/api/v1/cases/{number}/events/"),
        ("post", f"/api/v1/cases/{number}/accept/"),
        ("post", "/api/v1/cases/"),
        ("get", "/api/v1/calls/"),
        ("get", "/api/v1/supervisions/"),
        ("get", "/api/v1/grids/subjects/"),
        ("get", "/api/v1/powers/items/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 401, (method, url, response.status_code)
        assert response["Content-Type"].startswith("application/problem+json")


def test_each_role_lists_and_reads_exactly_the_cases_of_its_containers(world):
    # One world for every role (seeding the demo per role would cost minutes).
    for who in sorted(VISIBLE):
        client = client_for(world, who)
        listed = client.get("/api/v1/cases/", {"page_size": 100})
        assert listed.status_code == 200, who
        rows = {row["number"] for row in listed.json()["results"]}
        assert rows == numbers(world, VISIBLE[who]), who
        for letter, case in world["cases"].items():
            expected = 200 if letter in VISIBLE[who] else 404
            detail = client.get(f"/api/v1/cases/{case.number}/")
            assert detail.status_code == expected, (who, letter)
            events = client.get(f"/api/v1/cases/{case.number}/events/")
            assert events.status_code == expected, (who, letter)


def test_a_transition_on_a_case_out_of_sight_is_404_and_without_the_role_403(world):
    b = world["cases"]["B"]  # accepted: dispatch is its next step
    allowed = ["hh_command", "hh_leader", "district_admin"]
    for who in [w for w in sorted(VISIBLE) if w not in allowed] + allowed[:1]:
        response = client_for(world, who).post(
            f"/api/v1/cases/{b.number}/dispatch/",
            {"target": "team", "team": world["team"].pk},
            format="json",
            HTTP_IF_MATCH=f'"{b.version}"',
        )
        if "B" not in VISIBLE[who]:
            assert response.status_code == 404, who
        elif who in allowed:
            assert response.status_code == 200, (who, response.json())
            assert response.json()["status"] == "dispatched"
        else:
            assert response.status_code == 403, who
            assert response["Content-Type"].startswith("application/problem+json")


def test_intake_is_for_field_and_street_roles_and_integration_keys(world):
    from tests.enforcement.api.conftest import HH_GRID_CELL, point_in

    lat, lng = point_in(HH_GRID_CELL)
    body = {"matter_type": world["cases"]["A"].matter_type.code, "description": "新问题"}
    body |= {"lat": lat, "lng": lng}
    expected = {
        "nobody": 403,
        "legal_reviewer": 403,
        "dept_liaison": 403,
        "key:cg": 403,
        "hh_grid": 201,
        "hh_officer": 201,
        "hh_command": 201,
        "key:hotline": 201,
    }
    for who, status in expected.items():
        source = {} if who.startswith("key:") else {"source": "grid_report"}
        response = client_for(world, who).post("/api/v1/cases/", body | source, format="json")
        assert response.status_code == status, (who, response.content)
    hotline = client_for(world, "key:hotline").post(
        "/api/v1/cases/", body | {"source": "patrol"}, format="json"
    )
    assert hotline.status_code == 400  # a key files as its own source only
    assert "source" in hotline.json()["errors"]


def test_a_department_sees_and_answers_only_its_own_calls(world):
    d_call = world["cases"]["D"].calls.get()
    e_call = world["cases"]["E"].calls.get()
    calls = {
        who: {row["id"] for row in client_for(world, who).get("/api/v1/calls/").json()["results"]}
        for who in ("key:cg", "key:zj", "dept_liaison", "hh_command", "hh_officer", "nobody")
    }
    assert calls == {
        "key:cg": {d_call.pk},
        "key:zj": {e_call.pk},
        "dept_liaison": {d_call.pk},
        "hh_command": {d_call.pk, e_call.pk},
        "hh_officer": set(),
        "nobody": set(),
    }
    url = f"/api/v1/calls/{d_call.pk}/report-in/"
    if_match = {"HTTP_IF_MATCH": f'"{d_call.version}"'}
    assert client_for(world, "key:zj").post(url, {}, format="json", **if_match).status_code == 404
    assert (
        client_for(world, "hh_command").post(url, {}, format="json", **if_match).status_code == 403
    )
    answered = client_for(world, "key:cg").post(url, {}, format="json", **if_match)
    assert answered.status_code == 200
    assert answered.json()["status"] == "reported_in"
    assert answered["ETag"] == f'"{d_call.version + 1}"'


def test_supervisions_follow_the_cases_and_the_department_answers_its_own(world):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from enforcement.timers import timers_fire_due

    d = world["cases"]["D"]
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        timers_fire_due(case=d)
    supervision = d.supervisions.filter(call__isnull=False).order_by("pk").first()
    assert supervision is not None
    seen = {
        who: {
            r["id"] for r in client_for(world, who).get("/api/v1/supervisions/").json()["results"]
        }
        for who in ("key:cg", "key:zj", "hh_officer", "hh_command")
    }
    assert supervision.pk in seen["key:cg"] and supervision.pk in seen["hh_command"]
    assert seen["key:zj"] == set() and seen["hh_officer"] == set()
    url = f"/api/v1/supervisions/{supervision.pk}/respond/"
    assert (
        client_for(world, "key:zj").post(url, {"response": "x"}, format="json").status_code == 404
    )
    answered = client_for(world, "key:cg").post(url, {"response": "已到场处置"}, format="json")
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "answered"
    again = client_for(world, "key:cg").post(url, {"response": "再次"}, format="json")
    assert again.status_code == 409


def test_reporter_phones_are_masked_and_each_reveal_is_recorded(world):
    a = world["cases"]["A"]
    listed = client_for(world, "hh_command").get(f"/api/v1/cases/{a.number}/").json()
    assert listed["reporter_phone"] == "138****5678"
    url = f"/api/v1/cases/{a.number}/reveal-phone/"
    assert client_for(world, "hh_grid").post(url).status_code == 403
    revealed = client_for(world, "hh_command").post(url)
    assert revealed.status_code == 200
    assert revealed.json() == {"reporter_phone": "13812345678"}
    assert a.events.filter(kind="phone_reveal", actor=world["users"]["hh_command"]).count() == 1


CASE_ACTIONS = {
    # action: (body, roles of the world allowed to take it)
    "accept": ({}, "street"),
    "reject": ({"reason": "不属于本街道"}, "street"),
    "dispatch": ({"target": "grid"}, "street"),
    "arrive": ({"lat": 32.0, "lng": 118.8}, "field"),
    "resolve": ({"result": "已劝离", "handling_mode": "service"}, "field"),
    "verify": ({}, "street"),
    "reopen": ({"reason": "复查未通过"}, "street"),
    "transfer": ({"to": "police", "reason": "涉嫌犯罪"}, "street"),
    "suspend": ({"reason": "等待鉴定", "approved_by": "hh_leader"}, "street"),
    "resume": ({}, "street"),
    "whistle": ({"power_items": ["X"]}, "street"),
}


def test_every_transition_is_404_out_of_sight_and_403_without_the_role(world):
    """For each transition endpoint: the other department's key does not see case A (404); the
    grid worker sees it (its cell) but may only take the field steps (403 for the others); an
    anonymous caller is 401. The allowed paths are covered by the workflow's own tests."""
    a = world["cases"]["A"]
    for action, (body, allowed) in CASE_ACTIONS.items():
        a.refresh_from_db()
        if_match = {"HTTP_IF_MATCH": f'"{a.version}"'}
        url = f"/api/v1/cases/{a.number}/{action}/"
        anonymous = client_for(world, "anonymous").post(url, body, format="json", **if_match)
        assert anonymous.status_code == 401, action
        hidden = client_for(world, "key:zj").post(url, body, format="json", **if_match)
        assert hidden.status_code == 404, action
        grid = client_for(world, "hh_grid").post(url, body, format="json", **if_match)
        if allowed == "street":
            assert grid.status_code == 403, action
        else:  # allowed to try: the workflow answers (A is dispatched: arrive, then resolve)
            assert grid.status_code == 200, (action, grid.content)
    for action in ("report-in", "accept", "complete", "return"):
        call = world["cases"]["D"].calls.get()
        url = f"/api/v1/calls/{call.pk}/{action}/"
        headers = {"HTTP_IF_MATCH": f'"{call.version}"'}
        assert client_for(world, "anonymous").post(url, {}, **headers).status_code == 401
        assert client_for(world, "key:zj").post(url, {}, **headers).status_code == 404
        assert client_for(world, "hh_command").post(url, {}, **headers).status_code == 403


def test_a_supervision_is_answered_only_by_whom_it_is_addressed_to(world):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from enforcement.timers import timers_fire_due

    a, d = world["cases"]["A"], world["cases"]["D"]
    for days in (40, 80):  # level 1, then unanswered: level 2
        with time_machine.travel(timezone.now() + timedelta(days=days), tick=False):
            timers_fire_due(case=a)
            timers_fire_due(case=d)
    # the escalation of the department's call supervision is the street leader's to answer
    escalated = d.supervisions.filter(call__isnull=False, level=2).first()
    assert escalated is not None
    url = f"/api/v1/supervisions/{escalated.pk}/respond/"
    assert client_for(world, "key:cg").post(url, {"response": "x"}).status_code == 403
    assert client_for(world, "hh_command").post(url, {"response": "x"}).status_code == 403
    answered = client_for(world, "hh_leader").post(url, {"response": "已协调"}, format="json")
    assert answered.status_code == 200
    # A's level-1 supervision goes to the team's leader (an officer user), not to the grid
    to_officer = a.supervisions.filter(level=1, addressee__isnull=False).order_by("pk").first()
    assert to_officer is not None
    url = f"/api/v1/supervisions/{to_officer.pk}/respond/"
    assert client_for(world, "hh_grid").post(url, {"response": "x"}).status_code == 403
    # its addressee passes the check; escalated meanwhile, it can no longer be answered
    leader = client_for(world, to_officer.addressee.username)
    assert leader.post(url, {"response": "已处理"}, format="json").status_code == 409


def test_a_work_order_filed_by_another_shows_nothing_of_its_case(world):
    from tests.enforcement.api.test_cases import intake_body

    f = world["cases"]["F"]  # filed by the hotline
    f.external_id = "GD-SECRET-1"
    f.save(update_fields=["external_id"])
    body = intake_body(world, source="hotline_12345", external_id="GD-SECRET-1")
    response = client_for(world, "fzm_grid").post("/api/v1/cases/", body, format="json")
    # a person does not file as the hotline (tests/enforcement/api/test_decisions.py)
    assert response.status_code == 400
    assert f.number not in response.content.decode()


def test_a_revealed_phone_is_never_kept_in_a_stored_response(world):
    from core.models import IdempotencyRecord

    a = world["cases"]["A"]
    client = client_for(world, "hh_command")
    url = f"/api/v1/cases/{a.number}/reveal-phone/"
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="reveal-1")
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="reveal-1")
    assert first.status_code == again.status_code == 200
    assert "Idempotent-Replayed" not in again
    assert not IdempotencyRecord.objects.exists()
    assert a.events.filter(kind="phone_reveal").count() == 2  # each reading recorded
