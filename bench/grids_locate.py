"""Lookups per second of the grid locate index over 10,000 cells, on one core.

    .venv/bin/python bench/grids_locate.py           # prints, updates docs/PERFORMANCE.md
    .venv/bin/python bench/grids_locate.py --smoke   # 100 cells, a second; no figures

The net is a 100 x 100 lattice of irregular quadrilaterals (inner vertices moved by up to 20% of a
side, as in the demo) over about 22 km x 22 km of Nanjing, i.e. cells of about 220 m. Points are
uniform over the net (every one inside a cell), plus a separate run of points outside the net,
which take the slower nearest-cell path. The index is grids.locate.CellIndex, exactly what
cell_locate uses, without the database. grids.locate needs Django's settings (grids.geometry
marks its messages for translation when imported), so the bench reads the project's settings with
a throw-away SECRET_KEY and DEBUG off: no database, no service, nothing written but its section.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shapely  # noqa: E402

from bench.report import section_write, verdict  # noqa: E402 -- after the path is set
from bench.smoke import SMOKE_HELP, smoke_deadline  # noqa: E402

if TYPE_CHECKING:
    from grids.locate import CellIndex

SOUTH, WEST, STEP = 31.92, 118.68, 0.002
TARGET = 50_000
COMMAND = ".venv/bin/python bench/grids_locate.py"
SMOKE_NOTE = (
    "`--smoke` runs the same steps on 100 cells, prints no figures and writes nothing here; "
    "`make test` runs it (tests/test_benches.py)."
)


@dataclass(frozen=True)
class Sizes:
    side: int  # cells per side
    lookups: int  # points inside the net, per run
    warmup: int
    outside_lookups: int


FULL = Sizes(side=100, lookups=200_000, warmup=10_000, outside_lookups=2_000)  # 10,000 cells
SMOKE = Sizes(side=10, lookups=2_000, warmup=100, outside_lookups=200)


def settings_environment() -> None:
    """What django.setup() reads, whatever the caller's environment says: the bench uses no
    database and no broker, so the defaults do, under a VAR_DIR of its own."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(48),  # throw-away: nothing is signed
            "VAR_DIR": "/tmp/shaoxiang_bench_grids_var",  # noqa: S108 -- the bench's own
            "LOG_LEVEL": "WARNING",
        }
    )


def lattice_cells(rng: random.Random, side: int) -> list[tuple[int, str, shapely.Geometry]]:
    vertices = [
        [
            (
                WEST
                + i * STEP
                + (rng.uniform(-0.2, 0.2) * STEP if 0 < i < side and 0 < j < side else 0),
                SOUTH
                + j * STEP
                + (rng.uniform(-0.2, 0.2) * STEP if 0 < i < side and 0 < j < side else 0),
            )
            for i in range(side + 1)
        ]
        for j in range(side + 1)
    ]
    rows = []
    for j in range(side):
        for i in range(side):
            ring = [vertices[j][i], vertices[j][i + 1], vertices[j + 1][i + 1], vertices[j + 1][i]]
            rows.append((j * side + i + 1, f"320104010{j:03d}{i:03d}", shapely.Polygon(ring)))
    return rows


def rate(index: CellIndex, points: list[tuple[float, float]]) -> tuple[float, int]:
    found = 0
    started = time.perf_counter()
    for lat, lng in points:
        found += index.locate(lat, lng).cell is not None
    return len(points) / (time.perf_counter() - started), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        smoke_deadline()
    sizes = SMOKE if args.smoke else FULL
    settings_environment()
    import django

    django.setup()
    from grids.locate import CellIndex

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(3)  # noqa: S311 -- reproducible benchmark input
    cells = lattice_cells(rng, sizes.side)
    started = time.perf_counter()
    index = CellIndex(cells)
    build_s = time.perf_counter() - started
    span = sizes.side * STEP
    inside = [
        (
            SOUTH + 0.001 + rng.random() * (span - 0.002),
            WEST + 0.001 + rng.random() * (span - 0.002),
        )
        for _ in range(sizes.lookups)
    ]
    outside = [
        (SOUTH - 0.01 - rng.random() * 0.05, WEST + rng.random() * span)
        for _ in range(sizes.outside_lookups)
    ]
    rate(index, inside[: sizes.warmup])  # warm-up
    runs = [rate(index, inside) for _ in range(3)]
    best_rate, _found = max(runs)
    outside_rate, outside_found = rate(index, outside)
    found = sum(each for _rate, each in runs)
    if found != 3 * sizes.lookups:
        raise SystemExit(
            f"{3 * sizes.lookups - found} lookups inside the net found no cell: the index is wrong"
        )
    if outside_found:
        raise SystemExit(f"{outside_found} points outside the net found a cell: the index is wrong")
    lines = [
        "## Grid locate (`bench/grids_locate.py`)",
        "",
        f"Command: `{COMMAND}` (one core, pinned).",
        "",
        SMOKE_NOTE,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, shapely {shapely.__version__}; "
        f"measured {time.strftime('%Y-%m-%d')}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| cells in the index | {len(cells):,} |",
        f"| index build | {build_s:.2f} s |",
        f"| lookups of points inside the net (best of 3 × {sizes.lookups:,}) | "
        f"**{best_rate:,.0f} /s** |",
        f"| lookups of points outside (nearest cell and distance) | {outside_rate:,.0f} /s |",
        f"| target | ≥ {TARGET:,} /s inside: {verdict(best_rate >= TARGET)} |",
    ]
    if args.smoke:
        # The section is built (its formatting is part of the bench) but neither printed nor
        # written: figures of 100 cells and a second are no measure of anything.
        print(
            f"smoke ok: {len(cells):,} cells indexed; {found:,} of {3 * sizes.lookups:,} "
            f"lookups inside the net found their cell, {sizes.outside_lookups:,} outside found "
            "none; no figures, docs/PERFORMANCE.md not written"
        )
        return
    section_write("grids_locate", lines)


if __name__ == "__main__":
    main()
