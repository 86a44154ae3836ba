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
not see is a 404 before any right to act is asked. Who of a role hears of a case (the timers'
warnings and supervisions) follows the same rule: ``case_role_users``, read for a batch of cases
at once by ``CaseAudience``."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from cachetools import TTLCache, cached
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_user_perms, get_users_with_perms, remove_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from core.choices import Role
from core.constants import REFERENCE_MAX_AGE
from core.selectors import role_names
from enforcement.choices import CaseSource, EventKind
from enforcement.models import Case, DepartmentCall, Team
from grids.choices import RegionLevel
from grids.models import GridCell, Region
from grids.permissions import (
    CELL_PERMISSION,
    REGION_PERMISSION,
    containers_granted,
    objects_granted,
    streets_of,
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
    """Two queries: every container right at once (grids.permissions.containers_granted), then
    the streets of the granted districts."""
    granted = containers_granted(user, list(CONTAINER_PERMISSIONS.values()))
    return Scope(
        streets=frozenset(streets_of(granted[CONTAINER_PERMISSIONS[Region]])),
        cells=frozenset(granted[CONTAINER_PERMISSIONS[GridCell]]),
        teams=frozenset(granted[CONTAINER_PERMISSIONS[Team]]),
        departments=frozenset(granted[CONTAINER_PERMISSIONS[Department]]),
    )


def team_streets(user) -> set[int]:
    """The streets of the teams ``user`` was granted (an officer's team, its street): what the
    powers app adds to the streets whose power usage a user reads (powers.permissions; registered
    by EnforcementConfig.ready, since powers may not import enforcement)."""
    teams = objects_granted(user, CONTAINER_PERMISSIONS[Team], Team)
    if not teams:
        return set()
    return set(Team.objects.filter(pk__in=teams).values_list("street_id", flat=True))


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
# The actions a field role takes on a case of theirs; every other action is the street's own.
_FIELD_ACTIONS = {"arrive", "resolve"}

# The sources people file as (a desk, a patrol, a grid worker); every other source belongs to an
# integration, whose API key files as its own (ApiKey.source) and alone sets ``external_id``.
PEOPLE_SOURCES = (CaseSource.GRID_REPORT, CaseSource.PATROL, CaseSource.RESIDENT)


def roles_of(user) -> set[str]:
    return role_names(user)


def integration_source(user) -> str:
    """The case source an integration's API key files as (hotline_12345 …); "" for people and
    department keys."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    key = getattr(user, "api_key", None)  # the reverse one-to-one raises when absent
    return key.source if key is not None else ""


def intake_source(user, requested: str | None, *, external_id: str = "") -> str:
    """The source ``user`` files a new case as: an integration's API key always as its own (any
    other is refused), a person of a role that may take cases in as one of PEOPLE_SOURCES,
    without an ``external_id`` (the id of an outside system's work order is that system's to
    give: a person setting it would take the id from the real work order). Raises
    PermissionDenied (no right to file) or ValidationError (the source, the external id)."""
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
    if requested not in PEOPLE_SOURCES:
        raise ValidationError(
            {
                "source": _(
                    "%(source)s is filed by its own system's API key; people file as %(allowed)s."
                )
                % {
                    "source": CaseSource(requested).label,
                    "allowed": _(", ").join(str(CaseSource(s).label) for s in PEOPLE_SOURCES),
                }
            }
        )
    if external_id:
        raise ValidationError(
            {"external_id": _("Only an outside system's API key sets the external id.")}
        )
    return requested


def action_allowed(user, action: str) -> bool:
    """Whether ``user``'s role may take ``action`` at all (``action_check`` asks it of a case)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if action == "intake" and integration_source(user):
        return True
    return bool(roles_of(user) & ACTION_ROLES[action])


def action_check(user, action: str, case: Case) -> None:
    """Whether ``user`` may take ``action`` on ``case``, a case they see: their role may take it
    (ACTION_ROLES) and the case is theirs to act on. The street's actions (accept, dispatch,
    verify, suspend …) need a right on the case's street or its district: seeing a case
    through a cell, a team, a department's call or as its reporter is not deciding for its
    street. A field action (on scene, result) needs, besides, the case's cell or team, or
    the case being assigned to or reported by the user. Raises PermissionDenied."""
    if not action_allowed(user, action):
        raise PermissionDenied(_("Your role may not do this."))
    if user.is_superuser:
        return
    scope = scope_of(user)
    if case.street_id in scope.streets and roles_of(user) & _STREET:
        return
    if action in _FIELD_ACTIONS and roles_of(user) & _FIELD:
        officer_user = case.officer.user_id if case.officer_id else None
        if (
            case.cell_id in scope.cells
            or case.team_id in scope.teams
            or user.pk in (officer_user, case.reported_by_id)
        ):
            return
    raise PermissionDenied(_("This case is not yours to act on."))


