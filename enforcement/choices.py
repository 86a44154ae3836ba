from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseStatus(models.TextChoices):
    """The lifecycle of a case (DESIGN.md); only enforcement.workflow writes it."""

    REPORTED = "reported", _("Reported")  # 上报
    ACCEPTED = "accepted", _("Accepted")  # 受理
    REJECTED = "rejected", pgettext_lazy("case status", "Rejected")  # 不予受理
    DISPATCHED = "dispatched", _("Dispatched")  # 派发
    ON_SCENE = "on_scene", _("On scene")  # 到场
    RESOLVED = "resolved", _("Resolved")  # 处置完毕
    CLOSED = "closed", _("Closed")  # 结案
    REOPENED = "reopened", _("Reopened")  # 返工
    TRANSFERRED = "transferred", _("Transferred")  # 移送
    SUSPENDED = "suspended", _("Suspended")  # 中止
    MERGED = "merged", _("Merged into another case")  # 已合并


class CaseSource(models.TextChoices):
    GRID_REPORT = "grid_report", _("Grid report")  # 网格上报
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")  # 12345 工单
    PATROL = "patrol", _("Patrol")  # 巡查发现
    VIDEO = "video", _("Video alert")  # 视频监控
    DRONE = "drone", _("Drone alert")  # 无人机
    MEDIA = "media", _("Media")  # 媒体曝光
    RESIDENT = "resident", _("Resident complaint")  # 群众投诉
    DEPARTMENT = "department", _("Department transfer")  # 部门移交


