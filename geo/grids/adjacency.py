"""Neighbouring cells' shared boundaries found from the cells' coordinates instead of a
geometry overlay per pair, wherever the two give the same length, to the bit.

Most neighbouring cells of a tessellation share exactly one edge: the same two vertices,
in both rings, already on the snapping grid. When, besides that edge, every other vertex of
each ring keeps :data:`geo.grids.shared_edges.CLEAR_M` from the other ring and no edge of
one ring crosses an edge of the other, the two rings meet in that edge and nothing else, so
the overlay of the pair (:func:`geo.grids.shared_edges.shared_boundaries`) is that edge: its
length is the length of the segment, computed the way GEOS computes it
(``sqrt(dx·dx + dy·dy)``). Likewise two cells whose boxes overlap but whose rings meet at
one shared vertex only (a corner), or not at all, with every other vertex clear and no edges
crossing, share nothing of any length. Every other pair (a T-junction across a street, two
edges shared, a vertex near the other ring, a cell with a hole or off the grid) is left to
the overlay. The checks are conservative in floating point: a pair taken here is one whose
rings provably meet as said.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

#: Pairs overlaid at once (bounds the memory of their boundaries).
OVERLAID_AT_ONCE = 10_000
#: Middles of shared edges made into points at once (bounds their memory).
MIDDLES_AT_ONCE = 10_000
#: Candidate pairs checked at once (bounds the memory of the vertex × edge tables).
PAIRS_AT_ONCE = 1_000


def single_edge_pairs(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, *, grid_size: float,
                      clear_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i[k], j[k])`` of polygons whose boundaries meet in exactly one shared edge,
    and pairs whose boundaries meet at one shared vertex only or not at all.

    Returns
    -------
    (bool array, array of shape (n, 2, 2), float array)
        Per pair: whether it meets in one shared edge; the edge's ends (as in ring ``i``),
        NaN elsewhere; the length of the boundary shared: the edge's, 0 where the rings
        meet at a vertex only or are apart, NaN where not known here (left to the overlay).
    """
    n = len(i)
    ok = np.zeros(n, dtype=bool)
    ends = np.full((n, 2, 2), np.nan)
    length = np.full(n, np.nan)
    if n == 0:
        return ok, ends, length
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    simple &= ~shapely.is_empty(geoms)
    # a polygon without holes: its coordinates are its shell's
    xy, owner = shapely.get_coordinates(np.where(simple, geoms, None), return_index=True)
    n_cells = len(geoms)
    # edges k → k+1 within one ring (a ring repeats its first vertex last)
    edge = np.flatnonzero(owner[1:] == owner[:-1])
    a_xy, b_xy, e_cell = xy[edge], xy[edge + 1], owner[edge].astype(np.int32)
    del xy, owner, edge
    count = np.bincount(e_cell, minlength=n_cells)                # edges = vertices per ring
    start = np.r_[0, np.cumsum(count)[:-1]]                       # first edge of each cell
    scale = 1.0 / grid_size                                       # every vertex starts an edge
    off_grid = np.zeros(len(a_xy), dtype=bool)
    for d in (0, 1):
        off_grid |= np.rint(a_xy[:, d] * scale) / scale != a_xy[:, d]
    grid_ok = np.bincount(e_cell[off_grid], minlength=n_cells) == 0
    del off_grid
    ea, eb, odd = _shared_edges(a_xy, b_xy, e_cell, n_cells)
    pair_key = e_cell[ea].astype(np.int64) * n_cells + e_cell[eb]
    pk, first_at, shared_count = np.unique(pair_key, return_index=True, return_counts=True)
    del pair_key
    # the candidate pairs (i < j) that share exactly one edge, and that edge
    want = i.astype(np.int64) * n_cells + j
    at = np.searchsorted(pk, want)
    at = np.minimum(at, max(len(pk) - 1, 0))
    found = (len(pk) > 0) & (pk[at] == want) if len(pk) else np.zeros(n, dtype=bool)
    found &= shared_count[at] == 1 if len(pk) else found
    usable = simple[i] & simple[j]
    apart = usable & ~found                                       # no edge shared at all
    found &= usable & grid_ok[i] & grid_ok[j] & ~odd[i] & ~odd[j]
    del want
    cand = np.flatnonzero(found)
    edge_of = ea[first_at[at[cand]]]                              # the edge in ring i
    p, q = a_xy[edge_of], b_xy[edge_of]
    del ea, eb, pk, first_at, shared_count, at, found, edge_of
    box = shapely.bounds(geoms)
    for lo_k in range(0, cand.size, PAIRS_AT_ONCE):
        part = cand[lo_k:lo_k + PAIRS_AT_ONCE]
        pp, qq = p[lo_k:lo_k + PAIRS_AT_ONCE], q[lo_k:lo_k + PAIRS_AT_ONCE]
        rings = _Rings(a_xy, b_xy, start, count, box, i[part], j[part], clear_m)
        good = rings.alone(pp, qq) & ~rings.crossing()
        sel = part[good]
        ok[sel] = True
        ends[sel, 0], ends[sel, 1] = pp[good], qq[good]
        dx, dy = qq[good, 0] - pp[good, 0], qq[good, 1] - pp[good, 1]
        length[sel] = np.sqrt(dx * dx + dy * dy)
    del p, q
    # rings that meet at one shared vertex only, or not at all: every other vertex of each
    # clear of the other ring, and no edges crossing; they share nothing of any length
    cand = np.flatnonzero(apart)
    touch, at_xy = _one_shared_vertex(a_xy, e_cell, n_cells, i[cand], j[cand])
    for lo_k in range(0, cand.size, PAIRS_AT_ONCE):
        part = cand[lo_k:lo_k + PAIRS_AT_ONCE]
        rings = _Rings(a_xy, b_xy, start, count, box, i[part], j[part], clear_m)
        corner = touch[lo_k:lo_k + PAIRS_AT_ONCE]
        v = at_xy[lo_k:lo_k + PAIRS_AT_ONCE]
        meet = (corner == 1) & rings.alone(v, v, shared=True)
        keep_apart = (corner == 0) & rings.alone(v, v, shared=False)
        length[part[(meet | keep_apart) & ~rings.crossing()]] = 0.0
    return ok, ends, length


