"""The cheap, per-settings half of the reach step: minutes per household (see
:mod:`analysis.reach`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from analysis.reach.index import HouseholdReach, ReachIndex
from analysis.reach.kept_search import kept_nearest_sources, kept_within
from analysis.reach.plain import kept_plain_minutes
from analysis.reach.search import SearchGraph, nearest_sources
from analysis.settings import WalkSettings
from geo.compiled import kernel, use_compiled
from geo.kept import kept
from geo.network import Snap, WalkNetwork
from geo.vocabulary import minutes_column

# -------------------------------------------------------------------------------------
# per-settings query
# -------------------------------------------------------------------------------------
def node_distances(index: ReachIndex, service: str, *, limit_m: float = np.inf,
                   facility_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every network node's walk to the nearest facility of a service.

    One multi-source Dijkstra pass from the facilities' virtual nodes
    (:func:`analysis.reach.search.nearest_sources`).

    Parameters
    ----------
    index
        From :func:`prepare_reach`.
    service
        Service key.
    limit_m
        Nodes farther than this get ``inf``.
    facility_rows
        Use only these facility rows (default: all usable facilities of the service).

    Returns
    -------
    dist_m, nearest
        ``(n_nodes,)`` metres (``inf`` beyond the limit or on an island without a
        facility; with walls, one value per node of the walled graph, see
        :attr:`ReachIndex.edge_nodes`) and the position of the nearest facility in ``index.facilities``
        (-1 where none).
    """
    rows = index.facility_rows(service) if facility_rows is None else np.asarray(facility_rows)
    if rows.size == 0:
        return _no_facility(index)
    sources = index.facilities["node"].to_numpy()[rows]
    found = _kept_search(index, sources, limit_m)
    dist, origin = (nearest_sources(index.graph, sources, limit_m=limit_m) if found is None
                    else found)
    return _nearest_rows(index, rows, sources, dist, origin)


def _kept_search(index: ReachIndex, sources: np.ndarray, limit_m: float
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """The search from ``sources`` up to ``limit_m`` in the original numbering, from one
    that :func:`household_minutes` keeps on the index up to at least that radius (the
    service areas' levels lie within the horizon searched; the same metres, whatever the
    numbering of the graph searched), or ``None``."""
    for search in list(index.__dict__.get("_search", {}).values()):
        if not isinstance(search, SearchGraph):
            continue
        found = kept_within(index, search, search.own(sources), limit_m)
        if found is None:
            continue
        dist, origin = found
        if search.rank is None:
            return dist, origin
        return dist[search.rank], np.where(origin >= 0, search.order[np.maximum(origin, 0)],
                                           -1)[search.rank]
    return None


def _no_facility(index: ReachIndex) -> tuple[np.ndarray, np.ndarray]:
    n = index.n_base_nodes
    return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)


def _column(index: ReachIndex, name: str) -> np.ndarray:
    """A column of ``index.facilities`` (``xy``: both coordinates; ``access_node``: the
    walls' access nodes) as an array, taken once per index and kept: a frame's column
    costs far more than the arithmetic done with it per service."""
    return kept(index, ("column", name), lambda: (
        np.column_stack([index.facilities["x"].to_numpy(dtype=float),
                         index.facilities["y"].to_numpy(dtype=float)]) if name == "xy" else
        index.walls.access["node"].to_numpy().astype(np.int64) if name == "access_node"
        else index.facilities[name].to_numpy()), entries=8)


def _rows(index: ReachIndex, service: str) -> np.ndarray:
    """:meth:`ReachIndex.facility_rows` from the kept columns."""
    return np.flatnonzero((_column(index, "service") == service) & (_column(index, "node") >= 0))


