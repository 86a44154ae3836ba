"""Two-way assessment (双向考核): periods, versioned schemes, the leader's manual scores, ranked
results, publication frozen byte for byte (acceptance 3), appeals and the Excel export."""

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from assessment.choices import AppealDecision, PeriodKind, TargetKind
from assessment.kpis import ScopeKind
from assessment.models import Appeal, ManualScore, Period, Scheme, SchemeVersion, Snapshot
from assessment.schemes import (
    DEPARTMENT_SHARE_AGENCY,
    STREET_SHARE_AGENCY,
    STREET_SHARE_DEPARTMENT,
    AssessmentRefused,
    annual_score_combine,
    appeal_decide,
    appeal_file,
    manual_score_enter,
    period_for,
    period_publish,
    period_results_xlsx,
    results_compute,
    scheme_version_amend,
    scheme_version_for,
    scheme_version_new,
    snapshot_results,
)
from core.choices import Role
from enforcement import workflow
from enforcement.permissions import access_grant
from grids.models import Region
from powers.models import Department
from tests.enforcement.api.conftest import HH, HH_GRID_CELL, intake, other_cell
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOV_10 = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
DEC_2 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)  # November is over

WEIGHTS = {
    "dept_report_in_on_time": 40,
    "dept_completion": 30,
    "dept_supervisions": {"weight": 10, "deduct": 2},
}
MANUAL = {
    "shuzhi": {"name": "述职测评", "weight": 10},
    "guocheng": {"name": "过程评议", "weight": 10},
}


@dataclass(frozen=True)
class Figure:
    """What a provider returns for one KPI (the fields of assessment.kpis.KpiResult read)."""

    value: Decimal | None
    numerator: int | None = None
    denominator: int = 0
    too_few: bool = False
    denominator_ids: tuple = ()


def rate(numerator: int, denominator: int) -> Figure:
    return Figure(
        value=Decimal(numerator * 100) / denominator,
        numerator=numerator,
        denominator=denominator,
        denominator_ids=tuple(range(denominator)),
    )


TOO_FEW = Figure(value=None, numerator=1, denominator=2, too_few=True, denominator_ids=(1, 2))


def count(n: int) -> Figure:
    return Figure(value=Decimal(n), denominator=n, denominator_ids=tuple(range(n)))


def stub(figures: dict):
    """An indicator values provider reading ``figures[department code][kpi code]``."""
    codes = dict(Department.objects.values_list("pk", "code"))

    def provider(kpi_codes, *, start, end, scope, now=None):
        assert (start, end) == (date(2026, 11, 1), date(2026, 12, 1))
        assert scope.kind == ScopeKind.STREET_DEPARTMENT  # the assessing street's calls only
        street, department = scope.street_department
        assert street == Region.objects.get(code=HH).pk
        return {code: figures[codes[department]][code] for code in kpi_codes}

    return provider


