"""Grid polygons' unions of cells, drawn by the floating overlay wherever it provably gives
the snapped union (:func:`geo.grids.rules.grid_polygon` unions a grid's cells on the
:data:`geo.grids.blocks.GRID_SIZE_M` grid; the floating union costs about a third).

The cells are on the grid already. Snap-rounding moves linework only inside the 1 mm
pixels around vertices and crossings, so the two unions differ only where cells of one
grid meet at a T-junction whose vertex is not exactly on the other cell's edge, cross, or
come within a pixel of each other elsewhere. A grid is drawn the cheap way when every pair
of its cells within two pixels of each other meets as
:func:`geo.grids.shared_edges.shared_boundaries` takes the cheap way too: at one shared
vertex or along one shared edge whose ends are vertices on the grid, every other vertex
of each cell :data:`geo.grids.shared_edges.CLEAR_M` away from the other cell. Then both
overlays node the same vertices and join the same edges; every other grid, and every
grid of one cell, is snapped as before. The polygons are the same, bit for bit (tests
compare every grid of the 20k demo, Helsinki and Beijing).
"""

from __future__ import annotations

import weakref

import numpy as np
import shapely

from geo.grids.blocks import GRID_SIZE_M
from geo.grids.parallel import chunked
from geo.grids.shared_edges import floating_is_snapped

# per table: the cell sets (positions as bytes) whose floating union is the snapped one,
# and those cells without their grid
_EXACT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mark_exact(table, grid_of_cell: np.ndarray, *, workers: int = 1) -> int:
    """Find the grids of ``table`` (a :class:`geo.grids.rules.CellTable`; ``grid_of_cell``:
    each cell's grid id, '' or None for none) whose floating union of cells is the snapped
    one, for :func:`exact_union`; returns how many."""
    labels = np.asarray(grid_of_cell, dtype=object)
    has = np.array([isinstance(g, str) and g != "" for g in labels], dtype=bool)
    pos = np.flatnonzero(has)
    if pos.size == 0:
        return 0
    codes, inverse = np.unique(labels[pos].astype(str), return_inverse=True)
    label = np.full(len(labels), -1, dtype=np.int64)
    label[pos] = inverse
    geoms = table.geoms
    # pairs of one grid's cells within two pixels: boxes first, the distance for those
    reach = 2 * GRID_SIZE_M
    box = shapely.bounds(geoms[pos])
    i, j = shapely.STRtree(geoms[pos]).query(shapely.box(box[:, 0] - reach, box[:, 1] - reach,
                                                         box[:, 2] + reach, box[:, 3] + reach))
    i, j = pos[i], pos[j]
    keep = (i < j) & (label[i] == label[j])
    i, j = i[keep], j[keep]
    close = shapely.dwithin(geoms[i], geoms[j], reach)
    i, j = i[close], j[close]
    rings = shapely.boundary(geoms[np.unique(np.r_[i, j])]) if i.size else None
    bad = np.zeros(len(codes), dtype=bool)
    if i.size:
        at = np.full(len(geoms), -1, dtype=np.int64)
        used = np.unique(np.r_[i, j])
        at[used] = np.arange(used.size)
        plain = shapely.set_precision(rings, 0.0, mode="pointwise")
        common = chunked(shapely.intersection, plain[at[i]], plain[at[j]], workers=workers)
        simple = floating_is_snapped(common, rings, at[i], at[j], GRID_SIZE_M)
        bad[label[i[~simple]]] = True
    order = pos[np.argsort(inverse, kind="stable")]
    bounds = np.searchsorted(np.sort(inverse, kind="stable"), np.arange(len(codes) + 1))
    exact = {order[bounds[k]:bounds[k + 1]].tobytes() for k in range(len(codes))
             if not bad[k] and bounds[k + 1] - bounds[k] > 1}
    # the cells without the grid they carry (their overlays would snap to it)
    plain = np.empty(len(geoms), dtype=object)
    marked = np.unique(np.concatenate([np.frombuffer(key, dtype=np.int64) for key in exact])) \
        if exact else np.zeros(0, dtype=np.int64)
    plain[marked] = shapely.set_precision(geoms[marked], 0.0, mode="pointwise")
    _EXACT[table] = (exact, plain)
    return len(exact)


def exact_union(table, idx: np.ndarray) -> shapely.Geometry | None:
    """The union of the cells ``idx`` (sorted positions) of ``table`` when
    :func:`mark_exact` found its floating union to be the snapped one (carrying the grid,
    as the snapped union does), else None."""
    exact, plain = _EXACT.get(table, (None, None))
    if not exact or idx.tobytes() not in exact:
        return None
    return shapely.set_precision(shapely.union_all(plain[idx]), GRID_SIZE_M, mode="pointwise")


__all__ = ["exact_union", "mark_exact"]