def resolver_of(case: Case):
    """Who recorded the case's result last (its latest resolve event's actor), or None."""
    return (
        case.events.filter(kind=EventKind.RESOLVE)
        .order_by("-sequence")
        .values_list("actor_id", flat=True)
        .first()
    )


def verify_check(user, case: Case) -> None:
    """Verification (核查) approves a result: never by the one who recorded it. Raises
    PermissionDenied; asked by the workflow under the case's lock."""
    if user is not None and user.pk is not None and resolver_of(case) == user.pk:
        raise PermissionDenied(_("The person who recorded the result does not verify it."))


def suspension_approver_check(*, actor, approver, case: Case) -> None:
    """A suspension (中止) is approved by a street leader holding the case's street (or its
    district), someone other than the person suspending: the clocks stop on two people's
    word. Raises ValidationError naming what is wrong with the approver."""
    if approver is None:
        raise ValidationError({"approved_by": _("A suspension needs its approver.")})
    if approver.pk == getattr(actor, "pk", None):
        raise ValidationError(
            {"approved_by": _("A suspension is approved by someone other than who suspends.")}
        )
    if not approver.is_active or Role.STREET_LEADER not in roles_of(approver):
        raise ValidationError({"approved_by": _("A suspension is approved by a street leader.")})
    if not approver.is_superuser and case.street_id not in scope_of(approver).streets:
        raise ValidationError(
            {
                "approved_by": _("%(name)s is not a leader of %(street)s.")
                % {
                    "name": approver.get_full_name() or approver.username,
                    "street": case.street.name,
                }
            }
        )


def penalty_review_check(reviewer, proceeding) -> str:
    """Legal review (法制审核, Administrative Penalty Law Art. 58) is done by a legal reviewer who
    neither filed nor investigated the case: "" when ``reviewer`` may, else the reason."""
    if not reviewer.is_active or Role.LEGAL_REVIEWER not in roles_of(reviewer):
        return _("Legal review is done by a legal reviewer.")
    handlers = proceeding.case.events.filter(
        kind__in=[EventKind.PENALTY_FILE, EventKind.PENALTY_INVESTIGATE]
    ).values_list("actor_id", flat=True)
    if reviewer.pk in set(handlers):
        return _("Who filed or investigated a case does not review it.")
    return ""


def penalty_decide_check(actor, proceeding) -> str:
    """A penalty is decided by the head of the enforcing body (Art. 57): a street leader holding
    the case's street, not the one who reviewed it: "" when ``actor`` may, else the reason."""
    case = proceeding.case
    if not actor.is_active or Role.STREET_LEADER not in roles_of(actor):
        return _("A penalty is decided by the street's leader (Art. 57).")
    if not actor.is_superuser and case.street_id not in scope_of(actor).streets:
        return _("This case is not yours to act on.")
    if proceeding.reviewed_by_id == actor.pk:
        return _("Who reviewed a penalty does not decide it.")
    return ""


def call_answer_allowed(user, call: DepartmentCall) -> bool:
    """A call is answered by its own department only."""
    if not action_allowed(user, "call_answer"):
        return False
    return user.is_superuser or call.department_id in scope_of(user).departments


