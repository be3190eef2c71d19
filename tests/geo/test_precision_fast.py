"""geo/grids/precision.py: snapping polygons to the grid from their coordinates gives what
GEOS's ``set_precision`` gives, to the bit, and GEOS's rounding of coordinates."""

from __future__ import annotations

import numpy as np
import shapely

from geo.grids.precision import _known, rounded, set_precision_fast

GRID = 0.001


def _stars(rng, n, size, *, on_grid=False):
    out = []
    for _ in range(n):
        m = int(rng.integers(3, 12))
        ang = np.sort(rng.uniform(0, 2 * np.pi, m))
        r = rng.uniform(0.2, 1, m) * size
        xy = np.c_[440000 + r * np.cos(ang), 4420000 + r * np.sin(ang)]
        if on_grid:
            xy = np.round(xy, 3)
        if rng.random() < 0.5:
            xy = xy[::-1]  # both orientations
        out.append(shapely.Polygon(xy))
    return np.array(out, dtype=object)


def _same(a, b):
    return np.array_equal(shapely.to_wkb(a), shapely.to_wkb(b)) and \
        np.array_equal(shapely.get_precision(a), shapely.get_precision(b), equal_nan=True)


def test_rounding_is_geos_rounding():
    rng = np.random.default_rng(1)
    values = np.r_[rng.uniform(-1e6, 1e6, 20000), np.arange(-50, 50) * 0.0005 + 1.0,
                   np.arange(-50, 50) * 0.0005, 440000.0005, -440000.0005, 0.0, -0.0]
    points = shapely.points(np.c_[values, values[::-1]])
    geos = shapely.get_coordinates(shapely.set_precision(points, GRID, mode="pointwise"))
    assert np.array_equal(rounded(np.c_[values, values[::-1]], GRID), geos)


def test_same_polygons_as_geos():
    rng = np.random.default_rng(0)
    fast_share = []
    for size in (0.01, 1.0, 50.0):
        for on_grid in (False, True):
            g = _stars(rng, 1500, size, on_grid=on_grid)
            g = g[shapely.is_valid(g)]
            clipped = shapely.intersection(g, shapely.box(440000 - size / 2, 4420000 - size,
                                                          440000 + size, 4420000 + size / 3),
                                           grid_size=GRID)
            for src in (g, clipped, shapely.set_precision(g, GRID),
                        np.r_[clipped, [None, shapely.Polygon(), shapely.Point(1, 2)]]):
                assert _same(set_precision_fast(src, GRID), shapely.set_precision(src, GRID))
                dropped = shapely.set_precision(shapely.set_precision(src, GRID), 0.0,
                                                mode="pointwise")
                assert _same(set_precision_fast(src, GRID, keep_grid=False), dropped)
            fast_share.append(_known(clipped, GRID).mean())
    # the coordinates answer most polygons a metre or more across, few tiny ones
    assert max(fast_share) > 0.9 and min(fast_share) < 0.1


def test_threads_give_the_same():
    rng = np.random.default_rng(2)
    g = _stars(rng, 6000, 20.0)
    g = g[shapely.is_valid(g)]
    assert _same(set_precision_fast(g, GRID, workers=2), shapely.set_precision(g, GRID))
