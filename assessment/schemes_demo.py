"""The demo's two-way assessment (``manage.py seed_demo`` with cases): 红花街道's scheme for its
district departments, six months of rollups, the two last months published with the leader's
manual scores, and one appeal by 城管局's liaison, upheld (a second version of the earlier month).
Everything goes through assessment.schemes, as the pages do. Idempotent: what exists is kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from assessment.choices import AppealDecision, PeriodKind, TargetKind
from assessment.models import Appeal, DailyRollup, ManualScore, Scheme
from assessment.rollups import rollups_rebuild
from assessment.schemes import (
    appeal_decide,
    appeal_file,
    manual_score_enter,
    period_for,
    period_publish,
    period_published,
    scheme_targets,
    scheme_version_for,
    scheme_version_new,
    snapshot_current,
)
from grids.models import Region

DEMO_STREET = "320104010"  # 红花街道
SCHEME_CODE = "hh-departments"
ROLLUP_DAYS = 190  # the demo's cases span six months
WEIGHTS = {
    "dept_report_in_on_time": 30,
    "dept_return": 15,
    "dept_completion": 25,
    "dept_supervisions": {"weight": 10, "deduct": 2},
}
MANUAL = {
    "shuzhi": {"name": "述职测评", "weight": 10},
    "guocheng": {"name": "过程评议", "weight": 10},
}
# The leader's manual scores by department code (述职测评, 过程评议), with their reasons.
SCORES = {
    "CG": ("8.5", "9", "述职材料完整,夜间渣土问题回应及时", "联席会议按时到会,处置过程配合"),
    "SJ": ("9", "8", "述职清楚,店招审批提速", "两次吹哨报到偏晚"),
    "ZJ": ("7.5", "8.5", "述职未覆盖违建存量", "过程配合良好"),
    "YJ": ("8", "7", "述职按时", "燃气隐患处置需街道多次催办"),
}
DEFAULT_SCORE = ("8", "8", "述职测评按时完成", "过程评议无异议")


def demo_seed(report) -> None:
    street = Region.objects.get(code=DEMO_STREET)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=_USERS)}
    leader, liaison = users["hh_leader"], users["dept_liaison"]
    today = timezone.localdate()
    if not DailyRollup.objects.exists():
        written = rollups_rebuild(today - timedelta(days=ROLLUP_DAYS), today - timedelta(days=1))
        report.count("days rolled up", len(written))
    scheme, created = Scheme.objects.get_or_create(
        code=SCHEME_CODE,
        defaults={
            "name": "红花街道对区级部门考核",
            "target_kind": TargetKind.DEPARTMENT,
            "assessor": street,
        },
    )
    report.count("assessment schemes", created)
    first_month = (today - timedelta(days=ROLLUP_DAYS)).replace(day=1)
    if scheme_version_for(scheme, first_month) is None:
        scheme_version_new(
            scheme=scheme,
            indicators=WEIGHTS,
            manual_items=MANUAL,
            valid_from=first_month,
            by=leader,
        )
    this_month = today.replace(day=1)
    last = period_for(PeriodKind.MONTH, this_month - timedelta(days=1))
    before = period_for(PeriodKind.MONTH, last.starts_on - timedelta(days=1))
    for period in (before, last):
        if period_published(period, scheme):
            continue
        for department in scheme_targets(scheme):
            shuzhi, guocheng, why_shuzhi, why_guocheng = SCORES.get(department.code, DEFAULT_SCORE)
            for item, score, reason in (
                ("shuzhi", shuzhi, why_shuzhi),
                ("guocheng", guocheng, why_guocheng),
            ):
                manual_score_enter(
                    period=period,
                    scheme=scheme,
                    target=department,
                    item=item,
                    score=Decimal(score),
                    reason=reason,
                    by=leader,
                )
        period_publish(
            period=period, scheme_version=scheme_version_for(scheme, period.starts_on), by=leader
        )
        report.count("assessment periods published", 1)
    first = (
        scheme.versions.get(valid_from=first_month).snapshots.filter(period=before, version=1)
    ).first()
    if first is None or Appeal.objects.filter(snapshot__period=before).exists():
        return
    cg = next((t for t in scheme_targets(scheme) if t.code == "CG"), None)
    if cg is None or not ManualScore.objects.filter(period=before, target_id=cg.pk).exists():
        return
    appeal = appeal_file(
        snapshot=snapshot_current(first),
        target=cg,
        item="guocheng",
        reason="两次联席会议缺席系因防汛值守,已报备街道办,附值班表",
        by=liaison,
    )
    appeal_decide(
        appeal=appeal,
        decision=AppealDecision.UPHELD,
        reason="核实防汛值班表属实,过程评议调整",
        new_score=Decimal("9.5"),
        by=leader,
    )
    report.count("appeals decided", 1)


_USERS = ("hh_leader", "dept_liaison")
