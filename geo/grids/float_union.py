"""Grid polygons as floating unions of their cells wherever that is provably the snapped
union, bit for bit, at a third of its cost.

A grid's polygon starts as ``union_all(cells, grid_size=GRID_SIZE_M)``: GEOS unions the
cells pairwise (the same tree of pairs with or without a grid) and nodes each pair's
linework with a snap-rounding noder (every vertex and crossing is a 1 mm "hot pixel";
a segment passing through a pixel is bent to its centre). The floating union, on cells
without a carried grid, nodes the same pairs exactly; everything after the noding (the
graph, its labels, the rings) is the same code. So when both noders give the same noded
linework, the two unions are the same geometry. They do when

- every vertex is on the grid (snap rounding moves no vertex),
- no vertex comes within :data:`NEAR_FACTOR` pixels of a segment (the pixel reaches
  0.71 pixel from its centre) unless it is an end of that segment, or lies exactly on an
  axis-parallel segment (the same x, or the same y, as both ends: exact in floating point,
  where both noders node the segment at the vertex),
- and no two segments cross away from their ends,

for every pair of the grid's cells and each cell with itself (the unions of parts carry
only vertices and pieces of segments of their cells, so the pairs of cells cover every
pair of partial unions). :class:`CellUnions` checks this once for a whole cell table when
the grid stage draws all its grids (a compiled loop over the pairs of cells whose boxes
come that near), then draws each grid whose cells pass the floating way and puts the
cells' grid back on the result (``set_precision`` pointwise, which moves no vertex already
on it); every other grid, every grid of a table not checked (an edit's few grids) and every
grid of a large table where the loop is not compiled (no numba) is snapped as before.
Tables too small to load the compiled loop for are checked in numpy
(:mod:`geo.grids.float_check`, the same answers).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import partial

import numpy as np
import shapely

from geo.compiled import available, kernel
from geo.grids.float_check import pairs_clear as numpy_pairs_clear
from geo.grids.blocks import GRID_SIZE_M
from geo.kept import kept

#: Vertices closer than this many pixels to a segment send their cells' grids to the
#: snapped union (a pixel reaches sqrt(2)/2 = 0.71 pixel from its centre).
NEAR_FACTOR = 0.8
#: Tables with fewer cells are checked in numpy (:mod:`geo.grids.float_check`: numba's
#: import costs more than the compiled check saves there), larger ones in the compiled loop.
MIN_CELLS = 20_000
#: Tables with fewer cells are always snapped (a few grids: the check saves nothing).
MIN_NUMPY_CELLS = 100
#: Floating unions drawn in one call (bounds their table of cells, a row per union).
UNIONS_AT_ONCE = 256
#: A point counts as apart from a segment's line beyond this distance (m), far above the
#: rounding of the side test for coordinates of a projected city.
SIDE_M = 1e-6


def _on_axis_segment(px, py, ax, ay, bx, by):  # pragma: no cover - compiled
    """``p`` lies exactly inside the axis-parallel segment ``a``–``b`` (not at an end)."""
    if ay == by and py == ay:
        return min(ax, bx) < px < max(ax, bx)
    if ax == bx and px == ax:
        return min(ay, by) < py < max(ay, by)
    return False


def _near_segment(px, py, ax, ay, bx, by, near):  # pragma: no cover - compiled
    """``p`` lies within ``near`` of the segment ``a``–``b``."""
    abx, aby = bx - ax, by - ay
    apx, apy = px - ax, py - ay
    den = abx * abx + aby * aby
    t = (apx * abx + apy * aby) / den if den > 0 else 0.0
    t = min(1.0, max(0.0, t))
    dx, dy = apx - t * abx, apy - t * aby
    return dx * dx + dy * dy < near * near


def _apart(ax, ay, bx, by, cx, cy, dx, dy):  # pragma: no cover - compiled
    """``c`` and ``d`` lie both, and clearly, on one side of the line through ``a``, ``b``."""
    ux, uy = bx - ax, by - ay
    tol = SIDE_M * np.sqrt(ux * ux + uy * uy)
    s1 = ux * (cy - ay) - uy * (cx - ax)
    s2 = ux * (dy - ay) - uy * (dx - ax)
    return (s1 > tol and s2 > tol) or (s1 < -tol and s2 < -tol)


def _vertices_clear(x, y, vi, ni, vj, nj, box_j, near, same):  # pragma: no cover - compiled
    """Every vertex of ring ``i`` (``ni`` coordinates from ``vi``, closed) near ring ``j``
    is an end of each segment of ``j`` it comes near, or lies exactly on it; within one
    ring (``same``), no vertex comes near a segment but the two it ends (so the ring
    touches itself nowhere)."""
    for a in range(vi, vi + ni - 1):
        px, py = x[a], y[a]
        if (px < box_j[0] - near or px > box_j[2] + near
                or py < box_j[1] - near or py > box_j[3] + near):
            continue
        for s in range(vj, vj + nj - 1):
            ax, ay, bx, by = x[s], y[s], x[s + 1], y[s + 1]
            if (px < min(ax, bx) - near or px > max(ax, bx) + near
                    or py < min(ay, by) - near or py > max(ay, by) + near):
                continue
            if same:
                if s == a or s == a - 1 or (a == vi and s == vi + ni - 2):
                    continue
            elif (px == ax and py == ay) or (px == bx and py == by):
                continue
            elif _on_axis_segment(px, py, ax, ay, bx, by):
                continue
            if _near_segment(px, py, ax, ay, bx, by, near):
                return False
    return True


def _no_crossing(x, y, vi, ni, vj, nj):  # pragma: no cover - compiled
    """No segment of ring ``i`` may cross one of ring ``j`` (or of itself) away from their
    ends (pairs that share an end, or where an end lies exactly on the other, meet there
    only, once :func:`_vertices_clear` holds)."""
    for p in range(vi, vi + ni - 1):
        ax, ay, bx, by = x[p], y[p], x[p + 1], y[p + 1]
        for q in range(vj, vj + nj - 1):
            cx, cy, dx, dy = x[q], y[q], x[q + 1], y[q + 1]
            if (max(ax, bx) < min(cx, dx) or max(cx, dx) < min(ax, bx)
                    or max(ay, by) < min(cy, dy) or max(cy, dy) < min(ay, by)):
                continue
            if ((ax == cx and ay == cy) or (ax == dx and ay == dy)
                    or (bx == cx and by == cy) or (bx == dx and by == dy)):
                continue
            if _apart(ax, ay, bx, by, cx, cy, dx, dy) or _apart(cx, cy, dx, dy, ax, ay, bx, by):
                continue
            if (_on_axis_segment(ax, ay, cx, cy, dx, dy) or _on_axis_segment(bx, by, cx, cy, dx, dy)
                    or _on_axis_segment(cx, cy, ax, ay, bx, by)
                    or _on_axis_segment(dx, dy, ax, ay, bx, by)):
                continue
            return False
    return True


def _pairs_clear(x, y, start, count, box, pi, pj, near):  # pragma: no cover - compiled
    """Per pair of rings (``pi[k] == pj[k]``: a ring with itself), whether their snapped
    and floating noding agree (:func:`_vertices_clear` both ways, :func:`_no_crossing`)."""
    out = np.ones(len(pi), dtype=np.bool_)
    for k in range(len(pi)):
        i, j = pi[k], pj[k]
        vi, ni, vj, nj = start[i], count[i], start[j], count[j]
        same = i == j
        ok = _vertices_clear(x, y, vi, ni, vj, nj, box[j], near, same)
        if ok and not same:
            ok = _vertices_clear(x, y, vj, nj, vi, ni, box[i], near, same)
        if ok:
            ok = _no_crossing(x, y, vi, ni, vj, nj)
        out[k] = ok
    return out


_KERNELS = {name: kernel(f) for name, f in (
    ("on_axis_segment", _on_axis_segment), ("near_segment", _near_segment),
    ("apart", _apart), ("vertices_clear", _vertices_clear), ("no_crossing", _no_crossing),
    ("pairs_clear", _pairs_clear))}


def pairs_clear_kernel():
    """The compiled :func:`_pairs_clear` (its helpers compiled first and bound to the
    names it reads), or None without numba."""
    global _on_axis_segment, _near_segment, _apart, _vertices_clear, _no_crossing
    compiled = {name: k.get() for name, k in _KERNELS.items()}
    if any(f is None for f in compiled.values()):
        return None
    _on_axis_segment, _near_segment = compiled["on_axis_segment"], compiled["near_segment"]
    _apart, _vertices_clear = compiled["apart"], compiled["vertices_clear"]
    _no_crossing = compiled["no_crossing"]
    return compiled["pairs_clear"]


def unclear_pairs(geoms: np.ndarray, *, grid_size: float, pairs_clear=None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells whose floating union with others may differ from the snapped one.

    Returns ``(bad_cell, bad_i, bad_j)``: cells that are not plain polygons on the grid, or
    whose own ring fails the check, and pairs of cells ``i < j`` that fail it (see the
    module's note). ``pairs_clear``: the check (default: :func:`_pairs_clear`, in
    Python)."""
    return unclear_of(*ring_arrays(geoms), grid_size=grid_size, pairs_clear=pairs_clear)


