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
from geo.snapping import snap_to_segments
from geo.walls.graph import edge_grid


def assumed_access(net: WalkNetwork, polys: np.ndarray, edge_owner: np.ndarray,
                   compounds: np.ndarray, street_m: float, max_snap_m: float) -> pd.DataFrame:
    """Assumed gates of ``compounds`` (positions in ``polys``): one on each side of the
    outline (north, east, south, west: the part of the outline seen from its centre in that
    quarter) that faces a street outside every compound within ``street_m``, at the point of
    that side nearest the street; joined to the nearest street outside like an added gate.

    Every (compound, side) is handled at once with shapely's array functions (the same
    operations on the same geometries as one side at a time, so the same points)."""
    cols = {"compound": [], "x": [], "y": []}
    outside = np.flatnonzero(edge_owner < 0)
    if compounds.size == 0 or outside.size == 0:
        return _access_frame(cols, net, outside, max_snap_m)
    geoms = net.edge_geometry[outside]
    tree = shapely.STRtree(geoms)
    comp = np.asarray(compounds, dtype=np.int64)
    poly = polys[comp]
    ring = shapely.boundary(poly)
    centre = shapely.get_coordinates(shapely.centroid(poly))
    box = shapely.bounds(poly)
    r = 2 * np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) + 10
    # wedges n, e, s, w of each compound, in that order: (compound, side) rows
    corners = np.array([((-1, 1), (1, 1)), ((1, 1), (1, -1)),
                        ((1, -1), (-1, -1)), ((-1, -1), (-1, 1))], dtype=float)
    c = np.repeat(np.arange(comp.size), 4)
    k = np.tile(np.arange(4), comp.size)
    cx, cy, rr = centre[c, 0], centre[c, 1], r[c]
    a, b = corners[k, 0], corners[k, 1]
    ring_xy = np.stack([np.column_stack([cx, cy]),
                        np.column_stack([cx + a[:, 0] * rr, cy + a[:, 1] * rr]),
                        np.column_stack([cx + b[:, 0] * rr, cy + b[:, 1] * rr]),
                        np.column_stack([cx, cy])], axis=1)
    side = shapely.intersection(ring[c], shapely.polygons(ring_xy))
    rows = np.flatnonzero(~shapely.is_empty(side))
    src, near = tree.query(side[rows], predicate="dwithin", distance=street_m)
    found = np.zeros((c.size, 2))
    has = np.zeros(c.size, dtype=bool)
    if src.size:
        # the street each side faces: the one alongside most of it; the gate where the
        # side comes nearest to it (the middle of that stretch, for a parallel one)
        row = rows[src]
        streets = np.unique(near)
        buffered = np.empty(geoms.size, dtype=object)
        buffered[streets] = shapely.buffer(geoms[streets], street_m)
        faced = shapely.length(shapely.intersection(side[row], buffered[near]))
        d = shapely.distance(side[row], geoms[near])
        order = np.lexsort((d, -np.round(faced, 1), src))
        first = order[np.concatenate([[True], src[order][1:] != src[order][:-1]])]
        row, kk, d_k = row[first], near[first], d[first]
        stretch = shapely.line_merge(shapely.intersection(
            side[row], shapely.buffer(geoms[kk], d_k + 1.0)))
        parts, of = shapely.get_parts(stretch, return_index=True)
        line = shapely.get_type_id(parts) == 1
        parts, of = parts[line], of[line]
        xy = shapely.get_coordinates(shapely.shortest_line(side[row], geoms[kk]))[::2]
        if parts.size:
            pick = np.lexsort((-shapely.length(parts), of))
            pick = pick[np.concatenate([[True], of[pick][1:] != of[pick][:-1]])]
            xy[of[pick]] = shapely.get_coordinates(
                shapely.line_interpolate_point(parts[pick], 0.5, normalized=True))
        found[row], has[row] = xy, True
    # a compound's sides in turn (n, e, s, w): a gate more than a metre from every gate
    # kept before it (side by side over all compounds: the same test, the same order)
    fxy = found.reshape(comp.size, 4, 2)
    keep = has.reshape(comp.size, 4).copy()
    for k in range(4):
        for j in range(k):
            near = ~(np.hypot(fxy[:, k, 0] - fxy[:, j, 0], fxy[:, k, 1] - fxy[:, j, 1]) > 1.0)
            keep[:, k] &= ~(keep[:, j] & near)
    i, k = np.nonzero(keep)
    cols = {"compound": comp[i].tolist(), "x": fxy[i, k, 0].tolist(), "y": fxy[i, k, 1].tolist()}
    return _access_frame(cols, net, outside, max_snap_m)


def _access_frame(cols: dict, net: WalkNetwork, outside: np.ndarray,
                  max_snap_m: float) -> pd.DataFrame:
    xy = np.column_stack([np.asarray(cols["x"], dtype=float), np.asarray(cols["y"], dtype=float)])
    n = xy.shape[0]
    edge, along, offset = np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(n)
    if n and outside.size:
        mask = np.zeros(net.n_edges, dtype=bool)
        mask[outside] = True
        _, geoms, grid = edge_grid(net, mask)
        e, a, o = snap_to_segments(grid, geoms, xy, max_snap_m)
        ok = e >= 0
        edge[ok], along[ok], offset[ok] = outside[e[ok]], a[ok], o[ok]
    frame = pd.DataFrame({"compound": np.asarray(cols["compound"], dtype=np.int64),
                          "x": xy[:, 0], "y": xy[:, 1], "origin": "assumed",
                          "node": np.full(n, -1, dtype=np.int64), "edge": edge,
                          "along_m": along, "offset_m": offset})
    ok = edge >= 0  # (a frame's selection costs more than the check when nothing goes)
    return frame if ok.all() else frame[ok].reset_index(drop=True)


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
