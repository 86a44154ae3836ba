from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of DESIGN.md ("Who uses it"). Each is a ``Group`` named by its value, created by
    migration ``core.0002_roles``; the label is what people read."""

    OFFICER = "officer", _("Enforcement officer")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMAND_CENTRE = "command_centre", _("Command centre")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    LEGAL_REVIEWER = "legal_reviewer", _("Legal reviewer")
    STREET_LEADER = "street_leader", _("Street leader")
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    CALLBACK_CALLER = "callback_caller", _("Callback caller")  # 回访员 (assessment.callbacks)


class Component(models.TextChoices):
    """The processes whose liveness /healthz reports."""

    BEAT = "beat", _("Beat")
    WORKER = "worker", _("Worker")


class DurationUnit(models.TextChoices):
    """How a time limit is counted (core.calendar.deadline_add). Working days and working hours
    skip statutory holidays, weekends that are not adjusted working days (调休) and the local
    days off of CalendarDay."""

    MINUTES = "minutes", _("Minutes")  # 分钟
    WORKING_HOURS = "working_hours", _("Working hours")  # 工作小时
    WORKING_DAYS = "working_days", _("Working days")  # 工作日
    NATURAL_DAYS = "natural_days", _("Natural days")  # 自然日


class DeliveryState(models.TextChoices):
    """Where sending one notification by one outside channel stands."""

    PENDING = "pending", _("Pending")  # 待发送
    SENT = "sent", _("Sent")  # 已发送
    FAILED = "failed", _("Failed")  # 发送失败
