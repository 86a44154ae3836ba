"""The 433 evaluation of property companies (assessment.property; seed 000): the weighted total,
incomplete rows without one, the residents' mean and count, who enters which part, a closed
round frozen, the talk list (约谈), a company's history and the survey import's refusals."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessment.choices import ResidentsSource
from assessment.models import PropertyRound, PropertyScore, PropertyService, ResidentAnswer
from assessment.property import (
    PROPERTY_WEIGHTS,
    PropertyRoundClosed,
    property_company_history,
    property_demo_seed,
    property_round_close,
    property_round_open,
    property_round_unscored,
    property_score_enter,
    property_talk_list,
    property_total,
    resident_answer,
    residents_score_update,
    residents_survey_import,
)
from core.demo import DemoReport
from grids.choices import SubjectKind
from grids.models import Region, Subject
from grids.services import subject_save
from tests.enforcement.api.conftest import FZM, HH, HH_GRID_CELL, point_in
from tests.factories.grids import SubjectInputFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 8, 9, 30, tzinfo=SHANGHAI)
OTHER_COMMUNITY_CELL = "320104010002001"  # 卡子门社区: not hh_grid's community
FZM_CELL = "320104003001001"


def subject(kind: str, name: str, cell_code: str) -> Subject:
    lat, lng = point_in(cell_code)
    return subject_save(data=SubjectInputFactory(kind=kind, name=name, lat=lat, lng=lng))


def company(name: str, cell_code: str = HH_GRID_CELL) -> Subject:
    return subject(SubjectKind.PROPERTY_COMPANY, name, cell_code)


def compound(name: str, cell_code: str, serves: Subject | None = None, **dates) -> Subject:
    made = subject(SubjectKind.RESIDENTIAL_COMPOUND, name, cell_code)
    if serves is not None:
        PropertyService.objects.create(
            company=serves,
            compound=made,
            starts_on=dates.get("starts_on", date(2024, 1, 1)),
            ends_on=dates.get("ends_on"),
        )
    return made


def open_round(world, title="2026年第一季度", starts_on=date(2026, 1, 1), **kwargs):
    return property_round_open(
        street=Region.objects.get(code=HH),
        title=title,
        starts_on=starts_on,
        ends_on=kwargs.get("ends_on", date(starts_on.year, starts_on.month + 2, 28)),
        threshold=kwargs.get("threshold", Decimal(60)),
        by=kwargs.get("by", world["users"]["hh_leader"]),
    )


def score_of(round_, made: Subject) -> PropertyScore:
    return PropertyScore.objects.get(round=round_, compound=made)


def complete(world, score, street, community, answers) -> PropertyScore:
    """All three parts: the leader the street's, the command centre the community's, the form."""
    property_score_enter(score, street_score=street, by=world["users"]["hh_leader"])
    property_score_enter(score, community_score=community, by=world["users"]["hh_command"])
    for value in answers:
        resident_answer(score.round, score.compound, value)
    return PropertyScore.objects.get(pk=score.pk)


# ---------------------------------------------------------------- the figures


def test_the_total_weighs_the_street_40_the_community_30_the_residents_30(world):
    weights = PROPERTY_WEIGHTS
    assert weights == {
        "street": Decimal("0.40"),
        "community": Decimal("0.30"),
        "residents": Decimal("0.30"),
    }
    served = compound("石门坎小区", HH_GRID_CELL, company("安居物业"))
    score = score_of(open_round(world).round, served)

    score = complete(world, score, "85", "78.5", [90, 80, 75])

    # residents: (90 + 80 + 75) / 3 = 81.666… → 81.67
    # total: 0.4 × 85 + 0.3 × 78.5 + 0.3 × 81.67 = 34 + 23.55 + 24.501 = 82.051 → 82.05
    assert score.residents_score == Decimal("81.67")
    assert score.total == Decimal("82.05")
    assert property_total(score) == Decimal("82.05")


def test_a_row_missing_a_part_has_no_total(world):
    served = compound("卡子门花园", HH_GRID_CELL, company("锦程物业"))
    score = score_of(open_round(world).round, served)

    score = property_score_enter(score, street_score=90, by=world["users"]["hh_leader"])
    score = property_score_enter(score, community_score=80, by=world["users"]["hh_command"])

    assert score.residents_score is None
    assert score.total is None and property_total(score) is None  # shown as incomplete
    resident_answer(score.round, served, 70)
    # 0.4 × 90 + 0.3 × 80 + 0.3 × 70 = 36 + 24 + 21 = 81
    assert score_of(score.round, served).total == Decimal("81.00")


def test_the_residents_score_is_the_mean_of_the_answers_with_their_count(world):
    served = compound("海福巷公寓", HH_GRID_CELL, company("恒泰物业"))
    round_ = open_round(world).round

    for value in (70, 75, 81):
        resident_answer(round_, served, value)

    score = score_of(round_, served)
    assert score.residents_score == Decimal("75.33")  # 226 / 3 = 75.333…
    assert score.residents_answers == 3
    assert score.residents_source == ResidentsSource.FORM
    assert residents_score_update(score).residents_score == Decimal("75.33")  # recomputed: same
    with pytest.raises(ValidationError, match="whole number from 0 to 100"):
        resident_answer(round_, served, 101)
    with pytest.raises(ValidationError, match="whole number from 0 to 100"):
        resident_answer(round_, served, "80.5")
    assert ResidentAnswer.objects.filter(round=round_).count() == 3


# ---------------------------------------------------------------- opening a round


def test_a_round_scores_the_streets_served_compounds_with_their_company_on_its_start(world):
    old, new = company("旧物业"), company("新物业")
    changed = compound("换物业小区", HH_GRID_CELL, old, ends_on=date(2025, 12, 31))
    PropertyService.objects.create(company=new, compound=changed, starts_on=date(2026, 1, 1))
    unserved = compound("无物业小区", HH_GRID_CELL)
    compound("夫子庙小区", FZM_CELL, new)  # another street

    opened = open_round(world)

    assert [(s.compound.name, s.company.name) for s in opened.scores] == [("换物业小区", "新物业")]
    assert unserved in opened.unserved
    assert set(property_round_unscored(opened.round)) == set(opened.unserved)
    assert all(c.kind == SubjectKind.RESIDENTIAL_COMPOUND for c in opened.unserved)


@pytest.mark.parametrize("who", ["hh_grid", "hh_officer", "fzm_leader", "fzm_command", "nobody"])
def test_only_the_streets_leader_or_command_centre_opens_its_round(world, who):
    user = world["nobody"] if who == "nobody" else world["users"][who]
    with pytest.raises(PermissionDenied):
        open_round(world, by=user)
    assert PropertyRound.objects.count() == 0
    assert open_round(world, by=world["users"]["hh_command"]).round.street.code == HH


def test_a_round_with_bad_dates_or_threshold_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        open_round(world, ends_on=date(2025, 12, 1), threshold=120)
    assert refused.value.message_dict == {
        "ends_on": ["A round cannot end before it starts."],
        "threshold": ["Threshold: a score is from 0 to 100, not 120."],
    }


# ---------------------------------------------------------------- who enters what


@pytest.fixture
def two_compounds(world):
    """A compound in hh_grid's community and one in another community of the same street."""
    served_by = company("安居物业")
    mine = compound("网格员社区小区", HH_GRID_CELL, served_by)
    other = compound("别的社区小区", OTHER_COMMUNITY_CELL, served_by)
    round_ = open_round(world).round
    return score_of(round_, mine), score_of(round_, other)


