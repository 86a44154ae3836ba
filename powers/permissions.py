"""Who may read a street's power usage: the report page, its Excel export and
``GET /api/v1/powers/usage/`` all ask ``usage_streets`` (through ``powers.selectors``).

The rule is the case rule of ``enforcement.permissions`` read as streets: rights are granted on
containers, never per role, so a user reads the usage of every street whose cases a container
of theirs opens to them:

- a superuser: every street;
- ``grids.view_region_cases`` on a district (a district administrator): every street of it;
- ``grids.view_region_cases`` on a street (command centre, street leader): that street;
- ``grids.view_cell_cases`` on a grid cell (a grid worker): the cell's street;
- a container of an app to the right of powers that names its street through
  ``street_source_register`` (enforcement: an officer's team, its street).

Nobody else: not a department (its liaison or API key sees the cases called to it, in any
street, but no street's own list), not a legal reviewer without a grant, not the anonymous. A
street outside the set is a 404, as if it did not exist (STYLE.md, web pages 1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.choices import Role
from core.selectors import role_names
from grids.choices import RegionLevel
from grids.models import GridCell, Region
from grids.permissions import REGION_PERMISSION, cells_granted, objects_granted, streets_granted
from powers.choices import ApprovalLevel

# (user) -> ids of streets. Apps to the right of powers register theirs at start-up (their
# AppConfig.ready): powers may not import them (DESIGN.md, dependencies point one way).
StreetSource = Callable[[Any], Iterable[int]]
_STREET_SOURCES: list[StreetSource] = []


def street_source_register(source: StreetSource) -> None:
    """Add the streets ``source(user)`` names to every user's ``usage_streets``. Idempotent."""
    if source not in _STREET_SOURCES:
        _STREET_SOURCES.append(source)


def _active(user) -> bool:
    return user is not None and not isinstance(user, AnonymousUser) and user.is_active


def usage_streets(user) -> QuerySet[Region]:
    """The streets whose power usage ``user`` may read (an empty queryset for nobody). A few
    queries, however many streets and cells the user holds."""
    streets = Region.objects.filter(level=RegionLevel.STREET)
    if not _active(user):
        return streets.none()
    if user.is_superuser:
        return streets
    ids = set(streets_granted(user))
    cells = cells_granted(user)
    if cells:
        ids.update(
            GridCell.objects.filter(pk__in=cells).values_list("community__parent_id", flat=True)
        )
    for source in _STREET_SOURCES:
        ids.update(source(user))
    return streets.filter(pk__in=ids)


# --- who decides an adjustment step ---------------------------------------------------------------

# The role that decides each level's step of an adjustment request, and the container of the
# request that role must hold: the street's leader decides for the street (街道党工委), the
# district's administrator for the district. The city and the province are not users of the
# platform: a district administrator records their written reply (批复, with its notice number),
# never the one who decided the district's step.
STEP_DECIDERS: dict[str, tuple[str, str]] = {
    ApprovalLevel.STREET: (Role.STREET_LEADER, "street"),
    ApprovalLevel.DISTRICT: (Role.DISTRICT_ADMIN, "district"),
    ApprovalLevel.CITY: (Role.DISTRICT_ADMIN, "district"),
    ApprovalLevel.PROVINCE: (Role.DISTRICT_ADMIN, "district"),
}
DECIDE_PERMISSION = "powers.decide_adjustment"
PROPOSE_PERMISSION = "powers.add_adjustmentrequest"


def _has_role(user, role: str) -> bool:
    return role in role_names(user)


def adjustment_streets(user) -> QuerySet[Region]:
    """The streets whose adjustment requests ``user`` reads: those whose power usage they read
    (the evidence of a request is that usage)."""
    return usage_streets(user)


def adjustment_propose_check(user, street: Region) -> None:
    """Who proposes a change of a street's list: a holder of the right to propose (the command
    centre drafts, the street leader and the district administrator too) with a right on that
    street or its district. Raises PermissionDenied."""
    if not _active(user) or not user.has_perm(PROPOSE_PERMISSION):
        raise PermissionDenied(_("Your role may not propose changes of a power list."))
    if not user.is_superuser and street.pk not in streets_granted(user):
        raise PermissionDenied(_("You may not propose changes of this street's list."))


def step_decide_check(user, request, step) -> None:
    """Who decides ``step`` of the adjustment ``request``: the step's role (STEP_DECIDERS)
    holding the request's street (street step) or its district (the other steps), never the
    person who proposed the request nor one who decided another of its steps (a superuser is
    bound by that too). Raises PermissionDenied naming what is missing."""
    if not _active(user) or not user.has_perm(DECIDE_PERMISSION):
        raise PermissionDenied(_("Your role may not decide power-list changes."))
    if user.pk == request.requested_by_id:
        raise PermissionDenied(_("The person who proposed a change does not approve it."))
    if request.steps.exclude(pk=step.pk).filter(decided_by=user).exists():
        raise PermissionDenied(_("One person decides one step of a request, not two."))
    if user.is_superuser:
        return
    role, container = STEP_DECIDERS[step.level]
    if not _has_role(user, role):
        raise PermissionDenied(
            _("The %(level)s step is decided by a %(role)s.")
            % {"level": step.get_level_display(), "role": Role(role).label}
        )
    if container == "street":
        held = request.street_id in objects_granted(user, REGION_PERMISSION, Region)
    else:
        held = request.street.parent_id in objects_granted(user, REGION_PERMISSION, Region)
    if not held:
        raise PermissionDenied(
            _("You do not hold %(region)s, whose step this is.")
            % {
                "region": request.street.name
                if container == "street"
                else request.street.parent.name
            }
        )
