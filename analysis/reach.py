"""Minutes on foot from every household to the nearest facility of every service.

Two steps, kept apart so that the page can re-answer on every click (pandana style):

1. :func:`prepare_reach` — the expensive, settings-free part: snap homes and facilities to
   the nearest walkable *edge* (:meth:`geo.network.WalkNetwork.snap`), check the inputs
   (facilities far from any street, outside the area, duplicated, on network islands,
   services without any facility) and build one augmented graph in which every usable
   facility is a virtual source node joined to both ends of its edge by the partial
   distances ``offset + along`` and ``offset + length − along``.
2. :func:`household_minutes` — the cheap, per-settings part: for each service one
   multi-source Dijkstra pass (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True``,
   bounded by the horizon) gives every node its distance to, and the id of, the nearest
   facility; every household's walk then follows in one vectorised step::

       walk = offset + min(d[u] + t, d[v] + L − t)

   (``t`` = the household's position along edge ``(u, v)`` of length ``L``), or the
   direct walk along the edge when a facility stands on the household's own edge.

Service areas (:func:`service_areas`) are drawn from the reached pieces of edges, partial
edges cut at the remaining distance; they are for display only — coverage is always
counted per household from the distances, never by testing points against polygons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from analysis.settings import WalkSettings
from geo.catalogue import load_catalogue
from geo.crs import require_projected
from geo.errors import InputError
from geo import i18n
from geo.network import Snap, WalkNetwork
from geo.places import facility_labels

#: Facilities of one service closer than this are reported as duplicates.
DUPLICATE_M = 1.0
#: How many ids a report lists before it says "…".
MAX_IDS = 10


@dataclass(frozen=True, eq=False)
class ReachIndex:
    """Snapped homes and facilities plus the augmented graph; build with :func:`prepare_reach`.

    Attributes
    ----------
    network
        The walking network.
    household_index
        Index of the household frame given to :func:`prepare_reach` (results keep it).
    household_xy, household_weight
        Home coordinates and household counts (1 per point when no ``households`` column).
    household_snap
        Where each home meets the network (``edge = -1``: not on the network).
    facilities
        One row per facility given: ``facility_id``, ``service``, ``x``, ``y``, ``edge``,
        ``along_m``, ``offset_m``, ``node`` (its virtual source node, -1 if unusable) and
        ``status`` (``ok``, ``off_network``, ``unknown_service``).
    graph
        The network graph with one extra row per usable facility (directed edges from the
        facility to both ends of its edge); homes are not in it.
    services
        The service keys analysed.
    max_snap_m
        The snap cap used.
    report
        What was found wrong or unusual in the inputs (see :func:`reach_notes`).
    """

    network: WalkNetwork
    household_index: pd.Index
    household_xy: np.ndarray
    household_weight: np.ndarray
    household_snap: Snap
    facilities: pd.DataFrame
    graph: sparse.csr_array
    services: tuple[str, ...]
    max_snap_m: float
    report: dict = field(default_factory=dict)

    @property
    def n_households(self) -> int:
        return int(self.household_xy.shape[0])

    @property
    def on_network(self) -> np.ndarray:
        """Whether each home lies within the snap cap of a walkable street."""
        return self.household_snap.edge >= 0

    def facility_rows(self, service: str) -> np.ndarray:
        """Positions (in :attr:`facilities`) of the usable facilities of a service."""
        fac = self.facilities
        return np.flatnonzero((fac["service"].to_numpy() == service) & (fac["node"].to_numpy() >= 0))


@dataclass(frozen=True, eq=False)
class HouseholdReach:
    """Per-household answer of :func:`household_minutes`.

    Attributes
    ----------
    walk_m
        Metres on foot to the nearest facility, one column per service (NaN where no
        facility is reachable within the horizon, or the home is not on the network).
    minutes
        The same as minutes at each service's speed, columns ``walk_min_<service>``.
    nearest
        Position in ``index.facilities`` of the nearest facility (-1: none), per service.
    on_network
        Whether each home is within the snap cap of a street.
    settings
        The settings used.
    report
        Per-service figures: facilities used, unreachable households, ...
    """

    walk_m: pd.DataFrame
    minutes: pd.DataFrame
    nearest: pd.DataFrame
    on_network: pd.Series
    settings: WalkSettings
    report: dict

    def nearest_ids(self, index: ReachIndex, service: str) -> pd.Series:
        """The ``facility_id`` of each household's nearest facility (None where none)."""
        rows = self.nearest[service].to_numpy()
        ids = index.facilities["facility_id"].to_numpy(dtype=object)
        out = np.full(rows.size, None, dtype=object)
        out[rows >= 0] = ids[rows[rows >= 0]]
        return pd.Series(out, index=self.nearest.index, name=f"nearest_{service}")

    def covered(self, service: str) -> np.ndarray:
        """Whether each household is within the service's threshold."""
        walk = self.walk_m[service].to_numpy()
        with np.errstate(invalid="ignore"):
            return walk <= self.settings.threshold_m(service)

    def frame(self) -> pd.DataFrame:
        """``walk_min_<service>`` columns plus ``on_network``, for joining to households."""
        return self.minutes.assign(on_network=self.on_network)


