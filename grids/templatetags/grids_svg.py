"""``{% cell_svg cell lat lng %}``: a grid cell drawn from its GeoJSON as an SVG picture, with a
point marked, for pages that show where a case is without a map server or script (the polygon
and the point are projected on the local plane, north up)."""

from __future__ import annotations

import math

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()

SIZE = 240  # the picture's width and height in its own units
MARGIN = 12


def _rings(geometry: dict) -> list[list[list[float]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return list(geometry.get("coordinates") or [])
    if kind == "MultiPolygon":
        return [ring for polygon in geometry.get("coordinates") or [] for ring in polygon]
    return []


@register.simple_tag
def cell_svg(cell, lat=None, lng=None):
    """The SVG of ``cell`` (a GridCell, or None) with the point (lat, lng) marked; the point
    alone on a blank square when there is no cell."""
    rings = _rings(cell.geometry) if cell is not None else []
    points = [(x, y) for ring in rings for x, y, *_rest in ring]
    if lat is not None and lng is not None:
        points.append((lng, lat))
    if not points:
        return ""
    k = math.cos(math.radians(sum(y for _x, y in points) / len(points)))
    xs = [x * k for x, _y in points]
    ys = [y for _x, y in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-4
    scale = (SIZE - 2 * MARGIN) / span
    x0 = min(xs) - (span - (max(xs) - min(xs))) / 2
    y1 = max(ys) + (span - (max(ys) - min(ys))) / 2

    def project(x: float, y: float) -> str:
        return f"{(x * k - x0) * scale + MARGIN:.1f},{(y1 - y) * scale + MARGIN:.1f}"

    shapes = [
        format_html(
            '<polygon class="cell-shape" points="{}"></polygon>',
            " ".join(project(x, y) for x, y, *_rest in ring),
        )
        for ring in rings
    ]
    if lat is not None and lng is not None:
        cx, cy = project(lng, lat).split(",")
        shapes.append(
            format_html('<circle class="case-point" cx="{}" cy="{}" r="6"></circle>', cx, cy)
        )
    label = (
        _("Grid cell %(name)s, with the case's position marked") % {"name": cell.name}
        if cell is not None
        else _("The case's position (outside every grid cell)")
    )
    return format_html(
        '<svg class="cell-map" viewBox="0 0 {size} {size}" role="img" aria-label="{label}">'
        "<title>{label}</title>{shapes}</svg>",
        size=SIZE,
        label=label,
        shapes=mark_safe("".join(shapes)),  # noqa: S308 -- each shape built by format_html
    )
