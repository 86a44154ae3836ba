"""The rights on the net's containers (django-guardian object permissions on Region and
GridCell): which streets and cells a user was granted. The enforcement app derives case
visibility from these (enforcement.permissions); here they scope the subject directory."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

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
    regions = objects_granted(user, REGION_PERMISSION, Region)
    if not regions:
        return set()
    return set(
        Region.objects.filter(
            Q(pk__in=regions) | Q(parent__in=regions), level=RegionLevel.STREET
        ).values_list("pk", flat=True)
    )


def cells_granted(user) -> set[int]:
    return objects_granted(user, CELL_PERMISSION, GridCell)