def overlay_middles(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, needs_middle: np.ndarray,
                    *, overlay: Callable[..., np.ndarray], grid_size: float,
                    min_shared_m: float, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Length of the boundary each pair shares (by ``overlay``:
    :func:`geo.grids.shared_edges.shared_boundaries`), and its middle (a point, None
    elsewhere) where ``needs_middle`` and the length is at least ``min_shared_m``: a few
    thousand pairs at a time, so that only their boundaries are in memory at once."""
    length = np.zeros(len(i))
    middle = np.full(len(i), None, dtype=object)
    for lo in range(0, len(i), OVERLAID_AT_ONCE):
        a, b = i[lo:lo + OVERLAID_AT_ONCE], j[lo:lo + OVERLAID_AT_ONCE]
        cells, at = np.unique(np.r_[a, b], return_inverse=True)
        rings = shapely.boundary(geoms[cells])
        common = overlay(rings, at[:len(a)], at[len(a):], grid_size=grid_size, workers=workers)
        length[lo:lo + len(a)] = shapely.length(common)
        want = np.flatnonzero(needs_middle[lo:lo + len(a)]
                              & (length[lo:lo + len(a)] >= min_shared_m))
        middle[lo + want] = shapely.line_interpolate_point(shapely.line_merge(common[want]),
                                                           0.5, normalized=True)
    return length, middle


def edge_middles_near(tree: shapely.STRtree, ends: np.ndarray, distance: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Whether the middle of each edge (its ``ends``, shape (n, 2, 2)) lies within
    ``distance`` of the tree's geometries, the middle taken as GEOS takes it along the
    edge from either end; and where the two answers disagree (unsure)."""
    hit = np.zeros(len(ends), dtype=bool)
    unsure = np.zeros(len(ends), dtype=bool)
    for lo in range(0, len(ends), MIDDLES_AT_ONCE):
        p, q = ends[lo:lo + MIDDLES_AT_ONCE, 0], ends[lo:lo + MIDDLES_AT_ONCE, 1]
        # the two middles lie nanometres apart: a middle farther than a micrometre more
        # than ``distance`` is far from either end
        middle = shapely.points((q - p) * 0.5 + p)
        close = np.unique(tree.query(middle, predicate="dwithin", distance=distance + 1e-6)[0])
        p, q = p[close], q[close]
        hits = [np.zeros(close.size, dtype=bool) for _ in range(2)]
        # from p: the middles made above; from q: made again
        for h, points in zip(hits, (middle[close], shapely.points((p - q) * 0.5 + q))):
            h[tree.query(points, predicate="dwithin", distance=distance)[0]] = True
        hit[lo + close] = hits[0] & hits[1]
        unsure[lo + close] = hits[0] != hits[1]
    return hit, unsure


def _shared_edges(a_xy: np.ndarray, b_xy: np.ndarray, e_cell: np.ndarray, n_cells: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges found in exactly two cells, as (edge in the lower cell, edge in the higher
    cell), and the cells that hold an edge twice or share one with two others (odd)."""
    # each edge under a key independent of its direction
    swap = (a_xy[:, 0] > b_xy[:, 0]) | ((a_xy[:, 0] == b_xy[:, 0]) & (a_xy[:, 1] > b_xy[:, 1]))
    keys = [np.where(swap, b_xy[:, 0], a_xy[:, 0]), np.where(swap, b_xy[:, 1], a_xy[:, 1]),
            np.where(swap, a_xy[:, 0], b_xy[:, 0]), np.where(swap, a_xy[:, 1], b_xy[:, 1])]
    del swap
    order = np.lexsort(keys[::-1]).astype(np.int32)
    new = np.ones(len(order), dtype=bool)
    for key in keys:
        sorted_key = key[order]
        new[1:] &= sorted_key[1:] == sorted_key[:-1]
    del keys, sorted_key
    new = ~new
    new[0] = True
    run = np.cumsum(new, dtype=np.int32) - 1
    size = np.bincount(run)
    odd = np.zeros(n_cells, dtype=bool)
    odd[e_cell[order[size[run] > 2]]] = True
    twice = np.flatnonzero(size[run] == 2)
    del run, size
    first, second = twice[new[twice]], twice[~new[twice]]
    ea, eb = order[first], order[second]
    same = e_cell[ea] == e_cell[eb]
    odd[e_cell[ea[same]]] = True
    ea, eb = ea[~same], eb[~same]
    lower = e_cell[ea] < e_cell[eb]
    return np.where(lower, ea, eb), np.where(lower, eb, ea), odd


def _one_shared_vertex(a_xy: np.ndarray, e_cell: np.ndarray, n_cells: int, i: np.ndarray,
                       j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: how many vertices the two rings have in common (0, 1, or 2 for two or
    more, or where a vertex is shared by more than four rings) and, where one, the vertex
    (NaN elsewhere)."""
    order = np.lexsort((a_xy[:, 1], a_xy[:, 0])).astype(np.int32)
    new = np.ones(len(order), dtype=bool)
    for d in (0, 1):
        v = a_xy[order, d]
        new[1:] &= v[1:] == v[:-1]
    del v
    new = ~new
    new[0] = True
    run = np.cumsum(new, dtype=np.int32) - 1
    size = np.bincount(run)
    first = np.flatnonzero(new)
    keys, where = [], []
    for s in (2, 3, 4):
        at = first[size[run[first]] == s]
        for u in range(s):
            for w in range(u + 1, s):
                cu, cw = e_cell[order[at + u]], e_cell[order[at + w]]
                lo, hi = np.minimum(cu, cw).astype(np.int64), np.maximum(cu, cw)
                keys.append(lo * n_cells + hi)
                where.append(order[at + u])
    crowded = np.zeros(n_cells, dtype=bool)
    crowded[e_cell[order[size[run] > 4]]] = True
    keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    where = np.concatenate(where) if where else np.zeros(0, dtype=np.int64)
    count = np.zeros(len(i), dtype=np.int64)
    xy = np.full((len(i), 2), np.nan)
    if len(keys):
        pk, at, n_shared = np.unique(keys, return_index=True, return_counts=True)
        want = i.astype(np.int64) * n_cells + j
        pos = np.minimum(np.searchsorted(pk, want), len(pk) - 1)
        hit = pk[pos] == want
        count[hit] = np.minimum(n_shared[pos[hit]], 2)
        one = np.flatnonzero(count == 1)
        xy[one] = a_xy[where[at[pos[one]]]]
    count[crowded[i] | crowded[j]] = 2
    return count, xy


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])


