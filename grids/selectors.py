"""Reads of the grids app. Permissions arrive with the API issue (#7); until then every reader is
an authenticated user, and the functions already take the user so that callers need not change."""

from __future__ import annotations

from django.db.models import QuerySet

from grids.choices import GridLevel
from grids.geometry import geometry_shape
from grids.models import GridCell, GridNetVersion, Subject


def grid_net_version() -> int:
    return GridNetVersion.objects.values_list("version", flat=True).first() or 0


def locate_rows() -> list[tuple]:
    """(id, code, shape) of every comprehensive cell: what the locate index is built from."""
    cells = GridCell.objects.filter(level=GridLevel.COMPREHENSIVE).values_list(
        "id", "code", "geometry"
    )
    return [(pk, code, geometry_shape(geometry)) for pk, code, geometry in cells]


def cell_list(*, user) -> QuerySet[GridCell]:
    return GridCell.objects.select_related("community", "community__parent", "parent")


def subject_list(*, user) -> QuerySet[Subject]:
    return Subject.objects.select_related("cell")


def subject_contact_phone_visible(*, user) -> bool:
    """PIPL: the contact's phone number in full only for those who need it."""
    return user.has_perm("grids.view_subject_contact_phone")


def phone_mask(phone: str) -> str:
    """138****5678: keeps the carrier prefix and the last four digits, hides the rest."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
