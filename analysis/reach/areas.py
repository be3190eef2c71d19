"""Service areas drawn from the reached pieces of edges (display only)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.reach.index import HouseholdReach, ReachIndex
from analysis.reach.query import node_distances
from analysis.settings import WalkSettings
from geo.network import WalkNetwork, substrings

# -------------------------------------------------------------------------------------
# service areas (display only)
# -------------------------------------------------------------------------------------
def _reached_intervals(index: ReachIndex, dist: np.ndarray, rows: np.ndarray,
                       budget_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge intervals ``(edge, start_m, end_m)`` within ``budget_m`` of the nearest facility.

    A whole edge is one interval ``(e, 0, length)``; a partial edge is cut at the remaining
    distance from either end; a facility's own edge is also reached around the facility.
    """
    net = index.network
    length = net.edge_length_m
    end_u, end_v = index.edge_nodes
    with np.errstate(invalid="ignore"):
        ru = np.maximum(budget_m - dist[end_u], 0.0)
        rv = np.maximum(budget_m - dist[end_v], 0.0)
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
        ok = (e >= 0) & (reach > 0)
        ok[ok] &= ~full[e[ok]]
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
        out[cut] = substrings(geoms[cut], start[cut], end[cut])
    return out


#: A reached piece: edge, start and end (metres, to 1e-6) as one comparable value.
_KEY = np.dtype("V24")


def _keys(edge: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """One :data:`_KEY` per piece (equal pieces, equal keys; ``-0.0`` is ``0.0``)."""
    raw = np.empty((edge.size, 3), dtype=np.int64)
    raw[:, 0] = edge
    raw[:, 1] = (np.round(start, 6) + 0.0).view(np.int64)
    raw[:, 2] = (np.round(end, 6) + 0.0).view(np.int64)
    return raw.view(_KEY).reshape(-1)


def _union_each(groups: list[np.ndarray], buffer_m: float) -> list:
    """The union of each group of lines' buffers (empty polygon for none), on all cores."""
    def one(lines: np.ndarray):
        if lines.size == 0:
            return shapely.Polygon()
        return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=2))

    work = sum(int(g.size) for g in groups)
    if len(groups) < 2 or work < PARALLEL_PIECES or (os.cpu_count() or 1) < 2:
        return [one(g) for g in groups]
    with ThreadPoolExecutor(max_workers=min(len(groups), os.cpu_count() or 1)) as pool:
        return list(pool.map(one, groups))


#: Fewer buffered pieces than this (all levels of a service) are merged one level after
#: another (threads cost more than they save).
PARALLEL_PIECES = 2_000


def service_areas(index: ReachIndex, settings: WalkSettings, service: str, *,
                  minutes: tuple[float, ...] | None = None, buffer_m: float = 25.0,
                  node_dist: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Polygons of the streets within each minute level of a service (for display).

    Reached pieces of edges (partial edges cut at the remaining distance) are buffered by
    ``buffer_m`` and merged, so holes (blocks not reached from any side) and islands
    stay. The levels nest (5 ⊂ 10 ⊂ 15 minutes): each level is the previous polygon plus
    the merged pieces it did not have yet, which also saves most of the work (the levels'
    new pieces are merged side by side on all cores).

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
    # each level's pieces that no smaller level has, buffered
    pieces = []
    seen = np.zeros(0, dtype=_KEY)
    for m in minutes:
        edge, start, end = _reached_intervals(index, node_dist, rows, m * 60.0 * speed)
        keys = _keys(edge, start, end)
        new = ~np.isin(keys, seen)
        seen = np.concatenate([seen, keys[new]])
        pieces.append(_interval_lines(index.network, edge[new], start[new], end[new]))
    # a cascaded union of small buffers is ~10x faster than buffering one MultiLineString
    # made of the same pieces; the levels' new pieces are buffered and merged side by side
    # (shapely releases the GIL), then each level is the previous one plus its own
    merged = _union_each(pieces, buffer_m)
    polygons = []
    previous = None
    for poly in merged:
        if previous is not None and not previous.is_empty:
            poly = previous if poly.is_empty else shapely.union(previous, poly)
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

