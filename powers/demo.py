"""Demo power lists for ``manage.py seed_demo``: the district's departments, the sample list
(powers/data/sample_catalogue.csv, SAMPLE DATA, not an official list) as version 1 of both
streets with different optional (个性) choices, a year and a half of usage facts in which
Honghua uses about 30 items and meets environmental and market matters it holds no power for,
and one adjustment half-way through its approval chain. Idempotent."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from core.choices import Role
from grids.models import Region
from powers.choices import DepartmentKind, PowerScope, UsageKind
from powers.constants import DEFAULT_CATEGORIES
from powers.imports import catalogue_import
from powers.models import (
    AdjustmentRequest,
    CatalogueVersion,
    Department,
    PowerCategory,
    PowerItem,
    PowerUsage,
)
from powers.services import (
    adjustment_approve,
    adjustment_submit,
    catalogue_publish,
)

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_catalogue.csv"
STREETS = {"320104010": "hh", "320104003": "fzm"}
# code, name, kind, parent code, contact
DEPARTMENTS = [
    ("CG", "秦淮区城市管理局", DepartmentKind.FUNCTIONAL, None, "孙立"),
    ("ZJ", "秦淮区住房和城乡建设局", DepartmentKind.FUNCTIONAL, None, "钱敏"),
    ("HB", "南京市秦淮生态环境局", DepartmentKind.DISPATCHED, None, "周涛"),
    ("SJ", "秦淮区市场监督管理局", DepartmentKind.FUNCTIONAL, None, "吴婷"),
    ("YJ", "秦淮区应急管理局", DepartmentKind.FUNCTIONAL, None, "郑浩"),
    ("GA", "南京市公安局秦淮分局", DepartmentKind.FUNCTIONAL, None, "王刚"),
    ("GA-HH", "红花派出所", DepartmentKind.POLICE_STATION, "GA", "冯军"),
    ("GA-FZM", "夫子庙派出所", DepartmentKind.POLICE_STATION, "GA", "陈亮"),
    ("SJ-HH", "秦淮区市场监督管理局红花市场监督管理所", DepartmentKind.DISPATCHED, "SJ", "褚燕"),
]
V1_EFFECTIVE = date(2024, 1, 1)


def demo_seed(report) -> None:
    rng = random.Random(274)  # noqa: S311 -- reproducible demo data; 274 powers (seed 000)
    streets = {code: Region.objects.get(code=code) for code in STREETS}
    for code, name, kind, parent, contact in DEPARTMENTS:
        department, created = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": Department.objects.filter(code=parent).first(),
                "contact_name": contact,
                "contact_phone": f"025-8{rng.randint(1000000, 9999999)}",
            },
        )
        if created:
            department.streets.set(streets.values())
        report.count("departments", created)
    honghua, fuzimiao = streets["320104010"], streets["320104003"]
    # The categories migration made them, but a flushed database (browser tests) has none.
    for order, (code, name) in enumerate(DEFAULT_CATEGORIES, start=1):
        PowerCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    if not PowerItem.objects.exists():
        result = catalogue_import(SAMPLE, street=None)
        if not result.ok:
            raise RuntimeError("; ".join(str(error) for error in result.errors[:5]))
        report.count("power items", result.created)
    if not CatalogueVersion.objects.filter(street=honghua).exists():
        # Honghua: no environmental or market-supervision powers (seed 000), some optional ones.
        held = [
            item
            for item in PowerItem.objects.exclude(category__code__in=["HB", "SC"])
            if item.scope == PowerScope.MANDATORY or rng.random() < 0.5
        ]
        catalogue_publish(
            street=honghua,
            items=held,
            effective_on=V1_EFFECTIVE,
            notice_number="秦政发〔2023〕88号（样例）",
            published_on=date(2023, 12, 20),
        )
        report.count("catalogue versions", True)
    if not CatalogueVersion.objects.filter(street=fuzimiao).exists():
        # Fuzimiao, a tourist street: market supervision delegated, other optional choices.
        held = [
            item
            for item in PowerItem.objects.exclude(category__code="HB")
            if item.scope == PowerScope.MANDATORY or rng.random() < 0.4
        ]
        catalogue_publish(
            street=fuzimiao,
            items=held,
            effective_on=V1_EFFECTIVE,
            notice_number="秦政发〔2023〕89号（样例）",
            published_on=date(2023, 12, 20),
        )
        report.count("catalogue versions", True)
    if not PowerUsage.objects.exists():
        _usage(honghua, "HH", rng, report)
        _usage(fuzimiao, "FZM", rng, report)


def _usage(street: Region, prefix: str, rng: random.Random, report) -> None:
    """About 30 items used (Honghua used about 30 of 274, seed 000); whistles and refusals for
    matters the street lacks the power for. Inserted in bulk: two thousand rows, the same rows
    power_usage_record writes one by one."""
    today = timezone.localdate()
    version = CatalogueVersion.objects.filter(street=street).order_by("-number").first()
    held = list(version.items.order_by("code"))
    used = rng.sample(held, min(30, len(held)))
    weights = [rng.randint(1, 40) for _ in used]
    facts = []

    def fact(item: PowerItem, kind: str, occurred: date) -> None:
        facts.append(
            PowerUsage(
                street=street,
                item=item,
                kind=kind,
                occurred_on=occurred,
                reference=f"{prefix}-{occurred.year}-{len(facts) + 1:05d}",
            )
        )

    for day in range(540):
        for _ in range(rng.randint(0, 4)):
            fact(rng.choices(used, weights=weights)[0], UsageKind.USED, today - timedelta(days=day))
    lacking = list(PowerItem.objects.exclude(pk__in=[i.pk for i in held]).order_by("code"))
    for item in rng.sample(lacking, min(12, len(lacking))):
        for _ in range(rng.randint(1, 15)):
            kind = UsageKind.WHISTLED if rng.random() < 0.8 else UsageKind.REFUSED
            fact(item, kind, today - timedelta(days=rng.randint(0, 364)))
    PowerUsage.objects.bulk_create(facts, ignore_conflicts=True)
    report.count("power usage facts", len(facts))


# The rights of the roles on adjustments, as migrations 0004 and 0007 grant them: a flushed
# database (the browser tests' live server) keeps the groups' names but not their rights.
ROLE_PERMISSIONS = {
    Role.COMMAND_CENTRE: ["add_adjustmentrequest", "view_adjustmentrequest"],
    Role.STREET_LEADER: ["add_adjustmentrequest", "decide_adjustment", "view_adjustmentrequest"],
    Role.DISTRICT_ADMIN: ["add_adjustmentrequest", "decide_adjustment", "view_adjustmentrequest"],
}


def _role_permissions_ensure() -> None:
    for role, codenames in ROLE_PERMISSIONS.items():
        Group.objects.get_or_create(name=role)[0].permissions.add(
            *Permission.objects.filter(content_type__app_label="powers", codename__in=codenames)
        )


def adjustment_demo_seed(report) -> None:
    """Honghua asks to take two environmental items and return three zombie items: its command
    centre proposed, its leader approved the street's step, the district is deciding. Run by the
    enforcement app's demo once its people hold their streets (who proposes and decides a step
    is asked of their grants: powers.permissions). Idempotent."""
    from powers.selectors import power_usage_report

    street = Region.objects.filter(code="320104010").first()
    if street is None or AdjustmentRequest.objects.exists():
        return
    _role_permissions_ensure()
    today = timezone.localdate()
    usage = power_usage_report(street=street, start=today - timedelta(days=365), end=today)
    adds = [demand.item for demand in usage.unmet if demand.item.category.code == "HB"][:2]
    revokes = [zombie.item for zombie in usage.zombies][:3]
    if len(adds) < 2 or len(revokes) < 3:
        return
    users = get_user_model().objects.in_bulk(["hh_command", "hh_leader"], field_name="username")
    if len(users) < 2:
        return
    request = adjustment_submit(
        street=street,
        title="红花街道赋权清单调整（第一批）",
        justification="餐饮油烟、污水直排投诉集中，街道吹哨后仍需部门到场；三个事项连续一年以上未使用。",
        adds=adds,
        revokes=revokes,
        effective_on=today + timedelta(days=60),
        actor=users["hh_command"],
    )
    adjustment_approve(
        request=request, actor=users["hh_leader"], comment="街道党工委会议研究同意", level="street"
    )
    report.count("adjustments", True)