def _nearest_rows(index: ReachIndex, rows: np.ndarray, sources: np.ndarray, dist: np.ndarray,
                  origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node distances and the facility row of each node's nearest source (-1 where none)."""
    n = int(index.graph.shape[0] - (_column(index, "node") >= 0).sum())
    dist = dist[:n]
    origin = origin[:n]
    # map virtual node → facility row
    row_of_node = np.full(index.graph.shape[0], -1, dtype=np.int64)
    row_of_node[sources] = rows
    nearest = np.where(origin >= 0, row_of_node[np.maximum(origin, 0)], -1)
    nearest[~np.isfinite(dist)] = -1
    return dist, nearest


def _search_graph(index: ReachIndex, *, renumber: bool = True) -> SearchGraph:
    """The index's graph renumbered for the search (made once per index and kept); with
    ``renumber=False`` (one search to run, where renumbering costs more than it saves)
    the graph as it is, unless the renumbered one is made already."""
    cache = index.__dict__.setdefault("_search", {})
    if "graph" not in cache and not renumber:
        if "plain" not in cache:
            cache["plain"] = SearchGraph.of(index.graph)
        return cache["plain"]
    if "graph" not in cache:
        # the street graph's nodes are the network's; a walled graph keeps its numbering
        xy = index.network.node_xy if index.walled is None else None
        cache["graph"] = SearchGraph.of(index.graph, xy)
    return cache["graph"]


def _search_points(index: ReachIndex, search: SearchGraph) -> SnappedPoints:
    """The snapped homes, edge ends numbered as in ``search`` (:func:`_search_graph`), in
    the order of their ``u`` end (made once per index and kept): the node distances are
    then read nearly in order instead of at random (each home's answer does not depend on
    it)."""
    cache = index.__dict__.setdefault("_search", {})
    key = ("points", search.rank is None)
    if key not in cache:
        snap = index.household_snap if index.walled is None else index.walled.snap
        pts = SnappedPoints.of(index.network, snap, index.edge_nodes)
        if search.rank is not None:  # node distances come in the search graph's numbering
            pts = replace(pts, u=search.own(pts.u), v=search.own(pts.v))
        if pts.on.size >= SORTED_POINTS:
            order = np.argsort(pts.u, kind="stable")
            pts = replace(pts, on=pts.on[order], edge=pts.edge[order], u=pts.u[order],
                          v=pts.v[order], t=pts.t[order], rest=pts.rest[order],
                          offset=pts.offset[order])
        cache[key] = pts
    return cache[key]


#: Homes on the network from which on they are read in the order of their nodes.
SORTED_POINTS = 100_000


def _all_node_distances(index: ReachIndex, services: tuple[str, ...], settings: WalkSettings,
                        search: SearchGraph
                        ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(rows, dist, nearest)`` of :func:`node_distances` for each service in turn (up to
    its horizon), nodes numbered as in :func:`_search_graph` (``.own`` maps nodes there);
    the searches run on all cores at once, those made before up to a radius at least as
    large are not run again (:mod:`analysis.reach.kept_search`: a slower pace)."""
    node = _column(index, "node")
    todo = [(_rows(index, service), settings.horizon_m(service)) for service in services]
    jobs = [(search.own(node[rows]), limit) for rows, limit in todo if rows.size]
    found = kept_nearest_sources(index, search, jobs)
    for rows, _ in todo:
        if rows.size == 0:
            yield (rows, *_no_facility(index))
            continue
        dist, origin = next(found)
        yield (rows, *_nearest_rows(index, rows, search.own(node[rows]), dist, origin))


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Snapped points on the network, gathered once for every service of a query."""

    on: np.ndarray       # positions of the points on the network
    edge: np.ndarray
    u: np.ndarray
    v: np.ndarray
    t: np.ndarray        # distance along the edge from u
    rest: np.ndarray     # length − t
    offset: np.ndarray
    n_points: int

    @classmethod
    def of(cls, network: WalkNetwork, snap: Snap,
           ends: tuple[np.ndarray, np.ndarray] | None = None) -> SnappedPoints:
        on = np.flatnonzero(snap.edge >= 0)
        e = snap.edge[on]
        length = network.edge_length_m[e]
        t = np.clip(snap.along_m[on], 0.0, length)
        end_u, end_v = (network.edge_u, network.edge_v) if ends is None else ends
        return cls(on=on, edge=e, u=end_u[e].astype(np.int64, copy=False),
                   v=end_v[e].astype(np.int64, copy=False), t=t,
                   rest=length - t, offset=snap.offset_m[on], n_points=snap.edge.size)


def _points_walk(index: ReachIndex, pts: SnappedPoints, dist: np.ndarray, nearest: np.ndarray,
                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walk from snapped points to the nearest facility, given node distances."""
    walk = np.full(pts.n_points, np.inf)
    near = np.full(pts.n_points, -1, dtype=np.int64)
    if pts.on.size == 0:
        return walk, near
    ends = _WALK_VIA_ENDS.get() if use_compiled(pts.on.size) else None
    if ends is not None:  # the same sums and choices, without the temporary arrays
        best = np.empty(pts.on.size)
        who = np.empty(pts.on.size, dtype=np.int64)
        ends(pts.u, pts.v, pts.t, pts.rest, np.ascontiguousarray(dist, dtype=np.float64),
             np.ascontiguousarray(nearest, dtype=np.int64), best, who)
    else:
        via_u = dist[pts.u] + pts.t
        via_v = dist[pts.v] + pts.rest
        use_u = via_u <= via_v
        best = np.where(use_u, via_u, via_v)
        who = np.where(use_u, nearest[pts.u], nearest[pts.v])
    # a facility on the home's own edge can be reached without passing a node
    if rows.size:
        net = index.network
        f_edge = _column(index, "edge")[rows]
        rows = rows[f_edge >= 0]
        f_edge = f_edge[f_edge >= 0]
        has_facility = np.zeros(net.n_edges, dtype=bool)
        has_facility[f_edge] = True
        sel = np.flatnonzero(has_facility[pts.edge])
        if sel.size:
            order = np.argsort(f_edge, kind="stable")
            f_edge, f_rows = f_edge[order], rows[order]
            f_len = net.edge_length_m[f_edge]
            f_along = np.clip(_column(index, "along_m")[f_rows], 0.0, f_len)
            f_off = _column(index, "offset_m")[f_rows]
            e, t = pts.edge[sel], pts.t[sel]
            lo = np.searchsorted(f_edge, e, side="left")
            hi = np.searchsorted(f_edge, e, side="right")
            for k in range(int((hi - lo).max(initial=0))):
                j = lo + k
                has = j < hi
                jj = np.where(has, j, 0)
                direct = np.abs(t - f_along[jj]) + f_off[jj]
                better = has & (direct < best[sel])
                best[sel] = np.where(better, direct, best[sel])
                who[sel] = np.where(better, f_rows[jj], who[sel])
    walk[pts.on] = pts.offset + best
    near[pts.on] = np.where(np.isfinite(best), who, -1)
    return walk, near


def _walk_via_ends(u, v, t, rest, dist, nearest, best, who):  # pragma: no cover - compiled
    """``best = min(dist[u] + t, dist[v] + rest)`` (``u``'s side where equal) and the
    nearest facility that way, point by point (:func:`_points_walk`)."""
    for i in range(u.size):
        a = dist[u[i]] + t[i]
        b = dist[v[i]] + rest[i]
        if a <= b:
            best[i] = a
            who[i] = nearest[u[i]]
        else:
            best[i] = b
            who[i] = nearest[v[i]]


_WALK_VIA_ENDS = kernel(_walk_via_ends)


def _walled_walk(index: ReachIndex, walk: np.ndarray, near: np.ndarray, dist: np.ndarray,
                 nearest: np.ndarray, rows: np.ndarray) -> None:
    """Homes inside walled compounds with no inner path leading out: straight (times the
    detour) to each open access point of their compound, and to a facility inside the same
    compound (in place)."""
    w = index.walled
    acc_node = _column(index, "access_node")
    via = w.gate_m + dist[acc_node[w.gate_access]]
    _take_min(walk, near, w.gate_home, via, nearest[acc_node[w.gate_access]])
    comp = _column(index, "compound")[rows]
    inside = rows[comp >= 0]
    if inside.size == 0:
        return
    f_comp = _column(index, "compound")[inside]
    fxy = _column(index, "xy")[inside]
    homes = np.flatnonzero((w.compound >= 0) & w.straight)
    homes = homes[np.argsort(w.compound[homes], kind="stable")]
    sorted_comp = w.compound[homes]
    lo = np.searchsorted(sorted_comp, f_comp)
    count = np.searchsorted(sorted_comp, f_comp, side="right") - lo
    fac = np.repeat(np.arange(inside.size), count)  # every (facility, home of its compound)
    who = homes[np.repeat(lo, count) + np.arange(fac.size) - np.repeat(np.cumsum(count) - count,
                                                                       count)]
    d = np.hypot(*(index.household_xy[who] - fxy[fac]).T) * index.walls.inner_detour
    _take_min(walk, near, who, d, inside[fac])


def _take_min(walk: np.ndarray, near: np.ndarray, who: np.ndarray, value: np.ndarray,
              facility: np.ndarray) -> None:
    """``walk[who] = min(walk[who], value)`` with repeated ``who`` (and the facility)."""
    if who.size == 0:
        return
    if not (who[1:] >= who[:-1]).all():
        order = np.argsort(who, kind="stable")
        who, value, facility = who[order], value[order], facility[order]
    start = np.flatnonzero(np.concatenate([[True], who[1:] != who[:-1]]))
    low = np.minimum.reduceat(value, start)
    size = np.diff(np.append(start, who.size))
    hit = np.flatnonzero(value == np.repeat(low, size))  # the first minimum of each home
    keep = np.concatenate([[True], who[hit][1:] != who[hit][:-1]])
    hit = hit[keep]
    who, value, facility = who[hit], value[hit], facility[hit]
    better = value < walk[who]
    walk[who[better]] = value[better]
    near[who[better]] = facility[better]


def household_minutes(index: ReachIndex, settings: WalkSettings,
                      services: tuple[str, ...] | None = None) -> HouseholdReach:
    """Minutes on foot from every household to the nearest facility of each service.

    Parameters
    ----------
    index
        From :func:`prepare_reach`.
    settings
        Speeds, thresholds and the horizon.
    services
        Service keys (default: those of the index).

    Returns
    -------
    HouseholdReach
        Indexed like the household frame given to :func:`prepare_reach`; NaN where a
        home is not on the network or no facility is reachable within the horizon.
    """
    services = tuple(dict.fromkeys(index.services if services is None else services))
    plain = (kept_plain_minutes(index.plain, settings, services,
                                lambda: household_minutes(index.plain, settings, services))
             if index.plain is not None and index.walled is not None else None)
    walk_cols, min_cols, near_cols = {}, {}, {}
    on = index.on_network
    w = index.household_weight
    report: dict = {}
    # one block per table, a row per service: the frames are made without copying them
    walk_block = np.empty((len(services), index.n_households))
    min_block = np.empty_like(walk_block)
    near_block = np.empty(walk_block.shape, dtype=np.int32)
    searches = sum(_rows(index, s).size > 0 for s in services)
    search = _search_graph(index, renumber=searches > 1)
    pts = _search_points(index, search)
    if plain is not None:  # the answer without walls, a row per service (as made, no copy)
        plain_walk = plain.walk_m.to_numpy().T
        plain_near = plain.nearest.to_numpy().T
    for k, (service, (rows, dist, nearest)) in enumerate(
            zip(services, _all_node_distances(index, services, settings, search))):
        horizon = settings.horizon_m(service)
        walk, near = _points_walk(index, pts, dist, nearest, rows)
        if index.walled is not None:
            _walled_walk(index, walk, near, dist, nearest, rows)
        if plain is not None:  # a wall only takes ways away: never shorter than without
            walk, near = _no_shorter(walk, near, plain_walk[k], plain_near[k])
        beyond = ~(walk <= horizon)
        walk[beyond] = np.nan
        near[beyond] = -1
        walk_cols[service] = walk_block[k]
        walk_block[k] = walk
        min_cols[minutes_column(service)] = np.divide(
            walk, 60.0 * settings.speed_mps(service), out=min_block[k])
        near_cols[service] = near_block[k]
        near_block[k] = near
        unreachable = on & beyond
        with np.errstate(invalid="ignore"):
            covered = on & (walk <= settings.threshold_m(service))
        on_w = int(w[on].sum())
        report[service] = {
            "facilities_used": int(rows.size),
            "none_in_area": bool(rows.size == 0),
            "households_on_network": on_w,
            "covered_households": int(w[covered].sum()),
            "coverage": float(w[covered].sum() / on_w) if on_w else 0.0,
            "unreachable_households": int(w[unreachable].sum()),
            "threshold_min": settings.threshold_min(service),
            "speed_mps": settings.speed_mps(service),
            "horizon_min": settings.horizon_min,
        }
    idx = index.household_index
    return HouseholdReach(
        walk_m=_frame(walk_block, walk_cols, idx),
        minutes=_frame(min_block, min_cols, idx),
        nearest=_frame(near_block, near_cols, idx),
        on_network=pd.Series(on, index=idx, name="on_network"),
        settings=settings, report=report, plain=plain)


def _frame(block: np.ndarray, columns: dict, index: pd.Index) -> pd.DataFrame:
    """A frame over ``block`` (a row per column) without copying it."""
    return pd.DataFrame(block.T, index=index, columns=list(columns), copy=False)


def _no_shorter(walk: np.ndarray, near: np.ndarray, plain_walk: np.ndarray,
                plain_near: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The walled walk, or the walk without walls (``plain_walk``, its facility
    ``plain_near``) where that is longer (where the straight line to a gate undercuts the
    street model, the street model stands; beyond the horizon or off the network without
    walls stays so)."""
    other = np.where(np.isfinite(plain_walk), plain_walk, np.inf)
    longer = other > walk
    return (np.where(longer, other, walk),
            np.where(longer, plain_near.astype(np.int64), near))


def crow_flies_m(index: ReachIndex, service: str, *, limit_m: float = np.inf) -> np.ndarray:
    """Straight-line metres from every household to the nearest usable facility.

    The same facilities as the network answer, so the difference is the network's
    detours alone. ``inf`` beyond ``limit_m`` or when the service has no facility.
    """
    rows = index.facility_rows(service)
    n = index.n_households
    if rows.size == 0 or n == 0:
        return np.full(n, np.inf)
    fxy = index.facilities[["x", "y"]].to_numpy()[rows]
    dist, _ = cKDTree(fxy).query(index.household_xy, k=1,
                                 distance_upper_bound=limit_m if np.isfinite(limit_m) else np.inf)
    return dist


def crow_flies_coverage(index: ReachIndex, settings: WalkSettings,
                        services: tuple[str, ...] | None = None) -> dict[str, float]:
    """Share of households (on the network) within each threshold as the crow flies.

    This is what a hand-drawn circle of radius ``speed × minutes`` claims.
    """
    services = index.services if services is None else tuple(services)
    on = index.on_network
    w = index.household_weight
    total = w[on].sum()
    out = {}
    for service in services:
        limit = settings.threshold_m(service)
        dist = crow_flies_m(index, service, limit_m=limit * (1 + 1e-9) + 1e-6)
        covered = on & (dist <= limit)
        out[service] = float(w[covered].sum() / total) if total else 0.0
    return out


def network_coverage(reach: HouseholdReach, index: ReachIndex) -> dict[str, float]:
    """Share of households (on the network) within each service's threshold."""
    return {s: reach.report[s]["coverage"] for s in reach.walk_m.columns}