@pytest.fixture
def clock():
    with time_machine.travel(DEC_2, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(world):
    users = world["users"]
    return {
        "leader": users["hh_leader"],
        "liaison": users["dept_liaison"],  # CG's
        "command": users["hh_command"],
        "nobody": world["nobody"],
    }


@pytest.fixture
def departments(world):
    return {d.code: d for d in Department.objects.filter(code__in=["CG", "ZJ", "SJ", "YJ"])}


@pytest.fixture
def scheme(world):
    return Scheme.objects.create(
        code="hh-departments",
        name="红花街道对区级部门考核",
        target_kind=TargetKind.DEPARTMENT,
        assessor=Region.objects.get(code=HH),
    )


@pytest.fixture
def v1(scheme, people):
    return scheme_version_new(
        scheme=scheme,
        indicators=WEIGHTS,
        manual_items=MANUAL,
        valid_from=date(2026, 1, 1),
        by=people["leader"],
    )


@pytest.fixture
def november(world):
    return period_for(PeriodKind.MONTH, date(2026, 11, 10))


# The four departments' figures (hand-computed in test_results_rank_with_ties_...).
FIGURES = {
    # 40 × 0.9 + 30 × 0.8 + (10 − 2 × 1) = 36 + 24 + 8 = 68; manual 9 + 8: 85
    "CG": {"dept_report_in_on_time": rate(9, 10), "dept_completion": rate(8, 10)}
    | {"dept_supervisions": count(1)},
    # completion too few: its 30 go to report-in (40 → 70): 70 × 0.8 + 10 = 66; manual 10 + 9: 85
    "ZJ": {"dept_report_in_on_time": rate(8, 10), "dept_completion": TOO_FEW}
    | {"dept_supervisions": count(0)},
    # 40 × 0.5 + 30 × 0.5 + max(0, 10 − 2 × 6) = 35; manual 5 + 5: 45
    "SJ": {"dept_report_in_on_time": rate(5, 10), "dept_completion": rate(5, 10)}
    | {"dept_supervisions": count(6)},
    # every rate too few: not ranked
    "YJ": {"dept_report_in_on_time": TOO_FEW, "dept_completion": TOO_FEW}
    | {"dept_supervisions": count(0)},
}
MANUAL_SCORES = {"CG": (9, 8), "ZJ": (10, 9), "SJ": (5, 5), "YJ": (7, 7)}


def score_all(november, scheme, departments, leader):
    for code, (shuzhi, guocheng) in MANUAL_SCORES.items():
        for item, score in (("shuzhi", shuzhi), ("guocheng", guocheng)):
            manual_score_enter(
                period=november,
                scheme=scheme,
                target=departments[code],
                item=item,
                score=score,
                reason=f"{code} {item} 依据季度述职",
                by=leader,
            )


@pytest.fixture
def published(clock, november, scheme, v1, departments, people):
    score_all(november, scheme, departments, people["leader"])
    return period_publish(
        period=november,
        scheme_version=v1,
        by=people["leader"],
        targets=departments.values(),
        provider=stub(FIGURES),
    )


def result_of(content: dict, department) -> dict:
    return next(r for r in content["results"] if r["target"]["id"] == department.pk)


# --- periods and schemes -------------------------------------------------------------------------


def test_period_for_makes_each_period_once_with_its_label(db):
    month = period_for(PeriodKind.MONTH, date(2026, 11, 30))
    quarter = period_for(PeriodKind.QUARTER, date(2026, 11, 30))
    year = period_for(PeriodKind.YEAR, date(2026, 11, 30))
    december = period_for(PeriodKind.MONTH, date(2026, 12, 31))

    assert (month.label, month.starts_on, month.ends_on) == (
        "2026年11月",
        date(2026, 11, 1),
        date(2026, 12, 1),
    )
    assert (quarter.label, quarter.starts_on, quarter.ends_on) == (
        "2026年第4季度",
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    assert (year.label, year.starts_on, year.ends_on) == (
        "2026年",
        date(2026, 1, 1),
        date(2027, 1, 1),
    )
    assert (december.starts_on, december.ends_on) == (date(2026, 12, 1), date(2027, 1, 1))
    assert period_for(PeriodKind.MONTH, date(2026, 11, 1)) == month
    assert period_for(PeriodKind.QUARTER, date(2026, 2, 3)).label == "2026年第1季度"
    assert Period.objects.count() == 5


def test_a_scheme_change_is_a_new_version_and_a_day_has_the_version_in_force(scheme, v1, people):
    v2 = scheme_version_new(
        scheme=scheme,
        indicators={"dept_report_in_on_time": 50, "dept_return": 30},
        manual_items={"shuzhi": {"name": "述职测评", "weight": "20"}},
        valid_from=date(2026, 12, 1),
        by=people["leader"],
    )

    assert (v1.version, v2.version) == (1, 2)
    assert v1.indicators == {
        "dept_report_in_on_time": "40.00",
        "dept_completion": "30.00",
        "dept_supervisions": {"weight": "10.00", "deduct": "2.00"},
    }
    assert v2.manual_items == {"shuzhi": {"name": "述职测评", "weight": "20.00"}}
    assert scheme_version_for(scheme, date(2025, 12, 31)) is None
    assert scheme_version_for(scheme, date(2026, 11, 30)) == v1
    assert scheme_version_for(scheme, date(2026, 12, 1)) == v2
    with pytest.raises(AssessmentRefused, match="on or after"):
        scheme_version_new(
            scheme=scheme,
            indicators=WEIGHTS,
            manual_items=MANUAL,
            valid_from=date(2026, 6, 1),
            by=people["leader"],
        )
    with pytest.raises(PermissionDenied):
        scheme_version_new(
            scheme=scheme,
            indicators=WEIGHTS,
            manual_items=MANUAL,
            valid_from=date(2027, 1, 1),
            by=people["command"],
        )
    assert SchemeVersion.objects.filter(scheme=scheme).count() == 2


@pytest.mark.parametrize(
    ("indicators", "message"),
    [
        ({"no_such_kpi": 80}, "no indicator"),
        ({"rework": 80}, "not computed for"),  # a case figure, not a department's
        ({"dept_report_in_time": 80}, "no fair scale"),  # a median in minutes
        ({"dept_calls": 80}, "no fair scale"),  # a count with no better direction
        ({"dept_supervisions": 80}, "points each one takes off"),
        ({"dept_report_in_on_time": 70}, "add up to 90.00 points"),
        ({"dept_report_in_on_time": 0, "dept_completion": 80}, "more than zero"),
    ],
)
def test_a_scheme_version_refuses_weights_that_are_not_a_fair_scheme(
    scheme, people, indicators, message
):
    with pytest.raises(AssessmentRefused, match=message):
        scheme_version_new(
            scheme=scheme,
            indicators=indicators,
            manual_items={"shuzhi": {"name": "述职测评", "weight": 20}},
            valid_from=date(2026, 1, 1),
            by=people["leader"],
        )
    assert not SchemeVersion.objects.exists()


def test_a_version_is_amended_until_a_snapshot_uses_it_and_never_after(published, v1, people):
    changed = {**WEIGHTS, "dept_report_in_on_time": 30, "dept_completion": 40}
    with pytest.raises(AssessmentRefused, match="make a new version"):
        scheme_version_amend(
            version=v1, indicators=changed, manual_items=MANUAL, by=people["leader"]
        )
    v1.refresh_from_db()
    assert v1.indicators["dept_report_in_on_time"] == "40.00"


def test_an_unused_version_is_amended_in_place(scheme, v1, people):
    changed = {**WEIGHTS, "dept_report_in_on_time": 30, "dept_completion": 40}

    amended = scheme_version_amend(
        version=v1, indicators=changed, manual_items=MANUAL, by=people["leader"]
    )

    assert (amended.version, amended.indicators["dept_completion"]) == (1, "40.00")


def test_the_streets_share_of_the_annual_score_is_30_for_a_department_60_for_an_agency(db):
    shares = (STREET_SHARE_DEPARTMENT, STREET_SHARE_AGENCY, DEPARTMENT_SHARE_AGENCY)
    assert shares == (Decimal("0.30"), Decimal("0.60"), Decimal("0.40"))
    # 90 × 0.7 + 80 × 0.3
    assert annual_score_combine(
        target_kind=TargetKind.DEPARTMENT, own_score=90, street_score=80
    ) == Decimal("87.00")
    # the department's 40 %, the street's 60 %: 90 × 0.4 + 80 × 0.6
    assert annual_score_combine(
        target_kind=TargetKind.AGENCY, own_score=90, street_score=80
    ) == Decimal("84.00")
    # the floor is a floor: a district may give the street more
    assert annual_score_combine(
        target_kind=TargetKind.DEPARTMENT, own_score=90, street_score=80, street_share="0.5"
    ) == Decimal("85.00")
    with pytest.raises(AssessmentRefused, match="at least 30%"):
        annual_score_combine(
            target_kind=TargetKind.DEPARTMENT, own_score=90, street_score=80, street_share="0.2"
        )
    with pytest.raises(AssessmentRefused, match="at least 60%"):
        annual_score_combine(
            target_kind=TargetKind.AGENCY, own_score=90, street_score=80, street_share="0.5"
        )
    with pytest.raises(AssessmentRefused):
        annual_score_combine(target_kind=TargetKind.TEAM, own_score=90, street_score=80)


# --- manual scores -------------------------------------------------------------------------------


def enter(november, scheme, target, by, *, item="shuzhi", score="8.5", reason="述职材料完整"):
    return manual_score_enter(
        period=november, scheme=scheme, target=target, item=item, score=score, reason=reason, by=by
    )


@pytest.mark.parametrize("who", ["command", "liaison", "nobody"])
def test_only_the_street_leader_enters_a_manual_score(
    november, scheme, v1, departments, people, who
):
    with pytest.raises(PermissionDenied):
        enter(november, scheme, departments["CG"], people[who])
    assert not ManualScore.objects.exists()


def test_a_manual_score_has_a_reason_stays_within_its_weight_and_can_be_corrected(
    november, scheme, v1, departments, people
):
    cg, leader = departments["CG"], people["leader"]
    for kwargs, message in (
        ({"reason": "  "}, "reason"),
        ({"score": "10.01"}, "from 0 to 10.00"),
        ({"score": "-1"}, "from 0 to 10.00"),
        ({"score": "8.555"}, "to the cent"),
        ({"score": "八"}, "not a number"),
        ({"item": "kaoqin"}, "no manual item kaoqin"),
    ):
        with pytest.raises(AssessmentRefused, match=message):
            enter(november, scheme, cg, leader, **kwargs)
    agency = Department.objects.get(code="HB")  # a dispatched agency, not in this scheme
    with pytest.raises(AssessmentRefused, match="not assessed by this scheme"):
        enter(november, scheme, agency, leader)

    first = enter(november, scheme, cg, leader, score="10")
    again = enter(november, scheme, cg, leader, score="10")
    corrected = enter(november, scheme, cg, leader, score="7", reason="述职未报数据")
    admin = UserFactory(username="root", is_superuser=True)
    by_admin = enter(november, scheme, cg, admin, item="guocheng", score="6")

    assert again.pk == first.pk and again.entered_at == first.entered_at
    assert ManualScore.objects.filter(item="shuzhi").count() == 1
    row = ManualScore.objects.get(item="shuzhi")
    assert (row.score, row.reason, row.target_id) == (Decimal("7.00"), "述职未报数据", cg.pk)
    assert corrected.pk == first.pk
    assert by_admin.entered_by == admin


def test_a_manual_score_is_refused_once_the_period_is_published(
    published, november, scheme, people
):
    cg = Department.objects.get(code="CG")
    with pytest.raises(AssessmentRefused, match="only through an appeal"):
        enter(november, scheme, cg, people["leader"], score="1")
    assert ManualScore.objects.get(target_id=cg.pk, item="shuzhi").score == Decimal("9.00")


# --- results -------------------------------------------------------------------------------------


def test_results_rank_with_ties_and_the_small_count_rule(
    clock, november, scheme, v1, departments, people
):
    score_all(november, scheme, departments, people["leader"])

    results = results_compute(november, v1, departments.values(), provider=stub(FIGURES))

    summary = [(r["target"]["name"], r["rank"], r["total"]) for r in results]
    cg, zj, sj, yj = (departments[c] for c in ("CG", "ZJ", "SJ", "YJ"))
    first_two = sorted([(cg.pk, cg.name), (zj.pk, zj.name)])
    assert summary == [
        (first_two[0][1], 1, Decimal("85.00")),
        (first_two[1][1], 1, Decimal("85.00")),
        (sj.name, 3, Decimal("45.00")),
        (yj.name, None, None),
    ]
    by_name = {r["target"]["name"]: r for r in results}
    zj_result = by_name[zj.name]["indicators"]
    assert zj_result["dept_report_in_on_time"]["weight_effective"] == Decimal("70.00")
    assert zj_result["dept_report_in_on_time"]["points"] == Decimal("56.00")
    assert zj_result["dept_completion"]["weight_effective"] == Decimal("0.00")
    assert zj_result["dept_completion"]["points"] is None
    assert by_name[cg.name]["indicators"]["dept_supervisions"]["points"] == Decimal("8.00")
    assert by_name[sj.name]["indicators"]["dept_supervisions"]["points"] == Decimal("0.00")
    assert (by_name[cg.name]["data_points"], by_name[cg.name]["manual_points"]) == (
        Decimal("68.00"),
        Decimal("17.00"),
    )
    assert by_name[yj.name]["ranked"] is False
    assert by_name[yj.name]["manual_points"] == Decimal("14.00")


def test_a_lower_is_better_rate_scores_what_is_left_of_it(clock, november, scheme, people):
    version = scheme_version_new(
        scheme=scheme,
        indicators={"dept_return": 100},
        manual_items={},
        valid_from=date(2026, 1, 1),
        by=people["leader"],
    )
    cg = Department.objects.get(code="CG")

    [result] = results_compute(
        november, version, [cg], provider=stub({"CG": {"dept_return": rate(1, 8)}})
    )

    # 12.5 % of the calls returned: 100 × (1 − 0.125)
    assert result["indicators"]["dept_return"]["points"] == Decimal("87.50")
    assert (result["total"], result["rank"]) == (Decimal("87.50"), 1)


# --- publication ---------------------------------------------------------------------------------


def test_the_published_content_is_canonical_json_with_its_hash(published, departments):
    data = bytes(published.content)
    content = json.loads(data)

    assert (
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
        == data
    )
    assert hashlib.sha256(data).hexdigest() == published.sha256
    assert (published.version, published.supersedes, content["version"]) == (1, None, 1)
    cg = result_of(content, departments["CG"])
    assert cg["total"] == "85.00" and cg["rank"] == 1
    report_in = cg["indicators"]["dept_report_in_on_time"]
    assert (report_in["numerator"], report_in["denominator"], report_in["ids_count"]) == (9, 10, 10)
    assert report_in["value"] == "90"
    assert cg["manual"]["shuzhi"] == {
        "entered_at": cg["manual"]["shuzhi"]["entered_at"],
        "entered_by": "hh_leader",
        "name": "述职测评",
        "reason": "CG shuzhi 依据季度述职",
        "score": "9.00",
        "weight": "10.00",
    }
    assert content["weights"]["indicators"]["dept_supervisions"] == {
        "deduct": "2.00",
        "weight": "10.00",
    }
    assert content["period"] == {
        "ends_on": "2026-12-01",
        "kind": "month",
        "label": "2026年11月",
        "starts_on": "2026-11-01",
    }
    Snapshot.objects.filter(pk=published.pk).update(content=data.replace(b"85.00", b"95.00"))
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        snapshot_results(Snapshot.objects.get(pk=published.pk))


def test_a_period_is_published_once_after_it_ends_with_every_manual_score(
    clock, november, scheme, v1, departments, people
):
    targets = list(departments.values())
    publish = {
        "period": november,
        "scheme_version": v1,
        "targets": targets,
        "provider": stub(FIGURES),
    }
    with pytest.raises(PermissionDenied):
        period_publish(**publish, by=people["command"])
    with pytest.raises(AssessmentRefused, match="Manual scores are missing"):
        period_publish(**publish, by=people["leader"])
    december = period_for(PeriodKind.MONTH, date(2026, 12, 2))
    with pytest.raises(AssessmentRefused, match="not over yet"):
        period_publish(**{**publish, "period": december}, by=people["leader"])
    score_all(november, scheme, departments, people["leader"])

    snapshot = period_publish(**publish, by=people["leader"])

    with pytest.raises(AssessmentRefused, match="published already"):
        period_publish(**publish, by=people["leader"])
    v2 = scheme_version_new(
        scheme=scheme,
        indicators=WEIGHTS,
        manual_items=MANUAL,
        valid_from=date(2026, 11, 1),
        by=people["leader"],
    )
    with pytest.raises(AssessmentRefused, match="published already"):
        period_publish(**{**publish, "scheme_version": v2}, by=people["leader"])
    assert list(Snapshot.objects.values_list("pk", flat=True)) == [snapshot.pk]


def test_a_published_period_reproduces_byte_for_byte_after_new_events_and_a_scheme_change(
    world, settings, scheme, people
):
    """Acceptance 3, against the real KPI registry: a call reported in on time in November, the
    month published in December; then a late call in November and a new version of the scheme
    change what a recomputation gives, never what was published."""
    settings.ASSESSMENT_MIN_CASES = 1
    cg = Department.objects.get(code="CG")
    command, liaison, leader = people["command"], people["liaison"], people["leader"]
    cell = other_cell(HH, HH_GRID_CELL)

    def whistled(description):
        case = workflow.case_accept(case=intake(cell, description), actor=command)
        workflow.case_whistle(case=case, actor=command, items=[world["items"]["cg"]])
        return case.calls.get()

    with time_machine.travel(NOV_10, tick=False) as traveller:
        version = scheme_version_new(
            scheme=scheme,
            indicators={"dept_report_in_on_time": 70, "dept_completion": 30},
            manual_items={},
            valid_from=date(2026, 1, 1),
            by=leader,
        )
        call = whistled("11月 占道经营")
        traveller.shift(timedelta(minutes=10))
        workflow.call_report_in(call=call, actor=liaison)
    november = period_for(PeriodKind.MONTH, NOV_10.date())
    with time_machine.travel(DEC_2, tick=False):
        snapshot = period_publish(period=november, scheme_version=version, by=leader, targets=[cg])
    published = bytes(snapshot.content)
    content = snapshot_results(snapshot)
    report_in = content["results"][0]["indicators"]["dept_report_in_on_time"]
    assert (report_in["numerator"], report_in["denominator"], report_in["value"]) == (1, 1, "100.0")
    assert content["results"][0]["total"] == "70.00"  # 70 × 100 % + 30 × 0 %

    # given: a call in November nobody reported in for, and a new version for November on
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        whistled("11月 补录 渣土")
    scheme_version_new(
        scheme=scheme,
        indicators={"dept_report_in_on_time": 20, "dept_completion": 80},
        manual_items={},
        valid_from=date(2026, 11, 1),
        by=leader,
    )

    with time_machine.travel(DEC_2 + timedelta(days=1), tick=False):
        recomputed = results_compute(november, version, [cg])
        stored = Snapshot.objects.get(pk=snapshot.pk)

        assert recomputed[0]["indicators"]["dept_report_in_on_time"]["value"] == Decimal("50.0")
        assert bytes(stored.content) == published
        assert hashlib.sha256(published).hexdigest() == stored.sha256
        assert snapshot_results(stored) == content


# --- appeals -------------------------------------------------------------------------------------


def test_an_upheld_appeal_makes_a_new_version_with_its_reason(published, departments, people):
    cg, sj = departments["CG"], departments["SJ"]
    before = bytes(published.content)
    appeal = appeal_file(
        snapshot=published,
        target=cg,
        item="guocheng",
        reason="过程评议漏计了11月联合整治",
        by=people["liaison"],
    )

    decided = appeal_decide(
        appeal=appeal,
        decision=AppealDecision.UPHELD,
        reason="核实联合整治记录,补计2分",
        new_score="10",
        by=people["leader"],
    )

    new = decided.result
    assert (new.version, new.supersedes, new.reason) == (2, published, "核实联合整治记录,补计2分")
    assert (decided.decision, decided.new_score, decided.decided_by) == (
        AppealDecision.UPHELD,
        Decimal("10.00"),
        people["leader"],
    )
    published.refresh_from_db()
    assert bytes(published.content) == before  # the first version untouched
    content = snapshot_results(new)
    cg_result = result_of(content, cg)
    assert cg_result["manual"]["guocheng"]["score"] == "10.00"
    assert cg_result["manual"]["guocheng"]["appeal"] == {"before": "8.00", "id": appeal.pk}
    assert (cg_result["total"], cg_result["rank"]) == ("87.00", 1)  # alone at the top now
    assert result_of(content, departments["ZJ"])["rank"] == 2
    assert result_of(content, sj)["rank"] == 3
    assert content["supersedes"] == published.sha256
    assert content["change"]["decision_reason"] == "核实联合整治记录,补计2分"
    assert content["change"]["appeal_reason"] == "过程评议漏计了11月联合整治"
    assert (content["change"]["before"], content["change"]["after"]) == ("8.00", "10.00")
    with pytest.raises(AssessmentRefused, match="decided already"):
        appeal_decide(
            appeal=appeal, decision=AppealDecision.REJECTED, reason="再议", by=people["leader"]
        )
    with pytest.raises(AssessmentRefused, match="superseded by version 2"):
        appeal_file(
            snapshot=published, target=cg, item="shuzhi", reason="述职", by=people["liaison"]
        )


def test_an_upheld_appeal_on_an_indicator_stays_within_its_weight(published, departments, people):
    cg = departments["CG"]
    appeal = appeal_file(
        snapshot=published,
        target=cg,
        item="dept_completion",
        reason="两次呼叫系重复派单",
        by=people["liaison"],
    )
    with pytest.raises(AssessmentRefused, match=r"from 0 to 30\.00"):
        appeal_decide(
            appeal=appeal,
            decision=AppealDecision.UPHELD,
            reason="重复派单",
            new_score="31",
            by=people["leader"],
        )
    with pytest.raises(AssessmentRefused, match="gives the new score"):
        appeal_decide(
            appeal=appeal, decision=AppealDecision.UPHELD, reason="重复派单", by=people["leader"]
        )

    decided = appeal_decide(
        appeal=appeal,
        decision=AppealDecision.UPHELD,
        reason="重复派单剔除后办结率100%",
        new_score="30",
        by=people["leader"],
    )

    cg_result = result_of(snapshot_results(decided.result), cg)
    assert cg_result["indicators"]["dept_completion"]["points"] == "30.00"
    assert (cg_result["data_points"], cg_result["total"]) == ("74.00", "91.00")


def test_a_rejected_appeal_is_recorded_and_makes_no_new_version(published, departments, people):
    appeal = appeal_file(
        snapshot=published,
        target=departments["CG"],
        item="shuzhi",
        reason="述职测评偏低",
        by=people["liaison"],
    )
    with pytest.raises(PermissionDenied):
        appeal_decide(
            appeal=appeal, decision=AppealDecision.REJECTED, reason="否", by=people["liaison"]
        )
    with pytest.raises(AssessmentRefused, match="changes no score"):
        appeal_decide(
            appeal=appeal,
            decision=AppealDecision.REJECTED,
            reason="否",
            new_score="10",
            by=people["leader"],
        )

    decided = appeal_decide(
        appeal=appeal,
        decision=AppealDecision.REJECTED,
        reason="测评由班子集体打分,程序无误",
        by=people["leader"],
    )

    assert (decided.decision, decided.decision_reason, decided.result, decided.new_score) == (
        AppealDecision.REJECTED,
        "测评由班子集体打分,程序无误",
        None,
        None,
    )
    assert list(Snapshot.objects.values_list("version", flat=True)) == [1]


def test_appeals_out_of_time_by_the_wrong_person_or_without_a_reason_are_refused(
    published, departments, people, clock
):
    cg, zj = departments["CG"], departments["ZJ"]
    zj_liaison = UserFactory(username="zj_liaison", roles=[Role.DEPARTMENT_LIAISON])
    access_grant(user=zj_liaison, container=zj)

    def file(target, by, *, item="shuzhi", reason="评分偏低"):
        return appeal_file(snapshot=published, target=target, item=item, reason=reason, by=by)

    for target, by in (
        (cg, people["leader"]),
        (cg, people["command"]),
        (cg, people["nobody"]),
        (cg, zj_liaison),  # a liaison, of another department
        (zj, people["liaison"]),
    ):
        with pytest.raises(PermissionDenied):
            file(target, by)
    with pytest.raises(AssessmentRefused, match="reason"):
        file(cg, people["liaison"], reason=" ")
    with pytest.raises(AssessmentRefused, match="no such point"):
        file(cg, people["liaison"], item="kaoqin")
    with pytest.raises(AssessmentRefused, match="too few cases"):
        file(zj, zj_liaison, item="dept_completion")

    clock.move_to(published.published_at + timedelta(days=7))
    on_the_last_moment = file(cg, people["liaison"])
    with pytest.raises(AssessmentRefused, match="under appeal already"):
        file(cg, people["liaison"])
    clock.move_to(published.published_at + timedelta(days=7, seconds=1))
    with pytest.raises(AssessmentRefused, match="open for 7 days"):
        file(zj, zj_liaison)

    assert list(Appeal.objects.values_list("pk", flat=True)) == [on_the_last_moment.pk]


# --- export --------------------------------------------------------------------------------------


def test_the_excel_export_opens_with_the_results_and_their_indicators(published, departments):
    workbook = load_workbook(io.BytesIO(period_results_xlsx(published)), read_only=True)

    assert workbook.sheetnames == ["Results", "Points", "Published"]
    results = list(workbook["Results"].values)
    assert results[0] == ("Rank", "Assessed", "Total", "Indicator points", "Manual points")
    names = {code: d.name for code, d in departments.items()}
    assert sorted(results[1:3]) == sorted(
        [(1, names["CG"], 85, 68, 17), (1, names["ZJ"], 85, 66, 19)]
    )
    assert results[3:] == [(3, names["SJ"], 45, 35, 10), (None, names["YJ"], None, None, 14)]
    points = list(workbook["Points"].values)
    assert len(points) == 1 + 4 * 5  # three indicators and two manual items each
    cg_report_in = next(
        row for row in points if row[0] == names["CG"] and row[2] == "dept_report_in_on_time"
    )
    assert cg_report_in == (
        names["CG"],
        "按时报到率",
        "dept_report_in_on_time",
        90,
        "%",
        9,
        10,
        10,
        None,
        40,
        40,
        36,
        None,
    )
    zj_completion = next(
        row for row in points if row[0] == names["ZJ"] and row[2] == "dept_completion"
    )
    assert zj_completion[8] == "yes" and zj_completion[11] is None
    cg_shuzhi = next(row for row in points if row[0] == names["CG"] and row[2] == "shuzhi")
    assert (cg_shuzhi[1], cg_shuzhi[11], cg_shuzhi[12]) == ("述职测评", 9, "CG shuzhi 依据季度述职")
    about = dict(workbook["Published"].values)
    assert about["SHA-256"] == published.sha256 and about["Period"] == "2026年11月"
