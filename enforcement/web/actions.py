"""The case actions people take from a page, each asked of the actor's right and then done by
one workflow function. What a page offers (``case_actions_available``) and what it does
(``case_act``) read the same rules: the transition table (enforcement.workflow.TRANSITIONS) and
the roles and containers of enforcement.permissions.action_check. The REST API asks the same
check in its base view (enforcement.api.views.WorkflowAPIMixin.action_require)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from enforcement import workflow
from enforcement.choices import DispatchTarget, EventKind
from enforcement.models import Case
from enforcement.permissions import action_check, resolver_of


@dataclass(frozen=True)
class CaseAction:
    """``transition``: the TRANSITIONS entry whose sources say when the action can be taken;
    ``right``: the ACTION_ROLES entry asked of the actor; ``run(case, actor, data, version)``."""

    transition: str
    right: str
    run: Callable
    applies: Callable[[Case], bool] | None = None  # besides the status, whether it fits the case


def _dispatch(case, actor, data, version):
    return workflow.case_dispatch(
        case=case,
        actor=actor,
        target=data["target"],
        team=data.get("team"),
        officer=data.get("officer"),
        expected_version=version,
    )


def _route(case, actor, data, version):
    return workflow.case_route(
        case=case, actor=actor, expected_version=version, proposal_kind=data.get("expect") or None
    )


CASE_ACTIONS: dict[str, CaseAction] = {
    "accept": CaseAction(
        EventKind.ACCEPT,
        "accept",
        lambda case, actor, data, v: workflow.case_accept(
            case=case, actor=actor, expected_version=v
        ),
    ),
    "reject": CaseAction(
        EventKind.REJECT,
        "reject",
        lambda case, actor, data, v: workflow.case_reject(
            case=case, actor=actor, reason=data["reason"], expected_version=v
        ),
    ),
    "route": CaseAction(EventKind.DISPATCH, "dispatch", _route),
    "dispatch": CaseAction(EventKind.DISPATCH, "dispatch", _dispatch),
    "reassign": CaseAction(
        EventKind.REASSIGN,
        "dispatch",
        lambda case, actor, data, v: workflow.case_reassign(
            case=case,
            actor=actor,
            team=data["team"],
            officer=data.get("officer"),
            reason=data.get("reason", ""),
            expected_version=v,
        ),
        applies=lambda case: case.dispatch_target != DispatchTarget.DEPARTMENT,
    ),
    "whistle": CaseAction(
        EventKind.DISPATCH,
        "whistle",
        lambda case, actor, data, v: workflow.case_whistle(
            case=case, actor=actor, items=data["power_items"], expected_version=v
        ),
    ),
    "merge": CaseAction(
        EventKind.MERGE,
        "merge",
        lambda case, actor, data, v: workflow.case_merge(
            case=case,
            into=data["into"],
            actor=actor,
            reason=data.get("reason", ""),
            expected_version=v,
        ),
    ),
    "verify": CaseAction(
        EventKind.VERIFY,
        "verify",
        lambda case, actor, data, v: workflow.case_verify(
            case=case, actor=actor, note=data.get("note", ""), expected_version=v
        ),
    ),
    "reopen": CaseAction(
        EventKind.REOPEN,
        "reopen",
        lambda case, actor, data, v: workflow.case_reopen(
            case=case, actor=actor, reason=data["reason"], expected_version=v
        ),
    ),
    "transfer": CaseAction(
        EventKind.TRANSFER,
        "transfer",
        lambda case, actor, data, v: workflow.case_transfer(
            case=case,
            actor=actor,
            to=data["to"],
            reason=data["reason"],
            goods_value=data.get("goods_value"),
            expected_version=v,
        ),
    ),
    "suspend": CaseAction(
        EventKind.SUSPEND,
        "suspend",
        lambda case, actor, data, v: workflow.case_suspend(
            case=case,
            actor=actor,
            reason=data["reason"],
            approved_by=data["approved_by"],
            expected_version=v,
        ),
    ),
    "resume": CaseAction(
        EventKind.RESUME,
        "resume",
        lambda case, actor, data, v: workflow.case_resume(
            case=case, actor=actor, expected_version=v
        ),
    ),
}


# The buttons' words.
ACTION_LABELS = {
    "accept": _("Accept"),  # 受理
    "reject": _("Reject"),  # 不予受理
    "route": _("Route by the power list"),  # 按权力清单派发
    "dispatch": _("Dispatch"),  # 派发
    "reassign": _("Reassign"),  # 改派
    "whistle": _("Whistle departments"),  # 吹哨
    "merge": _("Merge into"),  # 合并
    "verify": _("Verify and close"),  # 核查结案
    "reopen": _("Send back for rework"),  # 退回返工
    "transfer": _("Transfer"),  # 移送
    "suspend": _("Suspend"),  # 中止
    "resume": _("Resume"),  # 恢复
}


def _may(user, action: CaseAction, case: Case) -> bool:
    try:
        action_check(user, action.right, case)
    except PermissionDenied:
        return False
    return True


def case_actions_available(user, case: Case) -> list[str]:
    """The actions ``user`` may take on ``case`` as it stands, in CASE_ACTIONS' order: its
    status allows them and the user's role and containers do (action_check). Verification is
    not offered to the one who recorded the result (verify_check)."""
    available = []
    for name, action in CASE_ACTIONS.items():
        if case.status not in workflow.TRANSITIONS[action.transition].sources:
            continue
        if action.applies is not None and not action.applies(case):
            continue
        if not _may(user, action, case):
            continue
        if name == "verify" and resolver_of(case) == user.pk:
            continue
        available.append(name)
    return available


def case_act(*, user, case: Case, action: str, data: dict, expected_version: int) -> Case:
    """Take ``action`` on ``case`` for ``user`` with the parsed ``data``, from the version the
    user saw. Raises PermissionDenied (not the user's to do), KeyError (no such action), and the
    workflow's errors: TransitionNotAllowed, CaseConflict (a stale version), InvalidInput."""
    spec = CASE_ACTIONS[action]
    action_check(user, spec.right, case)
    return spec.run(case, user, data, expected_version)
