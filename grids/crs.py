"""Coordinate reference systems used by maps in China, and conversion to WGS-84.

The same place has different coordinates depending on who reports it:

* phones (GPS, the browser's Geolocation API) report WGS-84, the world standard;
* AMap (高德) and Tencent maps use GCJ-02, the "Mars" system: WGS-84 shifted by a deliberately
  obfuscated, non-linear offset of a few hundred metres, mandated for maps published in China;
* Baidu maps use BD-09, a further offset applied on top of GCJ-02.

We store WGS-84 only, so that points from different sources are comparable and distances are
true, and convert at the edges: whatever a map picker or an import hands us is converted with
`to_wgs84`, and `from_wgs84` converts back for display on a Chinese base map.

GCJ-02 is defined only by its forward transform (WGS-84 → GCJ-02, the widely published
algorithm reproduced below); there is no closed-form inverse. The common one-step inverse
(subtract the offset computed at the GCJ-02 point) is off by up to about 4 metres, enough to put
a point on the wrong side of a street, so `to_wgs84` inverts iteratively to far below a metre.
"""

import math
from collections.abc import Callable

CRS_CODES = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, which the published GCJ-02 algorithm is built on.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

# BD-09's rotation/scale constant.
_X_PI = math.pi * 3000.0 / 180.0

# Mean Earth radius (IUGG), the usual choice for haversine distances.
EARTH_RADIUS_M = 6371008.8

# Inverse iterations stop at this change in degrees (about 0.1 mm) or after this many rounds.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30


def _outside_china(lat: float, lng: float) -> bool:
    # GCJ-02 is only applied inside this rough box; elsewhere AMap/Tencent show WGS-84 as is.
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if _outside_china(lat, lng):
        return lat, lng
    # The polynomials are in metres-ish units around (105°E, 35°N); scale them to degrees on the
    # Krasovsky ellipsoid at this latitude.
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    d_lng = (d_lng * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    lat: float,
    lng: float,
    start: tuple[float, float],
) -> tuple[float, float]:
    # Fixed-point iteration on the forward transform: the offsets vary slowly with position, so
    # correcting by the residual converges geometrically (the error shrinks about a hundredfold
    # each round, 3-5 rounds in practice).
    src_lat, src_lng = start
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fwd_lat, fwd_lng = forward(src_lat, src_lng)
        step_lat, step_lng = fwd_lat - lat, fwd_lng - lng
        src_lat, src_lng = src_lat - step_lat, src_lng - step_lng
        if abs(step_lat) < _INVERSE_TOLERANCE_DEG and abs(step_lng) < _INVERSE_TOLERANCE_DEG:
            break
    return src_lat, src_lng


def _gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    return _invert(_wgs84_to_gcj02, lat, lng, start=(lat, lng))


def _gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    # Baidu's published inverse is itself approximate (it evaluates the perturbation at the BD-09
    # point instead of the GCJ-02 one); refine it the same way as GCJ-02 so the round trip is
    # exact to the tolerance rather than to about two decimetres.
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    start = z * math.sin(theta), z * math.cos(theta)
    return _invert(_gcj02_to_bd09, lat, lng, start=start)


def _check_crs(crs: str) -> None:
    if crs not in CRS_CODES:
        raise ValueError(
            f"Unknown coordinate reference system {crs!r}; expected one of {CRS_CODES}."
        )


def to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """Convert a point given in `crs` ("wgs84", "gcj02" or "bd09") to WGS-84 (lat, lng)."""
    _check_crs(crs)
    if crs == "gcj02":
        return _gcj02_to_wgs84(lat, lng)
    if crs == "bd09":
        return _gcj02_to_wgs84(*_bd09_to_gcj02(lat, lng))
    return lat, lng


def from_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """Convert a WGS-84 point to `crs` ("wgs84", "gcj02" or "bd09"), returning (lat, lng)."""
    _check_crs(crs)
    if crs == "gcj02":
        return _wgs84_to_gcj02(lat, lng)
    if crs == "bd09":
        return _gcj02_to_bd09(*_wgs84_to_gcj02(lat, lng))
    return lat, lng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # Rounding can push h a hair above 1 for antipodal points, where asin would fail.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))
