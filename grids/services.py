"""Writes of the grids app: cells, assignments, subjects. Every change to a cell bumps the net's
version in the same transaction, which tells every process to rebuild its locate index."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from grids.choices import Crs, GridRole, RiskLevel, SubjectKind
from grids.constants import (
    CHINA_MAX_LAT,
    CHINA_MAX_LNG,
    CHINA_MIN_LAT,
    CHINA_MIN_LNG,
    OVERLAP_TOLERANCE_M2,
)
from grids.credit_code import credit_code_validate
from grids.crs import to_wgs84
from grids.geometry import (
    geometry_area_m2,
    geometry_bbox,
    geometry_clean,
    geometry_overlaps,
    geometry_shape,
)
from grids.locate import cell_index_expire, cell_locate
from grids.models import GridAssignment, GridCell, GridNetVersion, Region, Subject

# 7 to 20 characters: the column holds 20 (+86 and an 11-digit mobile with dashes fit).
_PHONE_RE = re.compile(r"^\+?[0-9][0-9-]{5,17}[0-9]$")


def grid_net_version_bump() -> None:
    """Called inside the transaction that changed cells: a new random stamp, so that a stamp seen
    inside a transaction that was rolled back never comes back for another net. Migration 0003
    creates the row; a flushed test database may lack it."""
    stamp = secrets.randbits(62)
    if not GridNetVersion.objects.filter(pk=1).update(version=stamp):
        GridNetVersion.objects.get_or_create(pk=1, defaults={"version": stamp})
    cell_index_expire()


@dataclass
class CellSaved:
    cell: GridCell
    created: bool
    warnings: list[str] = field(default_factory=list)


def cell_save(
    *,
    code: str,
    name: str,
    level: str,
    community: Region,
    geometry,
    crs: str = Crs.WGS84,
    area: str = "",
    parent: GridCell | None = None,
) -> CellSaved:
    """Create or update the cell with ``code``. The polygon is validated and converted to WGS-84;
    an overlap with a sibling cell (same level, same street) or a comprehensive cell reaching out
    of its first-level cell is not refused but reported in ``warnings``, naming the cells.

    Raises ValidationError (geometry, code, parent). Idempotent for the same input."""
    clean = geometry_clean(geometry, crs=crs)
    cell = GridCell.objects.filter(code=code).first()
    created = cell is None
    if created:
        cell = GridCell(code=code)
    cell.name, cell.level, cell.community, cell.area, cell.parent = (
        name,
        level,
        community,
        area,
        parent,
    )
    cell.geometry = clean
    cell.min_lng, cell.min_lat, cell.max_lng, cell.max_lat = geometry_bbox(clean)
    cell.full_clean()
    with transaction.atomic():
        cell.save()
        grid_net_version_bump()
    return CellSaved(cell=cell, created=created, warnings=cell_warnings(cell))


def cell_warnings(cell: GridCell) -> list[str]:
    """Overlaps with sibling cells beyond OVERLAP_TOLERANCE_M2, and the part of a comprehensive
    cell outside its first-level cell."""
    shape = geometry_shape(cell.geometry)
    siblings = (
        GridCell.objects.filter(level=cell.level, community__parent_id=cell.community.parent_id)
        .exclude(pk=cell.pk)
        .filter(
            min_lng__lte=cell.max_lng,
            max_lng__gte=cell.min_lng,
            min_lat__lte=cell.max_lat,
            max_lat__gte=cell.min_lat,
        )
    )
    names = {}
    others = []
    for sibling in siblings:
        names[sibling.code] = sibling.name
        others.append((sibling.code, geometry_shape(sibling.geometry)))
    warnings = [
        _("%(cell)s overlaps %(other)s %(name)s by %(area)s m².")
        % {"cell": cell.code, "other": code, "name": names[code], "area": overlap}
        for code, overlap in geometry_overlaps(shape, others, OVERLAP_TOLERANCE_M2)
    ]
    if cell.parent_id:
        outside = shape.difference(geometry_shape(cell.parent.geometry))
        outside_m2 = geometry_area_m2(outside) if not outside.is_empty else 0.0
        if outside_m2 > OVERLAP_TOLERANCE_M2:
            warnings.append(
                _("%(cell)s reaches %(area)s m² beyond its first-level cell %(parent)s.")
                % {"cell": cell.code, "area": round(outside_m2, 1), "parent": cell.parent.code}
            )
    return warnings


def cell_delete(*, cell: GridCell) -> None:
    """Raises ProtectedError while comprehensive cells still lie in a first-level cell."""
    with transaction.atomic():
        cell.delete()
        grid_net_version_bump()


# --- assignments ---------------------------------------------------------------------------------


def assignment_create(
    *, user, cell: GridCell, role: str, starts_on: date, ends_on: date | None = None
) -> GridAssignment:
    """Give ``user`` a role in ``cell``. A cell has one grid head at a time: a second serving head,
    or a head whose period overlaps another's, is refused (the database holds the first rule even
    against a race). Raises ValidationError."""
    assignment = GridAssignment(
        user=user, cell=cell, role=role, starts_on=starts_on, ends_on=ends_on
    )
    if role == GridRole.LEADER:
        # Checked before full_clean, whose constraint check would only say "already has a head".
        overlapping = GridAssignment.objects.filter(cell=cell, role=GridRole.LEADER).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on)
        )
        if ends_on is not None:
            overlapping = overlapping.filter(starts_on__lte=ends_on)
        other = overlapping.select_related("user").first()
        if other is not None:
            raise ValidationError(
                _("%(cell)s already has a grid head for that period: %(name)s.")
                % {"cell": cell.code, "name": other.user.get_full_name() or other.user.username},
                code="leader_taken",
            )
    assignment.full_clean()
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:  # a concurrent request named another head first
        raise ValidationError(
            _("This cell already has a serving grid head."), code="leader_taken"
        ) from None
    return assignment


def assignment_end(*, assignment: GridAssignment, ends_on: date) -> GridAssignment:
    """End a serving assignment; ending it again with the same date changes nothing."""
    if assignment.ends_on == ends_on:
        return assignment
    assignment.ends_on = ends_on
    assignment.full_clean()
    assignment.save(update_fields=["ends_on"])
    return assignment


# --- subjects ------------------------------------------------------------------------------------


@dataclass
class SubjectInput:
    """A subject as entered or imported, before it is checked."""

    kind: str
    name: str
    address: str
    lat: float
    lng: float
    crs: str = Crs.WGS84
    credit_code: str = ""
    risk_level: str = RiskLevel.LOW
    contact_name: str = ""
    contact_phone: str = ""
    is_active: bool = True


def subject_input_clean(data: SubjectInput) -> dict:
    """The model fields for ``data``, or ValidationError keyed by field with every problem."""
    errors: dict[str, str] = {}
    fields: dict = {}
    if data.kind not in SubjectKind.values:
        errors["kind"] = _("Unknown kind %(value)r.") % {"value": data.kind}
    fields["kind"] = data.kind
    for name, limit in (("name", 200), ("address", 300)):
        value = (getattr(data, name) or "").strip()
        if not value:
            errors[name] = _("Required.")
        elif len(value) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
        fields[name] = value
    code = (data.credit_code or "").strip()
    if code:
        try:
            code = credit_code_validate(code)
        except ValidationError as exc:
            errors["credit_code"] = exc.messages[0]
    fields["credit_code"] = code or None
    if data.crs not in Crs.values:
        errors["crs"] = _("Unknown coordinate system %(value)r.") % {"value": data.crs}
    elif not _coordinates_ok(data.lat, data.lng):
        errors["lat"] = _("%(lat)s, %(lng)s is not a point in China.") % {
            "lat": data.lat,
            "lng": data.lng,
        }
    else:
        fields["lat"], fields["lng"] = (round(v, 7) for v in to_wgs84(data.lat, data.lng, data.crs))
    if data.risk_level not in RiskLevel.values:
        errors["risk_level"] = _("Unknown risk level %(value)r.") % {"value": data.risk_level}
    fields["risk_level"] = data.risk_level
    fields["contact_name"] = (data.contact_name or "").strip()[:50]
    try:
        fields["contact_phone"] = phone_clean(data.contact_phone)
    except ValidationError as exc:
        errors["contact_phone"] = exc.messages[0]
    fields["is_active"] = bool(data.is_active)
    if errors:
        raise ValidationError(errors)
    return fields


def phone_clean(phone: str) -> str:
    """The phone number without spaces, or ValidationError (7 to 20 digits, dashes, leading +)."""
    phone = (phone or "").strip().replace(" ", "")
    if phone and not _PHONE_RE.match(phone):
        raise ValidationError(_("%(value)r is not a phone number.") % {"value": phone})
    return phone


def _coordinates_ok(lat, lng) -> bool:
    return (
        isinstance(lat, int | float)
        and isinstance(lng, int | float)
        and CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT
        and CHINA_MIN_LNG <= lng <= CHINA_MAX_LNG
    )


def subject_save(*, data: SubjectInput, subject: Subject | None = None) -> Subject:
    """Create or update a subject; its cell is found from its location. Raises ValidationError."""
    fields = subject_input_clean(data)
    if fields["credit_code"]:
        taken = Subject.objects.filter(credit_code=fields["credit_code"])
        if subject is not None:
            taken = taken.exclude(pk=subject.pk)
        if taken.exists():
            raise ValidationError({"credit_code": _("Another subject has this credit code.")})
    subject = subject or Subject()
    for name, value in fields.items():
        setattr(subject, name, value)
    located = cell_locate(subject.lat, subject.lng)
    subject.cell_id = located.cell.id if located.cell else None
    subject.save()
    return subject
