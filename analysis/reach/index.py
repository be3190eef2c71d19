"""Snapped homes and facilities and the augmented graph: the expensive, settings-free
half of the reach step (see :mod:`analysis.reach`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from analysis.reach.plain import PlainInputs, kept_plain_index
from analysis.reach.report import FacilityLabels, ids_text, input_report
from analysis.settings import WalkSettings
from geo.catalogue import load_catalogue
from geo.crs import require_projected
from geo.errors import InputError
from geo.kept import kept
from geo.network import Snap, WalkNetwork
from geo.walls import Walls



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
    walls
        The walled compounds (:class:`geo.walls.Walls`) or ``None``; with walls,
        ``network`` is the network cut at the outlines, ``household_snap`` of a home
        that reaches the streets only through a gate is that gate, and ``walled`` holds
        how homes are really joined.
    walled
        :class:`WalledHomes` (with walls, when some compound is walled).
    plain
        With walls: the same homes and facilities in the plain street model on the same
        network (what "walls off" measures); a walled walk is never shorter than it.
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
    walls: Walls | None = None
    walled: WalledHomes | None = None
    plain: ReachIndex | None = None

    @property
    def n_base_nodes(self) -> int:
        """Nodes of the graph before the facility sources (network or walled graph)."""
        return int(self.graph.shape[0] - (self.facilities["node"].to_numpy() >= 0).sum())

    @property
    def edge_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Graph node at each end of each edge, as walked from the edge (enter layer)."""
        if self.walled is not None:
            return self.walls.edge_node_u, self.walls.edge_node_v
        return self.network.edge_u, self.network.edge_v

    @property
    def n_households(self) -> int:
        return int(self.household_xy.shape[0])

    @property
    def on_network(self) -> np.ndarray:
        """Whether each home lies within the snap cap of a walkable street (with walls: and
        of one without them; a home no way reaches without walls is off the network with
        them too)."""
        on = self.household_snap.edge >= 0
        if self.plain is not None and self.walled is not None:
            on = on & self.plain.on_network
        return on

    def facility_rows(self, service: str) -> np.ndarray:
        """Positions (in :attr:`facilities`) of the usable facilities of a service."""
        fac = self.facilities
        return np.flatnonzero((fac["service"].to_numpy() == service) & (fac["node"].to_numpy() >= 0))


