"""Gated compounds (封闭小区): a compound's outline is a wall with a few access points.

The rule, in one place
----------------------
* **Which compounds are walls.** Residential compounds with a name (OpenStreetMap
  ``landuse=residential`` + ``name``, or every uploaded compound outline), no larger than
  :attr:`WallSettings.max_compound_ha`. A compound that contains a smaller one is left
  open (the inner one is the 小区). A planner may open any compound.
* **Access points.** Where a walkable way crosses the outline (*inferred*), or where an
  inner path meets a public street inside the outline; a mapped gate or entrance
  (``barrier=gate`` …, ``entrance=*``) within :attr:`WallSettings.gate_match_m` of such a
  point makes it *mapped*; a mapped gate with no way through it is joined to the nearest
  street outside (*mapped*, virtual); a planner may add gates (*added*) and close any
  access point.
* **Inner and public ways.** A walkable edge whose middle lies inside a walled outline is
  an *inner path* of that compound, unless it is an arterial road (``road_class ==
  'arterial'``: tertiary and above), which stays *public*. Inner paths are walked only by
  trips that start or end inside the compound (its residents, or visitors of a facility
  inside it): outsiders never walk *through* a gated compound on its inner paths.
* **Households inside a wall** reach the streets along their compound's inner paths, or
  by walking straight (times :attr:`WallSettings.inner_detour`) to one of its open access
  points where no inner path leads them to one, or to a gate no way passes through.
* **Assumed gates.** A walled compound with no known access point gets one *assumed*
  gate on each side of its outline facing a street (:attr:`WallSettings.assume_gates`).
* **Nobody is trapped.** A compound left with no open access point is treated as open and
  reported.
* **Walls off is the plain street model** (every point snapped to its nearest walkable
  way, inner paths included); an opened compound is like no compound at all. **A wall
  only takes ways away**: the reach step keeps the walls-off walk beside the walled one
  and never reports a walled walk shorter than it (:mod:`analysis.reach.query`).

The walled graph (:meth:`Walls.graph`, directed, metres) keeps scipy's multi-source
Dijkstra usable: every inner node whose edges are all inner paths of one compound keeps its
id and is reachable only from an open access point (the *enter* layer); each access node
gets an inner copy; a second copy of every inner node (the *exit* layer) leads only out
through open access points and is where a facility inside a compound starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import blake2b

import geopandas as gpd
from geopandas.array import GeometryArray
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse

from geo.crs import require_projected
from geo.kept import kept
from geo.network import Snap, WalkNetwork
from geo.settings import check_range
from geo.snapping import snap_to_segments
from geo.walls.gates import assumed_access, ignored_why
from geo.walls.graph import (access_points, close_access, compound_of, cut_network, edge_grid,
                             enter_ends, gate_points, main_network_only,
                             on_minor_island, paths_lead_out, walled_graph, wgs84_to)

#: OSM ``barrier`` values that are gates people walk through.
GATE_BARRIERS = frozenset({"gate", "entrance", "lift_gate", "swing_gate", "sliding_gate",
                           "turnstile", "kissing_gate", "full-height_turnstile", "hampshire_gate",
                           "bump_gate", "wicket_gate"})
ORIGINS = ("mapped", "inferred", "added", "assumed")


@dataclass(frozen=True)
class WallSettings:
    """Whether compounds are walls, and the planner's edits (saved with the project).

    Attributes
    ----------
    gated
        Compound outlines are walls (default on).
    open_compounds
        ``compound_id`` of compounds the planner opened (no wall).
    added_gates, closed_gates
        ``(lon, lat)`` in WGS84 of gates the planner added on an outline, or closed (the
        nearest access point within :attr:`edit_match_m`).
    gate_match_m
        A mapped gate this close to a crossing way is that crossing.
    gate_outline_m
        Mapped gates and added gates farther than this from every wall are ignored.
    edit_match_m
        How far a "close" click may lie from the access point it closes.
    max_compound_ha
        Larger residential areas are districts, not compounds: no wall.
    assume_gates
        A walled compound with no known access point gets one *assumed* gate on each
        side of its outline that faces a street within :attr:`assumed_street_m`, at the
        point of that side nearest the street (a Chinese compound opens onto its
        streets); off, such a compound is treated as open.
    assumed_street_m
        How far a street may lie from a side of the outline for an assumed gate.
    inner_detour
        Where a compound has no inner path leading out, a home walks to its gates (or to a
        facility inside it) in a straight line times this factor. The default, 1.29, is the
        median ratio of the walk along mapped inner paths to the straight line from home
        to the same gates, measured on the Beijing sample (1.291 over 32 home points in 3
        compounds; 1.39–1.55 on generated districts; :mod:`analysis.walls_calibration`).
    """

    gated: bool = True
    open_compounds: tuple[str, ...] = ()
    added_gates: tuple[tuple[float, float], ...] = ()
    closed_gates: tuple[tuple[float, float], ...] = ()
    gate_match_m: float = 15.0
    gate_outline_m: float = 20.0
    edit_match_m: float = 25.0
    max_compound_ha: float = 50.0
    inner_detour: float = 1.29
    assume_gates: bool = True
    assumed_street_m: float = 60.0

    def __post_init__(self) -> None:
        check_range("gate_match_m", self.gate_match_m, 0, 200)
        check_range("gate_outline_m", self.gate_outline_m, 0, 200)
        check_range("edit_match_m", self.edit_match_m, 0, 500)
        check_range("max_compound_ha", self.max_compound_ha, 0.01, 10_000)
        check_range("inner_detour", self.inner_detour, 1.0, 3.0)
        check_range("assumed_street_m", self.assumed_street_m, 0, 500)
        for name in ("added_gates", "closed_gates"):
            for point in getattr(self, name):
                if len(point) != 2 or not all(np.isfinite(point)):
                    check_range(name, float("nan"), -180, 180)

    def as_dict(self) -> dict:
        return {"gated": self.gated, "open_compounds": list(self.open_compounds),
                "added_gates": [list(p) for p in self.added_gates],
                "closed_gates": [list(p) for p in self.closed_gates],
                "gate_match_m": self.gate_match_m, "gate_outline_m": self.gate_outline_m,
                "edit_match_m": self.edit_match_m, "max_compound_ha": self.max_compound_ha,
                "inner_detour": self.inner_detour, "assume_gates": self.assume_gates,
                "assumed_street_m": self.assumed_street_m}

    @classmethod
    def from_dict(cls, data: dict | None) -> WallSettings:
        data = dict(data or {})
        for name in ("open_compounds",):
            data[name] = tuple(str(v) for v in data.get(name, ()))
        for name in ("added_gates", "closed_gates"):
            data[name] = tuple((float(p[0]), float(p[1])) for p in data.get(name, ()))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True, eq=False)
class Walls:
    """Walled compounds on a network cut at their outlines; build with :func:`build_walls`.

    Attributes
    ----------
    network
        The walking network with every edge cut where it crosses an outline.
    compounds
        Every candidate compound: ``compound_id``, ``name``, ``status`` (``gated``,
        ``no_access`` — open, nobody is trapped —, ``opened`` by the planner, ``nested``,
        ``too_large``, ``unnamed``), ``households`` filled by the reach step, geometry.
    polygons
        Outline of each compound with an access point, walled (``gated``) or ``opened``,
        by position (``compound`` below).
    restrict
        Whether each compound's outline is a wall (``gated``); an opened compound keeps its
        access points and inner paths as ways in and out, and blocks nobody.
    access
        Open access points: ``compound`` (position), ``compound_id``, ``x``, ``y``,
        ``origin`` (``mapped``/``inferred``/``added``), ``node`` (graph node outside the
        wall), ``edge``/``along_m``/``offset_m`` (where it meets the streets outside).
    edge_compound
        Position of the compound owning each edge as an inner path (-1: public or outside).
    edge_walled
        The same for walled compounds only (-1 for the paths of opened ones).
    edge_node_u, edge_node_v
        Graph node at each end of each edge as walked from inside (enter layer).
    n_nodes
        Nodes of the walled graph before exit copies (see :meth:`graph`).
    report
        Counts for the summary.
    """

    network: WalkNetwork
    compounds: gpd.GeoDataFrame
    polygons: np.ndarray
    compound_ids: np.ndarray
    access: pd.DataFrame
    edge_compound: np.ndarray
    edge_node_u: np.ndarray
    edge_node_v: np.ndarray
    n_nodes: int
    report: dict = field(default_factory=dict)
    inner_detour: float = 1.29
    restrict: np.ndarray | None = None
    edge_walled: np.ndarray | None = None

    @property
    def n_gated(self) -> int:
        """Compounds whose outline is a wall."""
        return int(self.restrict.sum())

    def walled(self, compound: np.ndarray) -> np.ndarray:
        """Whether each compound position (-1: none) is a walled compound."""
        compound = np.asarray(compound, dtype=np.int64)
        return (compound >= 0) & self.restrict[np.maximum(compound, 0)] if self.restrict.size \
            else np.zeros(compound.shape, dtype=bool)

    def graph(self, exit_compounds: np.ndarray | None = None
              ) -> tuple[sparse.csr_array, np.ndarray]:
        """The directed walled graph (metres) and the exit copy of each node (-1: none),
        with exit copies for ``exit_compounds`` (walled positions; default all)."""
        comps = (np.flatnonzero(self.restrict) if exit_compounds is None
                 else np.unique(np.asarray(exit_compounds, dtype=np.int64)))
        comps = comps[self.restrict[comps]] if comps.size else comps
        return kept(self, ("graph", comps.tobytes()), lambda: walled_graph(
            self.network, self.edge_walled, self.access, self.edge_node_u, self.edge_node_v,
            self.n_nodes, comps))

    def compound_of(self, xy: np.ndarray) -> np.ndarray:
        """Gated position of the compound holding each point (-1: none)."""
        return compound_of(self.polygons, xy)

    def snap(self, xy: np.ndarray, compound: np.ndarray, *,
             max_snap_m: float) -> tuple[Snap, np.ndarray]:
        """Snap points outside walled compounds (``compound`` -1) to the nearest edge that
        is no walled compound's inner path (an opened compound's paths are ways like any
        other), and points inside a walled compound to its own inner paths (edge -1 where
        none within the cap).

        A point outside every wall whose only ways within the cap are inner paths of a
        compound (a school whose gate opens into a 大院) is taken into that compound: it
        comes and goes through the compound's access points. Returns the snap and the
        (so updated) compound of every point."""
        compound = compound.copy()
        n = xy.shape[0]
        edge = np.full(n, -1, dtype=np.int64)
        along = np.full(n, np.nan)
        offset = np.full(n, np.nan)
        out = np.flatnonzero(compound < 0)
        inner = np.flatnonzero(compound >= 0)
        for who, part in ((out, "outside"), (inner, "inner")):
            ids, geoms, grid = self._edges(part)
            if who.size == 0 or ids.size == 0:
                continue
            e, a, o = snap_to_segments(grid, geoms, xy[who], max_snap_m)
            ok = e >= 0
            edge[who[ok]], along[who[ok]], offset[who[ok]] = ids[e[ok]], a[ok], o[ok]
        if inner.size:  # the nearest inner path may belong to the compound next door
            wrong = inner[(edge[inner] >= 0) & (self.edge_walled[np.maximum(edge[inner], 0)]
                                                != compound[inner])]
            edge[wrong], along[wrong], offset[wrong] = -1, np.nan, np.nan
            if wrong.size:
                self._snap_own(xy, compound, wrong, max_snap_m, edge, along, offset)
        stranded = np.flatnonzero((compound < 0) & (edge < 0) & np.isfinite(xy).all(axis=1))
        ids, geoms, grid = self._edges("inner")
        if stranded.size and ids.size:
            e, a, o = snap_to_segments(grid, geoms, xy[stranded], max_snap_m)
            ok = e >= 0
            hit = stranded[ok]
            edge[hit], along[hit], offset[hit] = ids[e[ok]], a[ok], o[ok]
            compound[hit] = self.edge_walled[ids[e[ok]]]
        return Snap(edge, along, offset), compound

    def _edges(self, part: str) -> tuple[np.ndarray, np.ndarray, object]:
        """Ids, geometries and segment grid of the ``inner`` or ``outside`` edges
        (:func:`geo.walls.graph.edge_grid`)."""
        mask = self.edge_walled >= 0 if part == "inner" else self.edge_walled < 0
        return edge_grid(self.network, mask, part)

    def _snap_own(self, xy, compound, who, max_snap_m, edge, along, offset) -> None:
        ids = np.flatnonzero(self.edge_walled >= 0)
        geoms = self.network.edge_geometry[ids]
        points = shapely.points(xy[who])
        src, tgt = shapely.STRtree(geoms).query(points, predicate="dwithin", distance=max_snap_m)
        keep = self.edge_walled[ids[tgt]] == compound[who[src]]
        src, tgt = src[keep], tgt[keep]
        if src.size == 0:
            return
        dist = shapely.distance(points[src], geoms[tgt])
        order = np.lexsort((tgt, dist, src))
        src, tgt, dist = src[order], tgt[order], dist[order]
        first = np.ones(src.size, dtype=bool)
        first[1:] = src[1:] != src[:-1]
        src, tgt, dist = src[first], tgt[first], dist[first]
        edge[who[src]] = ids[tgt]
        offset[who[src]] = dist
        along[who[src]] = shapely.line_locate_point(geoms[tgt], points[src])

    def leads_out(self, edge: np.ndarray, minor_share: float = 0.05) -> np.ndarray:
        """Whether each edge (-1: none) is an inner path of a walled compound whose piece of
        inner paths reaches one of the compound's open crossings onto the main network (a
        crossing onto a minor island, a piece holding less than ``minor_share`` of the
        nodes, leads nowhere): a point snapped to it walks out along the paths. Elsewhere
        (no inner path, or an unconnected piece) a home walks in a straight line (times
        the detour) to its compound's access points."""
        leads = kept(self, ("leads_out", float(minor_share)), lambda: paths_lead_out(
            self.network, self.edge_walled, self.access,
            self.walled(self.access["compound"].to_numpy()), minor_share))
        edge = np.asarray(edge, dtype=np.int64)
        return (edge >= 0) & leads[np.maximum(edge, 0)]

    def gate_pairs(self, xy: np.ndarray, compound: np.ndarray,
                   edge: np.ndarray | None = None, minor_share: float = 0.05
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (point, open access point of its compound) pair with the straight walk
        (times the detour). With ``edge`` (each point's snapped edge), a point on an inner
        path that leads out walks straight only to gates no mapped way passes through
        (its paths reach every crossing)."""
        acc = self.access
        point, gate, cost = self._gate_pairs(xy, compound)
        if edge is not None and point.size:
            node = acc["node"].to_numpy().astype(np.int64)
            inside = (acc["inside"].to_numpy().astype(np.int64) if "inside" in acc.columns
                      else node)
            crossing = (inside >= 0)[gate]
            keep = ~(self.leads_out(np.asarray(edge)[point], minor_share) & crossing)
            point, gate, cost = point[keep], gate[keep], cost[keep]
        return point, gate, cost

    def _gate_pairs(self, xy: np.ndarray, compound: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        acc = self.access
        if len(acc) == 0 or not (compound >= 0).any():
            return (np.zeros(0, np.int64),) * 2 + (np.zeros(0),)
        a_comp = acc["compound"].to_numpy()
        order = np.argsort(a_comp, kind="stable")
        start = np.searchsorted(a_comp[order], np.arange(self.polygons.size))
        stop = np.searchsorted(a_comp[order], np.arange(self.polygons.size), side="right")
        who = np.flatnonzero(compound >= 0)
        c = compound[who]
        count = stop[c] - start[c]
        point = np.repeat(who, count)
        k = np.arange(point.size) - np.repeat(np.cumsum(count) - count, count)
        gate = order[np.repeat(start[c], count) + k]
        axy = np.column_stack([acc["x"].to_numpy(dtype=float), acc["y"].to_numpy(dtype=float)])
        cost = np.hypot(*(xy[point] - axy[gate]).T) * self.inner_detour
        return point, gate, cost


# -------------------------------------------------------------------------------------
# which compounds are walls
# -------------------------------------------------------------------------------------
def wall_candidates(compounds: gpd.GeoDataFrame | None, settings: WallSettings,
                    crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Every compound with its ``status`` before access points are looked for."""
    cols = ["compound_id", "name", "status"]
    if compounds is None or len(compounds) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    require_projected(compounds, what="compounds")
    c = compounds if compounds.crs.is_exact_same(crs) else compounds.to_crs(crs)  # read only
    geoms = shapely.make_valid(c.geometry.to_numpy())
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = np.where(polygonal, geoms, None)
    ids = (c["compound_id"].astype(str).to_numpy() if "compound_id" in c.columns
           else np.array([f"C{k:05d}" for k in range(len(c))], dtype=object))
    names = (c["name"].to_numpy(dtype=object) if "name" in c.columns
             else np.full(len(c), None, dtype=object))
    named = np.array([isinstance(v, str) and v.strip() != "" for v in names])
    area = np.where(polygonal, shapely.area(np.where(polygonal, geoms, shapely.Polygon())), 0.0)
    status = np.full(len(c), "gated", dtype=object)
    status[~named] = "unnamed"
    status[area > settings.max_compound_ha * 10_000] = "too_large"
    status[~polygonal | (area <= 0)] = "invalid"
    gated = np.flatnonzero(status == "gated")
    if gated.size > 1:  # a compound holding a smaller walled one is not itself a wall
        tree = shapely.STRtree(geoms[gated])
        src, tgt = tree.query(geoms[gated], predicate="contains_properly")
        keep = src != tgt
        status[gated[np.unique(src[keep])]] = "nested"
    opened = set(settings.open_compounds)
    status[(status == "gated") & np.isin(ids, list(opened))] = "opened"
    if not settings.gated:
        status[status == "gated"] = "opened"
    # (the frame made first: a quarter of the time of GeoDataFrame's own checks, the same frame)
    return gpd.GeoDataFrame(pd.DataFrame({
        "compound_id": ids, "name": names, "status": status, "geometry": GeometryArray(
            np.where(polygonal, geoms, shapely.Polygon()), crs=crs)}), geometry="geometry")


# -------------------------------------------------------------------------------------
# building
# -------------------------------------------------------------------------------------
def _names(names: np.ndarray, ids: np.ndarray) -> list[str]:
    """Compounds as a planner knows them: their names (their ids where they have none)."""
    return [str(n).strip() if isinstance(n, str) and n.strip() else str(c)
            for n, c in zip(names, ids)]


def build_walls(network: WalkNetwork, compounds: gpd.GeoDataFrame | None,
                gates: gpd.GeoDataFrame | None = None, *,
                settings: WallSettings = WallSettings(), max_snap_m: float = 150.0,
                minor_island_share: float = 0.05) -> Walls:
    """Cut the network at walled outlines, find access points and build the walled graph.

    Parameters
    ----------
    network
        The study area's walking network (projected metres).
    compounds
        Compound outlines (``compound_id``, ``name``); any projected CRS.
    gates
        Mapped gates and entrances (points; any projected CRS), or ``None``.
    settings
        :class:`WallSettings` (including the planner's edits).
    max_snap_m
        A mapped or added gate with no way through it joins the nearest street outside
        within this distance.
    minor_island_share
        An access point onto a piece of network cut off from the rest and holding less than
        this share of the nodes leads nowhere and is not used (as the reach step moves homes
        and facilities off such pieces, :func:`analysis.reach.index.prepare_reach`).
    """
    crs = network.crs
    cands = wall_candidates(compounds, settings, crs)
    status = cands["status"].to_numpy(dtype=object).copy()
    # opened compounds keep their access points: a wall only takes ways away
    walls_at = np.flatnonzero(np.isin(status, ("gated", "opened")))
    polys = cands.geometry.to_numpy()[walls_at]
    net, edge_owner = cut_network(network, polys)  # kept on the network per outlines
    gate_xy = gate_points(gates, crs)
    added_xy = wgs84_to(settings.added_gates, crs)
    closed_xy = wgs84_to(settings.closed_gates, crs)
    access = access_points(net, polys, edge_owner, gate_xy, added_xy, settings, max_snap_m)
    island = on_minor_island(net, minor_island_share)
    access = main_network_only(access, net, island)
    why = list(access.attrs.get("gates_ignored_why", []))
    known = np.zeros(polys.size, dtype=bool)
    known[access["compound"].to_numpy()] = True
    if settings.assume_gates:  # no known access point: one per side facing a street
        need = np.flatnonzero(~known & (status[walls_at] == "gated"))
        key = ("assumed", blake2b(b"".join(shapely.to_wkb(polys))).digest(), need.tobytes(),
               settings.assumed_street_m, max_snap_m, minor_island_share)  # an edit finds them
        assumed = kept(net, key, lambda: assumed_access(net, polys, np.where(
            island, 0, edge_owner), need, settings.assumed_street_m, max_snap_m)).copy()
        if len(assumed):
            attrs = dict(access.attrs)
            access = pd.concat([access, assumed], ignore_index=True)
            access.attrs.update(attrs)
    access = close_access(access, closed_xy, settings.edit_match_m)
    has = np.zeros(polys.size, dtype=bool)
    has[access["compound"].to_numpy()] = True
    # compounds without any open access point are open: nobody is trapped
    status[walls_at[~has & (status[walls_at] == "gated")]] = "no_access"
    keep = np.flatnonzero(has)
    remap = np.full(polys.size, -1, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    if polys.size:
        edge_owner = np.where(edge_owner >= 0, remap[np.maximum(edge_owner, 0)], -1)
    access = access.assign(compound=remap[access["compound"].to_numpy()]).reset_index(drop=True)
    all_ids = cands["compound_id"].to_numpy()
    ids = all_ids[walls_at[keep]]
    access["compound_id"] = ids[access["compound"].to_numpy()]
    cands = cands.assign(status=status)
    restrict = status[walls_at[keep]] == "gated"
    no_access = status == "no_access"
    kinds, counts = np.unique(status.astype(str), return_counts=True)  # sorted, as the keys
    report = {
        "compounds": int(len(cands)),
        "compounds_by_status": {str(k): int(v) for k, v in zip(kinds, counts)},
        "no_access_ids": [str(v) for v in all_ids[no_access]][:10],
        "no_access_names": _names(cands["name"].to_numpy(dtype=object)[no_access],
                                  all_ids[no_access])[:10],
        "access_points_closed": int(access.attrs.get("closed", 0)),
        "gates_mapped_ignored": int(access.attrs.get("gates_ignored", 0)),
        "gates_ignored_why": ignored_why(why, cands, status, settings, crs),
        "compounds_assumed": sorted({str(v) for v in access["compound_id"].to_numpy()[
            access["origin"].to_numpy() == "assumed"]}),
        "gates_added_ignored": int(access.attrs.get("added_ignored", 0)),
        "edges_cut_at_outlines": int(net.n_edges - network.n_edges),
    }
    return _assemble(net, cands, polys[keep], ids, access, edge_owner, restrict, report,
                     settings.inner_detour)


def _assemble(net: WalkNetwork, cands: gpd.GeoDataFrame, polys: np.ndarray, ids: np.ndarray,
              access: pd.DataFrame, edge_owner: np.ndarray, restrict: np.ndarray,
              report: dict, inner_detour: float) -> Walls:
    """The walls of the compounds that ``restrict``; the others (opened) keep their access
    points and inner paths as ways in and out, but walls of theirs block nobody."""
    access = access.copy()
    access.attrs = {}  # read into the report: pandas would deep-copy them on every column
    access["node"] = np.where(access["inside"].to_numpy() < 0, -1, access["node"].to_numpy()) \
        if "inside" in access.columns else access["node"]
    walled = access["compound"].to_numpy()
    walled = restrict[walled] if walled.size else np.zeros(0, dtype=bool)
    edge_walled = np.where(edge_owner >= 0, edge_owner, -1)
    if restrict.size:
        edge_walled[(edge_owner >= 0) & ~restrict[np.maximum(edge_owner, 0)]] = -1
    enter_u, enter_v, size, access_nodes = enter_ends(net, edge_walled, access, walled)
    origin = access["origin"].to_numpy()
    report = {**report,
              "compounds_gated": int(restrict.sum()),
              "access_points": {o: int(((origin == o) & walled).sum()) for o in ORIGINS},
              "inner_edges": int((edge_walled >= 0).sum()),
              "access_nodes": int(access_nodes)}
    return Walls(network=net, compounds=cands, polygons=polys, compound_ids=ids,
                 access=access, edge_compound=edge_owner, edge_node_u=enter_u,
                 edge_node_v=enter_v, n_nodes=size, report=report,
                 inner_detour=inner_detour, restrict=restrict, edge_walled=edge_walled)
