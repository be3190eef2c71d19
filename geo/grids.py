"""Grids (网格): split every community into contiguous, street-following grids whose
household counts lie inside a band (default 200–300).

Hard rules, in order: the band; contiguity; one community per grid; no arterial road
crossed unless the band cannot be met otherwise (every crossing reported); a building
whose households alone exceed the band is split by unit/floor share into parts. Then
compact shapes, boundaries along streets, and counts near the middle of the band.

How it works
------------
1. Units (household points) are checked; a unit above the band is split into parts.
   Where whole buildings cannot be grouped inside the band (towers of 101–199 households
   with a 200–300 band cannot pair up), the community is gridded again with buildings
   split by unit/floor share into parts of at most half the band's width; every split is
   reported.
2. Each community is cut into street blocks and every unit gets a tessellation cell inside
   its block (:mod:`geo.blocks`); cells that share a boundary are neighbours.
3. Inside a community, the areas enclosed by arterial roads ("faces") are the zones a grid
   may not leave. A face whose households cannot form grids inside the band on its own
   (⌈W/max⌉ > ⌊W/min⌋, e.g. 150 or 350 households) is joined to a neighbouring face; only
   there may a grid cross an arterial road.
4. Each zone is cut by recursive bisection: straight sweeps in several directions, cut
   where both sides can still hold whole grids inside the band, preferring short cuts
   along streets and sides near the middle of the band; both sides must stay connected
   (checked on the cell graph). Random spanning-tree cuts (as in GerryChain's recursive
   seed partition) are the fallback when no straight cut keeps both sides connected.
5. Improvement (time-boxed): each pair of neighbouring grids is merged and re-split along
   the straight cut that most raises their Polsby–Popper compactness, keeping the band,
   contiguity and the crossing count. Then cells are moved off the dead ends of arterial
   roads that a grid still straddles.
6. Grid polygons are unions of cells; ids are the community code plus a two-digit number
   in reading order (north→south, west→east). Grids kept from a previous run (``locked``)
   keep their units and ids; other grids take the previous id they overlap most.

A grid *crosses* an arterial road when its households fall into more than one piece once
the grid is cut along every arterial: across arterial faces, or across the dead end of an
arterial that runs between two street blocks. Land without households attached across an
arterial (a park, an empty block) is no crossing, and neither is the loose end of an
arterial inside a block beyond its last junction: one can walk round it.

A community whose total cannot meet the band gets the nearest answer (the grid count whose
grids miss the band by the least), flagged with a one-sentence reason.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo.blocks import GRID_SIZE_M, cell_adjacency, locate_in_blocks, street_blocks, tessellate
from geo.communities import assign_communities, reading_order, validate_communities
from geo.crs import require_projected
from geo.errors import InputError, SettingsError
from geo.i18n import both, t
from geo.settings import check_range

#: Relative cost of cutting along a boundary inside a block, along a street, along an arterial.
CUT_COST = np.array([1.0, 0.6, 0.3])
KIND_CODE = {"block": 0, "street": 1, "arterial": 2}
#: Weight of the sides' average grid size straying from the band's middle (construction).
BALANCE_WEIGHT = 4.0
#: Weight of one forced arterial crossing (fragment of a face too small for its own grid).
CROSSING_WEIGHT = 10.0
#: Improvement objective: Polsby–Popper minus these weights.
MID_WEIGHT = 0.05
BLOCK_CUT_WEIGHT = 0.05
#: Directions (degrees) tried by the sweeps in construction and in improvement.
BUILD_ANGLES = (0.0, 45.0, 90.0, 135.0)
IMPROVE_ANGLES = tuple(np.arange(0.0, 180.0, 15.0))
_DIRECTIONS = np.array([np.cos(np.deg2rad(IMPROVE_ANGLES)), np.sin(np.deg2rad(IMPROVE_ANGLES))])
#: Holes and pieces of a grid polygon smaller than this (m²) are slivers of snapping.
SLIVER_M2 = 1.0


@dataclass(frozen=True)
class GridSettings:
    """How grids are drawn.

    Attributes
    ----------
    min_households, max_households
        The band every grid's household count must lie in (200–300 in Erenhot; some
        cities use 300–500).
    improve_seconds
        Time box of the compactness improvement phase, for the whole run. The phase
        normally stops earlier (after ``improve_passes`` passes, or when a pass improves
        nothing), so results do not depend on machine speed; the report says when the
        time box cut it short.
    improve_passes
        Passes over all pairs of neighbouring grids (0 switches improvement off).
    seed
        Seed of the random spanning trees used when no straight cut works.
    """

    min_households: int = 200
    max_households: int = 300
    improve_seconds: float = 30.0
    improve_passes: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.min_households > 0:
            raise SettingsError("err.grid_band_min", min=self.min_households)
        if self.min_households > self.max_households:
            raise SettingsError("err.grid_band_order", min=self.min_households,
                                max=self.max_households)
        check_range("max_households", self.max_households, 1, 1_000_000)
        check_range("improve_seconds", self.improve_seconds, 0, 3600)
        check_range("improve_passes", self.improve_passes, 0, 100)

    @property
    def mid_households(self) -> float:
        return (self.min_households + self.max_households) / 2


# --------------------------------------------------------------------------- feasibility

def grid_count_range(total: int, min_households: int, max_households: int) -> range:
    """Grid counts k with every grid inside the band possible by arithmetic:
    ⌈W/max⌉ ≤ k ≤ ⌊W/min⌋ (empty when the total cannot meet the band)."""
    if total <= 0:
        return range(0)
    return range(math.ceil(total / max_households), total // min_households + 1)


def band_feasible(total: int, min_households: int, max_households: int) -> bool:
    """Whether ``total`` households can be cut into grids all inside the band."""
    return len(grid_count_range(total, min_households, max_households)) > 0


def nearest_grid_count(total: int, min_households: int, max_households: int) -> int:
    """For a total that cannot meet the band: the grid count whose (even) grids miss the
    band by the least households (ties: fewer grids)."""
    if total <= 0:
        return 0
    best, best_miss = 1, math.inf
    for k in range(1, max(1, total // max(1, min_households)) + 2):
        size = total / k
        miss = max(0.0, size - max_households, min_households - size)
        if miss < best_miss - 1e-9:
            best, best_miss = k, miss
    return best


def infeasible_reason(total: int, min_households: int, max_households: int) -> tuple[str, dict]:
    """Translation key and parameters of the one-sentence reason for an infeasible total."""
    k = nearest_grid_count(total, min_households, max_households)
    if total < min_households:
        return "grid.reason.too_few", {"households": total, "min": min_households}
    low = total // min_households  # this many grids would be too big
    return "grid.reason.gap", {"households": total, "min": min_households,
                               "max": max_households, "k_low": low, "k_high": low + 1,
                               "k": k, "size": round(total / k)}


# --------------------------------------------------------------------------- units

def check_units(households: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Check household units before gridding.

    Raises :class:`InputError` for a missing column, duplicate ``unit_id`` or a household
    count that is not a whole number ≥ 0; units with no households are kept (they are
    placed in the grid they fall in, holding nobody) and reported.

    Returns
    -------
    (GeoDataFrame, list of str)
        The units (fresh positional index, ``households`` as int64) and bilingual notes.
    """
    require_projected(households, what="households")
    for column in ("unit_id", "households"):
        if column not in households.columns:
            raise InputError("err.units_missing_column", column=column,
                             columns=", ".join(map(str, households.columns)))
    out = households.reset_index(drop=True).copy()
    bad_geom = out.geometry.isna() | out.geometry.is_empty
    if bad_geom.any():
        raise InputError("err.units_no_location", count=int(bad_geom.sum()),
                         examples=", ".join(out.loc[bad_geom, "unit_id"].astype(str).head(5)))
    out["unit_id"] = out["unit_id"].astype(str)
    dup = out["unit_id"][out["unit_id"].duplicated()].unique()
    if len(dup):
        raise InputError("err.units_duplicate_ids", count=len(dup), examples=", ".join(dup[:5]))
    values = pd.to_numeric(out["households"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError("err.units_bad_households", unit=out["unit_id"].iloc[k],
                         value=out["households"].iloc[k], count=int(bad.sum()))
    out["households"] = values.astype(np.int64)
    notes = []
    zero = int((values == 0).sum())
    if zero:
        notes.append(both("note.units_zero_households", count=zero))
    return out, notes


def split_large_units(units: gpd.GeoDataFrame, *, min_households: int, max_households: int,
                      part_max: int | None = None) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """Split every unit whose households alone exceed the band into parts.

    The number of parts is the grid count nearest the middle of the band that the
    unit's total allows (each part then fits a grid), else ⌈W/max⌉ parts, which then join
    neighbouring units. With ``part_max``, units above it are also split, into parts of at
    most ``part_max`` (used where whole buildings cannot be grouped inside the band, e.g.
    towers of 150–199 households with a 200–300 band). Parts share the unit's location
    (they are its entrances or floors) and carry ``part_of`` (the unit's id) and ``part``
    (``'1/3'``…); their ids are ``<unit_id>:<k>``.

    Returns
    -------
    (GeoDataFrame, list of dict)
        The pieces (positional index) and one record per split unit (``unit_id``,
        ``households``, ``parts``, ``why``: ``above_band`` or ``to_fit``).
    """
    hh = units["households"].to_numpy(dtype=np.int64)
    pieces = units.reset_index(drop=True).copy()
    pieces["part_of"] = pd.Series([None] * len(pieces), dtype=object)
    pieces["part"] = pd.Series([None] * len(pieces), dtype=object)
    mid = (min_households + max_households) / 2
    n_parts = np.ones(len(units), dtype=np.int64)
    why = np.full(len(units), "", dtype=object)
    for pos in np.flatnonzero(hh > max_households):
        options = grid_count_range(int(hh[pos]), min_households, max_households)
        if len(options):
            n_parts[pos] = int(np.clip(round(hh[pos] / mid), options.start, options.stop - 1))
        else:
            n_parts[pos] = math.ceil(hh[pos] / max_households)
        why[pos] = "above_band"
    if part_max is not None:
        finer = np.ceil(hh / max(part_max, 1)).astype(np.int64)
        more = finer > n_parts
        n_parts[more] = finer[more]
        why[more & (why == "")] = "to_fit"
    split = np.flatnonzero(n_parts > 1)
    if split.size == 0:
        return pieces, []
    ids = pieces["unit_id"].astype(str).to_numpy().astype(object)
    splits = [{"unit_id": ids[pos], "households": int(hh[pos]), "parts": int(n_parts[pos]),
               "why": why[pos]} for pos in split]
    rep = np.repeat(np.arange(len(units)), n_parts)
    out = pieces.iloc[rep].reset_index(drop=True)
    first = np.r_[0, np.cumsum(n_parts)[:-1]]
    part_no = np.arange(len(rep)) - np.repeat(first, n_parts)
    is_part = n_parts[rep] > 1
    counts = hh[rep].copy()
    for pos in split:
        base, extra = divmod(int(hh[pos]), int(n_parts[pos]))
        share = np.full(n_parts[pos], base)
        share[:extra] += 1
        counts[first[pos]:first[pos] + n_parts[pos]] = share
    rep_ids = ids[rep]
    out["part_of"] = pd.Series(np.where(is_part, rep_ids, None), dtype=object)
    out["part"] = pd.Series([f"{k + 1}/{n_parts[r]}" if p else None
                             for k, r, p in zip(part_no, rep, is_part)], dtype=object)
    out["unit_id"] = [f"{u}:{k + 1}" if p else u for u, k, p in zip(rep_ids, part_no, is_part)]
    out["households"] = counts
    return out, splits


# --------------------------------------------------------------------------- graph

@dataclass
class _Graph:
    """Cells of one community as arrays (positions local to the community)."""

    w: np.ndarray
    xy: np.ndarray
    area: np.ndarray
    perim: np.ndarray
    face: np.ndarray
    ei: np.ndarray
    ej: np.ndarray
    elen: np.ndarray
    ekind: np.ndarray

    @property
    def n(self) -> int:
        return len(self.w)

    def sub_edges(self, mask: np.ndarray) -> np.ndarray:
        """Edges with both ends under ``mask`` (for masks covering much of the graph)."""
        return np.flatnonzero(mask[self.ei] & mask[self.ej])

    @cached_property
    def _outgoing(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges listed under their first end (``ei``): CSR pointer and edge ids."""
        order = np.argsort(self.ei, kind="stable")
        ptr = np.r_[0, np.cumsum(np.bincount(self.ei, minlength=self.n))]
        return ptr, order

    def local(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each node's position in ``nodes`` (-1 elsewhere) and the edges inside ``nodes``."""
        mask = np.zeros(self.n, dtype=bool)
        mask[nodes] = True
        loc = np.full(self.n, -1)
        loc[nodes] = np.arange(len(nodes))
        return loc, self.edges_within(nodes, mask)

    def edges_within(self, nodes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Edges with both ends in ``nodes`` (``mask`` marks them), in time ∝ their degree."""
        if len(nodes) * 8 > self.n:
            return self.sub_edges(mask)
        ptr, out = self._outgoing
        starts = ptr[nodes]
        lengths = ptr[nodes + 1] - starts
        total = int(lengths.sum())
        offsets = np.cumsum(lengths) - lengths
        idx = np.repeat(starts - offsets, lengths) + np.arange(total)
        e = out[idx]
        return e[mask[self.ej[e]]]

    @cached_property
    def neighbours(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in zip(self.ei.tolist(), self.ej.tolist()):
            out[a].append(b)
            out[b].append(a)
        return out

    def connected(self, mask: np.ndarray) -> bool:
        """Whether the cells under ``mask`` form one connected piece."""
        members = np.flatnonzero(mask)
        if members.size <= 1:
            return members.size == 1
        if members.size > 400:
            return _connected(self.n, self.ei, self.ej, mask)
        inside = mask.tolist()
        seen = {int(members[0])}
        stack = [int(members[0])]
        nbrs = self.neighbours
        while stack:
            for b in nbrs[stack.pop()]:
                if inside[b] and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return len(seen) == members.size


@dataclass
class _Zone:
    nodes: np.ndarray
    lo: float
    hi: float
    k: int
    status: str = "ok"          # ok | infeasible | relaxed | empty
    reason: tuple[str, dict] | None = None
    faces_weight: dict = field(default_factory=dict)


def _connected(n: int, u: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> bool:
    """Whether the nodes (or those under ``mask``) form one connected piece."""
    if mask is not None:
        keep = mask[u] & mask[v]
        loc = np.cumsum(mask) - 1
        u, v, n = loc[u[keep]], loc[v[keep]], int(mask.sum())
    if n <= 1:
        return n == 1
    graph = sparse.csr_array((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    return csgraph.connected_components(graph, directed=False, return_labels=False) == 1


class _Budget:
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


def _side_range(total: float, k: int, a: int, lo: float, hi: float) -> tuple[float, float]:
    return max(a * lo, total - (k - a) * hi), min(a * hi, total - (k - a) * lo)


def _sweep(g: _Graph, nodes: np.ndarray, e: np.ndarray, loc: np.ndarray, angle_deg: float):
    """Order ``nodes`` along a direction; return order, ranks of edge ends and prefix sums."""
    theta = np.deg2rad(angle_deg)
    proj = g.xy[nodes] @ np.array([np.cos(theta), np.sin(theta)])
    order = np.argsort(proj, kind="stable")
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[order] = np.arange(len(nodes))
    ru, rv = rank[loc[g.ei[e]]], rank[loc[g.ej[e]]]
    return order, np.minimum(ru, rv), np.maximum(ru, rv)


def _cut_profile(n: int, r1: np.ndarray, r2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` of edges cut by each prefix position p = 1…n-1 (index p-1)."""
    diff = np.zeros(n + 1)
    np.add.at(diff, r1 + 1, weights)
    np.add.at(diff, r2 + 1, -weights)
    return np.cumsum(diff)[1:n]


def _forced(g: _Graph, nodes: np.ndarray, order: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Per prefix position: face fragments too small (or empty) for grids of their own."""
    faces = g.face[nodes][order]
    uniq = np.unique(faces)
    n = len(nodes)
    out = np.zeros(n - 1)
    if uniq.size < 2:
        return out
    w = g.w[nodes][order].astype(float)
    sides1 = np.zeros(n - 1)
    sides2 = np.zeros(n - 1)
    bad1 = np.zeros(n - 1)
    bad2 = np.zeros(n - 1)
    for f in uniq:
        m = faces == f
        cw = np.cumsum(np.where(m, w, 0.0))[:-1]
        cn = np.cumsum(m)[:-1]
        wf, nf = cw[-1] + w[-1] * m[-1], m.sum()
        w2, n2 = wf - cw, nf - cn
        sides1 += cn > 0
        sides2 += n2 > 0
        bad1 += (cn > 0) & ~_feasible_vec(cw, lo, hi)
        bad2 += (n2 > 0) & ~_feasible_vec(w2, lo, hi)
    return np.where(sides1 > 1, bad1, 0) + np.where(sides2 > 1, bad2, 0)


def _feasible_vec(total: np.ndarray, lo: float, hi: float) -> np.ndarray:
    total = np.asarray(total, dtype=float)
    return (total > 0) & (np.ceil(total / hi - 1e-9) <= np.floor(total / lo + 1e-9))


def _straight_cuts(g: _Graph, nodes: np.ndarray, k: int, lo: float, hi: float,
                   mid: float):
    """Candidate bisections (side-1 nodes, parts on side 1) by straight sweeps, best first."""
    n = len(nodes)
    loc, e = g.local(nodes)
    cost = g.elen[e] * CUT_COST[g.ekind[e]]
    total = float(g.w[nodes].sum())
    scale = math.sqrt(max(g.area[nodes].sum(), 1.0))
    cov = np.cov(g.xy[nodes].T) if n > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    major = float(np.degrees(np.arctan2(evecs[1, -1], evecs[0, -1]))) % 180
    angles = sorted(set(np.round(list(BUILD_ANGLES) + [major, (major + 90) % 180], 1)))
    a_values = sorted(range(1, k), key=lambda a: (abs(a - k / 2), a))[:2]
    rows = []
    orders = []
    for angle in angles:
        order, r1, r2 = _sweep(g, nodes, e, loc, angle)
        cw = np.cumsum(g.w[nodes][order])[:-1].astype(float)
        cut = _cut_profile(n, r1, r2, cost) / scale
        forced = _forced(g, nodes, order, lo, hi)
        for a in a_values:
            low, high = _side_range(total, k, a, lo, hi)
            ok = np.flatnonzero((cw >= low - 1e-9) & (cw <= high + 1e-9))
            if ok.size == 0:
                continue
            # both sides should keep their average grid near the middle of the band, so
            # that they can still be cut inside it (slack on both ends)
            avg1 = cw[ok] / a
            avg2 = (total - cw[ok]) / (k - a)
            spread = np.maximum(np.abs(avg1 - mid), np.abs(avg2 - mid)) / max(hi - lo, 1.0)
            score = cut[ok] + BALANCE_WEIGHT * spread + CROSSING_WEIGHT * forced[ok]
            rows.append(np.column_stack([score, np.full(ok.size, len(orders)),
                                         np.full(ok.size, a), ok + 1]))
        orders.append(order)
    if not rows:
        return
    table = np.concatenate(rows)
    table = table[np.argsort(table[:, 0], kind="stable")]
    # candidates that differ only by a few zero-household cells are near duplicates
    seen = set()
    for score, o, a, p in table:
        side = np.sort(nodes[orders[int(o)][: int(p)]])
        key = (int(a), hash(side.tobytes()))
        if key in seen:
            continue
        seen.add(key)
        yield side, int(a)


def _tree_cuts(g: _Graph, nodes: np.ndarray, k: int, lo: float, hi: float,
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
            low, high = _side_range(total, k, a, lo, hi)
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


def _split(g: _Graph, nodes: np.ndarray, k: int, lo: float, hi: float, mid: float,
           budget: _Budget, rng: np.random.Generator) -> list[np.ndarray] | None:
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
        yield from _straight_cuts(g, nodes, k, lo, hi, mid)
        if not any_connected:  # straight cuts all broke contiguity: try spanning trees
            yield from _tree_cuts(g, nodes, k, lo, hi, rng, tries=8)

    for side, a in candidates():
        if not budget.check():
            return None
        m1 = np.zeros(g.n, dtype=bool)
        m1[side] = True
        m2 = full & ~m1
        if not (g.connected(m1) and g.connected(m2)):
            continue
        any_connected = True
        if not budget.spend():
            return None
        left = _split(g, side, a, lo, hi, mid, budget, rng)
        if left is None:
            continue
        right = _split(g, np.flatnonzero(m2), k - a, lo, hi, mid, budget, rng)
        if right is None:
            continue
        return left + right
    if not budget.exhausted:  # every candidate failed (not the budget): remember
        budget.failed.add(key)
    return None


# --------------------------------------------------------------------------- zones

def _components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    graph = sparse.csr_array((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    return csgraph.connected_components(graph, directed=False)[1]


def _zones(g: _Graph, settings: GridSettings) -> list[_Zone]:
    """Group faces into zones that can each meet the band (joining across arterials only
    where a face cannot), one zone per connected piece at most."""
    lo, hi = settings.min_households, settings.max_households
    art = g.ekind == KIND_CODE["arterial"]
    comp = _components(g.n, g.ei, g.ej)
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
    shared = pd.DataFrame({"a": np.r_[fa, fb], "b": np.r_[fb, fa],
                           "len": np.r_[g.elen[art], g.elen[art]]})
    shared = shared.groupby(["a", "b"])["len"].sum()
    size = fw.copy()
    changed = True
    while changed:
        changed = False
        roots = np.array([root(f) for f in range(n_faces)], dtype=np.int64)
        bad = [r for r in np.unique(roots) if not band_feasible(int(size[r]), lo, hi)]
        for r in sorted(bad, key=lambda r: (size[r], r)):
            if root(r) != r or band_feasible(int(size[r]), lo, hi):
                continue
            members = np.flatnonzero(roots == r)
            nb = shared[shared.index.get_level_values(0).isin(members)]
            if nb.empty:
                continue
            cand = pd.DataFrame({"root": [root(b) for b in nb.index.get_level_values(1)],
                                 "len": nb.to_numpy()})
            cand = cand[cand["root"] != r].groupby("root")["len"].sum()
            if cand.empty:
                continue
            feas = np.array([band_feasible(int(size[r] + size[c]), lo, hi) for c in cand.index])
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
            options = grid_count_range(total, lo, hi)
            if total == 0:
                zones.append(_Zone(part, lo, hi, 0, "empty", faces_weight=fws))
            elif len(options):
                mid = settings.mid_households
                ks = sorted(options, key=lambda k: (abs(total / k - mid), k))
                zones.append(_Zone(part, lo, hi, ks[0], faces_weight=fws))
            else:
                k = nearest_grid_count(total, lo, hi)
                size_k = total / k
                zone = _Zone(part, min(lo, math.floor(size_k * 0.85)),
                             max(hi, math.ceil(size_k * 1.15)), k, "infeasible",
                             infeasible_reason(total, lo, hi), fws)
                zones.append(zone)
    return zones


def _partition_zone(g: _Graph, zone: _Zone, settings: GridSettings,
                    rng: np.random.Generator, *, relax: bool) -> list[np.ndarray] | None:
    """Parts of one zone. Without ``relax``, None when no in-band partition is found;
    with it, the band is widened step by step (and the zone flagged) instead."""
    total = int(g.w[zone.nodes].sum())
    mid = total / zone.k if zone.status == "infeasible" else settings.mid_households
    ks = [zone.k]
    if zone.status == "ok":
        options = grid_count_range(total, settings.min_households, settings.max_households)
        ks = sorted(options, key=lambda k: (abs(total / k - mid), k))[:3]
    for k in ks:
        # without relaxing (whole buildings), give up early: a finer pass follows
        tries = 40 + 20 * k if relax else 10 + 4 * k
        parts = _split(g, zone.nodes, k, zone.lo, zone.hi, mid, _Budget(tries), rng)
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
        parts = _split(g, zone.nodes, k, lo, hi, mid, _Budget(40 + 20 * k), rng)
        if parts is not None:
            break
    if parts is None:  # any k connected parts: a spanning-tree cut always gives them
        parts = _split(g, zone.nodes, k, 1.0, float(total), mid, _Budget(10 * k + 100), rng)
    if parts is None:
        parts = [zone.nodes]
    zone.k = len(parts)
    if zone.status == "ok":
        zone.status = "relaxed"
        zone.reason = ("grid.reason.relaxed", {"min": settings.min_households,
                                               "max": settings.max_households})
    return parts


# --------------------------------------------------------------------------- improvement

def _pp(area: np.ndarray, perim: np.ndarray) -> np.ndarray:
    return np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0)


def _pair_objective(g: _Graph, nx: np.ndarray, ny: np.ndarray, lo: float, hi: float,
                    mid: float, e: np.ndarray | None = None) -> float:
    """Objective of two neighbouring grids, as :func:`_best_resplit` scores a cut
    (``e``: the edges inside their union, if known)."""
    union = np.r_[nx, ny]
    if e is None:
        mask = np.zeros(g.n, dtype=bool)
        mask[union] = True
        e = g.edges_within(union, mask)
    in_x = np.zeros(g.n, dtype=bool)
    in_x[nx] = True
    ex, ey = in_x[g.ei[e]], in_x[g.ej[e]]
    band = max(hi - lo, 1.0)
    total = 0.0
    for nodes, internal in ((nx, e[ex & ey]), (ny, e[~ex & ~ey])):
        area = g.area[nodes].sum()
        perim = g.perim[nodes].sum() - 2 * g.elen[internal].sum()
        faces = len(np.unique(g.face[nodes])) - 1
        along = bool((g.ekind[internal] == KIND_CODE["arterial"]).any())
        total += float(_pp(np.array([area]), np.array([perim]))[0]) \
            - MID_WEIGHT * abs(g.w[nodes].sum() - mid) / band \
            - CROSSING_WEIGHT * max(faces, int(along))
    between = e[ex != ey]
    block = g.elen[between[g.ekind[between] == KIND_CODE["block"]]].sum()
    return total - BLOCK_CUT_WEIGHT * block / math.sqrt(max(g.area[union].sum(), 1.0))


def _best_resplit(g: _Graph, nodes: np.ndarray, lo: float, hi: float, mid: float,
                  current: float | tuple[np.ndarray, np.ndarray]
                  ) -> tuple[np.ndarray, float] | None:
    """Best straight cut of a pair's union into two in-band, connected grids, if it beats
    ``current``: the pair's objective now, or the pair itself (its objective is then
    computed here). All directions are swept at once."""
    n = len(nodes)
    loc, e = g.local(nodes)
    mask = loc >= 0
    if isinstance(current, tuple):
        current = _pair_objective(g, current[0], current[1], lo, hi, mid, e)
    eu, ev = loc[g.ei[e]], loc[g.ej[e]]
    total = float(g.w[nodes].sum())
    low, high = _side_range(total, 2, 1, lo, hi)
    n_dir = len(IMPROVE_ANGLES)
    proj = g.xy[nodes] @ _DIRECTIONS  # n × directions
    order = np.argsort(proj, axis=0, kind="stable")
    cw = np.cumsum(g.w[nodes][order], axis=0)[:-1]
    ok = (cw >= low - 1e-9) & (cw <= high + 1e-9)
    if not ok.any():
        return None
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n)[:, None].repeat(n_dir, axis=1), axis=0)
    ru, rv = rank[eu], rank[ev]
    r1, r2 = np.minimum(ru, rv), np.maximum(ru, rv)  # edges × directions
    cols = np.broadcast_to(np.arange(n_dir), r1.shape)
    elen = np.broadcast_to(g.elen[e][:, None], r1.shape)

    def by_rank(ranks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        out = np.zeros((n + 1, n_dir))
        np.add.at(out, (ranks, cols), weights)
        return out

    inside1 = np.cumsum(by_rank(r2, elen), axis=0)[:n - 1]          # both ends < p
    inside2 = np.cumsum(by_rank(r1, elen)[::-1], axis=0)[::-1][1:n]  # both ends ≥ p
    a1 = np.cumsum(g.area[nodes][order], axis=0)[:-1]
    s1 = np.cumsum(g.perim[nodes][order], axis=0)[:-1]
    area_total, perim_total = g.area[nodes].sum(), g.perim[nodes].sum()
    band = max(hi - lo, 1.0)
    block = np.broadcast_to(np.where(g.ekind[e] == KIND_CODE["block"], g.elen[e], 0.0)[:, None],
                            r1.shape)
    cut_block = np.cumsum(by_rank(r1 + 1, block) - by_rank(r2 + 1, block), axis=0)[1:n]
    score = _pp(a1, s1 - 2 * inside1) + _pp(area_total - a1, perim_total - s1 - 2 * inside2) \
        - MID_WEIGHT * (np.abs(cw - mid) + np.abs(total - cw - mid)) / band \
        - BLOCK_CUT_WEIGHT * cut_block / math.sqrt(max(area_total, 1.0))
    art = (g.ekind[e] == KIND_CODE["arterial"]).astype(float)
    if art.any():
        artw = np.broadcast_to(art[:, None], r1.shape)
        along1 = np.cumsum(by_rank(r2, artw), axis=0)[:n - 1] > 0
        along2 = np.cumsum(by_rank(r1, artw)[::-1], axis=0)[::-1][1:n] > 0
        faces = g.face[nodes][order]
        f1 = np.zeros((n - 1, n_dir))
        f2 = np.zeros((n - 1, n_dir))
        for face in np.unique(faces):
            m = faces == face
            c = np.cumsum(m, axis=0)[:-1]
            f1 += c > 0
            f2 += (m.sum(axis=0) - c) > 0
        score = score - CROSSING_WEIGHT * (np.maximum(f1 - 1, along1) + np.maximum(f2 - 1, along2))
    good = ok & (score > current + 1e-6)
    if not good.any():
        return None
    pos, col = np.nonzero(good)
    ranked = np.argsort(-score[pos, col], kind="stable")[:40]
    for r in ranked:
        m1 = np.zeros(g.n, dtype=bool)
        m1[nodes[order[: pos[r] + 1, col[r]]]] = True
        m2 = mask & ~m1
        if g.connected(m1) and g.connected(m2):
            return np.flatnonzero(m1), float(score[pos[r], col[r]])
    return None


def _improve(g: _Graph, labels: np.ndarray, zone_of_part: np.ndarray, zones: list[_Zone],
             settings: GridSettings, deadline: float) -> tuple[np.ndarray, dict]:
    """Merge-and-resplit neighbouring grid pairs of one zone while compactness improves.

    A pair is tried again only after one of its grids has changed."""
    stats = {"passes": 0, "resplits": 0, "timed_out": False}
    if settings.improve_passes == 0 or labels.max(initial=-1) < 1:
        return labels, stats
    labels = labels.copy()
    members = {int(k): np.flatnonzero(labels == k) for k in np.unique(labels[labels >= 0])}
    version = dict.fromkeys(members, 0)
    tried: dict[tuple[int, int], tuple[int, int]] = {}
    for _ in range(settings.improve_passes):
        stats["passes"] += 1
        a, b = labels[g.ei], labels[g.ej]
        keep = (a != b) & (a >= 0) & (b >= 0)
        pairs = np.unique(np.sort(np.column_stack([a[keep], b[keep]]), axis=1), axis=0)
        improved = 0
        for x, y in pairs.tolist():
            if zone_of_part[x] != zone_of_part[y] or tried.get((x, y)) == (version[x], version[y]):
                continue
            if time.perf_counter() > deadline:
                stats["timed_out"] = True
                return labels, stats
            zone = zones[zone_of_part[x]]
            nx, ny = members[x], members[y]
            wx, wy = g.w[nx].sum(), g.w[ny].sum()
            mid = (wx + wy) / 2 if zone.status == "infeasible" else settings.mid_households
            lo, hi = zone.lo, zone.hi
            if zone.status == "relaxed":  # never move a flagged grid further from the band
                lo, hi = min(lo, wx, wy), max(hi, wx, wy)
            union = np.r_[nx, ny]
            found = _best_resplit(g, union, lo, hi, mid, (nx, ny))
            if found is None:
                tried[(x, y)] = (version[x], version[y])
                continue
            side = found[0]
            labels[union] = y
            labels[side] = x
            members[x] = side
            members[y] = np.setdiff1d(union, side)
            version[x] += 1
            version[y] += 1
            improved += 1
        stats["resplits"] += improved
        if improved == 0:
            break
    return labels, stats


def _crossing_measure(g: _Graph, nodes: np.ndarray) -> int:
    """How many times a grid crosses arterial roads: the pieces its households fall into
    when the grid is cut along every arterial, minus one. Land without households
    attached across an arterial (a park, an empty block) is no crossing: nobody has to
    cross the road to reach the grid's homes."""
    if not (g.w[nodes] > 0).any():
        return 0
    loc, inner = g.local(nodes)
    e = inner[g.ekind[inner] != KIND_CODE["arterial"]]
    if len(e) == len(inner):
        return 0
    comp = _components(len(nodes), loc[g.ei[e]], loc[g.ej[e]])
    return len(np.unique(comp[g.w[nodes] > 0])) - 1


def _filler_group(g: _Graph, labels: np.ndarray, node: int) -> np.ndarray:
    """``node`` alone, or with it every cell without households of its grid that it
    reaches through such cells (an empty block moves as a whole)."""
    if g.w[node] > 0:
        return np.array([node])
    x = labels[node]
    seen = {node}
    stack = [node]
    while stack:
        for m in g.neighbours[stack.pop()]:
            if m not in seen and labels[m] == x and g.w[m] == 0:
                seen.add(m)
                stack.append(m)
    return np.array(sorted(seen))


def _repair_crossings(g: _Graph, labels: np.ndarray, zone_of_part: np.ndarray,
                      zones: list[_Zone], settings: GridSettings) -> tuple[np.ndarray, int]:
    """Move cells across grid boundaries so that no grid straddles the dead end of an
    arterial road where a neighbouring grid can take them inside the band; when the
    neighbour would leave the band, it is re-split with one of its own neighbours."""
    labels = labels.copy()
    moves = 0
    art = g.ekind == KIND_CODE["arterial"]
    for _ in range(8):
        a, b = labels[g.ei], labels[g.ej]
        bad = np.flatnonzero(art & (a == b) & (a >= 0) & (g.face[g.ei] == g.face[g.ej]))
        crossing = {int(x) for x in np.unique(a[bad])
                    if _crossing_measure(g, np.flatnonzero(labels == x))}
        bad = bad[np.isin(a[bad], sorted(crossing))]
        if bad.size == 0 or not _repair_one(g, labels, bad, zone_of_part, zones, settings):
            break
        moves += 1
    return labels, moves


def _repair_one(g: _Graph, labels: np.ndarray, bad: np.ndarray, zone_of_part: np.ndarray,
                zones: list[_Zone], settings: GridSettings) -> bool:
    """One improving move for one straddled arterial edge (``labels`` changed in place)."""
    for edge in bad:
        x = int(labels[g.ei[edge]])
        zone = zones[zone_of_part[x]]
        if zone.status not in ("ok", "infeasible"):
            continue
        nx = np.flatnonzero(labels == x)
        before_x = _crossing_measure(g, nx)
        for node in (int(g.ei[edge]), int(g.ej[edge])):
            group = _filler_group(g, labels, node)
            rest = np.setdiff1d(nx, group)
            moved = int(g.w[group].sum())
            if rest.size == 0 or (moved and not zone.lo <= g.w[rest].sum() <= zone.hi):
                continue
            mask = np.zeros(g.n, dtype=bool)
            mask[rest] = True
            if not g.connected(mask):
                continue
            targets = {int(labels[m]) for v in group for m in g.neighbours[v]
                       if labels[m] >= 0 and labels[m] != x
                       and zone_of_part[labels[m]] == zone_of_part[x]}
            for y in sorted(targets):
                ny = np.flatnonzero(labels == y)
                grown = np.r_[ny, group]
                before = before_x + _crossing_measure(g, ny)
                if not moved or zone.lo <= g.w[grown].sum() <= zone.hi:
                    if _crossing_measure(g, rest) + _crossing_measure(g, grown) < before:
                        labels[group] = y
                        return True
                    continue
                # y would leave the band: re-split y (with the cells) and a neighbour z
                trial = labels.copy()
                trial[group] = y
                ends = trial[g.ei], trial[g.ej]
                near = {int(q) for q in np.r_[ends[1][ends[0] == y], ends[0][ends[1] == y]]
                        if q >= 0 and q not in (x, y) and zone_of_part[q] == zone_of_part[x]}
                for z in sorted(near):
                    nz = np.flatnonzero(trial == z)
                    union = np.r_[grown, nz]
                    mid = settings.mid_households if zone.status == "ok" \
                        else g.w[union].sum() / 2
                    found = _best_resplit(g, union, zone.lo, zone.hi, mid, -np.inf)
                    if found is None:
                        continue
                    side = found[0]
                    other = np.setdiff1d(union, side)
                    after = _crossing_measure(g, rest) + _crossing_measure(g, side) \
                        + _crossing_measure(g, other)
                    if after < before + _crossing_measure(g, nz):
                        labels[union] = z
                        labels[side] = y
                        return True
    return False


# --------------------------------------------------------------------------- polygons

def _clean(geom: shapely.Geometry) -> shapely.Geometry:
    """Drop snapping slivers: tiny pieces and tiny holes."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > SLIVER_M2]
    if not parts:
        return geom
    fixed = []
    for p in parts:
        holes = [r for r in p.interiors if shapely.area(shapely.Polygon(r)) > SLIVER_M2]
        fixed.append(shapely.Polygon(p.exterior, holes))
    return fixed[0] if len(fixed) == 1 else shapely.MultiPolygon(fixed)


def _union_by(labels: np.ndarray, geoms: np.ndarray, n_groups: int) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_groups + 1))
    out = np.empty(n_groups, dtype=object)
    for k in range(n_groups):
        members = geoms[order[bounds[k]:bounds[k + 1]]]
        out[k] = _clean(shapely.union_all(members, grid_size=GRID_SIZE_M))
    return out


# --------------------------------------------------------------------------- main


@dataclass(frozen=True, eq=False)
class GridResult:
    """What :func:`make_grids` returns.

    Attributes
    ----------
    grids
        One polygon per grid with ``grid_id``, ``community_id``, ``households``,
        ``in_band`` (0/1), ``polsby_popper``, ``contiguous`` (0/1), ``arterial_crossings``,
        ``n_units``, ``split_buildings``, ``locked`` (0/1), ``reason`` (中文 / English, empty
        when nothing is flagged) and ``reason_key`` (translation keys, ``;``-separated).
    households
        The units with ``community_id`` and ``grid_id``; a unit split into parts appears
        once per part (``unit_id`` ``<id>:<k>``, ``part_of``, ``part``).
    communities
        The communities used, with ``households``, ``grids``, ``feasible`` (0/1) and
        ``reason`` (empty unless the band cannot be met).
    assignment
        ``grid_id`` per piece, indexed by the pieces' ``unit_id``.
    cells
        The tessellation cells with ``unit_id`` (None for blocks without units),
        ``households``, ``block_id``, ``face_id``, ``community_id`` and ``grid_id``.
    report
        Counts, flags and timings (see :func:`make_grids`).
    """

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    assignment: pd.Series
    cells: gpd.GeoDataFrame
    report: dict


@dataclass
class _Pass:
    """One gridding pass over some communities (cells positions are local to the pass)."""

    pieces: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    grids: list[dict]
    communities: dict[str, dict]
    splits: list[dict]
    failed: set[str]
    stats: dict


def _attach_empty(g: _Graph, labels: np.ndarray) -> np.ndarray:
    """Give cells of household-free zones the label of the neighbour they share most with."""
    labels = labels.copy()
    for _ in range(g.n):
        todo = labels < 0
        if not todo.any():
            break
        a, b = labels[g.ei], labels[g.ej]
        fwd = todo[g.ei] & (b >= 0)
        bwd = todo[g.ej] & (a >= 0)
        if not (fwd.any() or bwd.any()):
            break
        frame = pd.DataFrame({"cell": np.r_[g.ei[fwd], g.ej[bwd]],
                              "label": np.r_[b[fwd], a[bwd]],
                              "len": np.r_[g.elen[fwd], g.elen[bwd]]})
        best = frame.groupby(["cell", "label"])["len"].sum().reset_index()
        best = best.sort_values(["cell", "len", "label"], ascending=[True, False, True])
        best = best.drop_duplicates("cell")
        labels[best["cell"].to_numpy()] = best["label"].to_numpy()
    return labels


def _grid_pass(units: gpd.GeoDataFrame, unit_block: np.ndarray, blocks: gpd.GeoDataFrame,
               community_ids: list[str], settings: GridSettings, *, part_max: int | None,
               relax: bool, locked_of_unit: np.ndarray | None, time_box: dict,
               arterials: np.ndarray) -> _Pass:
    """Split units, tessellate and partition the given communities."""
    lo, hi = settings.min_households, settings.max_households
    pieces, splits = split_large_units(units, min_households=lo, max_households=hi,
                                       part_max=part_max)
    src = _piece_source(pieces, units)  # parts inherit their unit's block and lock
    clock = time.perf_counter()
    cells = tessellate(pieces, blocks, block_of=unit_block[src])
    adj = cell_adjacency(cells, arterials=arterials)
    time_box["cells_s"] = time_box.get("cells_s", 0.0) + time.perf_counter() - clock
    n_cells = len(cells)
    cell_unit = cells["unit"].to_numpy()
    fixed = np.full(n_cells, None, dtype=object)
    if locked_of_unit is not None:
        has = cell_unit >= 0
        fixed[has] = locked_of_unit[src[cell_unit[has]]]
    cell_comm = cells["community_id"].astype(str).to_numpy()
    geoms = cells.geometry.to_numpy()
    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    centroid = shapely.get_coordinates(shapely.centroid(geoms))
    cell_w = cells["households"].to_numpy(dtype=np.int64)
    kinds = adj["kind"].map(KIND_CODE).to_numpy()
    ai, aj, alen = adj["i"].to_numpy(), adj["j"].to_numpy(), adj["shared_m"].to_numpy()

    grids: list[dict] = []
    comms: dict[str, dict] = {}
    failed: set[str] = set()
    stats = {"passes": 0, "resplits": 0, "timed_out": False}
    members_of = pd.Series(np.arange(n_cells)).groupby(cell_comm).apply(np.asarray).to_dict() \
        if n_cells else {}
    for cid in community_ids:
        members = members_of.get(cid, np.zeros(0, dtype=np.int64))
        c_total = int(cell_w[members].sum())
        fixed_here = fixed[members]
        is_fixed = pd.notna(fixed_here)
        community_grids = []
        for gid in sorted(set(fixed_here[is_fixed])):
            community_grids.append({"grid_id": gid, "community_id": cid, "locked": True,
                                    "cells": members[fixed_here == gid], "zone": None,
                                    "faces": np.zeros(1), "crossings": 0})
        free = members[~is_fixed]
        mask = np.zeros(n_cells, dtype=bool)
        mask[free] = True
        keep = mask[ai] & mask[aj]
        loc = np.full(n_cells, -1)
        loc[free] = np.arange(len(free))
        ei, ej, ek = loc[ai[keep]], loc[aj[keep]], kinds[keep]
        non_art = ek != KIND_CODE["arterial"]
        g = _Graph(w=cell_w[free], xy=centroid[free], area=area[free], perim=perim[free],
                   face=_components(len(free), ei[non_art], ej[non_art]), ei=ei, ej=ej,
                   elen=alen[keep], ekind=ek)
        rng = np.random.default_rng([settings.seed, zlib.crc32(cid.encode())])
        zones = _zones(g, settings) if len(free) else []
        labels = np.full(len(free), -1, dtype=np.int64)
        zone_of_part: list[int] = []
        ok = True
        for z_pos, zone in enumerate(zones):
            if zone.status == "empty":
                continue
            parts = _partition_zone(g, zone, settings, rng, relax=relax)
            if parts is None:
                ok = False
                break
            for part in parts:
                labels[part] = len(zone_of_part)
                zone_of_part.append(z_pos)
        if not ok:
            failed.add(cid)
            continue
        labels = _attach_empty(g, labels)
        # the time box is shared out by households; time a community leaves carries on
        start = time.perf_counter()
        share = c_total / max(time_box["households"], 1)
        deadline = start + max(time_box["seconds"], 0.0) * min(share, 1.0)
        labels, st = _improve(g, labels, np.asarray(zone_of_part, dtype=np.int64), zones,
                              settings, deadline)
        time_box["seconds"] -= time.perf_counter() - start
        time_box["households"] -= c_total
        labels, _ = _repair_crossings(g, labels, np.asarray(zone_of_part, dtype=np.int64),
                                      zones, settings)
        stats["passes"] = max(stats["passes"], st["passes"])
        stats["resplits"] += st["resplits"]
        stats["timed_out"] |= st["timed_out"]
        for part_id, z_pos in enumerate(zone_of_part):
            nodes = np.flatnonzero(labels == part_id)
            if nodes.size:
                community_grids.append({"grid_id": None, "community_id": cid, "locked": False,
                                        "cells": free[nodes], "zone": zones[z_pos],
                                        "faces": g.face[nodes],
                                        "crossings": _crossing_measure(g, nodes)})
        infeasible = [z for z in zones if z.status == "infeasible"]
        grids.extend(community_grids)
        comms[cid] = {"households": c_total, "feasible": band_feasible(c_total, lo, hi),
                      "reason": infeasible[0].reason if infeasible else None,
                      "unassigned": int((labels < 0).sum())}
    return _Pass(pieces=pieces, cells=cells.assign(_area=area, _cx=centroid[:, 0],
                                                   _cy=centroid[:, 1]),
                 grids=grids, communities=comms, splits=splits, failed=failed, stats=stats)


def _grid_ids(community_id: str, centres: np.ndarray, areas: np.ndarray,
              overlaps: list[dict], previous_ids: set[str], taken: set[str]) -> list[str]:
    """Ids for the new grids of one community: the previous id they overlap most (in
    households), else the next free number in reading order (north→south, west→east)."""
    n = len(centres)
    ids: list[str | None] = [None] * n
    used = set(taken)
    scores = sorted((-hh, k, gid) for k, overlap in enumerate(overlaps)
                    for gid, hh in overlap.items() if gid in previous_ids and hh > 0)
    for _, k, gid in scores:
        if ids[k] is None and gid not in used:
            ids[k] = gid
            used.add(gid)
    order = reading_order(centres, row_m=math.sqrt(float(np.median(areas))) if n else 1.0)
    width = max(2, len(str(n + len(used))))
    number = 0
    for k in order:
        if ids[k] is not None:
            continue
        while True:
            number += 1
            gid = f"{community_id}-{number:0{width}d}"
            if gid not in used:
                break
        ids[k] = gid
        used.add(gid)
    return ids  # type: ignore[return-value]


def _reasons(reasons: list[tuple[str, dict]]) -> str:
    if not reasons:
        return ""
    zh = "；".join(t(key, "zh", **params) for key, params in reasons)
    en = " ".join(t(key, "en", **params) for key, params in reasons)
    return f"{zh} / {en}"


def make_grids(households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
               roads: gpd.GeoDataFrame, *, settings: GridSettings = GridSettings(),
               blocks: gpd.GeoDataFrame | None = None, previous: pd.Series | None = None,
               locked: Collection[str] = ()) -> GridResult:
    """Split every community into contiguous grids inside the household band.

    Parameters
    ----------
    households
        Household units (points) with ``unit_id`` and ``households``, projected.
    communities
        Community polygons with ``community_id`` (given, or from
        :func:`geo.communities.derive_communities`); checked by
        :func:`geo.communities.validate_communities`.
    roads
        Road lines with ``road_class``; blocks follow arterial and local roads.
    settings
        Band and improvement time box.
    blocks
        Precomputed :func:`geo.blocks.street_blocks` of these communities.
    previous
        ``grid_id`` per ``unit_id`` from an earlier run (a saved project's
        ``households.grid_id``; parts of split buildings under their part ids): new grids
        take the previous id they overlap most, so that an edit renumbers nothing else.
    locked
        Grid ids (from ``previous``) kept exactly as they were: same units, same id.

    Returns
    -------
    GridResult
        ``report`` holds ``grids``, ``grids_in_band``, ``share_in_band``,
        ``feasible_in_band`` (every grid of every feasible community is in band),
        ``non_contiguous``, ``arterial_crossings``, ``mean_polsby_popper``,
        ``infeasible_communities`` (id, households, reason), ``split_units``,
        ``zero_household_units``, ``cells_without_grid``, ``notes`` (bilingual),
        ``improvement`` and ``timings_s``.

    Raises
    ------
    InputError
        Bad units (missing columns, duplicate ids, bad counts), bad communities
        (overlaps, duplicate ids) or households outside every community.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    require_projected(roads, what="roads")
    units, notes = check_units(households)
    communities, community_notes = validate_communities(communities)
    notes += community_notes
    assign_communities(units, communities)  # refuses households outside every community
    lo, hi = settings.min_households, settings.max_households
    if blocks is None:
        blocks = street_blocks(roads, communities)
    blocks = blocks.reset_index(drop=True)
    unit_block = locate_in_blocks(units.geometry, blocks)
    arterials = roads.loc[roads["road_class"] == "arterial"].geometry.to_numpy()
    unit_comm = blocks["community_id"].astype(str).to_numpy()[unit_block]
    locked = {str(x) for x in locked}
    prev_of_unit = None  # previous grid id per piece id
    locked_of_unit = None
    if previous is not None:
        prev_of_unit = previous.copy()
        prev_of_unit.index = prev_of_unit.index.astype(str)
        prev_of_unit = prev_of_unit.astype(object).where(prev_of_unit.notna(), None)
        if locked:
            # a locked unit is a whole unit whose (first) piece was in a locked grid
            first = prev_of_unit.groupby(prev_of_unit.index.str.split(":").str[0]).first()
            lk = first.reindex(units["unit_id"].to_numpy()).to_numpy()
            locked_of_unit = np.where(pd.Series(lk).isin(locked), lk, None)
    timings["check"] = time.perf_counter() - clock

    clock = time.perf_counter()
    community_ids = communities["community_id"].astype(str).tolist()
    time_box = {"seconds": settings.improve_seconds, "households": int(units["households"].sum())}
    hh_arr = units["households"].to_numpy()
    awkward = (hh_arr > hi - lo) & (hh_arr < lo)  # too big to combine, too small alone
    awkward_share = pd.Series(np.where(awkward, hh_arr, 0)).groupby(unit_comm).sum() / \
        pd.Series(hh_arr).groupby(unit_comm).sum().clip(lower=1)
    part_max = max((hi - lo) // 2, math.ceil(lo / 8), 1)

    def run(comms: list[str], fine: bool) -> _Pass:
        take = np.isin(unit_comm, comms)
        sub_blocks = blocks[blocks["community_id"].astype(str).isin(comms)]
        sub_pos = np.full(len(blocks), -1)
        sub_pos[sub_blocks.index.to_numpy()] = np.arange(len(sub_blocks))
        return _grid_pass(units[take].reset_index(drop=True), sub_pos[unit_block[take]],
                          sub_blocks.reset_index(drop=True), comms, settings,
                          part_max=part_max if fine else None, relax=fine,
                          locked_of_unit=None if locked_of_unit is None
                          else locked_of_unit[take],
                          time_box=time_box, arterials=arterials)

    # whole buildings first, except where many are too big to combine and too small
    # alone (towers of 101–199 households in a 200–300 band): there, and wherever whole
    # buildings fail, buildings are split by unit/floor share into small parts
    whole = [c for c in community_ids if awkward_share.get(c, 0.0) <= 0.25]
    passes = [run(whole, fine=False)] if whole else []
    fine = [c for c in community_ids if c not in whole or (passes and c in passes[0].failed)]
    if fine:
        passes.append(run(fine, fine=True))
    # tessellation cells and their adjacency, then partition and improvement
    timings["cells"] = time_box.get("cells_s", 0.0)
    timings["partition"] = time.perf_counter() - clock - timings["cells"]

    # combine the passes: pieces, cells and grids with global positions
    clock = time.perf_counter()
    piece_frames, cell_frames, grid_rows, splits = [], [], [], []
    community_info: dict[str, dict] = {}
    stats = {"passes": 0, "resplits": 0, "timed_out": False}
    piece_offset = 0
    cell_offset = 0
    for one in passes:
        source_units = _piece_source(one.pieces, units)
        keep_piece = ~np.isin(unit_comm[source_units], sorted(one.failed)) if one.failed \
            else np.ones(len(one.pieces), dtype=bool)
        cells = one.cells[~one.cells["community_id"].astype(str).isin(one.failed)]
        new_pos = np.full(len(one.pieces), -1)
        new_pos[keep_piece] = piece_offset + np.arange(int(keep_piece.sum()))
        piece_frames.append(one.pieces[keep_piece])
        piece_offset += int(keep_piece.sum())
        old_index = cells.index.to_numpy()
        cell_pos = pd.Series(cell_offset + np.arange(len(cells)), index=old_index)
        unit = cells["unit"].to_numpy()
        cells = cells.assign(unit=np.where(unit >= 0, new_pos[np.maximum(unit, 0)], -1))
        cell_frames.append(cells)
        cell_offset += len(cells)
        for row in one.grids:
            grid_rows.append({**row, "cells": cell_pos.reindex(row["cells"]).to_numpy()})
        community_info.update(one.communities)
        redone = set(units["unit_id"].astype(str)[np.isin(unit_comm, sorted(one.failed))])
        splits += [s for s in one.splits if s["unit_id"] not in redone]
        stats["passes"] = max(stats["passes"], one.stats["passes"])
        stats["resplits"] += one.stats["resplits"]
        stats["timed_out"] |= one.stats["timed_out"]
    pieces = pd.concat(piece_frames, ignore_index=True)
    cells = gpd.GeoDataFrame(pd.concat(cell_frames, ignore_index=True), geometry="geometry",
                             crs=blocks.crs)
    # pieces in the order of the input units (parts in order), whichever pass made them
    part_no = pd.to_numeric(pieces["part"].str.split("/").str[0], errors="coerce").fillna(0)
    perm = np.lexsort((part_no.to_numpy(), _piece_source(pieces, units)))
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    pieces = gpd.GeoDataFrame(pieces.iloc[perm].reset_index(drop=True), geometry="geometry",
                              crs=units.crs)
    unit = cells["unit"].to_numpy()
    cells["unit"] = np.where(unit >= 0, inverse[np.maximum(unit, 0)], -1)
    if any(s["why"] == "above_band" for s in splits):
        notes.append(both("note.units_split", count=sum(s["why"] == "above_band" for s in splits),
                          max=hi))
    if any(s["why"] == "to_fit" for s in splits):
        notes.append(both("note.units_split_to_fit", count=sum(s["why"] == "to_fit"
                                                               for s in splits),
                          min=lo, max=hi))

    # ids (previous ids carried over, else reading order), polygons, validation
    piece_ids = pieces["unit_id"].astype(str).to_numpy()
    cell_unit = cells["unit"].to_numpy()
    cell_w = cells["households"].to_numpy(dtype=np.int64)
    area = cells["_area"].to_numpy()
    centre_xy = cells[["_cx", "_cy"]].to_numpy()
    prev_of_piece = None
    if prev_of_unit is not None:
        prev_of_piece = prev_of_unit.reindex(piece_ids).to_numpy()
    locked_ids = {row["grid_id"] for row in grid_rows if row["locked"]}
    by_comm: dict[str, list[int]] = {}
    for k, row in enumerate(grid_rows):
        if not row["locked"]:
            by_comm.setdefault(row["community_id"], []).append(k)
    for cid, rows in by_comm.items():
        centres = np.array([_centre(area, centre_xy, grid_rows[k]["cells"]) for k in rows])
        areas = np.array([area[grid_rows[k]["cells"]].sum() for k in rows])
        overlaps: list[dict] = [{} for _ in rows]
        prev_ids: set[str] = set()
        if prev_of_piece is not None:
            for n, k in enumerate(rows):
                cu = cell_unit[grid_rows[k]["cells"]]
                cu = cu[cu >= 0]
                ids = prev_of_piece[cu]
                hh = pieces["households"].to_numpy()[cu]
                has = pd.notna(ids)
                overlaps[n] = pd.Series(hh[has]).groupby(ids[has].astype(str)).sum().to_dict()
            prev_ids = {str(x) for x in prev_of_piece if pd.notna(x)} - locked_ids
        taken = {gid for gid in locked_ids if gid.startswith(f"{cid}-")}
        for k, gid in zip(rows, _grid_ids(cid, centres, areas, overlaps, prev_ids, taken)):
            grid_rows[k]["grid_id"] = gid

    label = np.full(len(cells), -1, dtype=np.int64)
    for k, row in enumerate(grid_rows):
        label[row["cells"]] = k
    has = label >= 0
    polys = _union_by(label[has], cells.geometry.to_numpy()[has], len(grid_rows))
    split_of = pieces["part_of"].to_numpy()
    piece_hh = pieces["households"].to_numpy()
    table = []
    for k, row in enumerate(grid_rows):
        cu = cell_unit[row["cells"]]
        cu = cu[cu >= 0]
        hh = int(cell_w[row["cells"]].sum())
        poly = polys[k]
        n_parts = len([p for p in shapely.get_parts(poly) if shapely.area(p) > SLIVER_M2])
        a, p = shapely.area(poly), shapely.length(poly)
        in_band = lo <= hh <= hi
        zone = row["zone"]
        crossings = int(row["crossings"])
        reasons: list[tuple[str, dict]] = []
        if row["locked"]:
            reasons.append(("grid.reason.locked", {}))
        else:
            faces_here = np.unique(row["faces"])
            if not in_band:
                reasons.append(zone.reason if zone is not None and zone.reason is not None
                               else ("grid.reason.relaxed", {"min": lo, "max": hi}))
            if len(faces_here) > 1:
                small = min(zone.faces_weight.get(int(f), 0) for f in faces_here)
                reasons.append(("grid.reason.arterial", {"households": small, "min": lo,
                                                         "max": hi}))
            elif crossings:
                reasons.append(("grid.reason.arterial_end", {"min": lo, "max": hi}))
        n_split = len({s for s in split_of[cu] if pd.notna(s)})
        if n_split:
            reasons.append(("grid.reason.split", {"count": n_split, "max": hi}))
        if n_parts != 1:
            reasons.append(("grid.reason.pieces", {"parts": n_parts}))
        table.append({
            "grid_id": row["grid_id"], "community_id": row["community_id"], "households": hh,
            "in_band": int(in_band), "polsby_popper": round(4 * np.pi * a / p ** 2, 4) if p else 0.0,
            "contiguous": int(n_parts == 1), "arterial_crossings": int(crossings),
            "n_units": int((piece_hh[cu] > 0).sum()), "split_buildings": n_split,
            "locked": int(row["locked"]), "reason": _reasons(reasons),
            "reason_key": ";".join(key for key, _ in reasons),
        })
    columns = ["grid_id", "community_id", "households", "in_band", "polsby_popper",
               "contiguous", "arterial_crossings", "n_units", "split_buildings", "locked",
               "reason", "reason_key"]
    grids = gpd.GeoDataFrame(pd.DataFrame(table, columns=columns),
                             geometry=gpd.GeoSeries(list(polys), crs=blocks.crs))
    grids = grids.sort_values("grid_id", kind="stable").reset_index(drop=True)

    cell_grid = np.full(len(cells), None, dtype=object)
    for row in grid_rows:
        cell_grid[row["cells"]] = row["grid_id"]
    out_cells = cells.drop(columns=["unit", "_area", "_cx", "_cy"]).assign(
        unit_id=np.where(cell_unit >= 0, piece_ids[np.maximum(cell_unit, 0)], None),
        grid_id=cell_grid)
    piece_grid = np.full(len(pieces), None, dtype=object)
    piece_grid[cell_unit[cell_unit >= 0]] = cell_grid[cell_unit >= 0]
    piece_comm = np.full(len(pieces), None, dtype=object)
    piece_comm[cell_unit[cell_unit >= 0]] = cells["community_id"].to_numpy()[cell_unit >= 0]
    out_hh = pieces.assign(community_id=piece_comm, grid_id=piece_grid)
    assignment = pd.Series(piece_grid, index=pd.Index(piece_ids, name="unit_id"), name="grid_id")

    comm_out = communities.copy()
    n_grids = grids.groupby("community_id").size()
    empty_info = {"households": 0, "feasible": False, "reason": None, "unassigned": 0}
    info = [community_info.get(c, empty_info) for c in comm_out["community_id"].astype(str)]
    comm_out["households"] = [i["households"] for i in info]
    comm_out["grids"] = [int(n_grids.get(c, 0)) for c in comm_out["community_id"]]
    comm_out["feasible"] = [int(i["feasible"]) for i in info]
    comm_out["reason"] = [_reasons([i["reason"]]) if i["reason"] else "" for i in info]
    timings["polygons"] = time.perf_counter() - clock

    unassigned = int(sum(i["unassigned"] for i in community_info.values()))
    if unassigned:
        notes.append(both("note.cells_without_grid", count=unassigned))
    feasible = set(comm_out.loc[comm_out["feasible"] == 1, "community_id"])
    in_feasible = grids[grids["community_id"].isin(feasible)]
    report = {
        "grids": int(len(grids)),
        "grids_in_band": int(grids["in_band"].sum()),
        "share_in_band": float(grids["in_band"].mean()) if len(grids) else 0.0,
        "feasible_in_band": bool(in_feasible["in_band"].all()),
        "non_contiguous": int((grids["contiguous"] == 0).sum()),
        "arterial_crossings": int(grids["arterial_crossings"].sum()),
        "mean_polsby_popper": float(grids["polsby_popper"].mean()) if len(grids) else 0.0,
        "infeasible_communities": [
            {"community_id": c, "households": i["households"],
             "reason": _reasons([i["reason"]]) if i["reason"] else ""}
            for c, i in zip(comm_out["community_id"], info) if not i["feasible"]],
        "split_units": splits,
        "zero_household_units": int((units["households"] == 0).sum()),
        "cells_without_grid": unassigned,
        "improvement": stats,
        "notes": notes,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    return GridResult(grids=grids, households=out_hh, communities=comm_out,
                      assignment=assignment, cells=out_cells, report=report)


def _piece_source(pieces: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``units`` of the unit each piece came from."""
    parent = pieces["part_of"].where(pieces["part_of"].notna(), pieces["unit_id"]).astype(str)
    unit_pos = pd.Series(np.arange(len(units)), index=units["unit_id"].astype(str).to_numpy())
    return unit_pos.reindex(parent.to_numpy()).to_numpy()


def _centre(area: np.ndarray, centroid: np.ndarray, cells: np.ndarray) -> np.ndarray:
    weights = area[cells]
    if weights.sum() <= 0:
        return centroid[cells].mean(axis=0)
    return (centroid[cells] * weights[:, None]).sum(axis=0) / weights.sum()