def ring_arrays(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`unclear_of` reads of the cells: which are polygons without holes
    (``simple``), their coordinates with each one's cell (``xy``, ``owner``: the shells'
    rings), and every cell's box."""
    simple = (shapely.get_type_id(geoms) == 3) & ~shapely.is_empty(geoms)
    simple &= shapely.get_num_interior_rings(geoms) == 0
    xy, owner = shapely.get_coordinates(np.where(simple, geoms, None), return_index=True)
    return simple, xy, owner, shapely.bounds(geoms)


def unclear_of(simple: np.ndarray, xy: np.ndarray, owner: np.ndarray, box: np.ndarray, *,
               grid_size: float, pairs_clear=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`unclear_pairs` of the cells' :func:`ring_arrays` (arrays only: another
    process can answer it)."""
    pairs_clear = pairs_clear or _pairs_clear
    n = len(simple)
    count = np.bincount(owner, minlength=n)
    start = np.r_[0, np.cumsum(count)[:-1]]
    scale = 1.0 / grid_size
    off = (np.rint(xy * scale) / scale != xy).any(axis=1)
    bad_cell = ~simple | (count < 4) | (np.bincount(owner[off], minlength=n) > 0)
    near = NEAR_FACTOR * grid_size
    good = np.flatnonzero(~bad_cell)
    wide = shapely.box(box[good, 0] - near, box[good, 1] - near, box[good, 2] + near,
                       box[good, 3] + near)
    a, b = shapely.STRtree(wide).query(wide)
    keep = a <= b
    pi, pj = good[a[keep]], good[b[keep]]
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    ok = pairs_clear(x, y, start, count, np.ascontiguousarray(box), pi, pj, near)
    self_pair = pi == pj
    bad_cell[pi[self_pair & ~ok]] = True
    fail = ~self_pair & ~ok
    return bad_cell, pi[fail], pj[fail]


class CellUnions:
    """The union of any set of a table's cells, the floating way where provably the same
    as ``shapely.union_all(geoms[idx], grid_size=grid_size)`` (module note)."""

    def __init__(self, geoms: np.ndarray, *, grid_size: float) -> None:
        self.geoms, self.grid_size = geoms, grid_size
        self._proof: tuple[np.ndarray, np.ndarray, dict] | None = None

    def prepare(self, unclear: Callable | None = None) -> None:
        """Check the cells, when the grid stage is about to draw all the grids of a table
        (:data:`MIN_NUMPY_CELLS` and up; in the compiled loop from :data:`MIN_CELLS` with
        numba, in numpy below it); before worker processes fork, so that they share it.
        Until then every union is snapped (an edit draws a few grids: the check would cost
        more than it saves). ``unclear``: :func:`unclear_pairs` with the compiled loop as
        another process runs it (:mod:`geo.grids.compiled_child`), used from
        :data:`MIN_CELLS`."""
        if self._proof is not None:
            return
        if len(self.geoms) >= MIN_CELLS and unclear is not None:
            find = unclear
        else:
            if len(self.geoms) >= MIN_CELLS:
                check = pairs_clear_kernel() if available() else None
            elif len(self.geoms) >= MIN_NUMPY_CELLS:  # numba's import would cost more than it saves
                check = partial(numpy_pairs_clear, side_m=SIDE_M)
            else:
                return
            if check is None:
                return
            find = partial(unclear_pairs, pairs_clear=check)
        bad_cell, bi, bj = find(self.geoms, grid_size=self.grid_size)
        partners: dict[int, list[int]] = {}
        for i, j in zip(bi.tolist(), bj.tolist()):
            partners.setdefault(i, []).append(j)
        # (each union takes its cells off their grid itself: a copy of every cell kept
        # here would be some 16 MB at 1M households, to the end of the stage)
        self._proof = bad_cell, shapely.get_precision(self.geoms), partners

    def adopt(self, other: CellUnions) -> None:
        """Take ``other``'s check when it was made on the same cells (the same geometry
        objects in the same order: the grid stage checks a pass's cells while its
        communities are partitioned, before the result's table of them exists)."""
        if self._proof is None and other._proof is not None and \
                len(other.geoms) == len(self.geoms) and \
                all(map(operator.is_, other.geoms, self.geoms)):
            self._proof = other._proof

    def union(self, idx: np.ndarray) -> shapely.Geometry:
        """``union_all(geoms[idx], grid_size=grid_size)`` (``idx``: sorted positions)."""
        proof = self._proof
        if proof is None or len(idx) < 2 or not self._clear(idx, proof):
            return shapely.union_all(self.geoms[idx], grid_size=self.grid_size)
        carried = proof[1]
        out = shapely.union_all(shapely.set_precision(self.geoms[idx], 0.0, mode="pointwise"))
        return shapely.set_precision(out, carried[idx[0]], mode="pointwise") \
            if carried[idx[0]] > 0 else out

    def unions(self, groups: list[np.ndarray]) -> list:
        """:meth:`union` of each of ``groups``, the floating ones in one call per
        :data:`UNIONS_AT_ONCE` (a row of cells each: GEOS gets each group's cells, in the
        same order, as one collection, as :meth:`union` gives them: the same geometries)."""
        proof = self._proof
        out = [None] * len(groups)
        batch = []
        for k, idx in enumerate(groups):
            if proof is None or len(idx) < 2 or not self._clear(idx, proof):
                out[k] = shapely.union_all(self.geoms[idx], grid_size=self.grid_size)
            else:
                batch.append(k)
        for lo in range(0, len(batch), UNIONS_AT_ONCE):
            part = batch[lo:lo + UNIONS_AT_ONCE]
            size = np.array([len(groups[k]) for k in part])
            flat = np.concatenate([groups[k] for k in part])
            table = np.full((len(part), int(size.max())), None, dtype=object)
            table[np.repeat(np.arange(len(part)), size),
                  np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)] = \
                shapely.set_precision(self.geoms[flat], 0.0, mode="pointwise")
            drawn = shapely.union_all(table, axis=1)
            grid = proof[1][flat[np.cumsum(size) - size]]
            on = np.flatnonzero(grid > 0)
            drawn[on] = shapely.set_precision(drawn[on], grid[on], mode="pointwise")
            for k, d in zip(part, drawn.tolist()):
                out[k] = d
        return out

    def _clear(self, idx: np.ndarray, proof) -> bool:
        bad_cell, carried, partners = proof[0], proof[1], proof[2]
        grid = carried[idx[0]]
        if grid not in (0.0, self.grid_size) or (carried[idx] != grid).any():
            return False  # a grid GEOS would carry through, other than the one asked for
        if bad_cell[idx].any():
            return False
        for i in idx.tolist() if partners else ():
            if i in partners and np.isin(partners[i], idx).any():
                return False
        return True


def unions_of(table) -> CellUnions:
    """The :class:`CellUnions` of a cell table (:class:`geo.grids.rules.CellTable`), made
    once and kept on it (cells never change)."""
    return kept(table, ("cell_unions",), lambda: CellUnions(table.geoms, grid_size=GRID_SIZE_M))


__all__ = ["CellUnions", "MIN_CELLS", "NEAR_FACTOR", "pairs_clear_kernel", "ring_arrays",
           "unclear_of", "unclear_pairs",
           "unions_of"]
