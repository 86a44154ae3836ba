"""cell_locate: the comprehensive cell holding a point, the same answer on a shared boundary every
time, the nearest cell outside the net, and a rebuilt index when the net changes."""

import random

import pytest
import shapely

from grids import locate
from grids.choices import GridLevel, RegionLevel
from grids.crs import distance_m, from_wgs84
from grids.locate import CellIndex, cell_locate
from grids.models import GridCell, GridNetVersion, Region
from grids.services import cell_save

W, S, SIDE = 118.79, 32.0, 0.002  # cells of about 190 m x 220 m in Nanjing


def square(i: int, j: int, size: int = 1) -> dict:
    w, s = W + i * SIDE, S + j * SIDE
    e, n = w + size * SIDE, s + size * SIDE
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture
def net(db):
    """A first-level cell of 2 x 2 comprehensive cells: 001 002 below, 003 004 above."""
    locate.cell_index_reset()
    district = Region.objects.create(level=RegionLevel.DISTRICT, code="320104", name="秦淮区")
    street = Region.objects.create(
        level=RegionLevel.STREET, code="320104010", name="红花街道", parent=district
    )
    community = Region.objects.create(
        level=RegionLevel.COMMUNITY, code="320104010001", name="石门坎社区", parent=street
    )
    first = cell_save(
        code="320104010001000",
        name="一片区",
        level=GridLevel.FIRST_LEVEL,
        community=community,
        geometry=square(0, 0, size=2),
    ).cell
    for n, (i, j) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        cell_save(
            code=f"320104010001{n:03d}",
            name=f"第{n}网格",
            level=GridLevel.COMPREHENSIVE,
            community=community,
            parent=first,
            geometry=square(i, j),
        )
    yield community
    locate.cell_index_reset()


def test_a_point_in_a_nested_cell_gives_the_comprehensive_cell_not_the_first_level(net):
    result = cell_locate(S + 1.5 * SIDE, W + 0.5 * SIDE)

    assert result.cell.code == "320104010001003"
    assert (result.nearest, result.distance_m) == (None, None)


def test_a_point_on_a_shared_edge_resolves_to_the_smallest_code_every_time(net):
    # the edge between 001 and 002, and the corner shared by all four
    edge = (S + 0.5 * SIDE, W + SIDE)
    corner = (S + SIDE, W + SIDE)

    assert {cell_locate(*edge).cell.code for _ in range(20)} == {"320104010001001"}
    assert {cell_locate(*corner).cell.code for _ in range(20)} == {"320104010001001"}
    # and an index built from the rows in another order answers the same
    rows = [
        (c.pk, c.code, shapely.geometry.shape(c.geometry))
        for c in GridCell.objects.filter(level=GridLevel.COMPREHENSIVE)
    ]
    assert CellIndex(list(reversed(rows))).locate(*corner).cell.code == "320104010001001"


def test_a_point_outside_every_cell_gives_none_with_the_nearest_and_its_distance(net):
    # 100 m south of cell 002's southern edge
    lat = S - 100 / 111_195
    result = cell_locate(lat, W + 1.5 * SIDE)

    assert result.cell is None
    assert result.nearest.code == "320104010001002"
    assert result.distance_m == pytest.approx(100.0, abs=0.5)


def test_a_gcj02_point_is_converted_before_locating(net):
    # the centre of cell 004 as AMap reports it
    lat, lng = S + 1.5 * SIDE, W + 1.5 * SIDE
    g_lat, g_lng = from_wgs84(lat, lng, "gcj02")
    assert distance_m(lat, lng, g_lat, g_lng) > 300  # as WGS-84 it would miss the net

    assert cell_locate(g_lat, g_lng, crs="gcj02").cell.code == "320104010001004"
    assert cell_locate(g_lat, g_lng).cell is None


def test_a_changed_cell_is_seen_by_another_process_after_the_version_check(net, monkeypatch):
    point = (S + 0.5 * SIDE, W + 2.5 * SIDE)  # east of the net
    assert cell_locate(*point).cell is None
    version = GridNetVersion.objects.get().version

    # when another process adds a cell (simulated: the row changes without this process's
    # services), this process still answers from its index until the version check is due
    community = net
    cell = GridCell(
        code="320104010001005",
        name="第5网格",
        level=GridLevel.COMPREHENSIVE,
        community=community,
        parent=GridCell.objects.get(code="320104010001000"),
        geometry=square(2, 0),
        min_lng=W + 2 * SIDE,
        min_lat=S,
        max_lng=W + 3 * SIDE,
        max_lat=S + SIDE,
    )
    cell.save()
    GridNetVersion.objects.update(version=version + 1)
    assert cell_locate(*point).cell is None

    # then once the check interval has passed, the index is rebuilt with the new cell
    monkeypatch.setattr(locate, "_checked_at", locate._checked_at - 60)
    assert cell_locate(*point).cell.code == "320104010001005"


def test_the_writing_process_sees_its_own_change_at_once(net):
    point = (S + 0.5 * SIDE, W + 2.5 * SIDE)
    assert cell_locate(*point).cell is None

    cell_save(
        code="320104010001005",
        name="第5网格",
        level=GridLevel.COMPREHENSIVE,
        community=net,
        parent=GridCell.objects.get(code="320104010001000"),
        geometry=square(2, 0),
    )

    assert cell_locate(*point).cell.code == "320104010001005"


def test_bucketed_index_agrees_with_brute_force_on_irregular_cells():
    # given a 12 x 12 lattice of irregular quadrilaterals
    rng = random.Random(7)
    n, step = 12, 0.002
    v = [
        [
            (
                W + i * step + (rng.uniform(-0.3, 0.3) * step if 0 < i < n and 0 < j < n else 0),
                S + j * step + (rng.uniform(-0.3, 0.3) * step if 0 < i < n and 0 < j < n else 0),
            )
            for i in range(n + 1)
        ]
        for j in range(n + 1)
    ]
    rows = [
        (
            j * n + i,
            f"{j:02d}{i:02d}",
            shapely.Polygon([v[j][i], v[j][i + 1], v[j + 1][i + 1], v[j + 1][i]]),
        )
        for j in range(n)
        for i in range(n)
    ]
    index = CellIndex(rows)

    # when 3,000 random points are located, then each answer is the smallest code holding it
    for _ in range(3000):
        lat, lng = (
            S + rng.uniform(-0.001, n * step + 0.001),
            W + rng.uniform(-0.001, n * step + 0.001),
        )
        holders = sorted(
            code for _pk, code, shape in rows if shapely.intersects_xy(shape, lng, lat)
        )
        result = index.locate(lat, lng)
        if holders:
            assert result.cell.code == holders[0]
        else:
            assert result.cell is None and result.nearest is not None


def test_an_empty_net_finds_nothing():
    assert CellIndex([]).locate(32.0, 118.79) == locate.LocateResult(cell=None)
