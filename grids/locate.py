"""Which comprehensive cell holds a point: the hot path of every report from a phone.

``CellIndex`` is built from (id, code, polygon) rows and answers in memory. Shapely 2's STRtree
finds the candidate cells; on top of it a uniform bucket table remembers, for each small square of
the net, either the one cell whose interior holds the whole square (answered with no geometry
test at all: most points) or the few cells to test exactly. A point on a shared boundary belongs
to every cell it touches; the one with the smallest code wins, so the answer never depends on
build order or on which process answers.

``cell_locate`` keeps one index per process and rebuilds it when the net's version
(GridNetVersion, bumped in the same transaction as any cell change) differs from the one it was
built from, checking at most every LOCATE_VERSION_CHECK_SECONDS.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from grids.constants import LOCATE_VERSION_CHECK_SECONDS
from grids.crs import to_wgs84
from grids.geometry import METRES_PER_DEGREE, geometry_local

# Bucket value meaning "no cell's bounding box reaches this square".
_EMPTY = -1
# Bucket value meaning "test the candidates listed for this square".
_MIXED = -2
# Bound on the bucket table: each square is a shapely box while the index is built.
_MAX_BUCKETS = 1_000_000


@dataclass(frozen=True)
class CellRef:
    """What the index knows of a cell, and the version of the net it was read from (a key for
    what callers cache about the cell: grids.selectors.cell_with_street)."""

    id: int
    code: str
    version: int = 0


@dataclass(frozen=True)
class LocateResult:
    """``cell`` holds the point, or is None; then ``nearest`` is the closest cell and
    ``distance_m`` how far the point lies outside it."""

    cell: CellRef | None
    nearest: CellRef | None = None
    distance_m: float | None = None


class CellIndex:
    """Immutable once built; safe to share between threads."""

    def __init__(self, rows: list[tuple[int, str, shapely.Geometry]], *, version: int = 0):
        # Sorted by code: candidate lists come out in code order, so the first hit wins.
        rows = sorted(rows, key=lambda row: row[1])
        self.version = version
        self.refs = [CellRef(id=row[0], code=row[1], version=version) for row in rows]
        self.shapes = [row[2] for row in rows]
        for shape in self.shapes:
            shapely.prepare(shape)
        self.tree = STRtree(self.shapes) if self.shapes else None
        # A second tree on a local plane in metres (equirectangular about the net's middle
        # latitude) answers "nearest cell, how far" in one query: degrees of longitude are
        # shorter than degrees of latitude, so nearest-by-degrees is not nearest-by-metres.
        lat0 = (
            float(np.mean(shapely.bounds(np.array(self.shapes, dtype=object))[:, [1, 3]]))
            if self.shapes
            else 0.0
        )
        self.kx = METRES_PER_DEGREE * math.cos(math.radians(lat0))
        self.local_tree = (
            STRtree([geometry_local(shape, lat0) for shape in self.shapes]) if self.shapes else None
        )
        self._build_buckets()

    def __len__(self) -> int:
        return len(self.refs)

    def _build_buckets(self) -> None:
        self.candidates: dict[int, list[int]] = {}
        if not self.shapes:
            self.buckets = np.zeros((0, 0), dtype=np.int32)
            self.x0 = self.y0 = 0.0
            self.inv = 1.0
            return
        bounds = shapely.bounds(np.array(self.shapes, dtype=object))
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        # A quarter of the median cell's smaller side: most squares fall inside one cell.
        sides = np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        step = max(float(np.median(sides)) / 4, 1e-6)
        while math.ceil((x1 - x0) / step) * math.ceil((y1 - y0) / step) > _MAX_BUCKETS:
            step *= 2
        nx, ny = max(1, math.ceil((x1 - x0) / step)), max(1, math.ceil((y1 - y0) / step))
        self.x0, self.y0, self.inv = x0, y0, 1.0 / step
        xs = x0 + np.arange(nx) * step
        ys = y0 + np.arange(ny) * step
        cols, rows_ = np.meshgrid(np.arange(nx), np.arange(ny))
        left, bottom = xs[cols.ravel()], ys[rows_.ravel()]
        squares = shapely.box(left, bottom, left + step, bottom + step)
        shapes = np.array(self.shapes, dtype=object)
        # Every (square, cell) pair whose bounding boxes meet, then the exact tests at once.
        square_of, cell_of = self.tree.query(squares)
        inside = shapely.contains_properly(shapes[cell_of], squares[square_of])
        touches = shapely.intersects(shapes[cell_of], squares[square_of])
        pairs_per_square = np.bincount(square_of, minlength=nx * ny)
        buckets = np.full(nx * ny, _EMPTY, dtype=np.int32)
        # One candidate whose interior holds the whole square: answered without a test.
        sole = inside & (pairs_per_square[square_of] == 1)
        buckets[square_of[sole]] = cell_of[sole]
        # Otherwise the cells that reach into the square, in code order, tested per point.
        mixed = touches & ~sole & (buckets[square_of] == _EMPTY)
        for square, cell in sorted(
            zip(square_of[mixed].tolist(), cell_of[mixed].tolist(), strict=True)
        ):
            self.candidates.setdefault(square, []).append(cell)
        buckets[list(self.candidates)] = _MIXED
        self.buckets = buckets.reshape(ny, nx)
        self.nx = nx

    def locate(self, lat: float, lng: float) -> LocateResult:
        """The cell holding (lat, lng) in WGS-84, else the nearest cell and the distance."""
        col = int((lng - self.x0) * self.inv)
        row = int((lat - self.y0) * self.inv)
        if 0 <= row < self.buckets.shape[0] and 0 <= col < self.buckets.shape[1]:
            value = int(self.buckets[row, col])
            if value >= 0:
                return LocateResult(cell=self.refs[value])
            if value == _MIXED:
                for candidate in self.candidates[row * self.nx + col]:
                    if shapely.intersects_xy(self.shapes[candidate], lng, lat):
                        return LocateResult(cell=self.refs[candidate])
        return self._nearest(lat, lng)

    def _nearest(self, lat: float, lng: float) -> LocateResult:
        if self.local_tree is None:
            return LocateResult(cell=None)
        point = shapely.Point(lng * self.kx, lat * METRES_PER_DEGREE)
        # Nearest on the local metric plane; of cells at the same distance the smallest code.
        nearest, distances = self.local_tree.query_nearest(
            point, all_matches=True, return_distance=True
        )
        candidate = int(nearest.min())  # indices follow code order
        return LocateResult(
            cell=None, nearest=self.refs[candidate], distance_m=round(float(distances.min()), 1)
        )


# --- the index of this process --------------------------------------------------------------------

_lock = threading.Lock()
_index: CellIndex | None = None
_checked_at = 0.0


def _current_index() -> CellIndex:
    """The process's index, rebuilt when the net's version moved (checked every few seconds)."""
    global _index, _checked_at
    now = time.monotonic()
    if _index is not None and now - _checked_at < LOCATE_VERSION_CHECK_SECONDS:
        return _index
    from grids.selectors import grid_net_version, locate_rows  # models load after apps

    version = grid_net_version()
    with _lock:
        if _index is None or _index.version != version:
            _index = CellIndex(locate_rows(), version=version)
        _checked_at = now
        return _index


def cell_index_expire() -> None:
    """Make this process check the net's version on its next lookup: called by whatever changed
    a cell, so that the writer itself sees its change at once (inside its own transaction too)."""
    global _checked_at
    _checked_at = 0.0


def cell_index_reset() -> None:
    """Forget this process's index (tests; a changed net is noticed without this)."""
    global _index, _checked_at
    with _lock:
        _index, _checked_at = None, 0.0


def cell_locate(lat: float, lng: float, *, crs: str = "wgs84") -> LocateResult:
    """The comprehensive cell holding the point given in ``crs``; or None with the nearest."""
    w_lat, w_lng = to_wgs84(lat, lng, crs)
    return _current_index().locate(w_lat, w_lng)
