"""Who holds the work of a case at a stage: whom a timer's warning and a supervision (督办) are
addressed to, and which users that addressee stands for. Used by the sweeper (enforcement.timers)
when it warns and opens supervisions, and by the supervision's record of its addressee, which
alone may answer it (enforcement.permissions.supervision_respond_allowed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.choices import Role
from enforcement.choices import DispatchTarget, TimerStage
from enforcement.constants import TOP_LEVEL
from enforcement.models import Case, DepartmentCall, Supervision
from enforcement.permissions import CaseAudience, case_role_users

T = TimerStage


@dataclass
class Addressee:
    """Who a warning or a supervision is addressed to: a user, a few users, or the holders of a
    role who may see the case (of one department: ``department_id``)."""

    label: str
    user: object | None = None
    role: str | None = None
    users: list = field(default_factory=list)
    department_id: int | None = None
    team: object | None = None  # ``users`` are this team's officers


def addressee_of(case: Case, stage: str, call: DepartmentCall | None, level: int) -> Addressee:
    if level >= TOP_LEVEL:
        return Addressee(label=str(_("The district")), role=Role.DISTRICT_ADMIN)
    if level == 2:
        return Addressee(
            label=str(_("Leader of %(street)s") % {"street": case.street.name}),
            role=Role.STREET_LEADER,
        )
    if call is not None:
        return Addressee(
            label=call.department.name,
            role=Role.DEPARTMENT_LIAISON,
            department_id=call.department_id,
        )
    if stage in (T.ARRIVE, T.OPINION, T.RESOLVE, T.PENALTY_DECISION, T.PENALTY_NOTICE):
        if case.officer_id:
            officer_user = case.officer.user
            return Addressee(
                label=officer_user.get_full_name() or officer_user.username, user=officer_user
            )
        if case.team_id and case.team.leader_id:
            return Addressee(label=case.team.name, user=case.team.leader)
        if case.team_id:
            return Addressee(
                label=case.team.name,
                users=[o.user for o in case.team.officers.all()],
                team=case.team,
            )
        if case.dispatch_target == DispatchTarget.GRID:
            return Addressee(label=str(_("The grid")), role=Role.GRID_WORKER)
    return Addressee(label=str(_("The command centre")), role=Role.COMMAND_CENTRE)


def supervision_addressee(case: Case, supervision: Supervision) -> Addressee:
    """Whom ``supervision`` is addressed to, who answers it and hears that its answer is due:
    the person, the team or the role (of a department) it records."""
    label = supervision.addressee_label
    if supervision.addressee_id is not None:
        return Addressee(label=label, user=supervision.addressee)
    if supervision.addressee_team_id is not None:
        team = supervision.addressee_team
        return Addressee(label=label, users=[o.user for o in team.officers.all()], team=team)
    return Addressee(
        label=label,
        role=supervision.addressee_role,
        department_id=supervision.addressee_department_id,
    )


def addressee_recipients(addressee: Addressee, case: Case, audience: CaseAudience) -> list:
    """The users ``addressee`` stands for who may see ``case``: a role's by the rule of case
    visibility (enforcement.permissions.case_role_users), a named user only if they see the
    case, so that nobody hears of a case the API would hide from them. ``audience``: the
    batch's cache of who sees its cases (read once per batch, not per timer)."""
    if addressee.role is not None:
        return case_role_users(
            case=case, role=addressee.role, department_id=addressee.department_id, audience=audience
        )
    named = [addressee.user] if addressee.user is not None else addressee.users
    return [user for user in named if audience.may_see(case, user)]