@pytest.mark.parametrize(
    ("who", "street", "community"),
    [
        ("hh_leader", True, False),  # the street's voice only
        ("hh_command", True, True),  # the community's transcribed from its written score
        ("hh_grid", False, True),  # their own community only
        ("hh_officer", False, False),
        ("fzm_leader", False, False),  # another street
        ("fzm_command", False, False),
        ("nobody", False, False),
    ],
)
def test_who_may_enter_which_part(world, two_compounds, who, street, community):
    user = world["nobody"] if who == "nobody" else world["users"][who]
    mine, _ = two_compounds

    for part, allowed in (("street_score", street), ("community_score", community)):
        if allowed:
            entered = property_score_enter(mine, **{part: 80}, by=user)
            assert getattr(entered, part) == Decimal("80.00")
        else:
            with pytest.raises(PermissionDenied):
                property_score_enter(mine, **{part: 80}, by=user)
    assert score_of(mine.round, mine.compound).street_score == (Decimal(80) if street else None)


def test_a_grid_worker_scores_only_their_own_communitys_compounds(world, two_compounds):
    mine, other = two_compounds
    grid = world["users"]["hh_grid"]

    property_score_enter(mine, community_score=70, by=grid)

    with pytest.raises(PermissionDenied):
        property_score_enter(other, community_score=70, by=grid)
    assert score_of(other.round, other.compound).community_score is None


