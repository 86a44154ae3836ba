"""A street's list changes only by published versions; adjustments pass the approval chain."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from powers.choices import AdjustmentStatus, StepStatus
from powers.models import CatalogueVersion
from powers.selectors import catalogue_diff, catalogue_in_force, street_holds_power
from powers.services import (
    adjustment_approve,
    adjustment_reject,
    adjustment_submit,
    catalogue_publish,
)
from tests.factories.powers import PowerItemFactory
from tests.powers.people import chain_people

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)
D = date(2027, 1, 1)


@pytest.fixture
def items():
    return [PowerItemFactory() for _ in range(10)]


@pytest.fixture
def v1(street, items):
    return catalogue_publish(
        street=street,
        items=items[:6],
        effective_on=date(2024, 1, 1),
        notice_number="秦政发〔2023〕88号",
        published_on=date(2023, 12, 20),
    )


@pytest.fixture
def people(street):
    return chain_people(street)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 11, 21), tick=False):
        yield


def submit(street, items, actor, **overrides):
    values = {
        "street": street,
        "title": "调整红花街道赋权清单",
        "justification": "三个事项连续两年未使用；生态环境、市场监管领域需求突出。",
        "adds": items[6:8],
        "revokes": items[0:3],
        "effective_on": D,
        "actor": actor,
    }
    return adjustment_submit(**{**values, **overrides})


def test_an_adjustment_passes_three_steps_and_publishes_version_2_effective_on_d(
    street, items, v1, people
):
    # given a request adding 2 items and revoking 3, drafted by the command centre
    request = submit(street, items, people.command)
    assert [(s.level, s.status, s.deadline) for s in request.steps.all()] == [
        ("street", StepStatus.PENDING, TODAY + timedelta(days=15)),
        ("district", StepStatus.WAITING, None),
        ("city", StepStatus.WAITING, None),
    ]

    # when the street's leader, the district and (recorded in the district) the city approve
    adjustment_approve(request=request, actor=people.leader, comment="同意", level="street")
    adjustment_approve(request=request, actor=people.district, comment="同意上报", level="district")
    request = adjustment_approve(
        request=request, actor=people.city, comment="批准", notice_number="宁政复〔2026〕12号"
    )

    # then version 2 is published, effective on D
    assert request.status == AdjustmentStatus.PUBLISHED
    v2 = request.published_version
    assert (v2.number, v2.effective_on, v2.notice_number, v2.published_on) == (
        2,
        D,
        "宁政复〔2026〕12号",
        TODAY,
    )
    assert [s.status for s in request.steps.all()] == [StepStatus.APPROVED] * 3
    assert [s.decided_by for s in request.steps.all()] == [
        people.leader,
        people.district,
        people.city,
    ]

    # and the street holds the added items from D, and the revoked ones until the day before
    day_before = D - timedelta(days=1)
    for added in items[6:8]:
        assert (
            street_holds_power(street, added, on=day_before),
            street_holds_power(street, added, on=D),
        ) == (False, True)
    for revoked in items[0:3]:
        assert (
            street_holds_power(street, revoked, on=day_before),
            street_holds_power(street, revoked, on=D),
        ) == (True, False)
    assert street_holds_power(street, items[4], on=D) is True
    assert catalogue_in_force(street=street, on=day_before) == v1

    # and version 1 is unchanged, the diff lists the 5 changes
    v1.refresh_from_db()
    assert sorted(v1.entries.values_list("item__code", flat=True)) == sorted(
        i.code for i in items[:6]
    )
    diff = catalogue_diff(v1, v2)
    assert [i.code for i in diff.added] == [i.code for i in items[6:8]]
    assert [i.code for i in diff.removed] == [i.code for i in items[0:3]]
    assert len(diff) == 5


def test_a_rejected_step_ends_the_request_with_no_new_version(street, items, v1, people):
    request = submit(street, items, people.command)
    adjustment_approve(request=request, actor=people.leader, level="street")

    request = adjustment_reject(
        request=request, actor=people.district, comment="生态环境事项需市级统筹", level="district"
    )

    assert request.status == AdjustmentStatus.REJECTED
    assert [s.status for s in request.steps.all()] == [
        StepStatus.APPROVED,
        StepStatus.REJECTED,
        StepStatus.SKIPPED,
    ]
    assert request.steps.get(level="district").comment == "生态环境事项需市级统筹"
    assert CatalogueVersion.objects.filter(street=street).count() == 1
    with pytest.raises(ValidationError):
        adjustment_approve(request=request, actor=people.city, notice_number="x")


def test_a_step_cannot_be_decided_by_another_level(street, items, v1, people):
    request = submit(street, items, people.command)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        adjustment_approve(request=request, actor=people.leader, level="city")
    assert error.value.messages == ["The Street step decides now, not city."]


def test_the_final_approval_needs_a_notice_number_and_a_rejection_a_reason(
    street, items, v1, people
):
    request = submit(street, items, people.command)
    adjustment_approve(request=request, actor=people.leader)
    adjustment_approve(request=request, actor=people.district)
    with pytest.raises(ValidationError) as error:
        adjustment_approve(request=request, actor=people.city)
    assert list(error.value.message_dict) == ["notice_number"]
    with pytest.raises(ValidationError) as error:
        adjustment_reject(request=request, actor=people.city, comment=" ")
    assert list(error.value.message_dict) == ["comment"]
    assert CatalogueVersion.objects.filter(street=street).count() == 1


def test_impossible_changes_are_refused_naming_each_item(street, items, v1, people):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        submit(street, items, people.command, adds=[items[0]], revokes=[items[9], items[0]])
    assert error.value.messages == [
        f"{items[0].code} is already on the list.",
        f"{items[9].code} is not on the list.",
        f"Added and revoked at once: {items[0].code}.",
    ]


def test_the_evidence_is_attached_when_submitted(street, items, v1, people):
    request = submit(street, items, people.command)
    assert request.evidence["period"] == ["2025-11-21", "2026-11-21"]
    assert set(request.evidence["items"]) == {i.code for i in items[0:3] + items[6:8]}


def test_a_configured_chain_with_a_province_step(street, items, v1, people):
    from powers.models import ApprovalChain

    ApprovalChain.objects.create(
        district=street.parent, levels=["street", "district", "city", "province"], step_days=10
    )
    request = submit(street, items, people.command)
    assert [s.level for s in request.steps.all()] == ["street", "district", "city", "province"]
    assert request.steps.get(order=1).deadline == TODAY + timedelta(days=10)


def test_street_holds_nothing_before_its_first_list(street, items, v1):
    assert street_holds_power(street, items[0], on=date(2023, 12, 31)) is False
    assert street_holds_power(street, items[0], on=date(2024, 1, 1)) is True


def test_a_repealed_item_is_not_held_from_its_repeal(street, items, v1):
    item = items[0]
    item.status, item.repealed_on, item.repeal_reason = "repealed", date(2026, 6, 1), "上位法修改"
    item.save()
    assert street_holds_power(street, item, on=date(2026, 5, 31)) is True
    assert street_holds_power(street, item, on=date(2026, 6, 1)) is False
