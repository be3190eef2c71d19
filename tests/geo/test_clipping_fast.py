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


def _known_everywhere(a, b, plain, grid):
    """The check of ``_known`` with every vertex against every segment of its pair."""
    from geo.grids.clipping import CLEAR_CELLS
    from geo.grids.precision import near_segment, rounded
    out = []
    for ga, gb, gp in zip(a, b, plain):
        if not (shapely.get_type_id(ga) == 3 == shapely.get_type_id(gb) == shapely.get_type_id(gp)
                and shapely.get_precision(ga) == 0 and not shapely.is_empty(gp)
                and not any(shapely.get_num_interior_rings(g) for g in (ga, gb, gp))):
            out.append(False)
            continue
        rings = [shapely.get_coordinates(g) for g in (ga, gb)]
        segs = [(s, p, q) for s, r in enumerate(rings) for p, q in zip(r[:-1], r[1:])]
        verts = {tuple(p) for r in rings for p in r[:-1]}
        result = shapely.get_coordinates(gp)[:-1]
        crossings = [p for p in result if tuple(p) not in verts]
        pts = [(s, p) for s, r in enumerate(rings) for p in r[:-1]] + [(2, p) for p in crossings]
        good = len(result) >= 3
        for side, p in pts:
            rp = rounded(np.asarray(p, dtype=float)[None], grid)[0]
            hits = [s for s, q0, q1 in segs
                    if not (tuple(p) == tuple(q0) or tuple(p) == tuple(q1))
                    and near_segment(rp[:1], rp[1:], q0[:1], q0[1:], q1[:1], q1[1:],
                                     CLEAR_CELLS * grid)[0]]
            if side < 2 and hits:
                good = False
            if side == 2 and (hits.count(0) != 1 or hits.count(1) != 1):
                good = False
        out.append(good)
    return np.array(out)


def test_known_checks_only_what_can_come_near():
    """The check skips what lies beyond the reach of the first polygon and checks each
    distinct second polygon alone once: the same answers as every vertex against every
    segment, in both orders and with the answers of the second polygons kept."""
    rng = np.random.default_rng(1)
    for size in (0.05, 5.0, 80.0):
        cells, blocks = _cells_and_blocks(rng, 300, size)
        alone = {}
        for a, b in ((cells, blocks), (blocks, cells)):
            plain = shapely.intersection(a, b)
            expected = _known_everywhere(a, b, plain, GRID)
            assert np.array_equal(_known(a, b, plain, GRID), expected)
            assert np.array_equal(_known(a[:150], b[:150], plain[:150], GRID, alone),
                                  expected[:150])
            assert np.array_equal(_known(a[150:], b[150:], plain[150:], GRID, alone),
                                  expected[150:])
            assert 0 < expected.sum() < len(expected) or size != 5.0
            alone = {}
