"""The assessment pages: who opens each (a permission matrix), the street's own scheme only, a
department's figures from the assessing street's calls only, the drill-down through the desk's
list (live, and as published after later events), manual scores with their history, query
budgets that do not grow with the cases, and the leader → liaison → leader flow over HTTP."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessment.choices import AppealDecision, PeriodKind, TargetKind
from assessment.drill import drill_url, drill_url_published
from assessment.kpis import Scope, kpis_compute, kpis_compute_many
from assessment.models import Appeal, ManualScore, Scheme, Snapshot
from assessment.schemes import (
    AssessmentRefused,
    manual_score_enter,
    period_for,
    period_publish,
    results_compute,
    scheme_targets,
    scheme_version_new,
    snapshot_results,
    target_scope,
)
from enforcement import workflow
from enforcement.models import Case, DepartmentCall
from grids.models import Region
from powers.models import Department, PowerItem
from tests.enforcement.api.conftest import FZM, HH, intake, other_cell

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEIGHTS = {  # a rate and a count of supervisions; with the manual item, 100 points
    "dept_report_in_on_time": 60,
    "dept_supervisions": {"weight": 20, "deduct": 5},
}
MANUAL = {"guocheng": {"name": "过程评议", "weight": 20}}
JAN_2 = datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI)  # December 2026 is over


def signed_in(world, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(world["users"][who])
    return client


@pytest.fixture
def hh(world):
    return Region.objects.get(code=HH)


@pytest.fixture
def scheme(world, hh):
    scheme = Scheme.objects.create(
        code="hh-departments",
        name="红花街道对区级部门考核",
        target_kind=TargetKind.DEPARTMENT,
        assessor=hh,
    )
    scheme_version_new(
        scheme=scheme,
        indicators=WEIGHTS,
        manual_items=MANUAL,
        valid_from=date(2026, 1, 1),
        by=world["users"]["hh_leader"],
    )
    return scheme


@pytest.fixture
def december(world):
    return period_for(PeriodKind.MONTH, date(2026, 12, 1))


def whistle(street: str, description: str, code: str, world) -> Case:
    case = intake(other_cell(street, ""), description)
    actor = world["users"]["hh_command" if street == HH else "fzm_command"]
    case = workflow.case_accept(case=case, actor=actor)
    item = PowerItem.objects.filter(department__code=code).order_by("code").first()
    return workflow.case_whistle(case=case, actor=actor, items=[item])


def period_url(scheme, period) -> str:
    return f"/assessment/{scheme.code}/{period.kind}/{period.starts_on.isoformat()}/"


def score_every_target(scheme, period, leader, score="15") -> None:
    for target in scheme_targets(scheme):
        manual_score_enter(
            period=period,
            scheme=scheme,
            target=target,
            item="guocheng",
            score=score,
            reason="联席会议按时到会",
            by=leader,
        )


def publish(scheme, period, leader) -> Snapshot:
    score_every_target(scheme, period, leader)
    return period_publish(period=period, scheme_version=scheme.versions.get(), by=leader)


# --- who assesses --------------------------------------------------------------------------------


def test_only_the_leader_of_the_assessing_street_scores(world, scheme, december):
    cg = Department.objects.get(code="CG")
    for who in ("fzm_leader", "hh_command", "dept_liaison"):
        with pytest.raises(PermissionDenied):
            manual_score_enter(
                period=december,
                scheme=scheme,
                target=cg,
                item="guocheng",
                score=10,
                reason="x",
                by=world["users"][who],
            )
    manual_score_enter(
        period=december,
        scheme=scheme,
        target=cg,
        item="guocheng",
        score=10,
        reason="first",
        by=world["users"]["hh_leader"],
    )


def test_a_department_is_assessed_on_the_assessing_streets_calls_only(world, scheme, hh):
    # given CG called from 红花 (the world's D) and twice more from 夫子庙
    whistle(FZM, "夫子庙 城管 1", "CG", world)
    whistle(FZM, "夫子庙 城管 2", "CG", world)
    cg = Department.objects.get(code="CG")
    start, end = date(2026, 12, 1), date(2027, 1, 1)

    everywhere = kpis_compute(["dept_calls"], start=start, end=end, scope=cg)["dept_calls"]
    street = kpis_compute(
        ["dept_calls"], start=start, end=end, scope=Scope.of_department_in(hh.pk, cg.pk)
    )["dept_calls"]

    assert everywhere.value == 3
    assert street.value == 1
    assert street.denominator_ids == tuple(
        DepartmentCall.objects.filter(case=world["cases"]["D"]).values_list("pk", flat=True)
    )
    assert target_scope(scheme, cg) == Scope.of_department_in(hh.pk, cg.pk)


def test_results_of_every_target_at_once_equal_each_computed_alone(world, scheme, december):
    whistle(HH, "红花 住建 2", "ZJ", world)
    targets = scheme_targets(scheme)
    scopes = [target_scope(scheme, t) for t in targets]
    codes = ["dept_calls", "dept_report_in_on_time", "dept_return", "dept_supervisions"]
    period = {"start": date(2026, 12, 1), "end": date(2027, 1, 1)}

    with CaptureQueriesContext(connection) as queries:
        many = kpis_compute_many(codes, **period, scopes=scopes, within=scheme.assessor)

    assert len(queries) == 6
    for scope in scopes:
        alone = kpis_compute(codes, **period, scope=scope)
        for code in codes:
            assert (many[scope][code].value, many[scope][code].denominator_ids) == (
                alone[code].value,
                alone[code].denominator_ids,
            ), (scope, code)
    rows = results_compute(december, scheme.versions.get(), targets)
    assert {r["target"]["name"] for r in rows} == {t.name for t in targets}


def test_the_targets_are_the_departments_serving_the_street(world, scheme, hh):
    fzm_only = Department.objects.get(code="CG")
    fzm_only.streets.set([Region.objects.get(code=FZM)])
    national = Department.objects.get(code="ZJ")
    national.streets.clear()  # serving every street

    codes = {d.code for d in scheme_targets(scheme)}

    assert "CG" not in codes and "ZJ" in codes
    with pytest.raises(AssessmentRefused):
        manual_score_enter(
            period=period_for(PeriodKind.MONTH, date(2026, 12, 1)),
            scheme=scheme,
            target=fzm_only,
            item="guocheng",
            score=10,
            reason="x",
            by=world["users"]["hh_leader"],
        )


def test_a_manual_score_entered_again_keeps_the_one_it_replaced(world, scheme, december):
    cg, leader = Department.objects.get(code="CG"), world["users"]["hh_leader"]
    for score, reason in (("12", "初评"), ("15", "复核后调整")):
        manual_score_enter(
            period=december,
            scheme=scheme,
            target=cg,
            item="guocheng",
            score=score,
            reason=reason,
            by=leader,
        )

    entered = ManualScore.objects.get(target_id=cg.pk)
    assert (str(entered.score), entered.reason) == ("15.00", "复核后调整")
    assert [(h["score"], h["reason"], h["by"]) for h in entered.history] == [
        ("12.00", "初评", "hh_leader")
    ]


# --- the pages' permission matrix ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("hh_leader", 200),
        ("fzm_leader", 403),  # another street's leader: not their scheme
        ("hh_command", 403),
        ("hh_officer", 403),
        ("dept_liaison", 403),
        ("district_admin", 200),  # the demo's district administrator is a superuser
    ],
)
def test_who_opens_a_period(world, scheme, december, who, status):
    assert signed_in(world, who).get(period_url(scheme, december)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("hh_leader", 200),
        ("fzm_leader", 403),  # assesses nothing yet
        ("hh_command", 403),
        ("hh_grid", 403),
        ("dept_liaison", 302),  # to the department's page
    ],
)
def test_who_opens_the_overview(world, scheme, who, status):
    assert signed_in(world, who).get("/assessment/").status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("dept_liaison", 200),
        ("hh_leader", 403),
        ("hh_command", 403),
        ("hh_officer", 403),
    ],
)
def test_who_opens_the_departments_page(world, who, status):
    assert signed_in(world, who).get("/assessment/department/").status_code == status


def test_unknown_schemes_periods_and_versions_are_404(world, scheme, december):
    client = signed_in(world, "hh_leader")
    assert client.get("/assessment/nope/month/2026-12-01/").status_code == 404
    assert client.get(f"/assessment/{scheme.code}/week/2026-12-01/").status_code == 404
    assert client.get(f"/assessment/{scheme.code}/month/2026-12-02/").status_code == 404
    assert client.get(f"/assessment/{scheme.code}/month/2026-13-01/").status_code == 404
    assert client.get(period_url(scheme, december) + "?version=7").status_code == 404


def test_writes_are_the_assessors_alone(world, scheme, december):
    cg = Department.objects.get(code="CG")
    form = {"target": cg.pk, "item": "guocheng", "score": "10", "reason": "x"}
    url = period_url(scheme, december)
    for who in ("fzm_leader", "dept_liaison", "hh_command"):
        client = signed_in(world, who)
        assert client.post(url + "manual/", form).status_code == 403
        assert client.post(url + "publish/", {"confirm": "on"}).status_code == 403
    assert not ManualScore.objects.exists()
    assert signed_in(world, "hh_leader").post(url + "manual/", form).status_code == 302
    assert ManualScore.objects.get().reason == "x"


def test_a_period_not_over_is_not_published(world, scheme, december):
    client = signed_in(world, "hh_leader")
    score_every_target(scheme, december, world["users"]["hh_leader"])

    response = client.post(
        period_url(scheme, december) + "publish/", {"confirm": "on"}, follow=True
    )

    assert not Snapshot.objects.exists()
    assert "2026年12月 尚未结束。" in response.content.decode()  # in the page's Chinese


# --- the drill-down ------------------------------------------------------------------------------


def desk_numbers(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return {c.number for c in response.context["page"].rows}


def test_a_figure_links_to_its_cases_live_and_as_published(world, scheme, december, hh):
    cg = Department.objects.get(code="CG")
    scope = Scope.of_department_in(hh.pk, cg.pk)
    d = world["cases"]["D"]
    with time_machine.travel(JAN_2, tick=False):
        leader = signed_in(world, "hh_leader")
        live = drill_url(
            code="dept_calls",
            part="numerator",
            scope=scope,
            start=december.starts_on,
            end=december.ends_on,
        )
        assert desk_numbers(leader, live) == {d.number}
        snapshot = publish(scheme, december, world["users"]["hh_leader"])
    # a later call to CG from 红花, dated in December, changes the live figure only
    with time_machine.travel(datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        b = whistle(HH, "红花 城管 迟到", "CG", world)
    with time_machine.travel(JAN_2, tick=False):
        published = drill_url_published(
            snapshot=snapshot, target_id=cg.pk, code="dept_report_in_on_time", part="denominator"
        )
        assert desk_numbers(leader, live) == {d.number, b.number}
        assert desk_numbers(leader, published) == {d.number}
        # the same list through the API, and a command centre of another street sees none
        api = leader.get(
            "/api/v1/cases/",
            {
                "drill": f"live,dept_calls,numerator,"
                f"street_department,{hh.pk}:{cg.pk},"
                "2026-12-01,2027-01-01"
            },
        )
        assert {c["number"] for c in api.json()["results"]} == {d.number, b.number}
        assert desk_numbers(signed_in(world, "fzm_command"), live) == set()
        page = leader.get(period_url(scheme, december)).content.decode()
        assert published.replace("&", "&amp;") in page


@pytest.mark.parametrize(
    "drill",
    [
        "nope,1",
        "live",
        "live,on_time_closure,numerator,street,1,2026-12-01",
        "live,unknown_kpi,numerator,street,1,2026-12-01,2027-01-01",
        "live,on_time_closure,half,street,1,2026-12-01,2027-01-01",
        "live,on_time_closure,numerator,street,x,2026-12-01,2027-01-01",
        "live,on_time_closure,numerator,street,1,2027-01-01,2026-12-01",
        "live,dept_calls,numerator,street_department,1,2026-12-01,2027-01-01",
        "snapshot,999,1,dept_calls,numerator",
        "snapshot,x,1,dept_calls,numerator",
    ],
)
def test_a_broken_drill_link_is_a_400_saying_so(world, drill):
    client = signed_in(world, "hh_command")
    response = client.get("/desk/", {"queue": "all", "drill": drill})
    assert response.status_code == 400
    assert "link" in response.content.decode()
    assert client.get("/api/v1/cases/", {"drill": drill}).status_code == 400


# --- query budgets -------------------------------------------------------------------------------


@pytest.mark.parametrize("more", [0, 8])
def test_the_period_page_costs_the_same_queries_whatever_the_cases(world, scheme, december, more):
    for i in range(more):
        whistle(HH, f"红花 城管 {i}", "CG" if i % 2 else "ZJ", world)
    client = signed_in(world, "hh_leader")
    client.get(period_url(scheme, december))  # warm the session and the caches

    with CaptureQueriesContext(connection) as queries:
        assert client.get(period_url(scheme, december)).status_code == 200

    assert len(queries) <= 24, [q["sql"][:120] for q in queries]


@pytest.mark.parametrize("more", [0, 8])
def test_published_pages_cost_the_same_queries_whatever_the_cases(world, scheme, december, more):
    for i in range(more):
        whistle(HH, f"红花 城管 {i}", "CG", world)
    with time_machine.travel(JAN_2, tick=False):
        publish(scheme, december, world["users"]["hh_leader"])
        leader, liaison = signed_in(world, "hh_leader"), signed_in(world, "dept_liaison")
        for client, url, budget in (
            (leader, period_url(scheme, december), 16),
            (liaison, "/assessment/department/", 14),
            (leader, "/assessment/", 12),
        ):
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            assert len(queries) <= budget, (url, [q["sql"][:120] for q in queries])


# --- the flow over HTTP --------------------------------------------------------------------------


def test_the_leader_publishes_the_liaison_appeals_and_the_leader_upholds(world, scheme, december):
    cg = Department.objects.get(code="CG")
    with time_machine.travel(JAN_2, tick=False):
        leader, liaison = signed_in(world, "hh_leader"), signed_in(world, "dept_liaison")
        for target in scheme_targets(scheme):
            form = {"target": target.pk, "item": "guocheng", "score": "12", "reason": "过程评议"}
            assert leader.post(period_url(scheme, december) + "manual/", form).status_code == 302
        assert leader.post(period_url(scheme, december) + "publish/", {}).status_code == 302
        assert not Snapshot.objects.exists()  # the box not ticked
        leader.post(period_url(scheme, december) + "publish/", {"confirm": "on"})
        (v1,) = Snapshot.objects.all()

        page = liaison.get("/assessment/department/").content.decode()
        assert f'data-snapshot="{v1.pk}"' in page and "12.00" in page
        assert (
            leader.post(
                f"/assessment/published/{v1.pk}/appeal/{cg.pk}/",
                {"item": "guocheng", "reason": "x"},
            ).status_code
            == 403
        )
        liaison.post(
            f"/assessment/published/{v1.pk}/appeal/{cg.pk}/",
            {"item": "guocheng", "reason": "已报备防汛值守"},
        )
        appeal = Appeal.objects.get()
        assert (appeal.filed_by.username, appeal.item) == ("dept_liaison", "guocheng")
        assert (
            liaison.post(
                f"/assessment/appeals/{appeal.pk}/decide/",
                {"decision": "upheld", "new_score": "18", "reason": "x"},
            ).status_code
            == 403
        )

        leader.post(
            f"/assessment/appeals/{appeal.pk}/decide/",
            {"decision": "upheld", "new_score": "18", "reason": "核实属实"},
        )

        appeal.refresh_from_db()
        assert appeal.decision == AppealDecision.UPHELD
        v2 = appeal.result
        assert (v2.version, v2.reason, v2.supersedes_id) == (2, "核实属实", v1.pk)
        content = snapshot_results(v2)
        cg_result = next(r for r in content["results"] if r["target"]["id"] == cg.pk)
        assert cg_result["manual"]["guocheng"]["score"] == "18.00"
        assert bytes(Snapshot.objects.get(pk=v1.pk).content) == bytes(v1.content)
        assert "核实属实" in liaison.get("/assessment/department/").content.decode()
        export = leader.get(f"/assessment/published/{v2.pk}.xlsx")
        assert export.status_code == 200 and export.content[:2] == b"PK"
        assert liaison.get(f"/assessment/published/{v2.pk}.xlsx").status_code == 403
