"""Construction: cut each zone of a community's cell graph into connected parts whose
households lie in the band, by recursive bisection.

Inside a community, the areas enclosed by arterial roads ("faces") are the zones a grid
may not leave. A face whose households cannot form grids inside the band on its own
(⌈W/max⌉ > ⌊W/min⌋, e.g. 150 or 350 households) is joined to a neighbouring face; only
there may a grid cross an arterial road. Each zone is cut by straight sweeps in several
directions, cut where both sides can still hold whole grids inside the band, preferring
short cuts along streets and sides near the middle of the band; both sides must stay
connected (checked on the cell graph). Random spanning-tree cuts (as in GerryChain's
recursive seed partition) are the fallback when no straight cut keeps both sides
connected. The search is bounded by counted work (:class:`Budget`), never by time.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from geo.grids.graph import KIND_CODE, CellGraph, Zone, project
from geo.grids.rules import (band_feasible, components, grid_count_range, infeasible_reason,
                             nearest_grid_count)
from geo.grids.settings import GridSettings

#: Relative cost of cutting along a boundary inside a block, along a street, along an
#: arterial, along a footpath inside a block. A footpath costs as much as any boundary
#: inside a block here (cheaper, arterial dead ends were crossed more often); the
#: improvement then moves cuts onto paths, which it does not charge as block cuts.
CUT_COST = np.array([1.0, 0.6, 0.3, 1.0])
#: Weight of the sides' average grid size straying from the band's middle.
BALANCE_WEIGHT = 4.0
#: Weight of one forced arterial crossing (fragment of a face too small for its own grid).
CROSSING_WEIGHT = 10.0
#: Directions (degrees) tried by the sweeps.
BUILD_ANGLES = (0.0, 45.0, 90.0, 135.0)


class Budget:
    """Bounds the search: bisections left to recurse into, candidate cuts left to check,
    and regions known to fail."""

    def __init__(self, tries: int) -> None:
        self.left = tries
        self.checks = 50 * tries
        self.failed: set[tuple[int, bytes]] = set()

    def check(self) -> bool:
        self.checks -= 1
        return self.checks >= 0

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0

    @property
    def exhausted(self) -> bool:
        return self.left < 0 or self.checks < 0


def side_range(total: float, k: int, a: int, lo: float, hi: float) -> tuple[float, float]:
    return max(a * lo, total - (k - a) * hi), min(a * hi, total - (k - a) * lo)


def feasible_vec(total: np.ndarray, lo: float, hi: float) -> np.ndarray:
    total = np.asarray(total, dtype=float)
    return (total > 0) & (np.ceil(total / hi - 1e-9) <= np.floor(total / lo + 1e-9))


def _cov(m: np.ndarray) -> np.ndarray:
    """``np.cov(m)`` of a 2 × n float array, numpy's steps without its checks (a tenth of
    the construction's time went to them at 1M households): the same bits."""
    x = np.array(m, ndmin=2, dtype=np.float64)
    x -= x.mean(axis=1)[:, None]
    c = np.dot(x, x.T.conj())
    c *= np.true_divide(1, x.shape[1] - 1)
    return c