# -------------------------------------------------------------------------------------
# precompute
# -------------------------------------------------------------------------------------
def prepare_reach(network: WalkNetwork, households: gpd.GeoDataFrame,
                  facilities: gpd.GeoDataFrame, *, max_snap_m: float = 150.0,
                  boundary: shapely.Geometry | None = None,
                  services: tuple[str, ...] | None = None,
                  minor_island_share: float = 0.05) -> ReachIndex:
    """Snap homes and facilities to the network and build the augmented graph.

    Parameters
    ----------
    network
        The walking network (projected metres).
    households
        Points (or polygons, whose representative point is used) with an optional
        ``households`` count column; projected, same CRS as the network.
    facilities
        ``facility_id`` (optional), ``service`` and geometry; projected.
    max_snap_m
        Homes or facilities farther than this from every street are "not on the network".
    boundary
        The study area; facilities outside it are still used (a school across the
        district line serves its residents) but reported.
    services
        Service keys to analyse; default: every key of the bundled catalogue.
    minor_island_share
        Pieces of network cut off from the rest and holding less than this share of the
        nodes are usually paths whose link to the streets is not mapped (gated compounds
        in Chinese OpenStreetMap data). A home or facility whose nearest edge lies on such
        a piece is attached instead to the nearest edge of the main network within the
        snap cap, and counted in the report; 0 turns this off.

    Returns
    -------
    ReachIndex

    Raises
    ------
    CRSError
        If a layer is unprojected.
    InputError
        If a layer has no ``service`` column or a negative household count.
    """
    require_projected(households, what="households")
    require_projected(facilities, what="facilities")
    if services is None:
        services = tuple(s.key for s in load_catalogue())
    services = tuple(services)
    if "service" not in facilities.columns:
        raise InputError("err.facilities_no_service", columns=", ".join(map(str, facilities.columns)))

    hh_xy = _xy(households)
    if "households" in households.columns:
        weight = pd.to_numeric(households["households"], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(weight)) or (weight < 0).any():
            raise InputError("err.households_count", column="households")
        weight = weight.astype(np.int64)
    else:
        weight = np.ones(hh_xy.shape[0], dtype=np.int64)
    hh_snap, hh_moved = _snap(network, hh_xy, max_snap_m, minor_island_share)

    fac = pd.DataFrame({
        "facility_id": (facilities["facility_id"].astype(str).to_numpy()
                        if "facility_id" in facilities.columns
                        else np.array([f"F{k:05d}" for k in range(len(facilities))], dtype=object)),
        "service": facilities["service"].astype(str).to_numpy(),
    })
    fac["label"] = facility_labels(facilities)  # notes name facilities by name and place
    fxy = _xy(facilities)
    fac["x"], fac["y"] = fxy[:, 0], fxy[:, 1]
    known = fac["service"].isin(services).to_numpy()
    f_snap, f_moved = _snap(network, fxy, max_snap_m, minor_island_share)
    fac["edge"] = f_snap.edge
    fac["along_m"] = f_snap.along_m
    fac["offset_m"] = f_snap.offset_m
    fac["status"] = np.where(~known, "unknown_service",
                             np.where(f_snap.edge >= 0, "ok", "off_network"))
    usable = fac["status"].to_numpy() == "ok"
    node = np.full(len(fac), -1, dtype=np.int64)
    node[usable] = network.n_nodes + np.arange(int(usable.sum()))
    fac["node"] = node
    graph = _augment(network, f_snap, usable)

    report = _input_report(network, hh_snap, weight, fac, boundary, services, max_snap_m)
    report["moved_off_islands"] = {
        "units": int(hh_moved.sum()), "households": int(weight[hh_moved].sum()),
        "facilities": int(f_moved.sum()), "facility_ids": _ids(fac["label"][f_moved]),
        "minor_island_share": float(minor_island_share)}
    return ReachIndex(
        network=network, household_index=households.index.copy(), household_xy=hh_xy,
        household_weight=weight, household_snap=hh_snap, facilities=fac, graph=graph,
        services=services, max_snap_m=float(max_snap_m), report=report)


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.to_numpy()
    if len(geoms) == 0:
        return np.zeros((0, 2))
    points = shapely.get_type_id(geoms) == 0
    if not points.all():
        geoms = geoms.copy()
        geoms[~points] = shapely.point_on_surface(geoms[~points])
    xy = shapely.get_coordinates(geoms)
    if xy.shape[0] != len(geoms):  # empty geometries
        out = np.full((len(geoms), 2), np.nan)
        ok = ~shapely.is_empty(geoms)
        out[ok] = shapely.get_coordinates(geoms[ok])
        return out
    return xy