def test_each_entry_is_recorded_with_who_and_when_and_a_repeat_changes_nothing(
    world, two_compounds
):
    mine, _ = two_compounds
    leader, command = world["users"]["hh_leader"], world["users"]["hh_command"]

    with time_machine.travel(NOW, tick=False):
        property_score_enter(mine, street_score="85.5", by=leader)
        property_score_enter(mine, street_score="85.50", by=leader)  # the same value
        property_score_enter(mine, street_score=88, community_score=75, by=command)

    note = score_of(mine.round, mine.compound).note
    assert note.splitlines() == [
        f"2026-04-08T09:30:00+08:00 street None → 85.50 by hh_leader (#{leader.pk})",
        f"2026-04-08T09:30:00+08:00 street 85.50 → 88.00 by hh_command (#{command.pk})",
        f"2026-04-08T09:30:00+08:00 community None → 75.00 by hh_command (#{command.pk})"
        " (transcribed from the community's written score)",
    ]


def test_a_score_out_of_range_or_with_three_decimals_is_refused(world, two_compounds):
    mine, _ = two_compounds
    leader = world["users"]["hh_leader"]
    for bad, message in (
        (-1, "a score is from 0 to 100"),
        ("100.01", "a score is from 0 to 100"),
        ("80.555", "at most two decimals"),
        ("eighty", "is not a score"),
        (True, "is not a score"),
    ):
        with pytest.raises(ValidationError, match=message):
            property_score_enter(mine, street_score=bad, by=leader)
    assert score_of(mine.round, mine.compound).street_score is None


# ---------------------------------------------------------------- closing


def test_a_closed_round_refuses_every_entry(world, two_compounds):
    mine, _ = two_compounds
    leader, command = world["users"]["hh_leader"], world["users"]["hh_command"]
    complete(world, mine, 80, 80, [80])
    with pytest.raises(PermissionDenied):
        property_round_close(mine.round, by=command)  # the leader's decision

    closed = property_round_close(mine.round, by=leader)

    assert closed.closed_at is not None
    with pytest.raises(PropertyRoundClosed):
        property_score_enter(mine, street_score=90, by=leader)
    with pytest.raises(PropertyRoundClosed):
        resident_answer(closed, mine.compound, 90)
    with pytest.raises(PropertyRoundClosed):
        residents_survey_import(closed, [(mine.compound_id, [90])], by=command)
    frozen = score_of(closed, mine.compound)
    assert (frozen.street_score, frozen.total, frozen.residents_answers) == (
        Decimal(80),
        Decimal(80),
        1,
    )
    assert property_round_close(closed, by=leader).closed_at == closed.closed_at  # idempotent


# ---------------------------------------------------------------- talks and history


def test_a_company_with_any_compound_below_the_threshold_is_called_in(world):
    hengtai, anju, jincheng = company("恒泰物业"), company("安居物业"), company("锦程物业")
    sunshine = compound("阳光里", HH_GRID_CELL, hengtai)
    new_village = compound("海福新村", HH_GRID_CELL, hengtai)
    good = compound("石门坎小区", HH_GRID_CELL, anju)
    unfinished = compound("卡子门花园", HH_GRID_CELL, jincheng)
    round_ = open_round(world).round
    complete(world, score_of(round_, sunshine), 50, 55, [40, 50])  # 20 + 16.5 + 13.5 = 50
    complete(world, score_of(round_, new_village), 75, 70, [70])  # 30 + 21 + 21 = 72
    complete(world, score_of(round_, good), 60, 60, [60])  # 60: not below
    property_score_enter(
        score_of(round_, unfinished), street_score=10, by=world["users"]["hh_leader"]
    )  # incomplete: no total, not counted

    talks = property_talk_list(round_)

    # 恒泰's mean (50 + 72) / 2 = 61 is above 60, but 阳光里 is below: called in.
    assert [(t.company.name, [s.compound.name for s in t.below], t.mean) for t in talks] == [
        ("恒泰物业", ["阳光里"], Decimal("61.00"))
    ]
    assert sorted(s.compound.name for s in talks[0].scores) == ["海福新村", "阳光里"]


def test_a_companys_history_gives_each_rounds_compounds_and_mean(world):
    hengtai = company("恒泰物业")
    sunshine = compound("阳光里", HH_GRID_CELL, hengtai)
    new_village = compound("海福新村", HH_GRID_CELL, hengtai)
    first = open_round(world, "2026年第一季度", date(2026, 1, 1)).round
    complete(world, score_of(first, sunshine), 50, 55, [40, 50])  # 50.00
    complete(world, score_of(first, new_village), 75, 70, [70])  # 72.00
    property_round_close(first, by=world["users"]["hh_leader"])
    second = open_round(world, "2026年第二季度", date(2026, 4, 1)).round
    complete(world, score_of(second, sunshine), 70, 70, [70])  # 70.00
    property_score_enter(
        score_of(second, new_village), street_score=80, by=world["users"]["hh_leader"]
    )

    history = property_company_history(hengtai)

    assert [
        (h.round.title, [(s.compound.name, s.total) for s in h.scores], h.mean, h.incomplete)
        for h in history
    ] == [
        ("2026年第一季度", [("海福新村", Decimal(72)), ("阳光里", Decimal(50))], Decimal(61), 0),
        ("2026年第二季度", [("海福新村", None), ("阳光里", Decimal(70))], Decimal(70), 1),
    ]
    assert history[0].round.closed_at is not None and history[1].round.closed_at is None