@dataclass(frozen=True, eq=False)
class WalledHomes:
    """How homes meet the network when compounds are walls.

    ``compound`` (position in :attr:`geo.walls.Walls.polygons` of the walled compound
    holding the home, -1 outside every wall: a home in an opened compound is like any
    other); ``snap``: inner path of the home's own compound, or the nearest way that is no
    walled compound's inner path for homes outside walls (edge -1: none); ``straight``:
    the home walks in a straight line (times the detour) to its compound's access points,
    as no inner path leads it out; ``gate_home``/``gate_access``/``gate_m``: every such
    (home, open access point of its compound, metres) pair.
    """

    compound: np.ndarray
    snap: Snap
    gate_home: np.ndarray
    gate_access: np.ndarray
    gate_m: np.ndarray
    facility_compound: np.ndarray
    straight: np.ndarray | None = None


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
    plain
        With walls: the same answer without walls (the walled walk is never shorter).
    """

    walk_m: pd.DataFrame
    minutes: pd.DataFrame
    nearest: pd.DataFrame
    on_network: pd.Series
    settings: WalkSettings
    report: dict
    plain: HouseholdReach | None = None

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
                  minor_island_share: float = 0.05, walls: Walls | None = None) -> ReachIndex:
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
    walls
        Walled compounds (:func:`geo.walls.build_walls` on ``network``): homes inside a
        wall reach the streets only along its inner paths or through its access points,
        facilities inside a wall are left through them, and nobody walks through.

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
    plain = None
    if walls is not None:
        network = walls.network
        # walls off is the plain street model on the same (cut) network; with walls, the
        # same model is kept beside the walled one: no walk is shorter than it
        # (kept on the cut network per inputs: a gate edit finds it, :mod:`.plain`)
        key = PlainInputs(hh_xy, weight, households.index, facilities, max_snap_m, services,
                          minor_island_share, boundary, str(households.crs))
        plain = kept_plain_index(network, key, lambda: prepare_reach(
            network, households, facilities, max_snap_m=max_snap_m, boundary=boundary,
            services=services, minor_island_share=minor_island_share))
        if walls.n_gated == 0:
            return replace(plain, walls=walls)
    fac_id = (facilities["facility_id"].astype(str).to_numpy()
              if "facility_id" in facilities.columns
              else np.array([f"F{k:05d}" for k in range(len(facilities))], dtype=object))
    service = facilities["service"].astype(str).to_numpy()
    fxy = _xy(facilities)
    wanted = set(services)
    known = np.fromiter((s in wanted for s in service), dtype=bool, count=service.size)
    if walls is None:
        # homes and facilities in one pass (each point's snap is its own; one pass over
        # the grid's blocks, and one tree for those moved off minor islands)
        snap, moved, comp = snap_points(network, None, np.concatenate([hh_xy, fxy]),
                                        max_snap_m, minor_island_share)
        (hh_e, f_e), (hh_a, f_a), (hh_o, f_o), (hh_moved, f_moved), (hh_comp, f_comp) = (
            np.split(a, [hh_xy.shape[0]]) for a in (snap.edge, snap.along_m, snap.offset_m,
                                                     moved, comp))
        hh_snap, f_snap = Snap(hh_e, hh_a, hh_o), Snap(f_e, f_a, f_o)
    else:
        hh_snap, hh_moved, hh_comp = snap_points(network, walls, hh_xy, max_snap_m,
                                                  minor_island_share)
        f_snap, f_moved, f_comp = snap_points(network, walls, fxy, max_snap_m,
                                              minor_island_share)
    walled = None
    if walls is not None:
        # the straight line (times the detour) to a gate only where no inner path leads
        # out, or to a gate no mapped way passes through
        straight = (hh_comp >= 0) & ~walls.leads_out(hh_snap.edge, minor_island_share)
        g_home, g_acc, g_m = walls.gate_pairs(hh_xy, hh_comp, hh_snap.edge, minor_island_share)
        walled = WalledHomes(compound=hh_comp, snap=hh_snap, gate_home=g_home, gate_access=g_acc,
                             gate_m=g_m, facility_compound=f_comp, straight=straight)
        hh_snap = _gate_snap(hh_snap, walls, hh_comp, g_home, g_acc, g_m)
    status = np.where(~known, "unknown_service",
                      np.where((f_snap.edge >= 0) | (f_comp >= 0), "ok", "off_network"))
    usable = status == "ok"
    exit_node = None
    if walls is None:
        base = network.graph
    else:
        # A facility inside a wall leaves along its inner paths (the exit layer), or
        # straight to a gate where no inner path leads out. Exit copies are made only for
        # compounds holding a usable facility.
        leaving = f_comp[usable & walls.walled(f_comp)]
        base, exit_node = walls.graph(leaving)
    node = np.full(len(status), -1, dtype=np.int64)
    node[usable] = base.shape[0] + np.arange(int(usable.sum()))
    # the frame made at once (each column set on its own costs a pandas copy and checks)
    fac = pd.DataFrame({
        "facility_id": fac_id, "service": service, "x": fxy[:, 0],
        "y": fxy[:, 1], "edge": f_snap.edge, "along_m": f_snap.along_m,
        "offset_m": f_snap.offset_m, "compound": f_comp, "status": status, "node": node})
    graph = augment_graph(base, int(usable.sum()),
                     *_facility_arcs(network, walls, exit_node, fac, usable, minor_island_share))

    name = FacilityLabels(facilities)  # notes name facilities (made for those named)
    report = input_report(network, hh_snap, weight, fac, boundary, services, max_snap_m, name)
    report["moved_off_islands"] = {
        "units": int(hh_moved.sum()), "households": int(weight[hh_moved].sum()),
        "facilities": int(f_moved.sum()),
        "facility_ids": ids_text(name(f_moved)),
        "minor_island_share": float(minor_island_share)}
    return ReachIndex(
        network=network, household_index=households.index.copy(), household_xy=hh_xy,
        household_weight=weight, household_snap=hh_snap, facilities=fac, graph=graph,
        services=services, max_snap_m=float(max_snap_m), report=report, walls=walls,
        walled=walled, plain=plain)


def _gate_snap(snap: Snap, walls: Walls, comp: np.ndarray, g_home: np.ndarray,
               g_acc: np.ndarray, g_m: np.ndarray) -> Snap:
    """``snap``, with homes inside a wall and no inner path placed at their nearest gate
    (where they meet the streets; used by siting and for ``on_network``)."""
    edge, along, offset = snap.edge.copy(), snap.along_m.copy(), snap.offset_m.copy()
    todo = (comp >= 0) & (edge < 0)
    if not todo.any() or g_home.size == 0:
        return snap
    acc = walls.access
    order = np.lexsort((g_m, g_home))
    h, a, m = g_home[order], g_acc[order], g_m[order]
    first = np.ones(h.size, dtype=bool)
    first[1:] = h[1:] != h[:-1]
    h, a, m = h[first], a[first], m[first]
    pick = todo[h]
    h, a, m = h[pick], a[pick], m[pick]
    edge[h] = acc["edge"].to_numpy()[a]
    along[h] = acc["along_m"].to_numpy()[a]
    offset[h] = m + acc["offset_m"].to_numpy()[a]
    return Snap(edge, along, offset)


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.to_numpy()
    if len(geoms) == 0:
        return np.zeros((0, 2))
    try:  # points: their x and y read at once (half the time of get_coordinates); NaN
        # for another type (then the general way), an error for an empty point
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        if not (np.isnan(x).any() or np.isnan(y).any()):
            return np.column_stack([x, y])
    except shapely.errors.GEOSException:
        pass
    points = shapely.get_type_id(geoms) == 0
    if not points.all():
        geoms = geoms.copy()
        geoms[~points] = shapely.point_on_surface(geoms[~points])
    xy = shapely.get_coordinates(geoms)
    if xy.shape[0] != len(geoms):  # empty or missing geometries: no place (NaN)
        out = np.full((len(geoms), 2), np.nan)
        ok = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
        out[ok] = shapely.get_coordinates(geoms[ok])
        return out
    return xy


def snap_points(network: WalkNetwork, walls: Walls | None, xy: np.ndarray, max_snap_m: float,
                 minor_share: float) -> tuple[Snap, np.ndarray, np.ndarray]:
    """Snap homes or facilities alike: ``(snap, moved off a minor island, compound)``.

    Without walls: the nearest edge of ``network``, passing over minor islands
    (:func:`_snap`); compound -1 everywhere. With walls (``network`` is then
    ``walls.network``): a point inside a wall onto its compound's inner paths
    (:meth:`geo.walls.Walls.snap`, edge -1 where it has none); a point outside every wall
    onto the streets, moved off minor islands only onto edges outside every compound.
    """
    if walls is None:
        snap, moved = _snap(network, xy, max_snap_m, minor_share)
        return snap, moved, np.full(xy.shape[0], -1, dtype=np.int64)
    comp = walls.compound_of(xy)
    comp = np.where(walls.walled(comp), comp, -1)  # an opened compound is no wall
    snap, comp = walls.snap(xy, comp, max_snap_m=max_snap_m)
    snap, moved = _snap(network, xy, max_snap_m, minor_share, snap=snap,
                        allowed=walls.edge_walled < 0, who=comp < 0)
    return snap, moved, comp


def _snap(network: WalkNetwork, xy: np.ndarray, max_snap_m: float,
          minor_share: float, *, snap: Snap | None = None, allowed: np.ndarray | None = None,
          who: np.ndarray | None = None) -> tuple[Snap, np.ndarray]:
    """Snap to the nearest edge, passing over minor islands when the main network is near.

    With ``snap`` given (already snapped), only points ``who`` are moved off minor islands,
    and only onto ``allowed`` edges."""
    snap = network.snap(xy, max_snap_m=max_snap_m) if snap is None else snap
    moved = np.zeros(snap.edge.size, dtype=bool)
    if minor_share <= 0 or network.n_edges == 0 or snap.edge.size == 0:
        return snap, moved
    edge_minor = kept(network, ("edge_minor", float(minor_share)),
                      lambda: _edge_minor(network, minor_share))
    on = snap.edge >= 0
    if who is not None:
        on = on & who
    todo = np.flatnonzero(on & edge_minor[np.maximum(snap.edge, 0)])
    target = ~edge_minor if allowed is None else ~edge_minor & allowed
    if todo.size == 0 or not target.any():
        return snap, moved
    major = np.flatnonzero(target)
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


def _edge_minor(network: WalkNetwork, minor_share: float) -> np.ndarray:
    """Whether each edge lies on a minor island (kept on the network: homes and facilities
    ask for it alike)."""
    labels = network.components
    minor = np.bincount(labels) < minor_share * network.n_nodes
    minor[0] = False  # the largest piece is never minor
    return minor[labels[network.edge_u]]


def _facility_arcs(network: WalkNetwork, walls: Walls | None, exit_node: np.ndarray | None,
                   fac: pd.DataFrame, usable: np.ndarray, minor_share: float = 0.05
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arcs ``(facility k, graph node, metres)`` from each usable facility's source node:
    to both ends of its edge (and, inside a walled compound, to their exit copies, or,
    where no inner path leads out, straight to the open access points of its
    compound)."""
    rows = np.flatnonzero(usable)
    k = np.arange(rows.size)
    e = fac["edge"].to_numpy()[rows]
    on = e >= 0
    k_on, e = k[on], e[on]
    length = network.edge_length_m[e]
    along = np.clip(fac["along_m"].to_numpy()[rows][on], 0.0, length)
    offset = fac["offset_m"].to_numpy()[rows][on]
    if walls is None:
        u, v = network.edge_u[e], network.edge_v[e]
    else:
        u, v = walls.edge_node_u[e], walls.edge_node_v[e]
    src = [k_on, k_on]
    tgt = [u, v]
    w = [offset + along, offset + length - along]
    if walls is not None:
        for ends, weight in ((u, offset + along), (v, offset + length - along)):
            ex = exit_node[ends]
            ok = ex >= 0
            src.append(k_on[ok])
            tgt.append(ex[ok])
            w.append(weight[ok])
        comp = fac["compound"].to_numpy()[rows]
        xy = np.column_stack([fac["x"].to_numpy(dtype=float), fac["y"].to_numpy(dtype=float)])[rows]
        f, a, m = walls.gate_pairs(xy, comp, fac["edge"].to_numpy()[rows], minor_share)
        src.append(f)
        tgt.append(walls.access["node"].to_numpy().astype(np.int64)[a])
        w.append(m)
    return np.concatenate(src), np.concatenate(tgt), np.concatenate(w)


