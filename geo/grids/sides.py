"""四至: what bounds a grid to the east, south, west and north, in words.

For every grid the outer boundary is cut into short pieces (:data:`STEP_M`); each piece
faces the side its outward normal points to. A piece *follows* a named feature (a named
road, a compound wall, a river or a rail line) when the nearest such feature is within
:data:`NEAR_M` and runs along it (their directions within about 40°). On each side, the
named features that the side follows for at least :data:`MIN_SHARE` of its length are
named (at most two, longest first); where a side follows none, the neighbouring grid
that shares most of that side is named instead, and where there is none, the community
boundary.

Everything is in metres in one projected CRS (:func:`geo.crs.require_projected`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected
from geo.i18n import t

STEP_M = 10.0
NEAR_M = 35.0
NEIGHBOUR_M = 3.0
MIN_SHARE = 0.3
PARALLEL = 0.75  # |cos| of the angle between a boundary piece and the feature it follows
SIDES = ("east", "south", "west", "north")
MAX_NAMES = 2


def named_features(roads: pd.DataFrame | None, walls: pd.DataFrame | None = None,
                   *, lang_wall: bool = True) -> gpd.GeoDataFrame:
    """Lines a boundary may follow, with the text naming them (``label_zh``, ``label_en``):
    named roads, rail lines and rivers (``roads``' ``name``), and the walls of named
    compounds (``walls``' outlines)."""
    rows: list[tuple[str, str, object]] = []
    crs = None
    if isinstance(roads, gpd.GeoDataFrame) and len(roads) and "name" in roads:
        crs = roads.crs
        names = roads["name"].fillna("").astype(str).str.strip()
        for name, geom in zip(names, roads.geometry):
            if name and geom is not None and not geom.is_empty:
                rows.append((name, name, geom))
    if isinstance(walls, gpd.GeoDataFrame) and len(walls) and "name" in walls:
        crs = crs or walls.crs
        names = walls["name"].fillna("").astype(str).str.strip()
        for name, geom in zip(names, walls.geometry):
            if name and geom is not None and not geom.is_empty:
                rows.append((t("gs.wall_of", "zh", name=name), t("gs.wall_of", "en", name=name),
                             shapely.boundary(geom)))
    if not rows:
        return gpd.GeoDataFrame({"label_zh": [], "label_en": []}, geometry=[], crs=crs)
    zh, en, geoms = zip(*rows)
    return gpd.GeoDataFrame({"label_zh": zh, "label_en": en}, geometry=list(geoms), crs=crs)


def _segments(lines: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-point segments of every line: ``(starts, ends, feature index)``."""
    parts, owner = shapely.get_parts(lines.geometry.to_numpy(), return_index=True)
    parts = shapely.line_merge(parts) if len(parts) else parts
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    same = index[1:] == index[:-1]
    starts, ends = coords[:-1][same], coords[1:][same]
    return starts, ends, owner[index[:-1][same]]


def _pieces(geom) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoints, unit directions and lengths of the pieces of a polygon's outer
    boundary, counter-clockwise (so the outward normal is the direction turned right)."""
    # in floating precision: a union of snapped cells carries their grid, and GEOS puts
    # the points it adds on that grid, so a polygon made here and the same polygon read
    # from a file or another process (which carry none) would give other pieces
    geom = shapely.set_precision(geom, 0.0, mode="pointwise")
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3]
    mids, dirs, lens = [], [], []
    for poly in polys:
        ring = shapely.segmentize(shapely.orient_polygons(poly).exterior, STEP_M)
        xy = np.asarray(ring.coords)
        d = np.diff(xy, axis=0)
        length = np.hypot(d[:, 0], d[:, 1])
        ok = length > 1e-9
        mids.append((xy[:-1] + d / 2)[ok])
        dirs.append(d[ok] / length[ok, None])
        lens.append(length[ok])
    if not mids:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    return np.concatenate(mids), np.concatenate(dirs), np.concatenate(lens)


def side_of(dirs: np.ndarray) -> np.ndarray:
    """0 east, 1 south, 2 west, 3 north: where each piece's outward normal points."""
    normal = np.column_stack([dirs[:, 1], -dirs[:, 0]])  # right of a counter-clockwise ring
    angle = np.degrees(np.arctan2(normal[:, 1], normal[:, 0]))  # 0 east, 90 north
    return np.select([(angle > -45) & (angle <= 45), (angle > -135) & (angle <= -45),
                      (angle > 45) & (angle <= 135)], [0, 1, 3], default=2)


def boundary_sides(grids: gpd.GeoDataFrame, features: gpd.GeoDataFrame, *,
                   neighbour_label: Sequence[str] | None = None,
                   rows: Sequence[int] | None = None) -> pd.DataFrame:
    """What bounds each grid on each side.

    Parameters
    ----------
    grids
        Grid polygons (``grid_id``, ``community_id``) in a projected CRS.
    features
        :func:`named_features`, same CRS.
    neighbour_label
        How a neighbouring grid is named (default: its ``grid_id``), aligned with ``grids``.
    rows
        Positions of the grids to describe (default: all); the others still count as
        neighbours.

    Returns
    -------
    DataFrame
        ``grids``' index (of ``rows``); for each side ``<side>_kind`` (``feature``, ``grid`` or
        ``edge``), ``<side>_zh`` and ``<side>_en`` (names, joined), and ``boundary_zh``,
        ``boundary_en`` (the sentences).
    """
    require_projected(grids, "grids")
    labels = (list(neighbour_label) if neighbour_label is not None
              else grids["grid_id"].astype(str).tolist())
    geoms = grids.geometry.to_numpy()
    seg_a, seg_b, seg_owner = _segments(features) if len(features) else (
        np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    seg_tree = shapely.STRtree(shapely.linestrings(np.stack([seg_a, seg_b], axis=1))) \
        if len(seg_a) else None
    seg_dir = seg_b - seg_a
    seg_dir = seg_dir / np.maximum(np.hypot(seg_dir[:, 0], seg_dir[:, 1]), 1e-9)[:, None]
    grid_tree = shapely.STRtree(geoms)
    lab_zh = features["label_zh"].to_numpy() if len(features) else np.array([])
    lab_en = features["label_en"].to_numpy() if len(features) else np.array([])
    records = []
    todo = range(len(geoms)) if rows is None else [int(r) for r in rows]
    for g in todo:
        geom = geoms[g]
        rec: dict[str, object] = {}
        mids, dirs, lens = _pieces(geom) if geom is not None else (np.zeros((0, 2)),) * 3
        side = side_of(dirs) if len(dirs) else np.zeros(0, dtype=int)
        pts = shapely.points(mids) if len(mids) else np.array([], dtype=object)
        feat = np.full(len(mids), -1)
        if seg_tree is not None and len(mids):
            (pi, si), dist = seg_tree.query_nearest(pts, max_distance=NEAR_M, return_distance=True,
                                                    all_matches=False)
            along = np.abs(np.sum(dirs[pi] * seg_dir[si], axis=1)) >= PARALLEL
            feat[pi[along]] = seg_owner[si[along]]
        nb = np.full(len(mids), -1)
        if len(mids):
            pi, gi = grid_tree.query(pts, predicate="dwithin", distance=NEIGHBOUR_M)
            keep = gi != g
            # the other grid nearest to each piece
            pi, gi = pi[keep], gi[keep]
            if len(pi):
                d = shapely.distance(pts[pi], geoms[gi])
                order = np.lexsort((d, pi))
                pi, gi = pi[order], gi[order]
                first = np.r_[True, pi[1:] != pi[:-1]]
                nb[pi[first]] = gi[first]
        for s, name in enumerate(SIDES):
            on = side == s
            total = float(lens[on].sum())
            kind, zh, en = "edge", t("gs.side_edge", "zh"), t("gs.side_edge", "en")
            if total > 0:
                hit = on & (feat >= 0)
                if hit.any():
                    sums = pd.Series(lens[hit]).groupby(lab_zh[feat[hit]]).sum() \
                        .sort_values(ascending=False, kind="stable")
                    chosen = [k for k, v in sums.items() if v >= MIN_SHARE * total][:MAX_NAMES]
                    if chosen:
                        kind = "feature"
                        en_of = dict(zip(lab_zh[feat[hit]], lab_en[feat[hit]]))
                        zh = "、".join(chosen)
                        en = " and ".join(en_of[c] for c in chosen)
                if kind == "edge":
                    near = on & (nb >= 0)
                    if near.any():
                        sums = pd.Series(lens[near]).groupby(nb[near]).sum() \
                            .sort_values(ascending=False, kind="stable")
                        other = labels[int(sums.index[0])]
                        kind = "grid"
                        zh, en = t("gs.side_grid", "zh", grid=other), t("gs.side_grid", "en", grid=other)
            rec[f"{name}_kind"], rec[f"{name}_zh"], rec[f"{name}_en"] = kind, zh, en
        rec["boundary_zh"] = t("gs.boundary", "zh", **{s: rec[f"{s}_zh"] for s in SIDES})
        rec["boundary_en"] = t("gs.boundary", "en", **{s: rec[f"{s}_en"] for s in SIDES})
        records.append(rec)
    return pd.DataFrame(records, index=grids.index[list(todo)])


__all__ = ["SIDES", "boundary_sides", "named_features", "side_of"]