def _snap(network: WalkNetwork, xy: np.ndarray, max_snap_m: float,
          minor_share: float) -> tuple[Snap, np.ndarray]:
    """Snap to the nearest edge, passing over minor islands when the main network is near."""
    snap = network.snap(xy, max_snap_m=max_snap_m)
    moved = np.zeros(snap.edge.size, dtype=bool)
    if minor_share <= 0 or network.n_edges == 0 or snap.edge.size == 0:
        return snap, moved
    labels = network.components
    minor = np.bincount(labels) < minor_share * network.n_nodes
    minor[0] = False  # the largest piece is never minor
    edge_minor = minor[labels[network.edge_u]]
    on = snap.edge >= 0
    todo = np.flatnonzero(on & edge_minor[np.maximum(snap.edge, 0)])
    if todo.size == 0 or edge_minor.all():
        return snap, moved
    major = np.flatnonzero(~edge_minor)
    geoms = network.edge_geometry[major]
    points = shapely.points(xy[todo])
    (src, tgt), dist = shapely.STRtree(geoms).query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=False)
    edge, along, offset = snap.edge.copy(), snap.along_m.copy(), snap.offset_m.copy()
    hit = todo[src]
    edge[hit] = major[tgt]
    offset[hit] = dist
    along[hit] = shapely.line_locate_point(geoms[tgt], points[src])
    moved[hit] = True
    return Snap(edge, along, offset), moved