def augment_graph(graph: sparse.csr_array, f: int, src: np.ndarray, tgt: np.ndarray,
             weight: np.ndarray) -> sparse.csr_array:
    """``graph`` plus one source row per facility (arcs ``src`` → ``tgt``); the lightest of
    parallel arcs is kept."""
    g = sparse.csr_array(graph)
    n = g.shape[0]
    order = np.lexsort((weight, tgt, src))
    src, tgt, weight = src[order], tgt[order], weight[order]
    first = np.ones(src.size, dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (tgt[1:] != tgt[:-1])
    src, tgt, weight = src[first], tgt[first], weight[first]
    counts = np.bincount(src, minlength=f)
    # int32 where it holds the arcs, as the shortest-path library takes them (int64 arrays
    # would be converted on every search); cast while joined: one pass over the graph's
    # arrays, not a copy and then another
    index = np.int32 if max(n + f, g.indices.size + tgt.size) < 2**31 - 1 else np.int64
    indptr = np.concatenate([g.indptr, g.indptr[-1] + np.cumsum(counts)], dtype=index)
    indices = np.concatenate([g.indices, tgt], dtype=index)
    data = np.concatenate([g.data, weight], dtype=float)
    # explicit zeros (a facility standing on a node) are edges for csgraph's sparse input
    return sparse.csr_array((data, indices, indptr), shape=(n + f, n + f))
