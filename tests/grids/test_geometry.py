"""Cell polygons: refused with a reason people can act on; converted into WGS-84 on the way in."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from grids.crs import distance_m, from_wgs84
from grids.geometry import geometry_clean, geometry_svg_path


def square(lng=118.79, lat=32.0, side=0.002):
    return [[lng, lat], [lng + side, lat], [lng + side, lat + side], [lng, lat + side], [lng, lat]]


def refusal(geojson, **kwargs) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as error:
        geometry_clean(geojson, **kwargs)
    return error.value.messages[0]


def test_a_bow_tie_is_refused_naming_the_self_intersection():
    # given a bow-tie: two triangles crossing at (118.791, 32.001)
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[118.79, 32.0], [118.792, 32.002], [118.792, 32.0], [118.79, 32.002], [118.79, 32.0]]
        ],
    }

    assert refusal(bow_tie) == "Invalid polygon: self-intersection at 118.791000, 32.001000."


def test_an_unclosed_ring_is_refused():
    ring = [*square()[:-1], [118.7901, 32.0]]
    assert refusal({"type": "Polygon", "coordinates": [ring]}) == (
        "ring 1 of polygon 1 is not closed: its last position must repeat the first."
    )


def test_a_polygon_outside_china_is_refused_naming_the_position():
    # lat and lng swapped: (32.0, 118.79) as (lng, lat)
    swapped = [[lat, lng] for lng, lat in square()]
    assert refusal({"type": "Polygon", "coordinates": [swapped]}) == (
        "ring 1 of polygon 1: position 32.0, 118.79 lies outside China's bounding box."
    )


@pytest.mark.parametrize(
    ("geojson", "message"),
    [
        (
            {"type": "Point", "coordinates": [118.79, 32.0]},
            "A grid cell is a GeoJSON Polygon or MultiPolygon.",
        ),
        ("{not json", None),
        ({"type": "Polygon", "coordinates": []}, "Polygon 1 has no rings."),
        ({"type": "MultiPolygon", "coordinates": []}, "The polygon has no coordinates."),
        (
            {"type": "Polygon", "coordinates": [[[118.79, 32.0], [118.8, 32.0], [118.79, 32.0]]]},
            None,
        ),
        ({"type": "Polygon", "coordinates": [[["a", 32.0]] * 4]}, None),
    ],
)
def test_malformed_geojson_is_refused(geojson, message):
    text = refusal(geojson)
    if message:
        assert text == message
    else:
        assert text


def test_a_hole_outside_its_shell_is_refused():
    shell, hole = square(), square(lng=118.8, lat=32.01, side=0.001)
    text = refusal({"type": "Polygon", "coordinates": [shell, hole]})
    assert text.startswith("Invalid polygon: a hole lies outside its polygon at ")


def test_a_multipolygon_is_accepted_and_kept():
    geojson = {"type": "MultiPolygon", "coordinates": [[square()], [square(lng=118.8)]]}
    rounded = [
        [[[round(v, 7) for v in position] for position in ring] for ring in polygon]
        for polygon in geojson["coordinates"]
    ]
    assert geometry_clean(geojson) == {"type": "MultiPolygon", "coordinates": rounded}


def test_gcj02_input_is_stored_in_wgs84_within_a_metre():
    # given a square as AMap would give it (GCJ-02)
    wgs = square()
    gcj = [list(reversed(from_wgs84(lat, lng, "gcj02"))) for lng, lat in wgs]

    # when cleaned with crs gcj02
    stored = geometry_clean({"type": "Polygon", "coordinates": [gcj]}, crs="gcj02")

    # then every stored position is the WGS-84 one, to under a metre (7 decimals ≈ 1 cm)
    for (lng, lat), (s_lng, s_lat) in zip(wgs, stored["coordinates"][0], strict=True):
        assert distance_m(lat, lng, s_lat, s_lng) < 0.05
    # and the shift it undid is the several hundred metres GCJ-02 adds in Nanjing
    assert (
        distance_m(
            gcj[0][1], gcj[0][0], stored["coordinates"][0][0][1], stored["coordinates"][0][0][0]
        )
        > 100
    )


def test_svg_drawing_keeps_north_up_and_fits_the_box():
    path, width, height = geometry_svg_path(
        {"type": "Polygon", "coordinates": [square()]}, size=100
    )
    assert path.startswith("M4.0,") and path.endswith(" Z")
    assert max(width, height) == 100
    # the southern edge (first two positions) is drawn at the bottom
    first, second = path[1:].split(" L")[:2]
    assert first.split(",")[1] == second.split(",")[1] == f"{height - 4:.1f}"
