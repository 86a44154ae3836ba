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
from django.db.models import QuerySet

from grids.choices import RegionLevel
from grids.models import GridCell, Region
from grids.permissions import cells_granted, streets_granted

# (user) -> ids of streets. Apps to the right of powers register theirs at start-up (their
# AppConfig.ready): powers may not import them (DESIGN.md, dependencies point one way).
StreetSource = Callable[[Any], Iterable[int]]
_STREET_SOURCES: list[StreetSource] = []


def street_source_register(source: StreetSource) -> None:
    """Add the streets ``source(user)`` names to every user's ``usage_streets``. Idempotent."""
    if source not in _STREET_SOURCES:
        _STREET_SOURCES.append(source)


def usage_streets(user) -> QuerySet[Region]:
    """The streets whose power usage ``user`` may read (an empty queryset for nobody). A few
    queries, however many streets and cells the user holds."""
    streets = Region.objects.filter(level=RegionLevel.STREET)
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
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
