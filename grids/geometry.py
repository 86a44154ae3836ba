"""Grid polygons: validation with a reason people can act on, conversion into WGS-84, areas,
overlaps and a drawing for the admin. GeoJSON positions are ``[lng, lat]``."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from grids.constants import CHINA_MAX_LAT, CHINA_MAX_LNG, CHINA_MIN_LAT, CHINA_MIN_LNG
from grids.crs import to_wgs84

# Metres per degree of latitude on the mean Earth sphere (radius 6371008.8 m).
METRES_PER_DEGREE = 6371008.8 * math.pi / 180
# Stored coordinates keep 7 decimals: about 1 cm, finer than any phone's fix.
DECIMALS = 7

# shapely's validity reasons (GEOS) in words a district administrator reads.
_REASONS = {
    "Self-intersection": gettext_noop("self-intersection"),
    "Ring Self-intersection": gettext_noop("a ring touches itself"),
    "Too few points": gettext_noop("too few points"),
    "Hole lies outside shell": gettext_noop("a hole lies outside its polygon"),
    "Nested holes": gettext_noop("nested holes"),
    "Interior is disconnected": gettext_noop("the interior is cut in two"),
    "Nested shells": gettext_noop("one polygon lies inside another"),
    "Duplicate Rings": gettext_noop("duplicate rings"),
    "Invalid Coordinate": gettext_noop("an invalid coordinate"),
}
_REASON_RE = re.compile(r"^(?P<kind>[^\[]+)\[(?P<x>[-0-9.eE]+) (?P<y>[-0-9.eE]+)\]")


def _error(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_geometry")


def _position(value, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise _error(
            _("%(where)s: a position is [longitude, latitude] in numbers.") % {"where": where}
        )
    return float(value[0]), float(value[1])


def geometry_clean(geojson, *, crs: str = "wgs84") -> dict:
    """Validate a GeoJSON Polygon or MultiPolygon given in ``crs`` and return it in WGS-84.

    Raises ValidationError with the first reason found: not GeoJSON, wrong type, an unclosed or
    too short ring, a position outside China's bounding box, or a shape GEOS calls invalid
    (self-intersection, a bow-tie, a hole outside its shell …) with where it happens."""
    if isinstance(geojson, str):
        try:
            geojson = json.loads(geojson)
        except ValueError as exc:
            raise _error(_("The polygon is not valid JSON: %(error)s") % {"error": exc}) from None
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise _error(_("A grid cell is a GeoJSON Polygon or MultiPolygon."))
    coordinates = geojson.get("coordinates")
    polygons = [coordinates] if geojson["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list | tuple) or not polygons:
        raise _error(_("The polygon has no coordinates."))
    converted = []
    for p_index, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list | tuple) or not rings:
            raise _error(_("Polygon %(n)d has no rings.") % {"n": p_index})
        new_rings = []
        for r_index, ring in enumerate(rings, start=1):
            where = _("ring %(r)d of polygon %(p)d") % {"r": r_index, "p": p_index}
            if not isinstance(ring, list | tuple) or len(ring) < 4:
                raise _error(_("%(where)s: a ring needs at least 4 positions.") % {"where": where})
            positions = [_position(value, where) for value in ring]
            if positions[0] != positions[-1]:
                raise _error(
                    _("%(where)s is not closed: its last position must repeat the first.")
                    % {"where": where}
                )
            new_ring = []
            for lng, lat in positions:
                w_lat, w_lng = to_wgs84(lat, lng, crs)
                if not (
                    CHINA_MIN_LNG <= w_lng <= CHINA_MAX_LNG
                    and CHINA_MIN_LAT <= w_lat <= CHINA_MAX_LAT
                ):
                    raise _error(
                        _("%(where)s: position %(lng)s, %(lat)s lies outside China's bounding box.")
                        % {"where": where, "lng": lng, "lat": lat}
                    )
                new_ring.append([round(w_lng, DECIMALS), round(w_lat, DECIMALS)])
            # Rounding may move the two ends apart by a hair; a ring stays closed.
            new_ring[-1] = list(new_ring[0])
            new_rings.append(new_ring)
        converted.append(new_rings)
    result = {
        "type": geojson["type"],
        "coordinates": converted[0] if geojson["type"] == "Polygon" else converted,
    }
    shape = shapely.geometry.shape(result)
    if not shapely.is_valid(shape):
        raise _error(_invalid_reason(shapely.is_valid_reason(shape)))
    if shape.area == 0:
        raise _error(_("The polygon has no area."))
    return result


def _invalid_reason(reason: str) -> str:
    match = _REASON_RE.match(reason)
    if not match:
        return _("Invalid polygon: %(reason)s") % {"reason": reason}
    kind = _REASONS.get(match["kind"].strip(), match["kind"].strip())
    return _("Invalid polygon: %(kind)s at %(lng).6f, %(lat).6f.") % {
        "kind": _(kind),
        "lng": float(match["x"]),
        "lat": float(match["y"]),
    }


def geometry_shape(geojson: dict) -> shapely.Geometry:
    return shapely.geometry.shape(geojson)


def geometry_bbox(geojson: dict) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat)."""
    return tuple(float(v) for v in shapely.bounds(geometry_shape(geojson)))


def geometry_local(shape: shapely.Geometry, lat0: float) -> shapely.Geometry:
    """The shape on a local plane in metres (equirectangular about ``lat0``). Within a city the
    error is far below a metre per kilometre, enough for areas, overlaps and nearest distances."""
    scale = np.array([METRES_PER_DEGREE * math.cos(math.radians(lat0)), METRES_PER_DEGREE])
    return shapely.transform(shape, lambda xy: xy * scale)


def geometry_area_m2(shape: shapely.Geometry) -> float:
    lat0 = shape.centroid.y
    return geometry_local(shape, lat0).area


def geometry_overlaps(
    shape: shapely.Geometry, others: list[tuple[str, shapely.Geometry]], tolerance_m2: float
) -> list[tuple[str, float]]:
    """(code, overlap in m²) for each of ``others`` that overlaps ``shape`` by more than the
    tolerance; touching along a shared edge is no overlap."""
    found = []
    for code, other in others:
        if not shape.intersects(other):
            continue
        # Cells that only share an edge intersect in a line, whose area is zero.
        area = geometry_area_m2(shape.intersection(other))
        if area > tolerance_m2:
            found.append((code, round(area, 1)))
    return found


def geometry_svg_path(geojson: dict, *, size: int = 240) -> tuple[str, int, int]:
    """An SVG path of the polygon scaled into a ``size`` box (north up), with its width and
    height. Longitudes are shrunk by cos(latitude) so that the drawing keeps the shape."""
    shape = geometry_shape(geojson)
    min_lng, min_lat, max_lng, max_lat = shapely.bounds(shape)
    k = math.cos(math.radians((min_lat + max_lat) / 2))
    span = max((max_lng - min_lng) * k, max_lat - min_lat) or 1.0
    scale = (size - 8) / span

    def point(lng: float, lat: float) -> str:
        return f"{4 + (lng - min_lng) * k * scale:.1f},{4 + (max_lat - lat) * scale:.1f}"

    polygons = [geojson["coordinates"]] if geojson["type"] == "Polygon" else geojson["coordinates"]
    parts = []
    for rings in polygons:
        for ring in rings:
            parts.append("M" + " L".join(point(lng, lat) for lng, lat in ring[:-1]) + " Z")
    width = round(8 + (max_lng - min_lng) * k * scale)
    height = round(8 + (max_lat - min_lat) * scale)
    return " ".join(parts), width, height