class Severity(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")  # 一般
    MAJOR = "major", _("Major or complex")  # 重大复杂


class HandlingMode(models.TextChoices):
    """The seeds' 70/20/10: most matters are settled by service, some by management, few by
    penalty (seed 000)."""

    SERVICE = "service", _("Service")  # 服务
    MANAGEMENT = "management", _("Management")  # 管理
    ENFORCEMENT = "enforcement", _("Enforcement")  # 执法


class DispatchTarget(models.TextChoices):
    TEAM = "team", _("Enforcement team")  # 执法中队
    GRID = "grid", _("The grid, for self-handling")  # 网格自处置
    DEPARTMENT = "department", _("A department, by whistle")  # 吹哨


class RouteKind(models.TextChoices):
    """What routing by power does with a case (enforcement.workflow.case_route_propose)."""

    TEAM = "team", _("dispatch to the street's team")  # 派给本街道队伍
    WHISTLE = "whistle", _("whistle the owning departments")  # 向主管部门吹哨


class CallStatus(models.TextChoices):
    """A department's answer to the whistle (吹哨报到)."""

    CALLED = "called", _("Called")  # 吹哨
    REPORTED_IN = "reported_in", _("Reported in")  # 报到
    ACCEPTED = "accepted", _("Taken on")  # 接单
    COMPLETED = "completed", _("Completed")  # 办结
    RETURNED = "returned", _("Returned")  # 退回


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document (PDF)")


class EventKind(models.TextChoices):
    """What a CaseEvent records: every transition, and the other things done to a case."""

    INTAKE = "intake", _("Reported")
    ACCEPT = "accept", _("Accepted")
    REJECT = "reject", pgettext_lazy("case status", "Rejected")
    DISPATCH = "dispatch", _("Dispatched")
    ARRIVE = "arrive", _("Arrived on scene")
    RESOLVE = "resolve", _("Resolved")
    VERIFY = "verify", _("Verified and closed")
    REOPEN = "reopen", _("Sent back for rework")
    TRANSFER = "transfer", _("Transferred")
    SUSPEND = "suspend", _("Suspended")
    RESUME = "resume", _("Resumed")
    MERGE = "merge", _("Merged into another case")
    MERGED_IN = "merged_in", _("Another case merged in")
    CALLS_DONE = "calls_done", _("Departments completed")
    CALLS_RETURNED = "calls_returned", _("Every department returned it")
    SUPERVISION = "supervision", _("Supervision opened")  # 督办
    SUPERVISION_ANSWER = "supervision_answer", _("Supervision answered")
    ROUTE = "route", _("Routed")
    PENALTY_FILE = "penalty_file", _("Case filed (立案)")
    PENALTY_INVESTIGATE = "penalty_step", _("Investigation step")
    PENALTY_REVIEW = "legal_review", _("Legal review")
    PENALTY_DECIDE = "penalty_decide", _("Penalty decided")
    EVIDENCE = "evidence", _("Evidence attached")
    PHONE_REVEAL = "phone_reveal", _("Reporter's phone read")
    CALL = "call", _("Department called")
    CALL_REPORT_IN = "call_report_in", _("Department reported in")
    CALL_ACCEPT = "call_accept", _("Department took it on")
    CALL_COMPLETE = "call_complete", _("Department completed")
    CALL_RETURN = "call_return", _("Department returned it")
    IMPORT = "import", _("Imported from history")  # enforcement.imports: how a past case ended
    DEADLINE_MOVE = "deadline_move", _("Deadline moved by the calendar")  # enforcement.deadlines
    REASSIGN = "reassign", _("Reassigned")  # another team or officer, the status unchanged
    FIELD_DISCARD = "field_discard", _("Field entry discarded")  # enforcement.field
    CALLBACK = "callback", _("Callback to the reporter")  # 回访 (assessment.callbacks)
    CALLBACK_REWORK = "callback_rework", _("Sent back for rework after a callback")


class TimerStage(models.TextChoices):
    """The stages the closed loop times (DESIGN.md; the seeds' 30 minutes / 1 day / 15 days)."""

    ACCEPT = "accept", _("Accept")  # 受理
    DISPATCH = "dispatch", _("Dispatch")  # 派发
    ARRIVE = "arrive", _("Arrive on scene")  # 到场
    OPINION = "opinion", _("First opinion")  # 处理意见 (重大复杂案件)
    RESOLVE = "resolve", _("Result")  # 处理结果
    VERIFY = "verify", _("Verification")  # 核查
    CALL_REPORT_IN = "call_report_in", _("Department reports in")  # 部门报到
    CALL_COMPLETE = "call_complete", _("Department completes")  # 部门办结
    SUPERVISION_RESPONSE = "supervision_response", _("Answer to supervision")  # 督办回复
    PENALTY_DECISION = "penalty_decision", _("Penalty decision (Art. 60)")  # 处罚决定期限
    PENALTY_NOTICE = "penalty_notice", _("Penalty decision: 60 days passed")  # 60日提醒


class TimerState(models.TextChoices):
    PENDING = "pending", _("Pending")
    WARNED = "warned", _("Warned")
    FIRED = "fired", _("Fired")
    CANCELLED = "cancelled", _("Cancelled")
    PAUSED = "paused", _("Paused")


class SupervisionState(models.TextChoices):
    OPEN = "open", _("Open")  # 待回复
    ANSWERED = "answered", _("Answered")  # 已回复
    ESCALATED = "escalated", _("Escalated")  # 已升级
    CLOSED = "closed", _("Closed: the late step was done")  # 已办结


class WebhookEvent(models.TextChoices):
    """What a department's webhook endpoint can be told of."""

    CALLED = "called", _("Called (whistled)")  # 吹哨
    SUPERVISED = "supervised", _("Supervised")  # 督办
    ESCALATED = "escalated", _("Escalated")  # 升级督办
    CASE_CLOSED = "case_closed", _("Case closed")  # 结案


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")  # not yet delivered; retried until its deadline
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")  # gave up after 24 hours of retries


# The handling modes of a problem a grid worker handles in the grid (自处置): not a penalty.
SELF_HANDLING_MODES = [
    (HandlingMode.SERVICE.value, HandlingMode.SERVICE.label),
    (HandlingMode.MANAGEMENT.value, HandlingMode.MANAGEMENT.label),
]


class FieldAction(models.TextChoices):
    """What an entry of a field phone's outbox does (enforcement.field)."""

    ARRIVE = "arrive", _("On-scene sign-in")
    RESOLVE = "resolve", _("Result")
    REPORT = "report", _("Report")
    SELF_HANDLE = "self_handle", _("Handled in the grid")


class FieldOutcome(models.TextChoices):
    """What became of a field entry the platform received."""

    APPLIED = "applied", _("Applied")
    APPLIED_AFTER_CONFLICT = "applied_after_conflict", _("Applied after a conflict")
    DISCARDED = "discarded", _("Discarded by its author")
