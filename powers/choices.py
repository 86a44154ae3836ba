from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentKind(models.TextChoices):
    FUNCTIONAL = "functional", _("District functional department")  # 区级职能部门
    DISPATCHED = "dispatched", _("Dispatched agency")  # 派驻机构
    POLICE_STATION = "police_station", _("Police station")  # 派出所
    OTHER = "other", _("Other")


class ImplementationMode(models.TextChoices):
    """How a power reaches the street (seed 000, 003)."""

    STATIONED = "stationed", _("Stationed")  # 派驻
    JOINT = "joint", _("Joint")  # 联合
    ENTRUSTED = "entrusted", _("Entrusted")  # 委托
    DELEGATED = "delegated", _("Delegated")  # 下放


class PowerScope(models.TextChoices):
    """Quzhou's split (seed 004): 335 mandatory items for every street, 254 optional."""

    MANDATORY = "mandatory", _("Mandatory (共性)")
    OPTIONAL = "optional", _("Optional (个性)")


class PowerStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    REPEALED = "repealed", _("Repealed")


class PenaltyKind(models.TextChoices):
    """Administrative Penalty Law (2021) Art. 9."""

    WARNING = "warning", _("Warning")  # 警告
    CIRCULATED_CRITICISM = "criticism", _("Circulated criticism")  # 通报批评
    FINE = "fine", _("Fine")  # 罚款
    CONFISCATE_GAINS = "confiscate_gains", _("Confiscation of illegal gains")  # 没收违法所得
    CONFISCATE_PROPERTY = (
        "confiscate_property",
        _("Confiscation of illegal property"),
    )  # 没收非法财物
    SUSPEND_PERMIT = "suspend_permit", _("Suspension of permit")  # 暂扣许可证件
    LOWER_QUALIFICATION = "lower_qualification", _("Lowering of qualification")  # 降低资质等级
    REVOKE_PERMIT = "revoke_permit", _("Revocation of permit")  # 吊销许可证件
    LIMIT_BUSINESS = (
        "limit_business",
        _("Limitation of business activities"),
    )  # 限制开展生产经营活动
    SUSPEND_BUSINESS = (
        "suspend_business",
        _("Order to suspend production or business"),
    )  # 责令停产停业
    CLOSE = "close", _("Order to close")  # 责令关闭
    BAR_PRACTICE = "bar_practice", _("Bar from practice")  # 限制从业
    DETENTION = "detention", _("Administrative detention")  # 行政拘留


# The Chinese names used in published lists, for import and export.
PENALTY_KIND_CHINESE = {
    PenaltyKind.WARNING: "警告",
    PenaltyKind.CIRCULATED_CRITICISM: "通报批评",
    PenaltyKind.FINE: "罚款",
    PenaltyKind.CONFISCATE_GAINS: "没收违法所得",
    PenaltyKind.CONFISCATE_PROPERTY: "没收非法财物",
    PenaltyKind.SUSPEND_PERMIT: "暂扣许可证件",
    PenaltyKind.LOWER_QUALIFICATION: "降低资质等级",
    PenaltyKind.REVOKE_PERMIT: "吊销许可证件",
    PenaltyKind.LIMIT_BUSINESS: "限制开展生产经营活动",
    PenaltyKind.SUSPEND_BUSINESS: "责令停产停业",
    PenaltyKind.CLOSE: "责令关闭",
    PenaltyKind.BAR_PRACTICE: "限制从业",
    PenaltyKind.DETENTION: "行政拘留",
}
MODE_CHINESE = {
    ImplementationMode.STATIONED: "派驻",
    ImplementationMode.JOINT: "联合",
    ImplementationMode.ENTRUSTED: "委托",
    ImplementationMode.DELEGATED: "下放",
}
SCOPE_CHINESE = {PowerScope.MANDATORY: "共性", PowerScope.OPTIONAL: "个性"}


class ApprovalLevel(models.TextChoices):
    STREET = "street", _("Street")
    DISTRICT = "district", _("District")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Under approval")
    PUBLISHED = "published", _("Approved and published")
    REJECTED = "rejected", _("Rejected")


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")  # an earlier step has not decided yet
    PENDING = "pending", _("Pending")  # this step decides now
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SKIPPED = "skipped", _("Not reached")  # an earlier step rejected


class ChangeAction(models.TextChoices):
    ADD = "add", _("Add")
    REVOKE = "revoke", _("Revoke")


class UsageKind(models.TextChoices):
    """What a case did with a power (the usage assessment's facts)."""

    USED = "used", _("Used by the street")
    WHISTLED = "whistled", _("Whistled to a department (street lacks the power)")
    REFUSED = "refused", _("Refused for lack of power")
