"""Improvement: each pair of neighbouring grids is merged and re-split along the straight
cut that most raises their Polsby–Popper compactness, keeping the band, contiguity and
the crossing count. Bounded by counted work (passes and pair tries), never by time, and
pairs are visited in a fixed order, so the result is the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo.grids.construction import CROSSING_WEIGHT
from geo.grids.fast_partition import kernels as compiled_kernels
from geo.grids.graph import CellGraph, Zone, project
from geo.grids.rules import compactness_one as _pp
from geo.grids.settings import GridSettings
from geo.grids.sweeps import (ARTERIAL, BLOCK, BLOCK_CUT_WEIGHT, IMPROVE_ANGLES,  # noqa: F401
                              MID_WEIGHT, _DIRECTIONS, Sweep, sweeps)

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
    found = sweeps(g, [nodes], [(lo, hi, mid)], proj)[0]
    return None if found is None else _finish(g, nodes, found, lo, hi, mid, current, terms)


def _finish(g: CellGraph, nodes: np.ndarray, sweep: Sweep, lo: float, hi: float, mid: float,
            current: float | tuple[np.ndarray, np.ndarray], terms: tuple | None = None
            ) -> tuple[np.ndarray, float] | None:
    """:func:`best_resplit` of ``nodes`` from its :class:`Sweep`."""
    if isinstance(current, tuple):
        current = _current(g, nodes, current, sweep.cells, sweep.e, sweep.eu, sweep.ev,
                           sweep.elen, sweep.ekind, lo, hi, mid, terms)
    return _first_connected(nodes, sweep.eu, sweep.ev, sweep.order, sweep.score,
                            sweep.ok & (sweep.score > current + 1e-6), sweep.rank)


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
        pairs = pairs.tolist()
        ahead: dict = {}  # sweeps made ahead (numpy path): pair → (versions, sweep)
        for at, (x, y) in enumerate(pairs):
            if zone_of_part[x] != zone_of_part[y] or tried.get((x, y)) == (version[x], version[y]):
                continue
            if stats.tries >= budget:
                stats.budget_spent = True
                stats.resplits += improved
                return labels, stats
            stats.tries += 1
            nx, ny = members[x], members[y]
            union = np.concatenate([nx, ny])
            lo, hi, mid = _band(g, zones[zone_of_part[x]], settings, nx, ny)
            pair_terms = (terms, (x, version[x]), (y, version[y]))
            if fast is not None:
                found = best_resplit(g, union, lo, hi, mid, (nx, ny), fast, proj, pair_terms)
            else:
                made = ahead.get((x, y))
                if made is None or made[0] != (version[x], version[y]):
                    ahead = _sweep_ahead(g, pairs, at, members, version, tried, zone_of_part,
                                         zones, settings, proj, budget - stats.tries + 1,
                                         ahead)
                    made = ahead[(x, y)]
                found = None if made[1] is None else \
                    _finish(g, union, made[1], lo, hi, mid, (nx, ny), pair_terms)
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


#: Pairs swept together by :func:`_sweep_ahead` (a re-split makes the sweeps of the
#: pairs of its two grids after it stale: they are swept again when reached).
AHEAD = 16


def _band(g: CellGraph, zone: Zone, settings: GridSettings, nx: np.ndarray, ny: np.ndarray
          ) -> tuple[float, float, float]:
    """The band (``lo``, ``hi``) and middle a pair of grids of ``zone`` is re-split to."""
    mid, lo, hi = settings.mid_households, zone.lo, zone.hi
    if zone.status in ("infeasible", "relaxed"):  # the grids' households needed
        wx, wy = g.w[nx].sum(), g.w[ny].sum()
        if zone.status == "infeasible":
            mid = (wx + wy) / 2
        else:  # never move a flagged grid further from the band
            lo, hi = min(lo, wx, wy), max(hi, wx, wy)
    return lo, hi, mid


def _sweep_ahead(g: CellGraph, pairs: list, at: int, members: dict, version: dict,
                 tried: dict, zone_of_part: np.ndarray, zones: list[Zone],
                 settings: GridSettings, proj: np.ndarray | None, left: int, made: dict
                 ) -> dict:
    """The sweeps of the pair ``pairs[at]`` and of the next pairs :func:`improve` would
    try as its grids are now (at most :data:`AHEAD` and ``left`` in all), made at once
    but those ``made`` already: pair → (the grids' versions, :class:`Sweep` or None)."""
    chosen, unions, bands, kept = [], [], [], {}
    for x, y in pairs[at:at + min(AHEAD, left) * 2]:
        if len(chosen) + len(kept) >= min(AHEAD, left):
            break
        now = (version[x], version[y])
        if zone_of_part[x] != zone_of_part[y] or tried.get((x, y)) == now:
            continue
        if (x, y) in made and made[(x, y)][0] == now:
            kept[(x, y)] = made[(x, y)]
            continue
        nx, ny = members[x], members[y]
        chosen.append((x, y))
        unions.append(np.concatenate([nx, ny]))
        bands.append(_band(g, zones[zone_of_part[x]], settings, nx, ny))
    for (x, y), sweep in zip(chosen, sweeps(g, unions, bands, proj)):
        kept[(x, y)] = ((version[x], version[y]), sweep)
    return kept
