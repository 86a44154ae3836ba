"""Departments and power items. Catalogue versions are published through powers.services."""

import factory

from powers.choices import DepartmentKind, ImplementationMode, PenaltyKind, PowerScope
from powers.models import Department, PowerCategory, PowerItem


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["code"]

    code = "CG"
    name = "秦淮区城市管理局"
    kind = DepartmentKind.FUNCTIONAL


class PowerItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PowerItem
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"SR-{n + 1:03d}")
    name = factory.Sequence(lambda n: f"对擅自占用城市道路摆摊设点的行政处罚（{n}）")
    category = factory.LazyFunction(lambda: PowerCategory.objects.get(code="SR"))
    department = factory.SubFactory(DepartmentFactory)
    legal_basis = "《城市市容和环境卫生管理条例》第三十六条"
    penalty_kinds = factory.LazyFunction(
        lambda: [PenaltyKind.WARNING.value, PenaltyKind.FINE.value]
    )
    mode = ImplementationMode.DELEGATED
    scope = PowerScope.MANDATORY


# The departments the sample list (powers/data/sample_catalogue.csv) names as 实施部门.
SAMPLE_DEPARTMENTS = [
    ("CG", "秦淮区城市管理局"),
    ("ZJ", "秦淮区住房和城乡建设局"),
    ("HB", "南京市秦淮生态环境局"),
    ("SJ", "秦淮区市场监督管理局"),
    ("YJ", "秦淮区应急管理局"),
]


def sample_departments_create() -> list[Department]:
    return [DepartmentFactory(code=code, name=name) for code, name in SAMPLE_DEPARTMENTS]
