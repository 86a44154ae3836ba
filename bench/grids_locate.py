"""Lookups per second of the grid locate index over 10,000 cells, on one core.

    DEBUG=true .venv/bin/python bench/grids_locate.py   # prints, updates docs/PERFORMANCE.md

The net is a 100 x 100 lattice of irregular quadrilaterals (inner vertices moved by up to 20% of a
side, as in the demo) over about 22 km x 22 km of Nanjing, i.e. cells of about 220 m. Points are
uniform over the net (every one inside a cell), plus a separate run of points outside the net,
which take the slower nearest-cell path. The index is grids.locate.CellIndex, exactly what
cell_locate uses, without the database.
"""

from __future__ import annotations

import os
import platform
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shapely  # noqa: E402

from grids.locate import CellIndex  # noqa: E402

SIDE = 100  # cells per side: 10,000 cells
SOUTH, WEST, STEP = 31.92, 118.68, 0.002
LOOKUPS = 200_000
OUTSIDE_LOOKUPS = 2_000
TARGET = 50_000
MARK_BEGIN, MARK_END = "<!-- bench:grids_locate:begin -->", "<!-- bench:grids_locate:end -->"


def lattice_cells(rng: random.Random) -> list[tuple[int, str, shapely.Geometry]]:
    vertices = [
        [
            (
                WEST
                + i * STEP
                + (rng.uniform(-0.2, 0.2) * STEP if 0 < i < SIDE and 0 < j < SIDE else 0),
                SOUTH
                + j * STEP
                + (rng.uniform(-0.2, 0.2) * STEP if 0 < i < SIDE and 0 < j < SIDE else 0),
            )
            for i in range(SIDE + 1)
        ]
        for j in range(SIDE + 1)
    ]
    rows = []
    for j in range(SIDE):
        for i in range(SIDE):
            ring = [vertices[j][i], vertices[j][i + 1], vertices[j + 1][i + 1], vertices[j + 1][i]]
            rows.append((j * SIDE + i + 1, f"320104010{j:03d}{i:03d}", shapely.Polygon(ring)))
    return rows


def rate(index: CellIndex, points: list[tuple[float, float]]) -> tuple[float, int]:
    found = 0
    started = time.perf_counter()
    for lat, lng in points:
        found += index.locate(lat, lng).cell is not None
    return len(points) / (time.perf_counter() - started), found


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(3)  # noqa: S311 -- reproducible benchmark input
    cells = lattice_cells(rng)
    started = time.perf_counter()
    index = CellIndex(cells)
    build_s = time.perf_counter() - started
    span = SIDE * STEP
    inside = [
        (
            SOUTH + 0.001 + rng.random() * (span - 0.002),
            WEST + 0.001 + rng.random() * (span - 0.002),
        )
        for _ in range(LOOKUPS)
    ]
    outside = [
        (SOUTH - 0.01 - rng.random() * 0.05, WEST + rng.random() * span)
        for _ in range(OUTSIDE_LOOKUPS)
    ]
    rate(index, inside[:10_000])  # warm-up
    runs = [rate(index, inside) for _ in range(3)]
    best_rate, found = max(runs)
    outside_rate, _ = rate(index, outside)
    if found != LOOKUPS:
        raise SystemExit(f"{LOOKUPS - found} inside points found no cell: the index is wrong")
    verdict = "meets" if best_rate >= TARGET else "MISSES"
    lines = [
        MARK_BEGIN,
        "## Grid locate (`bench/grids_locate.py`)",
        "",
        "Command: `DEBUG=true .venv/bin/python bench/grids_locate.py` (one core, pinned).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, shapely {shapely.__version__}; "
        f"measured {time.strftime('%Y-%m-%d')}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| cells in the index | {len(cells):,} |",
        f"| index build | {build_s:.2f} s |",
        f"| lookups of points inside the net (best of 3 × {LOOKUPS:,}) | **{best_rate:,.0f} /s** |",
        f"| lookups of points outside (nearest cell and distance) | {outside_rate:,.0f} /s |",
        f"| target | ≥ {TARGET:,} /s inside: {verdict} |",
        MARK_END,
    ]
    section = "\n".join(lines)
    print(section)
    doc = ROOT / "docs" / "PERFORMANCE.md"
    text = (
        doc.read_text()
        if doc.exists()
        else "# Performance\n\nFigures measured by the scripts in `bench/`.\n"
    )
    if MARK_BEGIN in text:
        text = re.sub(
            re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END),
            lambda _m: section,
            text,
            flags=re.S,
        )
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