def _straight_cuts(g: CellGraph, nodes: np.ndarray, k: int, lo: float, hi: float,
                   mid: float, fast: dict | None = None):
    """Candidate bisections (side-1 nodes, parts on side 1) by straight sweeps, best first.

    Every direction is swept at once (one column per direction); each candidate's score
    is the same arithmetic as a sweep per direction, and candidates keep the order of
    direction, then side count, then position before the stable sort by score (in
    ``fast``'s compiled loop when given: the same candidates)."""
    n = len(nodes)
    total = float(g.w[nodes].sum())
    scale = math.sqrt(max(g.area[nodes].sum(), 1.0))
    cov = _cov(g.xy[nodes].T) if n > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    major = float(np.degrees(np.arctan2(evecs[1, -1], evecs[0, -1]))) % 180
    angles = sorted(set(np.round(list(BUILD_ANGLES) + [major, (major + 90) % 180], 1)))
    a_values = sorted(range(1, k), key=lambda a: (abs(a - k / 2), a))[:2]
    theta = np.deg2rad(np.asarray(angles, dtype=float))
    xy = g.xy[nodes]
    # nodes ordered along each direction (element by element: the same floats as one
    # sweep per direction, on every machine)
    proj = project(xy, np.array([np.cos(theta), np.sin(theta)]))
    ranges = [side_range(total, k, a, lo, hi) for a in a_values]
    if fast is not None and n >= 2 and g.w.dtype == np.int64:
        ptr, out = g._outgoing
        order, t_o, t_a, t_p = fast["cut_table"](
            proj, np.asarray(nodes, dtype=np.int64), g.n, g.w, g.face, g.ei, g.ej, g.elen,
            g.ekind, CUT_COST, ptr, out, total, scale, k, np.asarray(a_values, dtype=np.int64),
            np.array([r[0] for r in ranges], dtype=float),
            np.array([r[1] for r in ranges], dtype=float), float(lo), float(hi), float(mid),
            BALANCE_WEIGHT, CROSSING_WEIGHT)
        yield from _distinct_sides(nodes, order, zip(t_o.tolist(), t_a.tolist(), t_p.tolist()))
        return
    e = g.edges_inside(nodes)
    loc = np.empty(g.n, dtype=np.int64)  # positions in ``nodes`` (read at their cells only)
    loc[nodes] = np.arange(n)
    cost = g.elen[e] * CUT_COST[g.ekind[e]]
    order = proj.argsort(axis=0, kind="stable")
    rank = order.argsort(axis=0)  # the inverse permutation of each column
    ru, rv = rank.take(loc.take(g.ei.take(e)), axis=0), rank.take(loc.take(g.ej.take(e)), axis=0)
    r1, r2 = np.minimum(ru, rv), np.maximum(ru, rv)  # edges × directions
    cw = np.cumsum(g.w[nodes][order], axis=0)[:-1].astype(float)
    cut = _cut_profiles(n, r1, r2, cost) / scale
    forced = _forced_all(g, nodes, order, lo, hi)
    # candidates in the order of direction, side count, position (as one sweep per
    # direction found them), then sorted by score (stable)
    av = np.asarray(a_values, dtype=float)
    low = np.array([r[0] for r in ranges])[:, None, None]
    high = np.array([r[1] for r in ranges])[:, None, None]
    c = cw.T[None, :, :]                                   # 1 × directions × positions
    ok = (c >= low - 1e-9) & (c <= high + 1e-9)            # sides × directions × positions
    if not ok.any():
        return
    o, a_i, p = np.nonzero(ok.transpose(1, 0, 2))
    cp = cw[p, o]
    avg1 = cp / av[a_i]
    avg2 = (total - cp) / (k - av[a_i])
    # both sides should keep their average grid near the middle of the band, so that
    # they can still be cut inside it (slack on both ends)
    spread = np.maximum(np.abs(avg1 - mid), np.abs(avg2 - mid)) / max(hi - lo, 1.0)
    score = cut[p, o] + BALANCE_WEIGHT * spread + CROSSING_WEIGHT * forced[p, o]
    yield from _distinct_sides(nodes, order, _ranked(score, o, av[a_i], p + 1))


def _ranked(score: np.ndarray, o: np.ndarray, a: np.ndarray, p: np.ndarray):
    """``(direction, parts, cells)`` of each candidate by score, as a stable sort lists
    them; the first found without the sort (most splits take it)."""
    if np.isnan(score).any():  # argmin would take a NaN, the sort puts it last
        rest = np.argsort(score, kind="stable")
    else:
        first = int(np.argmin(score))  # the sort's first: the first lowest score
        yield int(o[first]), int(a[first]), int(p[first])
        rest = np.argsort(score, kind="stable")[1:]
    for r in rest.tolist():
        yield int(o[r]), int(a[r]), int(p[r])