def _augment(network: WalkNetwork, snap: Snap, usable: np.ndarray) -> sparse.csr_array:
    """The network graph plus one source row per usable facility."""
    n = network.n_nodes
    g = sparse.csr_array(network.graph)
    e = snap.edge[usable]
    f = e.size
    length = network.edge_length_m[e]
    along = np.clip(snap.along_m[usable], 0.0, length)
    offset = snap.offset_m[usable]
    u, v = network.edge_u[e], network.edge_v[e]
    w_u, w_v = offset + along, offset + (length - along)
    loop = u == v
    w_u = np.where(loop, np.minimum(w_u, w_v), w_u)
    counts = np.where(loop, 1, 2)
    cols = np.column_stack([u, v]).ravel()
    weights = np.column_stack([w_u, w_v]).ravel()
    keep = np.column_stack([np.ones(f, bool), ~loop]).ravel()
    cols, weights = cols[keep], weights[keep]
    indptr = np.concatenate([g.indptr, g.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([g.indices.astype(np.int64), cols])
    data = np.concatenate([g.data.astype(float), weights])
    # explicit zeros (a facility standing on a node) are edges for csgraph's sparse input
    return sparse.csr_array((data, indices, indptr), shape=(n + f, n + f))


def _ids(values: np.ndarray) -> str:
    values = [str(v) for v in values]
    return "; ".join(values[:MAX_IDS]) + (" …" if len(values) > MAX_IDS else "")


def _input_report(network: WalkNetwork, hh_snap: Snap, weight: np.ndarray, fac: pd.DataFrame,
                  boundary: shapely.Geometry | None, services: tuple[str, ...],
                  max_snap_m: float) -> dict:
    labels = network.components
    on = hh_snap.edge >= 0
    hh_comp = np.full(on.size, -1)
    hh_comp[on] = labels[network.edge_u[hh_snap.edge[on]]]
    report: dict = {
        "max_snap_m": float(max_snap_m),
        "network": dict(network.report),
        "households": {
            "units": int(on.size), "households": int(weight.sum()),
            "off_network_units": int((~on).sum()),
            "off_network_households": int(weight[~on].sum()),
            "off_main_component_households": int(weight[on & (hh_comp > 0)].sum()),
        },
        "facilities": {},
    }
    unknown = fac["status"] == "unknown_service"
    report["unknown_service_facilities"] = {
        "count": int(unknown.sum()),
        "services": sorted(set(fac.loc[unknown, "service"])),
        "ids": _ids(fac.loc[unknown, "label"]),
    }
    xy = fac[["x", "y"]].to_numpy()
    outside = np.zeros(len(fac), dtype=bool)
    if boundary is not None and len(fac):
        outside = ~shapely.intersects_xy(boundary, xy[:, 0], xy[:, 1])
    fac_comp = np.full(len(fac), -1)
    ok = fac["edge"].to_numpy() >= 0
    fac_comp[ok] = labels[network.edge_u[fac["edge"].to_numpy()[ok]]]
    for service in services:
        mine = (fac["service"] == service).to_numpy()
        ids = fac["facility_id"].to_numpy()
        labels = fac["label"].to_numpy()
        off = mine & (fac["status"] == "off_network").to_numpy()
        dup_id = mine & pd.Series(ids).duplicated(keep=False).to_numpy()
        dup_xy = np.zeros(len(fac), dtype=bool)
        rows = np.flatnonzero(mine)
        if rows.size > 1:
            pairs = cKDTree(xy[rows]).query_pairs(DUPLICATE_M, output_type="ndarray")
            dup_xy[rows[pairs.ravel()]] = True
        island = mine & ok & (fac_comp > 0)
        used = mine & ok
        served = np.unique(fac_comp[used])
        report["facilities"][service] = {
            "count": int(mine.sum()),
            "used": int(used.sum()),
            "none_in_area": bool(not used.any()),
            "off_network": int(off.sum()), "off_network_ids": _ids(labels[off]),
            "outside_area": int((mine & outside).sum()),
            "outside_area_ids": _ids(labels[mine & outside]),
            "duplicates": int((dup_id | dup_xy).sum()),
            "duplicate_ids": _ids(labels[dup_id | dup_xy]),
            "on_islands": int(island.sum()), "on_island_ids": _ids(labels[island]),
            "households_on_islands_without": int(
                weight[on & ~np.isin(hh_comp, served)].sum()) if used.any() else 0,
        }
    return report


# -------------------------------------------------------------------------------------
# per-settings query
# -------------------------------------------------------------------------------------
def node_distances(index: ReachIndex, service: str, *, limit_m: float = np.inf,
                   facility_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every network node's walk to the nearest facility of a service.

    One multi-source Dijkstra pass (``min_only=True``) from the facilities' virtual nodes.

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
        facility) and the position of the nearest facility in ``index.facilities``
        (-1 where none).
    """
    n = index.network.n_nodes
    rows = index.facility_rows(service) if facility_rows is None else np.asarray(facility_rows)
    if rows.size == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    sources = index.facilities["node"].to_numpy()[rows]
    dist, _, origin = csgraph.dijkstra(index.graph, directed=True, indices=sources,
                                       min_only=True, limit=limit_m, return_predecessors=True)
    dist = dist[:n]
    origin = origin[:n]
    # map virtual node → facility row
    row_of_node = np.full(index.graph.shape[0], -1, dtype=np.int64)
    row_of_node[sources] = rows
    nearest = np.where(origin >= 0, row_of_node[np.maximum(origin, 0)], -1)
    nearest[~np.isfinite(dist)] = -1
    return dist, nearest


@dataclass(frozen=True, eq=False)
class _Snapped:
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
    def of(cls, network: WalkNetwork, snap: Snap) -> _Snapped:
        on = np.flatnonzero(snap.edge >= 0)
        e = snap.edge[on]
        length = network.edge_length_m[e]
        t = np.clip(snap.along_m[on], 0.0, length)
        return cls(on=on, edge=e, u=network.edge_u[e], v=network.edge_v[e], t=t,
                   rest=length - t, offset=snap.offset_m[on], n_points=snap.edge.size)


def _points_walk(index: ReachIndex, pts: _Snapped, dist: np.ndarray, nearest: np.ndarray,
                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walk from snapped points to the nearest facility, given node distances."""
    walk = np.full(pts.n_points, np.inf)
    near = np.full(pts.n_points, -1, dtype=np.int64)
    if pts.on.size == 0:
        return walk, near
    via_u = dist[pts.u] + pts.t
    via_v = dist[pts.v] + pts.rest
    use_u = via_u <= via_v
    best = np.where(use_u, via_u, via_v)
    who = np.where(use_u, nearest[pts.u], nearest[pts.v])
    # a facility on the home's own edge can be reached without passing a node
    if rows.size:
        net = index.network
        fac = index.facilities
        f_edge = fac["edge"].to_numpy()[rows]
        has_facility = np.zeros(net.n_edges, dtype=bool)
        has_facility[f_edge] = True
        sel = np.flatnonzero(has_facility[pts.edge])
        if sel.size:
            order = np.argsort(f_edge, kind="stable")
            f_edge, f_rows = f_edge[order], rows[order]
            f_len = net.edge_length_m[f_edge]
            f_along = np.clip(fac["along_m"].to_numpy()[f_rows], 0.0, f_len)
            f_off = fac["offset_m"].to_numpy()[f_rows]
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
    services = index.services if services is None else tuple(services)
    walk_cols, min_cols, near_cols = {}, {}, {}
    on = index.on_network
    w = index.household_weight
    report: dict = {}
    pts = _Snapped.of(index.network, index.household_snap)
    for service in services:
        horizon = settings.horizon_m(service)
        rows = index.facility_rows(service)
        dist, nearest = node_distances(index, service, limit_m=horizon, facility_rows=rows)
        walk, near = _points_walk(index, pts, dist, nearest, rows)
        beyond = ~(walk <= horizon)
        walk[beyond] = np.nan
        near[beyond] = -1
        walk_cols[service] = walk
        min_cols[f"walk_min_{service}"] = walk / (60.0 * settings.speed_mps(service))
        near_cols[service] = near.astype(np.int32)
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
        walk_m=pd.DataFrame(walk_cols, index=idx),
        minutes=pd.DataFrame(min_cols, index=idx),
        nearest=pd.DataFrame(near_cols, index=idx),
        on_network=pd.Series(on, index=idx, name="on_network"),
        settings=settings, report=report)


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


# -------------------------------------------------------------------------------------
# service areas (display only)
# -------------------------------------------------------------------------------------
def _substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring`` for LineStrings (``0 <= start < end <= length``)."""
    if geoms.size == 0:
        return np.empty(0, dtype=object)
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    seg = np.sqrt((np.diff(coords, axis=0) ** 2).sum(axis=1))
    same = which[1:] == which[:-1]
    step = np.where(same, seg, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(which, np.arange(geoms.size), side="left")
    cum = cum - cum[first][which]  # distance of every vertex from its line's start
    a = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    b = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    inner = (cum > start[which]) & (cum < end[which])
    n = geoms.size
    keys = np.concatenate([np.arange(n), which[inner], np.arange(n)])
    order_in_line = np.concatenate([np.full(n, -1.0), cum[inner], np.full(n, np.inf)])
    pts = np.concatenate([a, coords[inner], b])
    order = np.lexsort((order_in_line, keys))
    return shapely.linestrings(pts[order], indices=keys[order])


def _reached_intervals(index: ReachIndex, dist: np.ndarray, rows: np.ndarray,
                       budget_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge intervals ``(edge, start_m, end_m)`` within ``budget_m`` of the nearest facility.

    A whole edge is one interval ``(e, 0, length)``; a partial edge is cut at the remaining
    distance from either end; a facility's own edge is also reached around the facility.
    """
    net = index.network
    length = net.edge_length_m
    with np.errstate(invalid="ignore"):
        ru = np.maximum(budget_m - dist[net.edge_u], 0.0)
        rv = np.maximum(budget_m - dist[net.edge_v], 0.0)
    full = (ru >= length) | (rv >= length) | ((ru > 0) & (rv > 0) & (ru + rv >= length))
    part_u = (ru > 0) & ~full
    part_v = (rv > 0) & ~full
    whole = np.flatnonzero(full)
    edges = [whole, np.flatnonzero(part_u), np.flatnonzero(part_v)]
    starts = [np.zeros(whole.size), np.zeros(int(part_u.sum())), length[part_v] - rv[part_v]]
    ends = [length[whole], ru[part_u], length[part_v]]
    if rows.size:  # the facility's own edge, around the facility
        fac = index.facilities
        e = fac["edge"].to_numpy()[rows]
        reach = budget_m - fac["offset_m"].to_numpy()[rows]
        along = fac["along_m"].to_numpy()[rows]
        ok = (reach > 0) & ~full[e]
        e, reach, along = e[ok], reach[ok], along[ok]
        s0 = np.clip(along - reach, 0.0, length[e])
        s1 = np.clip(along + reach, 0.0, length[e])
        edges.append(e)
        starts.append(s0)
        ends.append(s1)
    edge = np.concatenate(edges)
    start, end = np.concatenate(starts), np.concatenate(ends)
    good = end - start > 1e-9
    return edge[good], start[good], end[good]


def _interval_lines(network: WalkNetwork, edge: np.ndarray, start: np.ndarray,
                    end: np.ndarray) -> np.ndarray:
    """LineStrings of edge intervals (whole edges reuse their geometry)."""
    geoms = network.edge_geometry[edge]
    whole = (start <= 0) & (end >= network.edge_length_m[edge])
    out = geoms.copy()
    cut = ~whole
    if cut.any():
        out[cut] = _substrings(geoms[cut], start[cut], end[cut])
    return out


def _reached_pieces(index: ReachIndex, dist: np.ndarray, rows: np.ndarray,
                    budget_m: float) -> np.ndarray:
    """Edge pieces within ``budget_m`` of the nearest facility (LineStrings)."""
    return _interval_lines(index.network, *_reached_intervals(index, dist, rows, budget_m))


def service_areas(index: ReachIndex, settings: WalkSettings, service: str, *,
                  minutes: tuple[float, ...] | None = None, buffer_m: float = 25.0,
                  node_dist: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Polygons of the streets within each minute level of a service (for display).

    Reached pieces of edges (partial edges cut at the remaining distance) are buffered by
    ``buffer_m`` and merged, so holes (blocks not reached from any side) and islands
    stay. The levels nest (5 ⊂ 10 ⊂ 15 minutes): each level is the previous polygon plus
    the pieces it did not have yet, which also saves most of the work.

    Returns
    -------
    GeoDataFrame
        ``service``, ``minutes``, geometry (Polygon or MultiPolygon; empty where nothing
        is reached); in the network's CRS.
    """
    minutes = settings.minutes if minutes is None else tuple(sorted(minutes))
    rows = index.facility_rows(service)
    speed = settings.speed_mps(service)
    if node_dist is None:
        node_dist, _ = node_distances(index, service, limit_m=max(minutes) * 60.0 * speed,
                                      facility_rows=rows)
    polygons = []
    previous = None
    seen: set = set()
    for m in minutes:
        edge, start, end = _reached_intervals(index, node_dist, rows, m * 60.0 * speed)
        keys = list(zip(edge.tolist(), np.round(start, 6).tolist(), np.round(end, 6).tolist()))
        new = np.fromiter((k not in seen for k in keys), dtype=bool, count=len(keys))
        seen.update(keys)
        parts = shapely.buffer(_interval_lines(index.network, edge[new], start[new], end[new]),
                               buffer_m, quad_segs=2)
        if previous is not None and not previous.is_empty:
            parts = np.append(parts, previous)
        # a cascaded union of small buffers is ~10x faster than buffering one
        # MultiLineString made of the same pieces
        poly = shapely.union_all(parts) if parts.size else shapely.Polygon()
        if poly.is_empty:
            poly = shapely.Polygon()
        polygons.append(poly)
        previous = poly
    return gpd.GeoDataFrame({"service": service, "minutes": np.asarray(minutes, dtype=float)},
                            geometry=polygons, crs=index.network.crs)


def all_service_areas(index: ReachIndex, settings: WalkSettings,
                      services: tuple[str, ...] | None = None, *,
                      buffer_m: float = 25.0) -> gpd.GeoDataFrame:
    """The ``service_areas`` layer: every service at every minute level."""
    services = index.services if services is None else tuple(services)
    frames = [service_areas(index, settings, s, buffer_m=buffer_m) for s in services]
    if not frames:
        return gpd.GeoDataFrame({"service": [], "minutes": []}, geometry=[],
                                crs=index.network.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=index.network.crs)


def polygon_misclassification(index: ReachIndex, reach: HouseholdReach,
                              areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Households that the drawn service areas misclassify, per service.

    For each service, the polygon at its threshold minutes (from ``areas``) is tested
    against the per-household answer: ``false_covered`` are households inside the polygon
    but farther than the threshold; ``false_uncovered`` are households within the
    threshold but outside the polygon. Only households on the network count.
    """
    settings = reach.settings
    on = index.on_network
    w = index.household_weight
    x, y = index.household_xy[:, 0], index.household_xy[:, 1]
    out = []
    for service in reach.walk_m.columns:
        thr = settings.threshold_min(service)
        pick = areas[(areas["service"] == service) & np.isclose(areas["minutes"], thr)]
        if pick.empty:
            pick = service_areas(index, settings, service, minutes=(thr,))
        poly = pick.geometry.iloc[0]
        shapely.prepare(poly)
        inside = on & shapely.contains_xy(poly, x, y) if not poly.is_empty else np.zeros_like(on)
        covered = on & reach.covered(service)
        out.append({"service": service, "minutes": thr,
                    "households": int(w[on].sum()),
                    "false_covered": int(w[inside & ~covered].sum()),
                    "false_uncovered": int(w[covered & ~inside].sum())})
    frame = pd.DataFrame(out, columns=["service", "minutes", "households", "false_covered",
                                       "false_uncovered"])
    frame["misclassified"] = frame["false_covered"] + frame["false_uncovered"]
    return frame


# -------------------------------------------------------------------------------------
# messages
# -------------------------------------------------------------------------------------
def reach_notes(report: dict, lang: str = "zh", *, reach_report: dict | None = None) -> list[str]:
    """Plain-language notes about bad or unusual input, for the summary and the page.

    Parameters
    ----------
    report
        ``ReachIndex.report``.
    lang
        ``zh`` or ``en``.
    reach_report
        ``HouseholdReach.report`` (adds households no facility can be reached from).
    """
    names = _service_names(lang)
    notes = []
    net = report.get("network", {})
    if net.get("zero_length_edges_dropped"):
        notes.append(i18n.t("note.reach_zero_length", lang,
                               count=net["zero_length_edges_dropped"]))
    if net.get("components", 1) > 1:
        notes.append(i18n.t("note.reach_islands", lang, parts=net["components"],
                               nodes=net.get("nodes_off_main_component", 0)))
    hh = report["households"]
    moved = report.get("moved_off_islands", {})
    if moved.get("units") or moved.get("facilities"):
        notes.append(i18n.t("note.reach_moved_off_islands", lang, units=moved["units"],
                               households=moved["households"], facilities=moved["facilities"],
                               max_snap_m=f"{report['max_snap_m']:g}"))
    if hh["off_network_units"]:
        notes.append(i18n.t("note.reach_hh_off_network", lang, units=hh["off_network_units"],
                               households=hh["off_network_households"],
                               max_snap_m=f"{report['max_snap_m']:g}"))
    unknown = report.get("unknown_service_facilities", {})
    if unknown.get("count"):
        notes.append(i18n.t("note.reach_unknown_service", lang, count=unknown["count"],
                               services=", ".join(unknown["services"]), ids=unknown["ids"]))
    for service, info in report["facilities"].items():
        name = names.get(service, service)
        if info["none_in_area"]:
            notes.append(i18n.t("note.reach_none_in_area", lang, service=name,
                                   count=info["count"]))
        if info["off_network"]:
            notes.append(i18n.t("note.reach_fac_off_network", lang, service=name,
                                   count=info["off_network"], ids=info["off_network_ids"],
                                   max_snap_m=f"{report['max_snap_m']:g}"))
        if info["outside_area"]:
            notes.append(i18n.t("note.reach_fac_outside", lang, service=name,
                                   count=info["outside_area"], ids=info["outside_area_ids"]))
        if info["duplicates"]:
            notes.append(i18n.t("note.reach_fac_duplicate", lang, service=name,
                                   count=info["duplicates"], ids=info["duplicate_ids"]))
        if info["on_islands"]:
            notes.append(i18n.t("note.reach_fac_island", lang, service=name,
                                   count=info["on_islands"], ids=info["on_island_ids"]))
    groups: dict[tuple, list[str]] = {}  # one note per (households, horizon)
    for service, info in (reach_report or {}).items():
        if info["unreachable_households"] and not info["none_in_area"]:
            key = (info["unreachable_households"], info["horizon_min"])
            groups.setdefault(key, []).append(names.get(service, service))
    sep = "、" if lang == "zh" else ", "
    for (households, horizon), group in groups.items():
        notes.append(i18n.t("note.reach_unreachable", lang, service=sep.join(group),
                               households=households, horizon=f"{horizon:g}"))
    return notes


def _service_names(lang: str) -> dict[str, str]:
    try:
        return {s.key: s.name(lang) for s in load_catalogue()}
    except InputError:
        return {}