# ---------------------------------------------------------------- the survey


def test_the_survey_import_refuses_bad_rows_with_their_number_and_writes_nothing(world):
    anju = company("安居物业")
    good = compound("石门坎小区", HH_GRID_CELL, anju)
    twin_a = compound("同名小区", HH_GRID_CELL, anju)
    compound("同名小区", OTHER_COMMUNITY_CELL, anju)
    formed = compound("表单小区", HH_GRID_CELL, anju)
    unserved = compound("无物业小区", HH_GRID_CELL)
    round_ = open_round(world).round
    resident_answer(round_, formed, 80)

    with pytest.raises(ValidationError) as refused:
        residents_survey_import(
            round_,
            [
                ("石门坎小区", [90, 80]),  # good
                ("不存在小区", 80),
                (unserved.pk, 70),
                ("同名小区", 70),
                (good.pk, [90, 101]),
                (good.pk, 80.5),
                (good.pk, []),
                ("表单小区", 60),
                ("只有名字",),
            ],
            by=world["users"]["hh_command"],
        )

    assert refused.value.messages == [
        "Row 2: no compound named 不存在小区 is evaluated in this round.",
        f"Row 3: compound #{unserved.pk} is not evaluated in this round.",
        "Row 4: several compounds are named 同名小区: give its id.",
        "Row 5: 101 is not an answer (a whole number from 0 to 100).",
        "Row 6: 80.5 is not an answer (a whole number from 0 to 100).",
        "Row 7: no answers.",
        "Row 8: the residents of 表单小区 answered the form already.",
        "Row 9: expected (compound, score or answers).",
    ]
    assert ResidentAnswer.objects.filter(round=round_).exclude(compound=formed).count() == 0
    assert score_of(round_, good).residents_score is None
    assert twin_a.pk  # the twin is reachable by its id


def test_a_survey_gives_the_mean_and_count_and_importing_it_again_changes_nothing(world):
    anju = company("安居物业")
    good = compound("石门坎小区", HH_GRID_CELL, anju)
    other = compound("卡子门花园", OTHER_COMMUNITY_CELL, anju)
    round_ = open_round(world).round
    rows = [("石门坎小区", [90, 80]), (str(good.pk), 85), (other.pk, 60)]
    command = world["users"]["hh_command"]

    residents_survey_import(round_, rows, by=command)
    residents_survey_import(round_, rows, by=command)

    score = score_of(round_, good)
    assert (score.residents_score, score.residents_answers, score.residents_source) == (
        Decimal("85.00"),  # (90 + 80 + 85) / 3
        3,
        ResidentsSource.SURVEY,
    )
    assert len([line for line in score.note.splitlines() if "survey" in line]) == 1
    assert ResidentAnswer.objects.filter(round=round_).count() == 4
    with pytest.raises(ValidationError, match="comes from the imported survey"):
        resident_answer(round_, good, 70)
    with pytest.raises(PermissionDenied):
        residents_survey_import(round_, rows, by=world["users"]["fzm_command"])


# ---------------------------------------------------------------- the demo


def test_the_demo_makes_a_closed_round_with_yangguangli_called_in(world):
    report = DemoReport()

    property_demo_seed(report)
    property_demo_seed(report)  # idempotent

    round_ = PropertyRound.objects.get(street__code=HH)
    assert round_.closed_at is not None
    assert report.created["433 rounds"] == 1 and report.created["property companies"] == 3
    scores = PropertyScore.objects.filter(round=round_)
    assert scores.count() == 5 and not scores.filter(total=None).exists()
    talks = property_talk_list(round_)
    assert [(t.company.name, [s.compound.name for s in t.below]) for t in talks] == [
        ("秦淮恒泰物业管理有限公司", ["阳光里"])
    ]
    # 阳光里: residents (40+35+55+50+45+30+60+42) / 8 = 44.625 → 44.63;
    # 0.4 × 50 + 0.3 × 55 + 0.3 × 44.63 = 20 + 16.5 + 13.389 = 49.889 → 49.89
    assert talks[0].below[0].total == Decimal("49.89")
    assert talks[0].mean == Decimal("60.08")  # with 海福新村's 70.26: above 60, called in still
    assert not PropertyRound.objects.filter(street__code=FZM).exists()
