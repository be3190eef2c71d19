"""The numpy check of floating unions (geo.grids.float_check) answers what the loop of
geo.grids.float_union answers, pair by pair, and small tables draw the snapped unions."""

from __future__ import annotations

from functools import partial

import numpy as np
import shapely

from geo.grids import float_union
from geo.grids.float_check import pairs_clear
from geo.grids.float_union import SIDE_M, CellUnions, unclear_pairs
from tests.geo.test_float_union import GRID, _cells, _same, _snapped

NUMPY = partial(pairs_clear, side_m=SIDE_M)


def _lattice(rng: np.random.Generator, moved: float, on_grid: bool) -> np.ndarray:
    """A lattice of quadrilaterals with T-junctions (every other row offset by half a
    cell), its shared corners moved by up to ``moved`` metres (the same move for every
    cell sharing a corner)."""
    cells = []
    for row in range(6):
        shift = 5.0 * (row % 2)
        for col in range(6):
            x0, y0 = col * 10.0 + shift, row * 10.0
            cells.append([(x0, y0), (x0 + 5, y0), (x0 + 10, y0), (x0 + 10, y0 + 10),
                          (x0, y0 + 10), (x0, y0)])
    corners = {c for ring in cells for c in ring}
    move = {c: (c[0] + rng.integers(-2, 3) * moved * (rng.random() < 0.3),
                c[1] + rng.integers(-2, 3) * moved * (rng.random() < 0.3)) for c in corners}
    if on_grid:
        move = {c: (round(m[0] / GRID) * GRID, round(m[1] / GRID) * GRID) for c, m in move.items()}
    return np.array([shapely.Polygon([move[c] for c in ring]) for ring in cells], dtype=object)


def _equal(geoms) -> tuple[int, int]:
    want = unclear_pairs(geoms, grid_size=GRID)
    got = unclear_pairs(geoms, grid_size=GRID, pairs_clear=NUMPY)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
    return int(want[0].sum()), len(want[1])


def test_numpy_check_gives_the_loops_answers():
    assert _equal(_cells()) == (3, 3)
    rng = np.random.default_rng(3)
    flagged = [0, 0]
    for trial in range(12):
        found = _equal(_lattice(rng, 0.0004 * (trial % 3), on_grid=trial % 2 == 1))
        flagged = [a + b for a, b in zip(flagged, found)]
    assert flagged[0] > 0 and flagged[1] > 0  # both kinds of failure were met


def test_pairs_in_runs_give_the_same_answers(monkeypatch):
    from geo.grids import float_check

    geoms = _lattice(np.random.default_rng(4), 0.0004, on_grid=True)
    want = unclear_pairs(geoms, grid_size=GRID, pairs_clear=NUMPY)
    monkeypatch.setattr(float_check, "AT_ONCE", 7)
    got = unclear_pairs(geoms, grid_size=GRID, pairs_clear=NUMPY)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_no_pairs():
    assert pairs_clear(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64),
                       np.zeros(0, dtype=np.int64), np.zeros((0, 4)), [], [], 1e-3,
                       side_m=SIDE_M).shape == (0,)


def test_small_tables_draw_the_snapped_unions(monkeypatch):
    monkeypatch.setattr(float_union, "MIN_NUMPY_CELLS", 1)
    geoms = shapely.set_precision(_lattice(np.random.default_rng(1), 0.0004, True), GRID)
    unions = CellUnions(geoms, grid_size=GRID)
    unions.prepare()
    assert unions._proof is not None
    floating = 0
    for idx in ([0, 1], [0, 6], [0, 1, 6, 7], list(range(12)), list(range(36))):
        idx = np.array(idx)
        assert _same(unions.union(idx), _snapped(geoms, idx)), idx
        floating += unions._clear(idx, unions._proof)
    assert floating >= 1
