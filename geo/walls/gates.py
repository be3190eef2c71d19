"""Gates the map does not give: assumed gates of compounds with no known access point,
why mapped gates were left unused, and where a planner's new gate goes (the rule itself is
documented in :mod:`geo.walls`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import WGS84 as WGS84_CRS
from geo.network import WalkNetwork
from geo.snapping import build_segment_grid, snap_to_segments


def assumed_access(net: WalkNetwork, polys: np.ndarray, edge_owner: np.ndarray,
                   compounds: np.ndarray, street_m: float, max_snap_m: float) -> pd.DataFrame:
    """Assumed gates of ``compounds`` (positions in ``polys``): one on each side of the
    outline (north, east, south, west: the part of the outline seen from its centre in that
    quarter) that faces a street outside every compound within ``street_m``, at the point of
    that side nearest the street; joined to the nearest street outside like an added gate."""
    cols = {"compound": [], "x": [], "y": []}
    outside = np.flatnonzero(edge_owner < 0)
    if compounds.size == 0 or outside.size == 0:
        return _access_frame(cols, net, outside, max_snap_m)
    geoms = net.edge_geometry[outside]
    tree = shapely.STRtree(geoms)
    for c in compounds:
        poly = polys[c]
        ring = shapely.boundary(poly)
        cx, cy = shapely.get_coordinates(shapely.centroid(poly))[0]
        minx, miny, maxx, maxy = poly.bounds
        r = 2 * max(maxx - minx, maxy - miny) + 10
        corners = {"n": ((-r, r), (r, r)), "e": ((r, r), (r, -r)),
                   "s": ((r, -r), (-r, -r)), "w": ((-r, -r), (-r, r))}
        found = []
        for a, b in corners.values():
            wedge = shapely.Polygon([(cx, cy), (cx + a[0], cy + a[1]), (cx + b[0], cy + b[1])])
            side = shapely.intersection(ring, wedge)
            if side.is_empty:
                continue
            near = tree.query(side, predicate="dwithin", distance=street_m)
            if near.size == 0:
                continue
            # the street this side faces: the one alongside most of it; the gate where
            # the side comes nearest to it (the middle of that stretch, for a parallel one)
            faced = shapely.length(shapely.intersection(
                side, shapely.buffer(geoms[near], street_m)))
            d = shapely.distance(side, geoms[near])
            k = near[np.lexsort((d, -np.round(faced, 1)))[0]]
            d_k = float(shapely.distance(side, geoms[k]))
            stretch = shapely.get_parts(shapely.line_merge(shapely.intersection(
                side, shapely.buffer(geoms[k], d_k + 1.0))))
            stretch = stretch[shapely.get_type_id(stretch) == 1]
            if stretch.size:
                part = stretch[int(np.argmax(shapely.length(stretch)))]
                x, y = shapely.get_coordinates(
                    shapely.line_interpolate_point(part, 0.5, normalized=True))[0]
            else:
                x, y = shapely.get_coordinates(shapely.shortest_line(side, geoms[k]))[0]
            if all(np.hypot(x - fx, y - fy) > 1.0 for fx, fy in found):
                found.append((x, y))
        for x, y in found:
            cols["compound"].append(int(c))
            cols["x"].append(float(x))
            cols["y"].append(float(y))
    return _access_frame(cols, net, outside, max_snap_m)


def _access_frame(cols: dict, net: WalkNetwork, outside: np.ndarray,
                  max_snap_m: float) -> pd.DataFrame:
    xy = np.column_stack([np.asarray(cols["x"], dtype=float), np.asarray(cols["y"], dtype=float)])
    n = xy.shape[0]
    edge, along, offset = np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(n)
    if n and outside.size:
        geoms = net.edge_geometry[outside]
        e, a, o = snap_to_segments(build_segment_grid(geoms), geoms, xy, max_snap_m)
        ok = e >= 0
        edge[ok], along[ok], offset[ok] = outside[e[ok]], a[ok], o[ok]
    frame = pd.DataFrame({"compound": np.asarray(cols["compound"], dtype=np.int64),
                          "x": xy[:, 0], "y": xy[:, 1], "origin": "assumed",
                          "node": np.full(n, -1, dtype=np.int64), "edge": edge,
                          "along_m": along, "offset_m": offset})
    return frame[frame["edge"] >= 0].reset_index(drop=True)


def ignored_why(why: list, cands: gpd.GeoDataFrame, status: np.ndarray,
                 settings, crs) -> list[dict]:
    """Each ignored mapped gate with where it is (WGS84) and why: ``no_street`` (no street
    outside within the snap cap), ``compound_<status>`` (on the outline of a compound that
    is no wall: ``unnamed``, ``too_large``, ``nested``, ``invalid``) or ``far_from_wall``
    (farther than ``gate_outline_m`` from every compound outline)."""
    if not why:
        return []
    xy = np.asarray([(x, y) for x, y, _ in why], dtype=float)
    reason = np.array([r for _, _, r in why], dtype=object)
    others = np.flatnonzero(~np.isin(status, ("gated", "opened", "no_access")))
    if others.size:
        outlines = shapely.boundary(cands.geometry.to_numpy()[others])
        (src, tgt) = shapely.STRtree(outlines).query_nearest(
            shapely.points(xy), max_distance=settings.gate_outline_m, all_matches=False)
        far = reason[src] == "far_from_wall"
        reason[src[far]] = np.array([f"compound_{status[others[t]]}" for t in tgt[far]],
                                    dtype=object)
    lon, lat = pyproj.Transformer.from_crs(crs, WGS84_CRS, always_xy=True).transform(
        xy[:, 0], xy[:, 1])
    return [{"lon": round(float(a), 6), "lat": round(float(b), 6), "reason": str(r)}
            for a, b, r in zip(np.atleast_1d(lon), np.atleast_1d(lat), reason)]


#: Compass sides a planner can put a new gate on, as unit vectors (x east, y north).
SIDES = {"n": (0.0, 1.0), "e": (1.0, 0.0), "s": (0.0, -1.0), "w": (-1.0, 0.0)}


def outline_point(polygon: shapely.Geometry, side: str) -> shapely.Point:
    """Where a ray from a point inside ``polygon`` towards ``side`` (``n``/``e``/``s``/``w``)
    first meets its outline: the spot for "a north gate"."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {sorted(SIDES)}, not {side!r}")
    start = polygon.representative_point()
    minx, miny, maxx, maxy = polygon.bounds
    reach = 2 * max(maxx - minx, maxy - miny) + 1.0
    dx, dy = SIDES[side]
    ray = shapely.LineString([start.coords[0],
                              (start.x + dx * reach, start.y + dy * reach)])
    hits = shapely.get_parts(shapely.intersection(ray, shapely.boundary(polygon)))
    points = shapely.get_coordinates(hits)
    if points.shape[0] == 0:
        return start
    d = np.hypot(points[:, 0] - start.x, points[:, 1] - start.y)
    return shapely.Point(points[int(np.argmin(d))])


def to_wgs84(point: shapely.Point, crs) -> tuple[float, float]:
    """``(lon, lat)`` of a point in ``crs`` (how the planner's edits are stored)."""
    lon, lat = pyproj.Transformer.from_crs(crs, WGS84_CRS, always_xy=True).transform(point.x,
                                                                                    point.y)
    return round(float(lon), 7), round(float(lat), 7)
