"""Coordinate systems: phones' WGS-84, AMap/Tencent's GCJ-02 and Baidu's BD-09."""

import math
import re

import pytest

from grids.crs import CRS_CODES, distance_m, from_wgs84, to_wgs84

QINHUAI = (32.02, 118.79)  # Nanjing, Qinhuai district


def _points_over_china():
    """A 15 × 16 grid over mainland China's extent, Hainan to Heilongjiang, plus Qinhuai. The
    steps are not whole degrees: at whole degrees the transform's sine terms all vanish."""
    lats = [18.3 + 2.47 * i for i in range(15)]  # 18.3 … 52.88
    lngs = [73.7 + 4.03 * j for j in range(16)]  # 73.7 … 134.15
    return [QINHUAI, *((lat, lng) for lat in lats for lng in lngs)]


CHINA = _points_over_china()


def test_the_sample_covers_at_least_200_points_across_china():
    lats = [lat for lat, _ in CHINA]
    lngs = [lng for _, lng in CHINA]

    assert len(CHINA) >= 200
    assert min(lats) < 20 and max(lats) > 50
    assert min(lngs) < 76 and max(lngs) > 132


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_round_trip_through_a_chinese_crs_returns_within_a_millimetre(crs):
    # given points all over China
    # when each goes WGS-84 → crs → WGS-84
    errors = [
        distance_m(lat, lng, *to_wgs84(*from_wgs84(lat, lng, crs), crs)) for lat, lng in CHINA
    ]

    # then none moved more than a millimetre (the one-step GCJ-02 inverse is off by metres)
    assert max(errors) < 0.001


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_converting_in_qinhuai_round_trips_under_a_metre(crs):
    lat, lng = QINHUAI

    shown = from_wgs84(lat=lat, lng=lng, crs=crs)
    back = to_wgs84(*shown, crs=crs)

    assert distance_m(lat, lng, *back) < 1.0


def test_the_gcj02_offset_in_nanjing_is_a_few_hundred_metres():
    gcj = from_wgs84(*QINHUAI, "gcj02")

    offset = distance_m(*QINHUAI, *gcj)

    assert 100 < offset < 700


@pytest.mark.parametrize(
    ("crs", "expected"),
    [("gcj02", (45.00197815, 123.00607541)), ("bd09", (45.0083293, 123.0124491))],
)
def test_the_forward_transforms_match_a_published_implementation(crs, expected):
    # given the reference values of gcoord's test suite (hujiulong/gcoord, WGS84.spec.ts)
    # when WGS-84 (45°N, 123°E) is converted
    lat, lng = from_wgs84(45.0, 123.0, crs)

    # then every published digit agrees
    assert lat == pytest.approx(expected[0], abs=1e-7)
    assert lng == pytest.approx(expected[1], abs=1e-7)


def test_the_iterative_gcj02_inverse_beats_the_one_step_inverse_by_metres():
    # given the common one-step inverse: subtract the offset found at the GCJ-02 point itself
    def one_step(lat, lng):
        fwd_lat, fwd_lng = from_wgs84(lat, lng, "gcj02")
        return 2 * lat - fwd_lat, 2 * lng - fwd_lng

    # when both invert the GCJ-02 image of every sample point
    shown = [from_wgs84(lat, lng, "gcj02") for lat, lng in CHINA]
    one_step_errors = [distance_m(*p, *one_step(*g)) for p, g in zip(CHINA, shown, strict=True)]
    errors = [distance_m(*p, *to_wgs84(*g, "gcj02")) for p, g in zip(CHINA, shown, strict=True)]

    # then the one-step inverse is off by metres somewhere, ours by under a millimetre everywhere
    assert max(one_step_errors) > 1.0
    assert max(errors) < 0.001


def test_bd09_lies_further_from_wgs84_than_gcj02_in_nanjing():
    gcj = from_wgs84(*QINHUAI, "gcj02")
    bd = from_wgs84(*QINHUAI, "bd09")

    assert distance_m(*gcj, *bd) > 100
    assert distance_m(*QINHUAI, *bd) > distance_m(*QINHUAI, *gcj)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [(35.68, 139.76), (51.5074, -0.1278), (-33.87, 151.21)],
    ids=["tokyo", "london", "sydney"],
)
def test_outside_china_gcj02_is_wgs84(lat, lng):
    assert from_wgs84(lat, lng, "gcj02") == (lat, lng)
    assert to_wgs84(lat, lng, "gcj02") == (lat, lng)


@pytest.mark.parametrize(("lat", "lng"), [QINHUAI, (35.68, 139.76)])
def test_wgs84_is_the_identity(lat, lng):
    assert to_wgs84(lat, lng, "wgs84") == (lat, lng)
    assert from_wgs84(lat, lng, "wgs84") == (lat, lng)


@pytest.mark.parametrize("crs", ["WGS84", "gcj-02", "bd-09", "epsg:4326", ""])
def test_an_unknown_crs_is_refused_by_name(crs):
    with pytest.raises(ValueError, match=re.escape(repr(crs))):
        to_wgs84(*QINHUAI, crs)
    with pytest.raises(ValueError, match=re.escape(repr(crs))):
        from_wgs84(*QINHUAI, crs)


def test_the_crs_codes_are_the_three_supported():
    assert CRS_CODES == ("wgs84", "gcj02", "bd09")


def test_one_degree_of_latitude_is_about_111_km():
    assert distance_m(32.0, 118.79, 33.0, 118.79) == pytest.approx(111_195.08, abs=1.0)


def test_the_distance_is_symmetric_and_zero_for_the_same_point():
    other = (31.23, 121.47)  # Shanghai

    assert distance_m(*QINHUAI, *QINHUAI) == 0.0
    assert distance_m(*QINHUAI, *other) == distance_m(*other, *QINHUAI)
    assert distance_m(*QINHUAI, *other) == pytest.approx(268_500, rel=0.001)


def test_antipodal_points_are_half_the_circumference_apart():
    assert distance_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6_371_008.8, abs=0.01)