def supervision_respond_allowed(user, supervision) -> bool:
    """Who answers a supervision (督办回复): the one it addresses and nobody else. A person
    it names (an officer, a team's leader), an officer of the team it names, or a holder of
    the role it names with a right on the container it names: the department of a call, or
    else the case's street (the command centre, the street leader; the district
    administrator through the district), cell (the grid) or team. Seeing the case is asked
    first (a supervision of a case one may not see is a 404)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if supervision.addressee_id is not None:
        return supervision.addressee_id == user.pk
    if supervision.addressee_team_id is not None:
        return supervision.addressee_team.officers.filter(user=user).exists()
    role = supervision.addressee_role
    if not role or role not in roles_of(user):
        return False
    scope = scope_of(user)
    if supervision.addressee_department_id is not None:
        return supervision.addressee_department_id in scope.departments
    case = supervision.case
    if role == Role.GRID_WORKER:
        return case.cell_id in scope.cells
    return case.street_id in scope.streets


@cached(cache=TTLCache(maxsize=1_000, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def street_command_centre(street_id: int) -> tuple:
    """The active command-centre users granted the street or the district above it
    (``view_region_cases``, held themselves or through a group: who sees its cases by
    ``case_visibility``): who hears of each new case there. Kept per process for
    REFERENCE_MAX_AGE seconds (every intake asks); shared: read them, never change them."""
    regions = [street_id]
    district_id = Region.objects.filter(pk=street_id).values_list("parent_id", flat=True).first()
    if district_id is not None:
        regions.append(district_id)
    codename = REGION_PERMISSION.split(".", 1)[1]
    holders: set[int] = set()
    for region_id in regions:
        holders.update(
            get_users_with_perms(
                Region(pk=region_id), only_with_perms_in=[codename], with_group_users=True
            ).values_list("pk", flat=True)
        )
    return tuple(
        get_user_model()
        .objects.filter(pk__in=holders, is_active=True, groups__name=Role.COMMAND_CENTRE)
        .order_by("pk")
        .distinct()
    )


def case_role_users(
    *,
    case: Case,
    role: str,
    department_id: int | None = None,
    audience: CaseAudience | None = None,
) -> list:
    """The active users of ``role`` who may see ``case`` by ``case_visibility``'s rule: a right
    on its street or the district above it, its grid cell, its team or a department it was
    called to, held themselves or through a group; and the superusers of the role (they see
    every case). ``department_id``: only the holders of that department's right (a call's
    liaisons), which the case must have been called to. Who a role-addressed notification
    goes to (enforcement.timers): nobody hears of a case the API would answer 404 for.

    The reporter and the assigned officer see the case through a link of their own, not a
    right of their role: they are not a role's addressees (a notification addressed to them
    by name is checked with ``CaseAudience.may_see``). Ordered by id. ``audience``: the
    caller's cache, read for many cases at once (the sweeper's batch); without one, the
    case's grants are read for this call (a dozen queries at most)."""
    audience = audience if audience is not None else CaseAudience([case])
    return audience.role_users(case, role, department_id=department_id)


Container = tuple[type, int]  # (model, id) of a Region, GridCell, Team or Department


