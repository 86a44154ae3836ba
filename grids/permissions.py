"""The rights on the net's containers (django-guardian object permissions on Region and
GridCell): which streets and cells a user was granted. The enforcement app derives case
visibility from these (enforcement.permissions); here they scope the subject directory."""

from __future__ import annotations

import threading

from cachetools import TTLCache, cached
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from core.constants import REFERENCE_MAX_AGE
from grids.choices import RegionLevel
from grids.models import GridCell, Region

REGION_PERMISSION = "grids.view_region_cases"
CELL_PERMISSION = "grids.view_cell_cases"


def _active(user) -> bool:
    return user is not None and not isinstance(user, AnonymousUser) and user.is_active


def objects_granted(user, permission: str, model) -> set[int]:
    """Ids of the ``model`` rows on which ``user`` (or one of its groups) holds ``permission``
    as an object permission; a global permission does not count (rights are per container)."""
    if not _active(user):
        return set()
    return set(
        get_objects_for_user(
            user, permission, klass=model, with_superuser=False, accept_global_perms=False
        ).values_list("pk", flat=True)
    )


def streets_granted(user) -> set[int]:
    """The streets granted directly, and every street of a granted district."""
    return streets_of(objects_granted(user, REGION_PERMISSION, Region))


def containers_granted(user, permissions: list[str]) -> dict[str, set[int]]:
    """For each of ``permissions`` ("app_label.codename", object permissions on distinct
    codenames), the ids of the objects on which ``user`` or one of its groups holds it: what
    ``objects_granted`` answers permission by permission, in one query (a UNION of guardian's
    user and group object permission tables) for all of them. Every request of a signed-in
    user asks it (enforcement.permissions.scope_of)."""
    granted: dict[str, set[int]] = {permission: set() for permission in permissions}
    if not _active(user):
        return granted
    by_codename = {}
    conditions = Q()
    for permission in permissions:
        app_label, codename = permission.split(".", 1)
        by_codename[codename] = permission
        conditions |= Q(
            permission__content_type__app_label=app_label, permission__codename=codename
        )
    fields = ("permission__codename", "object_pk")
    rows = (
        UserObjectPermission.objects.filter(conditions, user=user)
        .values_list(*fields)
        .union(
            GroupObjectPermission.objects.filter(conditions, group__user=user).values_list(*fields)
        )
    )
    for codename, object_pk in rows:
        granted[by_codename[codename]].add(int(object_pk))
    return granted


def streets_of(regions: set[int]) -> set[int]:
    """The streets among ``regions`` and every street of a district among them."""
    if not regions:
        return set()
    return set(_streets_of(frozenset(regions)))


@cached(cache=TTLCache(maxsize=1_000, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def _streets_of(regions: frozenset[int]) -> frozenset[int]:
    # Kept per process for REFERENCE_MAX_AGE seconds: every request of a signed-in user asks
    # it, and the tree of districts and streets changes with an administrative reform.
    return frozenset(
        Region.objects.filter(
            Q(pk__in=regions) | Q(parent__in=regions), level=RegionLevel.STREET
        ).values_list("pk", flat=True)
    )


def cells_granted(user) -> set[int]:
    return objects_granted(user, CELL_PERMISSION, GridCell)
