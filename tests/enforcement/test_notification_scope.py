"""Timer notifications reach only those who may see the case (issue 12, item 4): each
role-addressed warning, supervision and escalation goes to the holders of the role whose
containers (street or district, grid cell, team, called department) show them the case, by the
rule the case selectors use; a supervision's answer warning goes to whom the supervision is
addressed. Two streets of one district, two cells in the first, two departments, people of every
role in each; a frozen clock."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from core.choices import Role
from core.models import Notification
from enforcement import workflow
from enforcement.choices import CaseSource, DispatchTarget, HandlingMode, TimerStage
from enforcement.models import MatterType, Officer, Supervision, Team, Timer
from enforcement.permissions import CaseAudience, access_grant, case_role_users
from enforcement.selectors import case_get, case_list
from enforcement.services import case_intake
from enforcement.timers import timers_fire_due
from grids.permissions import REGION_PERMISSION
from tests.factories.grids import (
    LAT,
    LNG,
    CommunityFactory,
    ComprehensiveCellFactory,
    DistrictFactory,
    StreetFactory,
)
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday of an ordinary working week (as in test_timers.py).
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
# The default policies (enforcement 0008): a stage of 30 minutes is warned at 80 %, a
# supervision is answered within a working day, warned at 80 % of it.
WARN, DUE = timedelta(minutes=24), timedelta(minutes=30)
# Level 1 opened Monday 10:30 is due at the end of Tuesday, warned at 80 % (Tuesday 16:30).
LEVEL_1_ANSWER_WARNED = datetime(2026, 11, 17, 17, 0, tzinfo=SHANGHAI)
LEVEL_2_OPENED = datetime(2026, 11, 18, 0, 0, 1, tzinfo=SHANGHAI)
# Level 2 opened Wednesday 00:00:01 is due at the end of Thursday, warned on Thursday 14:24.
LEVEL_2_ANSWER_WARNED = datetime(2026, 11, 19, 20, 0, tzinfo=SHANGHAI)
LEVEL_3_OPENED = datetime(2026, 11, 20, 0, 0, 1, tzinfo=SHANGHAI)

# Three comprehensive cells far apart: A and B in 红花街道, F in 夫子庙街道.
CELL_A, CELL_B, CELL_F = (LAT, LNG), (LAT + 0.1, LNG), (LAT + 0.2, LNG)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    """Who holds which container:

    | user | role | granted |
    | --- | --- | --- |
    | hh_command / fzm_command | command centre | their street |
    | cell_b_command | command centre | cell B only |
    | retired_command | command centre | 红花街道, but inactive |
    | hh_leader | street leader | 红花街道 through a group |
    | fzm_leader | street leader | 夫子庙街道 |
    | district | district administrator | the district |
    | root | district administrator | nothing, a superuser |
    | ungranted_district | district administrator | nothing |
    | grid_a / grid_b / fzm_grid | grid worker | their cell |
    | hh_officer1 / hh_officer2 / fzm_officer | officer | their team |
    | hh_officer_new | officer of 红花中队 | nothing yet |
    | cg_liaison / sj_liaison | department liaison | their department |
    """
    district = DistrictFactory()
    hh = StreetFactory(parent=district, code="320104010", name="红花街道")
    fzm = StreetFactory(parent=district, code="320104003", name="夫子庙街道")
    cells = {
        "A": ComprehensiveCellFactory(community=CommunityFactory(parent=hh), lat=CELL_A[0]),
        "B": ComprehensiveCellFactory(community=CommunityFactory(parent=hh), lat=CELL_B[0]),
        "F": ComprehensiveCellFactory(community=CommunityFactory(parent=fzm), lat=CELL_F[0]),
    }
    departments = {
        "CG": DepartmentFactory(code="CG", name="秦淮区城市管理局"),
        "SJ": DepartmentFactory(code="SJ", name="秦淮区市场监督管理局"),
    }
    items = {code: PowerItemFactory(department=d) for code, d in departments.items()}
    teams = {
        "hh": Team.objects.create(street=hh, name="红花中队", areas=[]),
        "fzm": Team.objects.create(street=fzm, name="夫子庙中队", areas=[]),
    }
    users = {}

    def person(username, role, *containers, **fields):
        user = UserFactory(username=username, roles=[role], **fields)
        for container in containers:
            access_grant(user=user, container=container)
        users[username] = user
        return user

    person("hh_command", Role.COMMAND_CENTRE, hh)
    person("fzm_command", Role.COMMAND_CENTRE, fzm)
    person("cell_b_command", Role.COMMAND_CENTRE, cells["B"])
    person("retired_command", Role.COMMAND_CENTRE, hh, is_active=False)
    person("hh_leader", Role.STREET_LEADER)
    leaders = Group.objects.create(name="红花街道领导班子")
    assign_perm(REGION_PERMISSION, leaders, hh)
    users["hh_leader"].groups.add(leaders)
    person("fzm_leader", Role.STREET_LEADER, fzm)
    person("district", Role.DISTRICT_ADMIN, district)
    person("root", Role.DISTRICT_ADMIN, is_superuser=True, is_staff=True)
    person("ungranted_district", Role.DISTRICT_ADMIN)
    person("grid_a", Role.GRID_WORKER, cells["A"])
    person("grid_b", Role.GRID_WORKER, cells["B"])
    person("fzm_grid", Role.GRID_WORKER, cells["F"])
    person("cg_liaison", Role.DEPARTMENT_LIAISON, departments["CG"])
    person("sj_liaison", Role.DEPARTMENT_LIAISON, departments["SJ"])
    officers = {}
    for n, (username, team, granted) in enumerate(
        [
            ("hh_officer1", teams["hh"], True),
            ("hh_officer2", teams["hh"], True),
            ("hh_officer_new", teams["hh"], False),
            ("fzm_officer", teams["fzm"], True),
        ]
    ):
        user = person(username, Role.OFFICER, *([team] if granted else []))
        officers[username] = Officer.objects.create(
            user=user,
            team=team,
            certificate_number=f"3201040000{n}",
            certificate_expires_on=date(2028, 1, 1),
        )
    return {
        "users": users,
        "cells": cells,
        "items": items,
        "teams": teams,
        "officers": officers,
        "matter": MatterType.objects.create(
            code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
        ),
    }


def intake(world, cell: str, description: str):
    lat, lng = {"A": CELL_A, "B": CELL_B, "F": CELL_F}[cell]
    case = case_intake(
        source=CaseSource.PATROL,
        matter_type=world["matter"],
        description=description,
        lat=lat,
        lng=lng,
    ).case
    assert case.cell == world["cells"][cell]
    return case


def command_of(world, case):
    street = "hh" if case.street.code == "320104010" else "fzm"
    return world["users"][f"{street}_command"]


def accepted(world, cell: str, description: str):
    case = intake(world, cell, description)
    return workflow.case_accept(case=case, actor=command_of(world, case))


def mark() -> int:
    """The last notification so far: what a step sends comes after it."""
    return Notification.objects.aggregate(last=Max("pk"))["last"] or 0


def told(case, kind: str, *, after: int = 0) -> list[str]:
    """Who got a notification of ``kind`` about ``case`` after ``after``, one entry each
    (a user told twice shows twice)."""
    return sorted(
        Notification.objects.filter(kind=kind, reference=case.number, pk__gt=after).values_list(
            "recipient__username", flat=True
        )
    )


def assert_each_sees(case, usernames) -> None:
    """The case selector the API uses shows ``case`` to each of ``usernames`` (read afresh:
    a user object keeps its scope)."""
    for user in get_user_model().objects.filter(username__in=usernames):
        assert case_get(user=user, number=case.number).pk == case.pk, user.username


def sweep_at(clock, when) -> None:
    clock.move_to(when)
    timers_fire_due()


def test_the_command_centre_hears_only_of_the_cases_of_its_street_or_cell(world, clock):
    # given a new case in each cell, nobody accepting them
    in_a, in_b, in_f = (intake(world, cell, f"网格{cell}") for cell in "ABF")

    # when the accept clock reaches its warning, then its deadline
    sweep_at(clock, MONDAY_10 + WARN)
    sweep_at(clock, MONDAY_10 + DUE)

    # then the street's command centre hears of each, the cell's of its own cell's only, the
    # other street's and the retired (inactive) one of none
    for kind in ("timer_warning", "supervision"):
        assert told(in_a, kind) == ["hh_command"]
        assert told(in_b, kind) == ["cell_b_command", "hh_command"]
        assert told(in_f, kind) == ["fzm_command"]
    assert_each_sees(in_a, ["hh_command"])
    assert_each_sees(in_b, ["cell_b_command", "hh_command"])
    assert_each_sees(in_f, ["fzm_command"])


def test_level_2_goes_to_the_leader_of_the_street_and_level_3_to_the_district(world, clock):
    # given a case in each street whose level-1 supervision nobody answers
    hh_case, fzm_case = intake(world, "A", "红花"), intake(world, "F", "夫子庙")
    sweep_at(clock, MONDAY_10 + DUE)
    before_2 = mark()

    # when it escalates to level 2
    sweep_at(clock, LEVEL_2_OPENED)

    # then the leader of each case's street hears of it: 红花's through its group's right
    assert told(hh_case, "supervision", after=before_2) == ["hh_leader"]
    assert told(fzm_case, "supervision", after=before_2) == ["fzm_leader"]
    assert_each_sees(hh_case, ["hh_leader"])
    assert_each_sees(fzm_case, ["fzm_leader"])

    # when it escalates to level 3
    before_3 = mark()
    sweep_at(clock, LEVEL_3_OPENED)

    # then the district hears of both: its administrator granted the district, and the
    # superuser of the role (who sees every case); the district administrator without a right
    # hears of none
    assert Supervision.objects.filter(level=3).count() == 2
    for case in (hh_case, fzm_case):
        assert told(case, "supervision", after=before_3) == ["district", "root"]
        assert_each_sees(case, ["district", "root"])


def test_a_supervisions_answer_warning_goes_to_whom_the_supervision_is_addressed(world, clock):
    # given a case in each street whose supervisions nobody answers
    hh_case, fzm_case = intake(world, "A", "红花"), intake(world, "F", "夫子庙")
    sweep_at(clock, MONDAY_10 + DUE)

    # when the answer of level 1 (addressed to the command centre) is nearly due
    before_1 = mark()
    sweep_at(clock, LEVEL_1_ANSWER_WARNED)

    # then the command centre of the case's street is warned
    assert told(hh_case, "timer_warning", after=before_1) == ["hh_command"]
    assert told(fzm_case, "timer_warning", after=before_1) == ["fzm_command"]

    # when level 2 (addressed to the street leader) opens and its answer is nearly due
    sweep_at(clock, LEVEL_2_OPENED)
    before_2 = mark()
    sweep_at(clock, LEVEL_2_ANSWER_WARNED)

    # then the leader it is addressed to is warned, not the command centres
    (answer,) = Timer.objects.filter(
        case=hh_case, stage=TimerStage.SUPERVISION_RESPONSE, supervision__level=2
    )
    assert answer.warned_at is not None
    assert answer.supervision.addressee_label == "红花街道领导"
    assert told(hh_case, "timer_warning", after=before_2) == ["hh_leader"]
    assert told(fzm_case, "timer_warning", after=before_2) == ["fzm_leader"]
    assert_each_sees(hh_case, ["hh_command", "hh_leader"])
    assert_each_sees(fzm_case, ["fzm_command", "fzm_leader"])


def test_the_grid_hears_only_of_its_own_cells_cases(world, clock):
    # given a case of each street sent to the grid for self-handling (自处置)
    hh_case = workflow.case_dispatch(
        case=accepted(world, "A", "网格A 自处置"),
        actor=world["users"]["hh_command"],
        target=DispatchTarget.GRID,
    )
    fzm_case = workflow.case_dispatch(
        case=accepted(world, "F", "网格F 自处置"),
        actor=world["users"]["fzm_command"],
        target=DispatchTarget.GRID,
    )

    # when nobody arrives on scene
    sweep_at(clock, MONDAY_10 + WARN)
    sweep_at(clock, MONDAY_10 + DUE)

    # then the grid workers of the case's cell hear of it, those of the other cell and of the
    # other street do not
    for kind in ("timer_warning", "supervision"):
        assert told(hh_case, kind) == ["grid_a"]
        assert told(fzm_case, kind) == ["fzm_grid"]
    assert_each_sees(hh_case, ["grid_a"])
    assert_each_sees(fzm_case, ["fzm_grid"])


def test_a_team_and_an_officer_hear_only_of_their_own_cases(world, clock):
    # given a case sent to 红花中队 (which has no leader), one to an officer of it, and one
    # to the other street's team
    command, teams, officers = world["users"]["hh_command"], world["teams"], world["officers"]
    to_team = workflow.case_dispatch(
        case=accepted(world, "A", "中队"),
        actor=command,
        target=DispatchTarget.TEAM,
        team=teams["hh"],
    )
    to_officer = workflow.case_dispatch(
        case=accepted(world, "B", "队员"),
        actor=command,
        target=DispatchTarget.TEAM,
        team=teams["hh"],
        officer=officers["hh_officer2"],
    )
    fzm_case = workflow.case_dispatch(
        case=accepted(world, "F", "夫子庙中队"),
        actor=world["users"]["fzm_command"],
        target=DispatchTarget.TEAM,
        team=teams["fzm"],
    )

    # when nobody arrives on scene
    sweep_at(clock, MONDAY_10 + WARN)
    sweep_at(clock, MONDAY_10 + DUE)

    # then the team's officers who see its cases hear of the team's case (the one not granted
    # the team yet sees none of them), the officer of their own case, the other team of its own
    for kind in ("timer_warning", "supervision"):
        assert told(to_team, kind) == ["hh_officer1", "hh_officer2"]
        assert told(to_officer, kind) == ["hh_officer2"]
        assert told(fzm_case, kind) == ["fzm_officer"]
    assert_each_sees(to_team, ["hh_officer1", "hh_officer2"])
    assert_each_sees(to_officer, ["hh_officer2"])
    assert_each_sees(fzm_case, ["fzm_officer"])
    assert not case_list(user=world["users"]["hh_officer_new"]).filter(pk=to_team.pk).exists()


def test_a_call_is_heard_of_by_its_own_departments_liaisons_only(world, clock):
    # given a case whistled to the city management bureau, one to market supervision, and one
    # to both
    command, items = world["users"]["hh_command"], world["items"]
    to_cg, to_sj, to_both = (
        workflow.case_whistle(case=accepted(world, "A", description), actor=command, items=called)
        for description, called in [
            ("城管", [items["CG"]]),
            ("市场监管", [items["SJ"]]),
            ("联合", [items["CG"], items["SJ"]]),
        ]
    )

    # when nobody reports in (报到)
    sweep_at(clock, MONDAY_10 + WARN)
    sweep_at(clock, MONDAY_10 + DUE)

    # then each call's warning and supervision reach its own department's liaison, once: the
    # case called to both tells each liaison of its own call only
    for kind in ("timer_warning", "supervision"):
        assert told(to_cg, kind) == ["cg_liaison"]
        assert told(to_sj, kind) == ["sj_liaison"]
        assert told(to_both, kind) == ["cg_liaison", "sj_liaison"]

    # when nobody answers the supervisions of the calls either
    before_answer = mark()
    sweep_at(clock, LEVEL_1_ANSWER_WARNED)

    # then the answer warnings go the same way
    assert told(to_cg, "timer_warning", after=before_answer) == ["cg_liaison"]
    assert told(to_sj, "timer_warning", after=before_answer) == ["sj_liaison"]
    assert told(to_both, "timer_warning", after=before_answer) == ["cg_liaison", "sj_liaison"]
    assert_each_sees(to_cg, ["cg_liaison"])
    assert_each_sees(to_sj, ["sj_liaison"])
    assert_each_sees(to_both, ["cg_liaison", "sj_liaison"])


def test_a_case_of_one_street_notifies_no_one_of_the_other(world, clock):
    # given a case of 红花街道 that nobody handles
    case = intake(world, "A", "红花 无人处理")

    # when its whole clock runs: warned, supervised, escalated twice, each answer warned
    for when in (
        MONDAY_10 + WARN,
        MONDAY_10 + DUE,
        LEVEL_1_ANSWER_WARNED,
        LEVEL_2_OPENED,
        LEVEL_2_ANSWER_WARNED,
        LEVEL_3_OPENED,
    ):
        sweep_at(clock, when)

    # then it told the street's command centre and leader and the district, each of whom sees
    # the case, and nobody of 夫子庙街道
    assert Supervision.objects.filter(case=case).count() == 3
    everyone = sorted(
        Notification.objects.filter(reference=case.number).values_list(
            "recipient__username", "kind"
        )
    )
    assert everyone == [
        ("district", "supervision"),
        ("hh_command", "case_reported"),
        ("hh_command", "supervision"),
        ("hh_command", "timer_warning"),
        ("hh_command", "timer_warning"),
        ("hh_leader", "supervision"),
        ("hh_leader", "timer_warning"),
        ("root", "supervision"),
    ]
    assert_each_sees(case, {username for username, _kind in everyone})
    fzm_people = get_user_model().objects.filter(username__startswith="fzm_")
    assert sorted(fzm_people.values_list("username", flat=True)) == [
        "fzm_command",
        "fzm_grid",
        "fzm_leader",
        "fzm_officer",
    ]
    assert not Notification.objects.filter(recipient__in=fzm_people).exists()


def test_case_role_users_names_exactly_the_role_holders_the_case_selector_shows_it_to(world):
    # given cases in each cell, one on a team and called to a department
    command, items = world["users"]["hh_command"], world["items"]
    on_team = workflow.case_dispatch(
        case=accepted(world, "A", "中队"),
        actor=command,
        target=DispatchTarget.TEAM,
        team=world["teams"]["hh"],
    )
    called = workflow.case_whistle(
        case=accepted(world, "B", "城管"), actor=command, items=[items["CG"]]
    )
    cases = [on_team, called, intake(world, "B", "网格B"), intake(world, "F", "夫子庙")]
    people = list(get_user_model().objects.filter(is_active=True).prefetch_related("groups"))

    # when each role's users are asked for each case, through one audience for all
    audience = CaseAudience(cases)
    for case in cases:
        for role in Role.values:
            found = [
                user.username for user in case_role_users(case=case, role=role, audience=audience)
            ]

            # then they are exactly the active holders of the role the case selector shows
            # the case to (none of these cases has a reporter or an officer of its own)
            expected = sorted(
                user.username
                for user in people
                if role in {group.name for group in user.groups.all()}
                and case_list(user=get_user_model().objects.get(pk=user.pk))
                .filter(pk=case.pk)
                .exists()
            )
            assert sorted(found) == expected, (case.description, role)
    # a department's liaisons only when the case was called to that department
    cg, sj = items["CG"].department_id, items["SJ"].department_id
    role = Role.DEPARTMENT_LIAISON
    assert [u.username for u in case_role_users(case=called, role=role, department_id=cg)] == [
        "cg_liaison"
    ]
    assert case_role_users(case=called, role=role, department_id=sj) == []


def test_the_sweepers_reads_of_who_may_see_do_not_grow_with_the_timers(world, clock):
    # given three cases over the three cells, and then six, each past its accept deadline
    def queries_of_a_sweep(count: int) -> int:
        for n in range(count):
            intake(world, "ABF"[n % 3], f"第{count}批 {n}")
        clock.shift(DUE)
        with CaptureQueriesContext(connection) as queries:
            report = timers_fire_due()
        assert report.fired == count
        return len(queries)

    queries_of_a_sweep(1)  # what a process reads once (policies, content types) is read now

    # when each batch is swept, then it takes as many statements for six as for three
    assert queries_of_a_sweep(3) == queries_of_a_sweep(6)
