"""geo/grids/clipping.py: the snapped intersection from the floating one, where that is
known to be the same, gives what GEOS's snapped overlay gives, to the bit."""

from __future__ import annotations

import numpy as np
import shapely

from geo.grids.clipping import _known, intersection_on_grid

GRID = 0.001


def _same(a, b):
    return np.array_equal(shapely.to_wkb(a), shapely.to_wkb(b)) and \
        np.array_equal(shapely.get_precision(a), shapely.get_precision(b), equal_nan=True)


def _cells_and_blocks(rng, n, size):
    """Voronoi cells of random sites (as tessellate makes them) and the block each is
    clipped to: rectangles on the grid with extra vertices along their sides, and
    quadrilaterals, some sharing corners and sides with the cells."""
    cells, blocks = [], []
    while len(cells) < n:
        x0, y0 = 440000 + rng.uniform(0, 1000), 4420000 + rng.uniform(0, 1000)
        w, h = rng.uniform(0.5, 2) * size, rng.uniform(0.5, 2) * size
        kind = rng.integers(3)
        if kind == 0:  # a rectangle with a vertex in the middle of its bottom side
            ring = [(x0, y0), (x0, y0 + h), (x0 + w, y0 + h), (x0 + w, y0), (x0 + w / 2, y0)]
        elif kind == 1:  # a skewed quadrilateral
            ring = [(x0, y0), (x0 + 0.2 * w, y0 + h), (x0 + w, y0 + 0.9 * h), (x0 + 0.8 * w, y0)]
        else:  # a concave block
            ring = [(x0, y0), (x0, y0 + h), (x0 + w / 2, y0 + h / 2), (x0 + w, y0 + h), (x0 + w, y0)]
        block = shapely.set_precision(shapely.Polygon(np.round(ring, 3)), GRID)
        block = shapely.set_precision(block, 0.0, mode="pointwise")
        k = int(rng.integers(2, 12))
        sites = np.c_[rng.uniform(x0, x0 + w, k), rng.uniform(y0, y0 + h, k)]
        if rng.random() < 0.2:
            sites[1] = sites[0] + rng.normal(0, 0.002, 2)  # nearly coincident sites
        vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites),
                                                         extend_to=block))
        vor = vor[shapely.is_valid(vor) & (shapely.get_type_id(vor) == 3)]
        cells += list(vor)
        blocks += [block] * len(vor)
    return np.array(cells[:n], dtype=object), np.array(blocks[:n], dtype=object)


def test_same_clips_as_geos():
    rng = np.random.default_rng(0)
    shares = []
    for size in (0.05, 5.0, 80.0):
        cells, blocks = _cells_and_blocks(rng, 3000, size)
        fast = _known(cells, blocks, shapely.intersection(cells, blocks), GRID)
        shares.append(fast.mean())
        assert _same(intersection_on_grid(cells, blocks, GRID),
                     shapely.intersection(cells, blocks, grid_size=GRID))
        # both orders, and cells carrying a grid (left to GEOS)
        assert _same(intersection_on_grid(blocks, cells, GRID, workers=2),
                     shapely.intersection(blocks, cells, grid_size=GRID))
        snapped = shapely.set_precision(cells, GRID)
        assert _same(intersection_on_grid(snapped, blocks, GRID),
                     shapely.intersection(snapped, blocks, grid_size=GRID))
    # the floating overlay answers most cells metres across, hardly any of centimetres
    assert max(shares) > 0.8 and min(shares) < 0.5


def test_other_geometries_go_to_geos():
    cell = shapely.box(0, 0, 1, 1)
    others = np.array([shapely.box(0.5, 0.5, 2, 2).buffer(0.1).difference(shapely.box(1, 1, 1.2, 1.2)),
                       shapely.MultiPolygon([shapely.box(0, 0, 0.4, 0.4), shapely.box(0.6, 0.6, 1, 1)]),
                       shapely.box(1, 0, 2, 1), shapely.box(3, 3, 4, 4), None], dtype=object)
    cells = np.array([cell] * len(others), dtype=object)
    assert _same(intersection_on_grid(cells, others, GRID),
                 shapely.intersection(cells, others, grid_size=GRID))