def _distinct_sides(nodes: np.ndarray, order: np.ndarray, table):
    """Side-1 nodes and parts of each ranked candidate ``(direction, parts, cells)``
    but near duplicates (candidates that differ only by a few zero-household cells)."""
    seen = set()
    for o, a, p in table:
        side = np.sort(nodes[order[:p, o]])
        key = (int(a), hash(side.tobytes()))
        if key in seen:
            continue
        seen.add(key)
        yield side, int(a)


def _cut_profiles(n: int, r1: np.ndarray, r2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` of edges cut by each prefix position p = 1…n-1 (row p-1), per
    direction (column): one bincount, each sum taken in edge order, every start then
    every end (as ``np.add.at`` on a difference array took them: the same floats)."""
    n_dir = r1.shape[1]
    base = np.arange(n_dir) * (n + 1)
    # direction-major, so each direction's (start, then end) sums stay in edge order
    flat = np.empty((2, n_dir, r1.shape[0]), dtype=np.int64)
    flat[0], flat[1] = r1.T, r2.T
    flat += (base + 1)[:, None]
    flat = flat.ravel()
    w = np.empty((2, n_dir, len(weights)))
    w[0], w[1] = weights, -weights
    w = w.ravel()
    diff = np.bincount(flat, weights=w, minlength=n_dir * (n + 1)).reshape(n_dir, n + 1).T
    return np.cumsum(diff, axis=0)[1:n]


def _forced_all(g: CellGraph, nodes: np.ndarray, order: np.ndarray, lo: float,
                hi: float) -> np.ndarray:
    """Per prefix position (row) and direction (column of ``order``): face fragments too
    small (or empty) for grids of their own."""
    faces = g.face[nodes][order]
    uniq = np.unique(g.face[nodes])  # the same faces (each column orders the same nodes)
    n, n_dir = order.shape
    out = np.zeros((n - 1, n_dir))
    if uniq.size < 2:
        return out
    w = g.w[nodes][order].astype(float)
    sides1 = np.zeros((n - 1, n_dir))
    sides2 = np.zeros((n - 1, n_dir))
    bad1 = np.zeros((n - 1, n_dir))
    bad2 = np.zeros((n - 1, n_dir))
    for f in uniq:
        m = faces == f
        cw = np.cumsum(np.where(m, w, 0.0), axis=0)[:-1]
        cn = np.cumsum(m, axis=0)[:-1]
        wf, nf = cw[-1] + w[-1] * m[-1], m.sum(axis=0)
        w2, n2 = wf - cw, nf - cn
        sides1 += cn > 0
        sides2 += n2 > 0
        bad1 += (cn > 0) & ~feasible_vec(cw, lo, hi)
        bad2 += (n2 > 0) & ~feasible_vec(w2, lo, hi)
    return np.where(sides1 > 1, bad1, 0) + np.where(sides2 > 1, bad2, 0)


def _tree_cuts(g: CellGraph, nodes: np.ndarray, k: int, lo: float, hi: float,
               rng: np.random.Generator, tries: int):
    """Candidate bisections from random spanning trees (both sides always connected)."""
    n = len(nodes)
    loc, e = g.local(nodes)
    u, v = loc[g.ei[e]], loc[g.ej[e]]
    w = g.w[nodes].astype(float)
    total = w.sum()
    for _ in range(tries):
        weights = rng.random(len(e)) + 1e-3
        tree = csgraph.minimum_spanning_tree(sparse.csr_array((weights, (u, v)), shape=(n, n)))
        order, pred = csgraph.breadth_first_order(tree, 0, directed=False)
        if len(order) < n:
            return
        sub = w.copy()
        for node in order[:0:-1]:
            sub[pred[node]] += sub[node]
        found = []
        for a in sorted(range(1, k), key=lambda a: abs(a - k / 2)):
            low, high = side_range(total, k, a, lo, hi)
            ok = np.flatnonzero((sub >= low - 1e-9) & (sub <= high + 1e-9))
            ok = ok[ok != 0]
            if ok.size:
                best = ok[np.argmin(np.abs(sub[ok] - total * a / k))]
                found.append((best, a))
        for node, a in found:
            # the subtree below ``node``: walk the BFS order, keep descendants
            inside = np.zeros(n, dtype=bool)
            inside[node] = True
            for x in order:
                if x != node and pred[x] >= 0 and inside[pred[x]]:
                    inside[x] = True
            yield np.sort(nodes[inside]), a


def _split(g: CellGraph, nodes: np.ndarray, k: int, lo: float, hi: float, mid: float,
           budget: Budget, rng: np.random.Generator,
           fast: dict | None = None) -> list[np.ndarray] | None:
    """Cut connected ``nodes`` into ``k`` connected parts with weights in [lo, hi]."""
    if k == 1:
        return [nodes]
    key = (k, np.sort(nodes).tobytes())
    if key in budget.failed:
        return None
    full = np.zeros(g.n, dtype=bool)
    full[nodes] = True

    any_connected = False

    def candidates():
        yield from _straight_cuts(g, nodes, k, lo, hi, mid, fast)
        if not any_connected:  # straight cuts all broke contiguity: try spanning trees
            yield from _tree_cuts(g, nodes, k, lo, hi, rng, tries=8)

    for side, a in candidates():
        if not budget.check():
            return None
        m1 = np.zeros(g.n, dtype=bool)
        m1[side] = True
        m2 = full & ~m1
        if fast is not None:
            if not (fast["connected"](m1, *g.undirected)
                    and fast["connected"](m2, *g.undirected)):
                continue
        elif not (g.connected(m1) and g.connected(m2)):
            continue
        any_connected = True
        if not budget.spend():
            return None
        left = _split(g, side, a, lo, hi, mid, budget, rng, fast)
        if left is None:
            continue
        right = _split(g, np.flatnonzero(m2), k - a, lo, hi, mid, budget, rng, fast)
        if right is None:
            continue
        return left + right
    if not budget.exhausted:  # every candidate failed (not the budget): remember
        budget.failed.add(key)
    return None



def zones_of(g: CellGraph, settings: GridSettings) -> list[Zone]:
    """Group faces into zones that can each meet the band (joining across arterials only
    where a face cannot), one zone per connected piece at most."""
    band = settings.band
    lo, hi = band
    art = g.ekind == KIND_CODE["arterial"]
    comp = components(g.n, g.ei, g.ej)
    face = g.face
    n_faces = face.max() + 1 if g.n else 0
    fw = np.bincount(face, weights=g.w, minlength=n_faces).astype(np.int64)
    parent = np.arange(n_faces)

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    fa, fb = face[g.ei[art]], face[g.ej[art]]

    @functools.cache
    def shared_lengths() -> pd.Series:
        """Arterial boundary shared by each pair of faces (summed once, when first asked:
        most communities have no face to join)."""
        return pd.DataFrame({"a": np.r_[fa, fb], "b": np.r_[fb, fa],
                             "len": np.r_[g.elen[art], g.elen[art]]}).groupby(["a", "b"])["len"].sum()

    size = fw.copy()
    changed = True
    while changed:
        changed = False
        roots = np.array([root(f) for f in range(n_faces)], dtype=np.int64)
        bad = [r for r in np.unique(roots) if not band_feasible(int(size[r]), band)]
        for r in sorted(bad, key=lambda r: (size[r], r)):
            if root(r) != r or band_feasible(int(size[r]), band):
                continue
            members = np.flatnonzero(roots == r)
            shared = shared_lengths()
            nb = shared[shared.index.get_level_values(0).isin(members)]
            if nb.empty:
                continue
            cand = pd.DataFrame({"root": [root(b) for b in nb.index.get_level_values(1)],
                                 "len": nb.to_numpy()})
            cand = cand[cand["root"] != r].groupby("root")["len"].sum()
            if cand.empty:
                continue
            feas = np.array([band_feasible(int(size[r] + size[c]), band) for c in cand.index])
            pick = cand[feas] if feas.any() else cand
            best = int(pick.sort_values(ascending=False, kind="stable").index[0])
            parent[best] = r
            size[r] += size[best]
            changed = True
            roots = np.array([root(f) for f in range(n_faces)], dtype=np.int64)

    roots = np.array([root(f) for f in range(n_faces)], dtype=np.int64)
    zone_of = roots[face]
    zones = []
    for z in np.unique(zone_of):
        nodes = np.flatnonzero(zone_of == z)
        # a zone can still be in pieces if faces joined by arterial edges were not merged
        for c in np.unique(comp[nodes]):
            part = nodes[comp[nodes] == c]
            total = int(g.w[part].sum())
            fws = {int(f): int(g.w[part][face[part] == f].sum()) for f in np.unique(face[part])}
            options = grid_count_range(total, band)
            if total == 0:
                zones.append(Zone(part, lo, hi, 0, "empty", faces_weight=fws))
            elif len(options):
                mid = settings.mid_households
                ks = sorted(options, key=lambda k: (abs(total / k - mid), k))
                zones.append(Zone(part, lo, hi, ks[0], faces_weight=fws))
            else:
                k = nearest_grid_count(total, band)
                size_k = total / k
                zone = Zone(part, min(lo, math.floor(size_k * 0.85)),
                             max(hi, math.ceil(size_k * 1.15)), k, "infeasible",
                             infeasible_reason(total, band), fws)
                zones.append(zone)
    return zones


def partition_zone(g: CellGraph, zone: Zone, settings: GridSettings,
                    rng: np.random.Generator, *, relax: bool,
                    fast: dict | None = None) -> list[np.ndarray] | None:
    """Parts of one zone. Without ``relax``, None when no in-band partition is found;
    with it, the band is widened step by step (and the zone flagged) instead (``fast``:
    :mod:`geo.grids.fast_construction`'s compiled loop, the same parts)."""
    total = int(g.w[zone.nodes].sum())
    mid = total / zone.k if zone.status == "infeasible" else settings.mid_households
    ks = [zone.k]
    if zone.status == "ok":
        options = grid_count_range(total, settings.band)
        ks = sorted(options, key=lambda k: (abs(total / k - mid), k))[:3]
    for k in ks:
        # without relaxing (whole buildings), give up early: a finer pass follows
        tries = 40 + 20 * k if relax else 10 + 4 * k
        parts = _split(g, zone.nodes, k, zone.lo, zone.hi, mid, Budget(tries), rng, fast)
        if parts is not None:
            zone.k = k
            return parts
    if not relax:
        return None
    k = ks[0]
    width = max(zone.hi - zone.lo, 1.0)
    parts = None
    for widen in (0.1, 0.25, 0.5, 1.0):
        lo = max(1.0, zone.lo - widen * width)
        hi = zone.hi + widen * width
        parts = _split(g, zone.nodes, k, lo, hi, mid, Budget(40 + 20 * k), rng, fast)
        if parts is not None:
            break
    if parts is None:  # any k connected parts: a spanning-tree cut always gives them
        parts = _split(g, zone.nodes, k, 1.0, float(total), mid, Budget(10 * k + 100), rng,
                       fast)
    if parts is None:
        parts = [zone.nodes]
    zone.k = len(parts)
    if zone.status == "ok":
        zone.status = "relaxed"
        zone.reason = ("grid.reason.relaxed", {"min": settings.band[0],
                                               "max": settings.band[1]})
    return parts


