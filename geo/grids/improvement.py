"""Improvement: each pair of neighbouring grids is merged and re-split along the straight
cut that most raises their Polsby–Popper compactness, keeping the band, contiguity and
the crossing count. Bounded by counted work (passes and pair tries), never by time, and
pairs are visited in a fixed order, so the result is the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo.grids.construction import CROSSING_WEIGHT, side_range
from geo.grids.fast_partition import kernels as compiled_kernels
from geo.grids.graph import KIND_CODE, CellGraph, Zone, project
from geo.grids.rules import compactness, compactness_one as _pp
from geo.grids.settings import GridSettings

ARTERIAL, BLOCK = KIND_CODE["arterial"], KIND_CODE["block"]

#: Improvement objective: Polsby–Popper minus these weights (BLOCK_CUT_WEIGHT per metre of
#: cut inside a block that does not follow a footpath).
MID_WEIGHT = 0.05
BLOCK_CUT_WEIGHT = 0.05
#: Directions (degrees) tried by the re-splits.
IMPROVE_ANGLES = tuple(np.arange(0.0, 180.0, 15.0))
_DIRECTIONS = np.array([np.cos(np.deg2rad(IMPROVE_ANGLES)), np.sin(np.deg2rad(IMPROVE_ANGLES))])
_DIRECTION = np.arange(len(IMPROVE_ANGLES))  # each direction's column
#: The rule book's compactness factor (4π), for the compiled loops.
_FOUR_PI = float(_pp(1.0, 1.0))
#: Runs with fewer cells than this improve in numpy: numba's import and the first load of
#: the compiled loops (about half a second) cost more than they save below it.
MIN_COMPILED_CELLS = 20_000


def compiled_for(cells: int) -> bool:
    """Whether a run of ``cells`` cells is large enough for the compiled loops (numpy
    otherwise; both give the same grids)."""
    return cells >= MIN_COMPILED_CELLS


def kernels(compiled: bool) -> dict | None:
    """The compiled loops when asked for and numba is there (None: numpy)."""
    return compiled_kernels() if compiled else None


def _pair_objective(g: CellGraph, nx: np.ndarray, ny: np.ndarray, lo: float, hi: float,
                    mid: float, e: np.ndarray | None = None) -> float:
    """Objective of two neighbouring grids, as :func:`_best_resplit` scores a cut
    (``e``: the edges inside their union, if known)."""
    union = np.concatenate([nx, ny])
    if e is None:
        e = g.edges_inside(union)
    in_x = np.zeros(g.n, dtype=bool)
    in_x[nx] = True
    return _objective(g.area.take(union), g.perim.take(union), g.w.take(union),
                      g.face.take(union), len(nx), in_x.take(g.ei.take(e)),
                      in_x.take(g.ej.take(e)), g.elen.take(e), g.ekind.take(e), lo, hi, mid)


def _objective(area_u: np.ndarray, perim_u: np.ndarray, w_u: np.ndarray, face_u: np.ndarray,
               k: int, ex: np.ndarray, ey: np.ndarray, elen: np.ndarray, ekind: np.ndarray,
               lo: float, hi: float, mid: float, terms: tuple | None = None) -> float:
    """:func:`_pair_objective` of the union's cells (areas, perimeters, households, faces;
    the first ``k`` in the first grid) and its inner edges (``ex``, ``ey``: whether each
    end is in the first grid; lengths, kinds). Sums in numpy, the rest on Python floats
    (the same arithmetic, bit for bit, without numpy's cost per scalar); each grid's
    values are a slice of the union's (the same arrays, the same sums).

    ``terms``: ``(memo, key of the first grid, key of the second)``. A grid's own term
    depends on its cells (in their order), the edges between them (in the order the
    union lists them: by cell, or by edge id when the union is large, see
    :meth:`CellGraph.edges_inside`) and the band's width and middle; the memo keeps it
    under its key and these (the same float whichever grid it is paired with)."""
    band = max(hi - lo, 1.0)
    total = 0.0
    art = None  # the arterial edges, found when a term is computed
    for side, part in enumerate((slice(0, k), slice(k, None))):
        key = None if terms is None else (terms[side + 1], band, mid)
        term = None if key is None else terms[0].get(key)
        if term is None:
            if art is None:
                art = ekind == ARTERIAL
                has_art = bool(art.any())
            inside = ex & ey if side == 0 else ~(ex | ey)
            area = float(area_u[part].sum())
            perim = float(perim_u[part].sum()) - 2 * float(elen[inside].sum())
            faces = len(set(face_u[part].tolist())) - 1
            along = has_art and bool(art[inside].any())  # (no arterial inside: none along)
            term = _pp(area, perim) \
                - MID_WEIGHT * abs(int(w_u[part].sum()) - mid) / band \
                - CROSSING_WEIGHT * max(faces, int(along))
            if key is not None:
                terms[0][key] = term
        total += term
    between = ex != ey
    block = float(elen[between & (ekind == BLOCK)].sum())
    return total - BLOCK_CUT_WEIGHT * block / math.sqrt(max(float(area_u.sum()), 1.0))


def _by_rank(rows: int, ranks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each k: the sum of per-edge ``weights[k]`` by (``ranks[k]``, direction),
    ``rows`` × directions, all in one pass (``ranks``: k × edges × directions). Summed in
    edge order, as ``np.add.at`` would (the same floats, bit for bit)."""
    k, _, n_dir = ranks.shape
    size = rows * n_dir
    return _sums_at(ranks * n_dir + np.arange(n_dir) + (np.arange(k) * size)[:, None, None],
                    weights, rows)


def _sums_at(at: np.ndarray, weights: np.ndarray, rows: int) -> np.ndarray:
    """:func:`_by_rank` from each (table, edge, direction)'s flat position ``at`` (table ×
    rows × directions + rank × directions + direction)."""
    k, _, n_dir = at.shape
    out = np.bincount(at.ravel(), weights=weights.repeat(n_dir, axis=1).ravel(),
                      minlength=k * rows * n_dir)
    return out.reshape(k, rows, n_dir)


def best_resplit(g: CellGraph, nodes: np.ndarray, lo: float, hi: float, mid: float,
                  current: float | tuple[np.ndarray, np.ndarray], fast: dict | None = None,
                  proj: np.ndarray | None = None, terms: tuple | None = None
                  ) -> tuple[np.ndarray, float] | None:
    """Best straight cut of a pair's union into two in-band, connected grids, if it beats
    ``current``: the pair's objective now, or the pair itself (its objective is then
    computed here). All directions are swept at once (in ``fast``'s compiled loops when
    given: the same numbers). ``proj``: :func:`project` of every cell of ``g`` along the
    directions, if made already (element by element: the same floats); ``terms``: each
    grid's own terms of the pair's objective, kept while its cells stay
    (:func:`_objective`)."""
    n = len(nodes)
    if fast is not None and n >= 2 and g.w.dtype == np.int64:
        return _best_resplit_compiled(g, np.asarray(nodes, dtype=np.int64), lo, hi, mid,
                                      current, fast)
    e = g.edges_inside(nodes)
    w = g.w.take(nodes)
    total = float(w.sum())
    low, high = side_range(total, 2, 1, lo, hi)
    n_dir = len(IMPROVE_ANGLES)
    proj = project(g.xy[nodes], _DIRECTIONS) if proj is None else proj.take(nodes, axis=0)
    order = proj.argsort(axis=0, kind="stable")  # n × directions
    # households, area and perimeter summed along each sweep in one pass (households as
    # floats: whole numbers, exact)
    cells = np.empty((3, n))
    cells[0], cells[1], cells[2] = w, g.area.take(nodes), g.perim.take(nodes)
    cw, a1, s1 = cells.take(order, axis=1).cumsum(axis=1)[:, :-1]
    ok = (cw >= low - 1e-9) & (cw <= high + 1e-9)
    if not ok.any():
        return None
    loc = np.empty(g.n, dtype=np.int64)  # positions in ``nodes`` (read at their cells only)
    loc[nodes] = np.arange(n)
    eu, ev = loc.take(g.ei.take(e)), loc.take(g.ej.take(e))
    rank = order.argsort(axis=0)  # the inverse permutation of each column
    # each cell's rank as a flat position (rank × directions + direction: the same order)
    flat = rank * n_dir + _DIRECTION
    ru, rv = flat.take(eu, axis=0), flat.take(ev, axis=0)
    r1, r2 = np.minimum(ru, rv), np.maximum(ru, rv)  # edges × directions
    elen, ekind = g.elen.take(e), g.ekind.take(e)
    if isinstance(current, tuple):
        current = _current(g, nodes, current, cells, e, eu, ev, elen, ekind, lo, hi, mid,
                           terms)
    is_art = ekind == ARTERIAL
    has_art = bool(is_art.any())
    # per edge and direction: its length at the rank of its later end and, counted from the
    # far end (n - r), of its earlier end; a block edge's length where it starts and ends
    # being cut (+1: as a difference array); arterial edges as the length (all sums in one
    # bincount, each in edge order, then forward cumulative sums: the same floats as
    # ``np.add.at`` and sums from either end)
    # (tables: lengths, arterial edges if any, then the block edges last: the running sums
    # are taken of the tables before them only; each bin's sum is its own, in edge order)
    b = 4 if has_art else 2  # the first block table
    k = b + 2
    rows = n + 1
    size = rows * n_dir
    at = np.empty((k, len(e), n_dir), dtype=np.int64)  # (rank, direction) of table k
    at[0] = r2
    np.subtract(n * n_dir + size + 2 * _DIRECTION, r1, out=at[1])  # rank n - r1
    if has_art:
        np.add(at[0], 2 * size, out=at[2])
        np.add(at[1], 2 * size, out=at[3])
    np.add(r1, n_dir + b * size, out=at[b])  # rank r1 + 1
    np.add(r2, n_dir + (b + 1) * size, out=at[b + 1])  # rank r2 + 1
    weights = np.empty((k, len(e)))
    weights[0] = weights[1] = elen
    weights[b] = weights[b + 1] = np.where(ekind == BLOCK, elen, 0.0)
    if has_art:
        weights[2] = weights[3] = is_art
    by_rank = _sums_at(at, weights, rows)
    run = by_rank[:b].cumsum(axis=1)
    inside1 = run[0, :n - 1]            # both ends < p
    inside2 = run[1, ::-1][1:n]         # both ends ≥ p
    area_total, perim_total = cells[1].sum(), cells[2].sum()
    band = max(hi - lo, 1.0)
    cut_block = (by_rank[b] - by_rank[b + 1]).cumsum(axis=0)[1:n]
    two = np.empty((2, 2, n - 1, n_dir))  # areas and perimeters of both sides
    two[0, 0] = a1
    np.subtract(area_total, a1, out=two[0, 1])
    np.subtract(s1, 2 * inside1, out=two[1, 0])
    np.subtract(perim_total - s1, 2 * inside2, out=two[1, 1])
    both = compactness(two[0], two[1])
    score = both[0] + both[1] \
        - MID_WEIGHT * (np.abs(cw - mid) + np.abs(total - cw - mid)) / band \
        - BLOCK_CUT_WEIGHT * cut_block / math.sqrt(max(area_total, 1.0))
    if has_art:
        along1 = run[2, :n - 1] > 0
        along2 = run[3, ::-1][1:n] > 0
        faces = g.face[nodes][order]
        f1 = np.zeros((n - 1, n_dir))
        f2 = np.zeros((n - 1, n_dir))
        for face in np.unique(faces):
            m = faces == face
            c = np.cumsum(m, axis=0)[:-1]
            f1 += c > 0
            f2 += (m.sum(axis=0) - c) > 0
        score = score - CROSSING_WEIGHT * (np.maximum(f1 - 1, along1) + np.maximum(f2 - 1, along2))
    return _first_connected(nodes, eu, ev, order, score, ok & (score > current + 1e-6), rank)


def _current(g: CellGraph, nodes: np.ndarray, pair: tuple[np.ndarray, np.ndarray],
             cells: np.ndarray, e: np.ndarray, eu: np.ndarray, ev: np.ndarray,
             elen: np.ndarray, ekind: np.ndarray, lo: float, hi: float, mid: float,
             terms: tuple | None = None) -> float:
    """:func:`_pair_objective` of ``pair`` inside :func:`best_resplit` of their union
    (``cells``: households, areas and perimeters of ``nodes``, one row each; ``eu``,
    ``ev``: the inner edges' ends as positions in ``nodes``), from what the re-split
    gathered already when ``nodes`` is the two grids' cells one after the other
    (``terms``: see :func:`_objective`; keyed here also by how the union lists its edges)."""
    nx, ny = pair
    k = len(nx)
    # (compared as bytes: the same answer for arrays of one type, without numpy's calls)
    if k + len(ny) != len(nodes) or nodes.dtype != nx.dtype or nodes.dtype != ny.dtype \
            or nodes[:k].tobytes() != nx.tobytes() or nodes[k:].tobytes() != ny.tobytes():
        return _pair_objective(g, nx, ny, lo, hi, mid, e)
    if terms is not None:
        by_id = g.lists_by_id(nodes)
        terms = (terms[0], (terms[1], by_id), (terms[2], by_id))
    return _objective(cells[1], cells[2], cells[0], g.face.take(nodes), k,
                      eu < k, ev < k, elen, ekind, lo, hi, mid, terms)


def _best_resplit_compiled(g: CellGraph, nodes: np.ndarray, lo: float, hi: float, mid: float,
                           current: float | tuple[np.ndarray, np.ndarray], fast: dict
                           ) -> tuple[np.ndarray, float] | None:
    """:func:`best_resplit` in compiled loops but the projections (numpy's product)."""
    pair = isinstance(current, tuple)
    nx, ny = current if pair else (_NONE, _NONE)
    ptr, out = g._outgoing
    nb_ptr, nb = g.undirected
    side, score, found = fast["resplit"](
        project(g.xy[nodes], _DIRECTIONS), nodes, g.n, g.w, g.area, g.perim, g.face, g.ei, g.ej,
        g.elen, g.ekind, ptr, out, nb_ptr, nb, nx, ny, pair, 0.0 if pair else float(current),
        float(lo), float(hi), float(mid), _FOUR_PI, MID_WEIGHT, BLOCK_CUT_WEIGHT,
        CROSSING_WEIGHT, ARTERIAL, BLOCK)
    return (side, float(score)) if found else None


_NONE = np.zeros(0, dtype=np.int64)


def _first_connected(nodes: np.ndarray, eu: np.ndarray, ev: np.ndarray, order: np.ndarray,
                     score: np.ndarray, good: np.ndarray, rank: np.ndarray | None = None
                     ) -> tuple[np.ndarray, float] | None:
    """The best-scoring ``good`` cut whose two sides are both connected (``eu``, ``ev``:
    the edges inside ``nodes``, as positions in it; a side is connected through them
    alone, as :meth:`CellGraph.connected` finds in the whole graph; ``rank``: the inverse
    of ``order``'s columns, if made)."""
    if not good.any():
        return None
    pos, col = np.nonzero(good)
    ranked = np.argsort(-score[pos, col], kind="stable")[:40]
    n = len(nodes)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(eu.tolist(), ev.tolist()):
        nbrs[a].append(b)
        nbrs[b].append(a)
    for r in ranked.tolist():
        p, c = int(pos[r]), int(col[r])
        if rank is None:
            first = [False] * n
            for v in order[: p + 1, c].tolist():
                first[v] = True
        else:
            first = (rank[:, c] <= p).tolist()
        if _one_piece(nbrs, first, True, p + 1) and _one_piece(nbrs, first, False, n - p - 1):
            return np.sort(nodes[order[: p + 1, c]]), float(score[p, c])
    return None


def _one_piece(nbrs: list[list[int]], first: list[bool], side: bool, size: int) -> bool:
    """Whether the ``size`` positions whose ``first`` equals ``side`` are one piece."""
    start = first.index(side)
    left = list(first)  # a position reached is marked None
    left[start] = None
    reached = 1
    stack = [start]
    while stack:
        for b in nbrs[stack.pop()]:
            if left[b] is side:
                left[b] = None
                reached += 1
                stack.append(b)
    return reached == size


@dataclass
class ImproveStats:
    """Work done by the improvement: passes run, pairs tried, pairs re-split, and
    whether the work budget stopped it before it converged."""

    passes: int = 0
    tries: int = 0
    resplits: int = 0
    budget_spent: bool = False

    def add(self, other: ImproveStats) -> None:
        self.passes = max(self.passes, other.passes)
        self.tries += other.tries
        self.resplits += other.resplits
        self.budget_spent |= other.budget_spent

    def as_dict(self) -> dict:
        return {"passes": self.passes, "tries": self.tries, "resplits": self.resplits,
                "budget_spent": self.budget_spent}


def improve(g: CellGraph, labels: np.ndarray, zone_of_part: np.ndarray, zones: list[Zone],
            settings: GridSettings, fast: dict | None = None) -> tuple[np.ndarray, ImproveStats]:
    """Merge-and-resplit neighbouring grid pairs of one zone while compactness improves.

    Pairs are visited in label order; a pair is tried again only after one of its grids
    has changed. At most ``settings.improve_passes`` passes and
    ``settings.improve_tries_per_grid`` pair tries per grid."""
    stats = ImproveStats()
    if settings.improve_passes == 0 or labels.max(initial=-1) < 1:
        return labels, stats
    labels = labels.copy()
    members = {int(k): np.flatnonzero(labels == k) for k in np.unique(labels[labels >= 0])}
    version = dict.fromkeys(members, 0)
    tried: dict[tuple[int, int], tuple[int, int]] = {}
    budget = settings.improve_tries_per_grid * len(members)
    proj = project(g.xy, _DIRECTIONS) if fast is None else None  # every cell's, once
    terms: dict = {}  # each grid's own terms of a pair's objective (_objective)
    for _ in range(settings.improve_passes):
        stats.passes += 1
        a, b = labels[g.ei], labels[g.ej]
        keep = (a != b) & (a >= 0) & (b >= 0)
        # neighbouring pairs (x < y) in order, as np.unique(rows, axis=0) lists them
        span = int(labels.max()) + 1
        key = np.unique(np.minimum(a[keep], b[keep]) * span + np.maximum(a[keep], b[keep]))
        pairs = np.column_stack([key // span, key % span])
        improved = 0
        for x, y in pairs.tolist():
            if zone_of_part[x] != zone_of_part[y] or tried.get((x, y)) == (version[x], version[y]):
                continue
            if stats.tries >= budget:
                stats.budget_spent = True
                stats.resplits += improved
                return labels, stats
            stats.tries += 1
            zone = zones[zone_of_part[x]]
            nx, ny = members[x], members[y]
            mid, lo, hi = settings.mid_households, zone.lo, zone.hi
            if zone.status in ("infeasible", "relaxed"):  # the grids' households needed
                wx, wy = g.w[nx].sum(), g.w[ny].sum()
                if zone.status == "infeasible":
                    mid = (wx + wy) / 2
                else:  # never move a flagged grid further from the band
                    lo, hi = min(lo, wx, wy), max(hi, wx, wy)
            union = np.concatenate([nx, ny])
            found = best_resplit(g, union, lo, hi, mid, (nx, ny), fast, proj,
                                 (terms, (x, version[x]), (y, version[y])))
            if found is None:
                tried[(x, y)] = (version[x], version[y])
                continue
            side = found[0]
            labels[union] = y
            labels[side] = x
            members[x] = side
            rest = np.zeros(g.n, dtype=bool)  # np.setdiff1d(union, side), without its sort
            rest[union] = True
            rest[side] = False
            members[y] = np.flatnonzero(rest)
            version[x] += 1
            version[y] += 1
            improved += 1
        stats.resplits += improved
        if improved == 0:
            break
    return labels, stats
