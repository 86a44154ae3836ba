"""Who may see which case and do what: every django-guardian call lives here.

Rights are granted on containers, never on single cases (DESIGN.md, NOTES.md: guardian over a
million rows is slow, an indexed filter is not): a street or a district (grids.Region), a grid
cell, an enforcement team, a department. A case is visible to a user when

- the user holds ``view_region_cases`` on its street, or on the district above it (command
  centre and street leader: their street; district administrator: the district);
- or ``view_cell_cases`` on its grid cell (grid worker, officer);
- or ``view_team_cases`` on its team (officer), or the case is assigned to the user as officer;
- or ``view_department_cases`` on a department the case was called to (department liaison, and
  the account of a department's API key);
- or the user reported it (a grid worker outside their cells, an integration's API key).

Superusers see everything. Which *actions* a role may take is ``ACTION_ROLES``; a case you may
not see is a 404 before any right to act is asked."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import TTLCache, cached
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_user_perms, get_users_with_perms, remove_perm

from core.choices import Role
from core.constants import REFERENCE_MAX_AGE
from enforcement.choices import CaseSource
from enforcement.models import Case, DepartmentCall, Team
from grids.models import GridCell, Region
from grids.permissions import (
    CELL_PERMISSION,
    REGION_PERMISSION,
    cells_granted,
    objects_granted,
    streets_granted,
)
from powers.models import Department

# The permission granted on each kind of container (declared in the models' Meta).
CONTAINER_PERMISSIONS = {
    Region: REGION_PERMISSION,
    GridCell: CELL_PERMISSION,
    Team: "enforcement.view_team_cases",
    Department: "powers.view_department_cases",
}
PHONE_PERMISSION = "enforcement.view_reporter_phone"


def access_grant(*, user, container) -> bool:
    """Let ``user`` see the cases of ``container`` (a Region, GridCell, Team or Department).
    Idempotent; True when the right is new."""
    permission = _permission_of(container)
    if permission.split(".", 1)[1] in get_user_perms(user, container):
        return False
    assign_perm(permission, user, container)
    return True


def access_revoke(*, user, container) -> None:
    remove_perm(_permission_of(container), user, container)


def _permission_of(container) -> str:
    try:
        return CONTAINER_PERMISSIONS[type(container)]
    except KeyError:
        raise TypeError(f"cannot grant access on a {type(container).__name__}") from None


@dataclass(frozen=True)
class Scope:
    """The containers a user was granted, as ids: what case visibility is computed from."""

    everything: bool = False
    streets: frozenset[int] = frozenset()
    cells: frozenset[int] = frozenset()
    teams: frozenset[int] = frozenset()
    departments: frozenset[int] = frozenset()


def scope_of(user) -> Scope:
    """One query per kind of container (guardian's user and group object permissions), once
    per request: kept on the user object, which authentication makes anew for each request."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(everything=True)
    cached = getattr(user, "_shaoxiang_scope", None)
    if cached is None:
        cached = user._shaoxiang_scope = _scope_read(user)
    return cached


def _scope_read(user) -> Scope:
    return Scope(
        streets=frozenset(streets_granted(user)),
        cells=frozenset(cells_granted(user)),
        teams=frozenset(objects_granted(user, CONTAINER_PERMISSIONS[Team], Team)),
        departments=frozenset(objects_granted(user, CONTAINER_PERMISSIONS[Department], Department)),
    )


def case_visibility(user, scope: Scope | None = None) -> Q:
    """The filter of the cases ``user`` may see (``Q(pk__in=[])`` for nobody)."""
    scope = scope if scope is not None else scope_of(user)
    if scope.everything:
        return Q()
    if user is None or not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    condition = Q(reported_by=user) | Q(officer__user=user)
    if scope.streets:
        condition |= Q(street__in=scope.streets)
    if scope.cells:
        condition |= Q(cell__in=scope.cells)
    if scope.teams:
        condition |= Q(team__in=scope.teams)
    if scope.departments:
        condition |= Q(
            Exists(
                DepartmentCall.objects.filter(case=OuterRef("pk"), department__in=scope.departments)
            )
        )
    return condition


def cases_visible(user, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    queryset = queryset if queryset is not None else Case.objects.all()
    return queryset.filter(case_visibility(user))


def calls_visible(user, queryset: QuerySet[DepartmentCall] | None = None):
    """A department sees its own calls; who sees the case sees its calls too."""
    queryset = queryset if queryset is not None else DepartmentCall.objects.all()
    scope = scope_of(user)
    if scope.everything:
        return queryset
    return queryset.filter(
        Q(department__in=scope.departments)
        | Q(case__in=Case.objects.filter(case_visibility(user, scope)).values("pk"))
    )


# Which roles may take each action (the API's transition endpoints ask this after the case
# was found visible). Superusers may take every action.
_STREET = {Role.COMMAND_CENTRE, Role.STREET_LEADER, Role.DISTRICT_ADMIN}
_FIELD = {Role.OFFICER, Role.GRID_WORKER}
ACTION_ROLES: dict[str, set[str]] = {
    "intake": _STREET | _FIELD,
    "accept": _STREET,
    "reject": _STREET,
    "dispatch": _STREET,
    "arrive": _FIELD | _STREET,
    "resolve": _FIELD | _STREET,
    "verify": _STREET,
    "reopen": _STREET,
    "transfer": _STREET,
    "suspend": _STREET,
    "resume": _STREET,
    "whistle": _STREET,
    "merge": _STREET,
    # a department's calls: its liaison (or its API key's account)
    "call_answer": {Role.DEPARTMENT_LIAISON},
}


def roles_of(user) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_shaoxiang_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._shaoxiang_roles = cached
    return cached


def integration_source(user) -> str:
    """The case source an integration's API key files as (hotline_12345 …); "" for people and
    department keys."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    key = getattr(user, "api_key", None)  # the reverse one-to-one raises when absent
    return key.source if key is not None else ""


def intake_source(user, requested: str | None) -> str:
    """The source ``user`` files a new case as: an integration's API key always as its own (any
    other is refused), a person of a role that may take cases in as the source they name.
    Raises PermissionDenied (no right to file) or ValidationError (the source)."""
    own = integration_source(user)
    if own:
        if requested not in (None, own):
            raise ValidationError(
                {
                    "source": _("This API key files cases as %(source)s.")
                    % {"source": CaseSource(own).label}
                }
            )
        return own
    if not action_allowed(user, "intake"):
        raise PermissionDenied(_("Your role may not do this."))
    if requested is None:
        raise ValidationError({"source": _("This field is required.")})
    return requested


def action_allowed(user, action: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if action == "intake" and integration_source(user):
        return True
    return bool(roles_of(user) & ACTION_ROLES[action])


def call_answer_allowed(user, call: DepartmentCall) -> bool:
    """A call is answered by its own department only."""
    if not action_allowed(user, "call_answer"):
        return False
    return user.is_superuser or call.department_id in scope_of(user).departments


def supervision_respond_allowed(user, supervision) -> bool:
    """Who answers a supervision (督办回复): the person it is addressed to; at level 2 a street
    leader, at level 3 the district; at level 1 a department's own call supervision its
    department, and one addressed to a role (the command centre, the grid, a team) a holder of
    that role. Asked after the case was found visible to ``user``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if supervision.addressee_id is not None:
        return supervision.addressee_id == user.pk
    roles = roles_of(user)
    if supervision.level >= 3:
        return Role.DISTRICT_ADMIN in roles
    if supervision.level == 2:
        return Role.STREET_LEADER in roles
    if supervision.call_id is not None:
        return supervision.call.department_id in scope_of(user).departments
    return bool(roles & {Role.COMMAND_CENTRE, Role.GRID_WORKER, Role.OFFICER})


@cached(cache=TTLCache(maxsize=1_000, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def street_command_centre(street_id: int) -> tuple:
    """The active command-centre users granted the street (``view_region_cases`` on it, held
    themselves or through a group): who hears of each new case there. Kept per process for
    REFERENCE_MAX_AGE seconds (every intake asks); shared: read them, never change them."""
    street = Region(pk=street_id)
    return tuple(
        get_users_with_perms(
            street, only_with_perms_in=[REGION_PERMISSION.split(".", 1)[1]], with_group_users=True
        )
        .filter(is_active=True, groups__name=Role.COMMAND_CENTRE)
        .order_by("pk")
        .distinct()
    )


def phone_visible(user) -> bool:
    return bool(
        user and getattr(user, "is_authenticated", False) and user.has_perm(PHONE_PERMISSION)
    )
