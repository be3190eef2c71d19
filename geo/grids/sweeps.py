"""The improvement's sweeps, many pairs at once: every straight cut's score of each pair
of grids (:func:`geo.grids.improvement.best_resplit`), all pairs in one set of numpy
calls instead of one set per pair.

Each pair's cells are padded to the longest pair's count (padding sorts last along every
direction, weighs nothing and is never a cut), so each pair's numbers are computed by
the same operations in the same order as when it is swept alone: running sums run from
the first cell (a padded row after them changes none of them), each bin of the edge
sums adds its own edges in edge order, the sums over a pair's cells are its own (numpy's
pairwise sums depend on the length, so they are taken pair by pair) and the rest is
element by element. A pair swept with others gets the very floats it gets alone
(tests/geo/test_small_run_speed.py checks it), and :func:`best_resplit` sweeps a pair
through here too: one formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo.grids.construction import CROSSING_WEIGHT, side_range
from geo.grids.graph import KIND_CODE, CellGraph, project
from geo.grids.rules import compactness

ARTERIAL, BLOCK = KIND_CODE["arterial"], KIND_CODE["block"]

#: Improvement objective: Polsby–Popper minus these weights (BLOCK_CUT_WEIGHT per metre of
#: cut inside a block that does not follow a footpath).
MID_WEIGHT = 0.05
BLOCK_CUT_WEIGHT = 0.05
#: Directions (degrees) tried by the re-splits.
IMPROVE_ANGLES = tuple(np.arange(0.0, 180.0, 15.0))
_DIRECTIONS = np.array([np.cos(np.deg2rad(IMPROVE_ANGLES)), np.sin(np.deg2rad(IMPROVE_ANGLES))])
_DIRECTION = np.arange(len(IMPROVE_ANGLES))  # each direction's column
#: Tables of the edge sums: lengths inside the first side, inside the second (counted
#: from the far end), arterial edges of each, a block edge's length where its cut starts
#: and where it ends (as a difference array).
_TABLES = 6


@dataclass
class Sweep:
    """One pair's sweep (``n`` cells): ``score`` and ``ok`` (in band) of the cut after
    each position along each direction ((n - 1) × directions), the cells' ``order``
    along each direction and its inverse ``rank`` (n × directions), the cells'
    households (as floats), areas and perimeters (``cells``, 3 × n) and the edges inside
    the pair (``e``: ids in :meth:`CellGraph.edges_inside`'s order; ``eu``, ``ev``:
    their ends as positions in the pair; ``elen``, ``ekind``)."""

    score: np.ndarray
    ok: np.ndarray
    order: np.ndarray
    rank: np.ndarray
    cells: np.ndarray
    e: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    elen: np.ndarray
    ekind: np.ndarray


def sweeps(g: CellGraph, unions: list[np.ndarray], bands: list[tuple[float, float, float]],
           proj: np.ndarray | None = None) -> list[Sweep | None]:
    """Each union's :class:`Sweep` (cut into two sides, each ``lo``–``hi`` households,
    ``mid`` the middle: ``bands``), or None where no cut leaves both sides in band.
    ``proj``: :func:`project` of every cell of ``g`` along the directions, if made."""
    count = len(unions)
    lens = np.array([len(u) for u in unions], dtype=np.int64)
    big = int(lens.max(initial=1))
    n_dir = len(IMPROVE_ANGLES)
    cat = np.concatenate(unions).astype(np.int64, copy=False)
    ends = np.cumsum(lens)
    starts = ends - lens
    valid = np.arange(big) < lens[:, None]  # count × big
    keys = np.full((count, big, n_dir), np.inf)  # padding sorts last
    keys[valid] = project(g.xy[cat], _DIRECTIONS) if proj is None else proj.take(cat, axis=0)
    order = keys.argsort(axis=1, kind="stable")
    flat_cells = np.empty((3, len(cat)))  # households (as floats), areas, perimeters
    flat_cells[0], flat_cells[1], flat_cells[2] = g.w.take(cat), g.area.take(cat), \
        g.perim.take(cat)
    cells = np.zeros((3, count * big))  # each pair's cells, padded
    cells[:, valid.ravel()] = flat_cells
    # each pair's own sums (a row's sum as numpy takes it alone: the same floats)
    sums = np.array([flat_cells[:, a:b].sum(axis=1) for a, b in zip(starts.tolist(),
                                                                    ends.tolist())])
    total, area_total, perim_total = sums[:, 0], sums[:, 1], sums[:, 2]
    lows, highs = [], []
    for t, (lo, hi, _mid) in zip(total.tolist(), bands):
        low, high = side_range(t, 2, 1, lo, hi)
        lows.append(low - 1e-9)
        highs.append(high + 1e-9)
    swept = cells.take(order + (np.arange(count) * big)[:, None, None], axis=1)
    cw, a1, s1 = swept.cumsum(axis=2)[:, :, :-1]  # count × (big - 1) × directions
    ok = (cw >= np.array(lows)[:, None, None]) & (cw <= np.array(highs)[:, None, None]) \
        & (np.arange(big - 1)[:, None] < (lens - 1)[:, None, None])
    out: list[Sweep | None] = [None] * count
    some = ok.any(axis=(1, 2))
    if not some.any():
        return out
    chosen = np.flatnonzero(some)
    e, which, eu, ev, e_lens = _edges(g, unions, chosen, cat, lens, starts)
    elen, ekind = g.elen.take(e), g.ekind.take(e)
    order, cw, a1, s1, ok = order[chosen], cw[chosen], a1[chosen], s1[chosen], ok[chosen]
    rank = np.empty_like(order)  # the inverse permutation of each column
    rank[np.arange(len(chosen))[:, None, None], order, _DIRECTION] = np.arange(big)[:, None]
    # each cell's rank as a flat position (rank × directions + direction: the same order)
    flat = rank * n_dir + _DIRECTION
    ru, rv = flat[which, eu], flat[which, ev]
    r1, r2 = np.minimum(ru, rv), np.maximum(ru, rv)  # edges × directions
    is_art = ekind == ARTERIAL
    # (as in a pair's own sweep: each pair's tables one after the other, each edge's
    # length (or 1 for an arterial edge) at the rank of its later end, at its earlier
    # end's counted from the far end (big - r: the padding adds only zeros before), and a
    # block edge's length where it starts and ends being cut (+1); one bincount: each
    # bin's sum is its own, in edge order)
    rows = big + 1
    size = rows * n_dir
    base = (which * (_TABLES * size))[:, None]
    at = np.empty((_TABLES, len(e), n_dir), dtype=np.int64)
    np.add(r2, base, out=at[0])
    np.subtract(big * n_dir + size + 2 * _DIRECTION + base, r1, out=at[1])
    np.add(at[0], 2 * size, out=at[2])
    np.add(at[1], 2 * size, out=at[3])
    np.add(r1, n_dir + 4 * size + base, out=at[4])
    np.add(r2, n_dir + 5 * size + base, out=at[5])
    weights = np.empty((_TABLES, len(e)))
    weights[0] = weights[1] = elen
    weights[2] = weights[3] = is_art
    weights[4] = weights[5] = np.where(ekind == BLOCK, elen, 0.0)
    by_rank = np.bincount(at.ravel(), weights=weights.repeat(n_dir, axis=1).ravel(),
                          minlength=len(chosen) * _TABLES * size
                          ).reshape(len(chosen), _TABLES, rows, n_dir)
    run = by_rank[:, :2].cumsum(axis=2)  # (the arterial tables: pair by pair, if any)
    inside1 = run[:, 0, :big - 1]            # both ends < p
    inside2 = run[:, 1, ::-1][:, 1:big]      # both ends ≥ p
    cut_block = (by_rank[:, 4] - by_rank[:, 5]).cumsum(axis=1)[:, 1:big]
    at_area = area_total[chosen][:, None, None]
    two = np.empty((2, 2) + cw.shape)  # areas and perimeters of both sides
    two[0, 0] = a1
    np.subtract(at_area, a1, out=two[0, 1])
    np.subtract(s1, 2 * inside1, out=two[1, 0])
    np.subtract(perim_total[chosen][:, None, None] - s1, 2 * inside2, out=two[1, 1])
    both = compactness(two[0], two[1])
    mid = np.array([bands[b][2] for b in chosen.tolist()], dtype=float)[:, None, None]
    band = np.array([max(bands[b][1] - bands[b][0], 1.0) for b in chosen.tolist()])
    root = np.array([math.sqrt(max(area_total[b], 1.0)) for b in chosen.tolist()])
    score = both[0] + both[1] \
        - MID_WEIGHT * (np.abs(cw - mid) + np.abs(total[chosen][:, None, None] - cw - mid)) \
        / band[:, None, None] - BLOCK_CUT_WEIGHT * cut_block / root[:, None, None]
    e_ends = np.cumsum(e_lens)
    arterial = set(which[is_art].tolist())
    for i, b in enumerate(chosen.tolist()):
        n = int(lens[b])
        nodes = unions[b]
        got = slice(e_ends[i] - e_lens[i], e_ends[i])
        pair_score = score[i, :n - 1]
        if i in arterial:
            art_run = by_rank[i, 2:4].cumsum(axis=1)
            along1 = art_run[0, :n - 1] > 0
            along2 = art_run[1, ::-1][1:n] > 0
            faces = g.face[nodes][order[i, :n]]
            f1 = np.zeros((n - 1, n_dir))
            f2 = np.zeros((n - 1, n_dir))
            for face in np.unique(faces):
                m = faces == face
                c = np.cumsum(m, axis=0)[:-1]
                f1 += c > 0
                f2 += (m.sum(axis=0) - c) > 0
            pair_score = pair_score - CROSSING_WEIGHT * (np.maximum(f1 - 1, along1)
                                                         + np.maximum(f2 - 1, along2))
        out[b] = Sweep(score=pair_score, ok=ok[i, :n - 1], order=order[i, :n],
                       rank=rank[i, :n], cells=cells[:, b * big:b * big + n], e=e[got], eu=eu[got],
                       ev=ev[got], elen=elen[got], ekind=ekind[got])
    return out


def _edges(g: CellGraph, unions: list[np.ndarray], chosen: np.ndarray, cat: np.ndarray,
           lens: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, ...]:
    """The edges inside each ``chosen`` union, one union after the other, each in
    :meth:`CellGraph.edges_inside`'s order: edge ids, each one's union (its position in
    ``chosen``), its ends as positions in the union, and each union's edge count."""
    key = np.repeat(np.arange(len(unions), dtype=np.int64), lens) * g.n + cat
    sorter = np.argsort(key, kind="stable")
    sorted_key = key[sorter]
    picked = chosen.tolist()
    if any(g.lists_by_id(unions[b]) for b in picked):  # by edge id: union by union
        es = [g.edges_inside(unions[b]) for b in picked]
        e_lens = np.array([len(e) for e in es], dtype=np.int64)
        e = np.concatenate(es).astype(np.int64, copy=False)
        which = np.repeat(np.arange(len(picked)), e_lens)
        first = chosen[which] * g.n
        eu = sorter[np.searchsorted(sorted_key, first + g.ei.take(e))] - starts[chosen][which]
    else:  # cell by cell: each cell's edges listed under it whose other end is inside
        ptr, out = g._outgoing
        node_pair = np.repeat(np.arange(len(picked)), lens[chosen])
        nodes = np.concatenate([unions[b] for b in picked]).astype(np.int64, copy=False)
        position = np.arange(len(nodes)) - np.repeat(np.cumsum(lens[chosen]) - lens[chosen],
                                                    lens[chosen])
        first_edge = ptr.take(nodes)
        counts = ptr.take(nodes + 1) - first_edge
        offsets = np.cumsum(counts) - counts
        listed = out.take(np.repeat(first_edge - offsets, counts) + np.arange(int(counts.sum())))
        owner = np.repeat(node_pair, counts)
        probe = chosen[owner] * g.n + g.ej.take(listed)
        at = np.minimum(np.searchsorted(sorted_key, probe), len(sorted_key) - 1)
        inside = sorted_key[at] == probe
        e = listed[inside].astype(np.int64, copy=False)
        which = owner[inside]
        eu = np.repeat(position, counts)[inside]
        e_lens = np.bincount(which, minlength=len(picked))
        first = chosen[which] * g.n
    ev = sorter[np.searchsorted(sorted_key, first + g.ej.take(e))] - starts[chosen][which]
    return e, which, eu, ev, e_lens
