"""Reads of the grids app. The net itself (cells, locating) is the street's map, read by every
signed-in user; the subject directory (businesses and their contacts) only within the streets
and cells granted to the user (grids.permissions)."""

from __future__ import annotations

import threading

from cachetools import TTLCache, cached
from django.db.models import Q, QuerySet

from core.constants import REFERENCE_MAX_AGE
from grids.choices import GridLevel
from grids.geometry import geometry_shape
from grids.models import GridCell, GridNetVersion, Subject
from grids.permissions import cells_granted, streets_granted


def grid_net_version() -> int:
    return GridNetVersion.objects.values_list("version", flat=True).first() or 0


def locate_rows() -> list[tuple]:
    """(id, code, shape) of every comprehensive cell: what the locate index is built from."""
    cells = GridCell.objects.filter(level=GridLevel.COMPREHENSIVE).values_list(
        "id", "code", "geometry"
    )
    return [(pk, code, geometry_shape(geometry)) for pk, code, geometry in cells]


@cached(cache=TTLCache(maxsize=10_000, ttl=REFERENCE_MAX_AGE), lock=threading.Lock())
def cell_with_street(cell_id: int, version: int) -> GridCell:
    """The cell with its community and street loaded, as the located point's case needs them
    (``version``: the net's, from the locate index's CellRef). Kept per process for the net's
    version and at most REFERENCE_MAX_AGE seconds, so a renamed street shows within a minute.
    Shared between threads and requests: read it, never change it."""
    return GridCell.objects.select_related("community__parent").get(pk=cell_id)


def cell_list(*, user) -> QuerySet[GridCell]:
    return GridCell.objects.select_related("community", "community__parent", "parent")


def subject_list(*, user) -> QuerySet[Subject]:
    subjects = Subject.objects.select_related("cell")
    if user.is_superuser:
        return subjects
    return subjects.filter(
        Q(cell__in=cells_granted(user)) | Q(cell__community__parent__in=streets_granted(user))
    )


def subject_contact_phone_visible(*, user) -> bool:
    """PIPL: the contact's phone number in full only for those who need it."""
    return user.has_perm("grids.view_subject_contact_phone")


def phone_mask(phone: str) -> str:
    """138****5678: keeps the carrier prefix and the last four digits, hides the rest."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