class CaseAudience:
    """Who may see which of a set of cases, read once for all of them: the containers' grants
    (guardian's user and group object permissions), the departments each case was called
    to, and the holders' roles. A constant number of queries per read, however many cases:
    two per kind of container, one for the calls, one for the streets' districts, two for
    the users and their roles. Cases given at construction (or to ``add``) are read together
    on the first question; a case asked about later is read then. A snapshot: made for one
    unit of work (a sweeper batch), never kept across transactions."""

    def __init__(self, cases: Iterable[Case] = ()):
        self._unread: dict[int, Case] = {}
        self._read: set[int] = set()
        self._calls: dict[int, set[int]] = {}  # case id -> departments called
        self._districts: dict[int, int | None] = {}  # street id -> its district
        self._holders: dict[Container, set[int]] = {}  # container -> active users granted it
        self._seeing: dict[int, frozenset[int]] = {}  # case id -> users seeing it by a right
        self._users: dict[int, object] = {}  # every active holder and superuser, by id
        self._roles: dict[int, frozenset[str]] = {}
        self._superusers: set[int] | None = None
        self.add(cases)

    def add(self, cases: Iterable[Case]) -> None:
        for case in cases:
            if case.pk not in self._read:
                self._unread[case.pk] = case

    def role_users(self, case: Case, role: str, *, department_id: int | None = None) -> list:
        """See ``case_role_users``."""
        self._ensure(case)
        if department_id is not None:
            if department_id not in self._calls[case.pk]:
                return []  # a department the case was not called to does not see it
            ids = self._holders[(Department, department_id)]
        else:
            ids = self._seeing[case.pk] | self._superusers
        return [self._users[pk] for pk in sorted(ids) if role in self._roles.get(pk, ())]

    def may_see(self, case: Case, user) -> bool:
        """``case_visibility``'s answer for ``user`` and ``case``, without a query per user."""
        if user is None or not user.is_active:
            return False
        if user.is_superuser or user.pk == case.reported_by_id:
            return True
        if case.officer_id is not None and case.officer.user_id == user.pk:
            return True
        self._ensure(case)
        return user.pk in self._seeing[case.pk]

    def _ensure(self, case: Case) -> None:
        if case.pk not in self._read:
            self._unread[case.pk] = case
        if self._unread:
            self._load()

    def _containers(self, case: Case) -> list[Container]:
        containers = [(Region, case.street_id)]
        district = self._districts.get(case.street_id)
        if district is not None:
            containers.append((Region, district))  # a right on the district: all its streets
        if case.cell_id is not None:
            containers.append((GridCell, case.cell_id))
        if case.team_id is not None:
            containers.append((Team, case.team_id))
        containers += [(Department, pk) for pk in self._calls[case.pk]]
        return containers

    def _load(self) -> None:
        cases, self._unread = list(self._unread.values()), {}
        case_ids = [case.pk for case in cases]
        for pk in case_ids:
            self._calls[pk] = set()
        for case_id, department_id in DepartmentCall.objects.filter(case__in=case_ids).values_list(
            "case_id", "department_id"
        ):
            self._calls[case_id].add(department_id)
        street = Case._meta.get_field("street")
        for case in cases:
            if street.is_cached(case):  # the sweeper's cases come with their street
                self._districts[case.street_id] = case.street.parent_id
        streets = {case.street_id for case in cases} - self._districts.keys()
        if streets:
            self._districts.update(
                Region.objects.filter(pk__in=streets).values_list("pk", "parent_id")
            )
        wanted: dict[type, set[int]] = {}
        for case in cases:
            for model, pk in self._containers(case):
                if (model, pk) not in self._holders:
                    wanted.setdefault(model, set()).add(pk)
        for model, pks in wanted.items():
            self._holders.update(
                ((model, pk), users) for pk, users in _grant_holders(model, pks).items()
            )
        self._users_load(self._holder_ids())
        for case in cases:
            self._seeing[case.pk] = frozenset().union(
                *(self._holders[container] for container in self._containers(case))
            )
        self._read.update(case_ids)

    def _holder_ids(self) -> set[int]:
        return set().union(*self._holders.values()) - self._users.keys()

    def _users_load(self, new: set[int]) -> None:
        """The users not read yet among ``new`` (and, the first time, every superuser), with
        their roles: two queries."""
        condition = Q(pk__in=new)
        if self._superusers is None:
            condition |= Q(is_superuser=True)
        elif not new:
            return
        users = (
            get_user_model()
            .objects.filter(condition, is_active=True)
            .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
        )
        for user in users:
            self._users[user.pk] = user
            self._roles[user.pk] = frozenset(group.name for group in user.groups.all())
        if self._superusers is None:
            self._superusers = {pk for pk, user in self._users.items() if user.is_superuser}


def _grant_holders(model: type, pks: set[int]) -> dict[int, set[int]]:
    """For each ``model`` row of ``pks``, the active users holding its container right as an
    object permission, themselves or through one of their groups (what guardian's
    get_objects_for_user finds for each of them): two queries, whatever the number of rows."""
    codename = CONTAINER_PERMISSIONS[model].split(".", 1)[1]
    content_type = ContentType.objects.get_for_model(model)
    holders: dict[int, set[int]] = {pk: set() for pk in pks}
    for permissions, user in (
        (get_user_obj_perms_model(model), "user"),
        (get_group_obj_perms_model(model), "group__user"),
    ):
        rows = permissions.objects.filter(
            permission__content_type=content_type,
            permission__codename=codename,
            **{f"{user}__is_active": True},
        )
        if permissions.objects.is_generic():
            rows = rows.filter(
                content_type=content_type, object_pk__in=[str(pk) for pk in pks]
            ).values_list("object_pk", user)
        else:
            rows = rows.filter(content_object__in=pks).values_list("content_object_id", user)
        for pk, user_id in rows:
            holders[int(pk)].add(user_id)
    return holders


def phone_visible(user) -> bool:
    return bool(
        user and getattr(user, "is_authenticated", False) and user.has_perm(PHONE_PERMISSION)
    )


def desk_check(user) -> None:
    """The desk and the dashboard are the street's: the command centre, the street leader and
    the district administrator (their cases are those of their streets or district). Raises
    PermissionDenied."""
    if user.is_superuser or roles_of(user) & _STREET:
        return
    raise PermissionDenied(_("The desk is the command centre's and the street leaders'."))


def desk_streets(user) -> QuerySet[Region]:
    """The streets whose cases ``user`` works on the desk: granted themselves, or under a
    granted district; every street for a superuser."""
    streets = Region.objects.filter(level=RegionLevel.STREET).order_by("code")
    scope = scope_of(user)
    return streets if scope.everything else streets.filter(pk__in=scope.streets)