def _each(row_a: np.ndarray, row_b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) of items ``a`` (row ``row_a``) and ``b`` (row ``row_b``, sorted) of
    the same row."""
    cb = np.bincount(row_b, minlength=n)
    first_b = np.r_[0, np.cumsum(cb)[:-1]]
    rep = cb[row_a]
    a = np.repeat(np.arange(len(row_a)), rep)
    offset = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
    return a, first_b[row_a[a]] + offset


class _Rings:
    """The edges of both rings of some pairs, each ring's edges kept only where they come
    near the other ring's bounds (the only places the rings can meet)."""

    def __init__(self, a_xy, b_xy, start, count, box, ci, cj, clear_m):
        self.n, self.clear = len(ci), clear_m
        self.a_xy, self.b_xy = a_xy, b_xy
        self.sides = [self._near_box(start, count, box, own, other)
                      for own, other in ((ci, cj), (cj, ci))]

    def _near_box(self, start, count, box, own, other):
        rep = count[own]
        row = np.repeat(np.arange(len(own)), rep)
        edge = start[own][row] + np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
        a, b = self.a_xy[edge], self.b_xy[edge]
        lo, hi = box[other][row, :2] - self.clear, box[other][row, 2:] + self.clear
        keep = np.ones(len(edge), dtype=bool)
        for d in (0, 1):
            keep &= np.maximum(a[:, d], b[:, d]) >= lo[:, d]
            keep &= np.minimum(a[:, d], b[:, d]) <= hi[:, d]
        return row[keep], edge[keep]

    def alone(self, p: np.ndarray, q: np.ndarray, *, shared: bool = True) -> np.ndarray:
        """Per pair: each ring holds ``p`` and ``q`` once (``shared``; else neither), and
        every other vertex of each ring lies at least ``clear`` from the other ring."""
        ok = np.ones(self.n, dtype=bool)
        for (row, edge), (orow, oedge) in (self.sides, self.sides[::-1]):
            # every vertex starts one edge, and a vertex near the other ring's bounds
            # starts an edge near them: the vertices of the edges kept are all that can
            # come near the other ring
            v = self.a_xy[edge]
            is_p, is_q = _same(v, p[row]), _same(v, q[row])
            ok &= np.bincount(row[is_p], minlength=self.n) == int(shared)
            ok &= np.bincount(row[is_q], minlength=self.n) == int(shared)
            rest = ~(is_p | is_q)
            row, v = row[rest], v[rest]
            k, s = _each(row, orow, self.n)
            seg = oedge[s]
            ax, ay = self.a_xy[seg, 0], self.a_xy[seg, 1]
            abx, aby = self.b_xy[seg, 0] - ax, self.b_xy[seg, 1] - ay
            apx, apy = v[k, 0] - ax, v[k, 1] - ay
            den = abx * abx + aby * aby
            t = np.clip((apx * abx + apy * aby) / np.where(den > 0, den, 1.0), 0.0, 1.0)
            dx, dy = apx - t * abx, apy - t * aby
            # a micrometre more, for the rounding of this distance
            near = dx * dx + dy * dy < (self.clear + 1e-6) ** 2
            ok &= np.bincount(row[k[near]], minlength=self.n) == 0
        return ok

    def crossing(self) -> np.ndarray:
        """Per pair: some edge of one ring may cross an edge of the other (edges that
        share an end excepted: after :meth:`alone`, they meet only there)."""
        (row, ei), (orow, ej) = self.sides
        k, s = _each(row, orow, self.n)
        row, ei, ej = row[k], ei[k], ej[s]
        p1, p2, q1, q2 = self.a_xy[ei], self.b_xy[ei], self.a_xy[ej], self.b_xy[ej]
        share = _same(p1, q1) | _same(p1, q2) | _same(p2, q1) | _same(p2, q2)
        boxes = np.ones(len(p1), dtype=bool)
        for d in (0, 1):
            boxes &= np.minimum(p1[:, d], p2[:, d]) <= np.maximum(q1[:, d], q2[:, d])
            boxes &= np.minimum(q1[:, d], q2[:, d]) <= np.maximum(p1[:, d], p2[:, d])
        test = np.flatnonzero(boxes & ~share)
        p1, p2, q1, q2 = p1[test], p2[test], q1[test], q2[test]

        def side(a, b, c):
            return ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                    - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

        # apart only where one segment lies strictly on one side of the other's line
        apart = ((side(p1, p2, q1) * side(p1, p2, q2) > 0)
                 | (side(q1, q2, p1) * side(q1, q2, p2) > 0))
        return np.bincount(row[test[~apart]], minlength=self.n) > 0


__all__ = ["edge_middles_near", "overlay_middles", "single_edge_pairs"]
