"""Communities (社区): check a given layer, or derive one from the arterial roads.

Grids never cross a community boundary, so every household must lie in exactly one
community. A given layer is checked (ids, overlaps, households outside it) and small
digitising slivers are fixed and reported; anything larger is refused with a message that
says which rows to correct. Where no layer is given, communities are derived from the
faces enclosed by arterial roads (the usual edge of a Chinese community), merged with
their neighbours until they hold roughly the 3,000 households of the reform documents.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected
from geo.errors import InputError
from geo.grids.blocks import faces_in_regions  # one polygonize routine for blocks and communities
from geo.grids.reasons import encode_reasons
from geo.i18n import Note, note, t

#: An overlap smaller than this share of the smaller community is a digitising sliver.
SLIVER_SHARE = 0.01
#: Households farther than this from every community are refused, nearer ones snapped.
SNAP_M = 50.0


def reading_order(xy: np.ndarray, *, row_m: float) -> np.ndarray:
    """Order points in rows north→south, west→east within a row (Beijing grid coding).

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.
    row_m
        Height of one row; points whose northings differ by less fall in the same row.

    Returns
    -------
    ndarray
        Positions of the points in reading order.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    row = np.floor((xy[:, 1].max() - xy[:, 1]) / max(row_m, 1e-9)).astype(np.int64)
    return np.lexsort((xy[:, 0], row))


def community_code(position: int, count: int) -> str:
    """``'C01'``, ``'C02'``, … (three digits once there are more than 99)."""
    return f"C{position + 1:0{max(2, len(str(count)))}d}"


def representative_points(geometry: gpd.GeoSeries) -> np.ndarray:
    """Each geometry's representative point (a point is its own)."""
    geoms = geometry.to_numpy()
    if (shapely.get_type_id(geoms) == 0).all() and not shapely.is_empty(geoms).any():
        return geoms
    return geometry.representative_point().to_numpy()


def _households_in(polygons: np.ndarray, points: np.ndarray, counts: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(polygons)
    hit_pt, hit_poly = tree.query(points, predicate="intersects")
    first = pd.Series(hit_poly).groupby(hit_pt).first()
    out = np.zeros(len(polygons), dtype=np.int64)
    np.add.at(out, first.to_numpy(), counts[first.index.to_numpy()])
    return out


def _shared_lengths(geoms: np.ndarray) -> pd.DataFrame:
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=0.01)
    keep = i < j
    i, j = i[keep], j[keep]
    rings = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(
        rings[i], shapely.buffer(rings[j], 0.01, cap_style="flat", quad_segs=1)))
    keep = shared > 0.5
    return pd.DataFrame({"i": i[keep], "j": j[keep], "shared_m": shared[keep]})


def community_names(polygons: np.ndarray, households: gpd.GeoDataFrame,
                    compounds: gpd.GeoDataFrame | None) -> list[tuple[str, dict]]:
    """A name (translation key and parameters) for each derived community: after its
    largest named compound (by households), e.g. ``锦绣东方一带`` / ``Jinxiu Dongfang
    area``, each compound naming one community at most; else ``社区01``… by position."""
    n = len(polygons)
    names: list[tuple[str, dict] | None] = [None] * n
    named = None
    if compounds is not None and len(compounds) and "name" in compounds:
        labels = compounds["name"].astype(object).where(compounds["name"].notna(), "")
        labels = labels.astype(str).str.strip()
        named = compounds.assign(_name=labels.to_numpy())
        named = named[named["_name"] != ""]
        if "compound_id" in named:  # an unnamed upload stands in its id (upload/3): no name
            named = named[named["_name"] != named["compound_id"].astype(str).str.strip()]
    if named is not None and len(named) and n:
        points = representative_points(households.geometry)
        tree = shapely.STRtree(polygons)
        pt, poly = tree.query(points, predicate="within")
        comm = np.full(len(points), -1)
        comm[pt[::-1]] = poly[::-1]
        if "compound_id" in households:
            compound = households["compound_id"].astype(object).to_numpy()
        else:
            hit_pt, hit_c = shapely.STRtree(named.geometry.to_numpy()).query(points,
                                                                            predicate="within")
            compound = np.full(len(points), None, dtype=object)
            compound[hit_pt[::-1]] = named["compound_id"].to_numpy()[hit_c[::-1]]
        frame = pd.DataFrame({"comm": comm, "compound": compound,
                              "hh": households["households"].to_numpy(dtype=np.int64)})
        frame = frame[(frame["comm"] >= 0) & frame["compound"].notna()]
        frame["name"] = frame["compound"].map(named.set_index("compound_id")["_name"]
                                              .groupby(level=0).first())
        frame = frame.dropna(subset=["name"])
        # the largest compound per community; communities with most households choose first
        per = frame.groupby(["comm", "name"], sort=True)["hh"].sum().reset_index()
        totals = frame.groupby("comm")["hh"].sum()
        used: set[str] = set()
        for c in sorted(totals.index, key=lambda c: (-totals[c], c)):
            options = per[per["comm"] == c].sort_values(["hh", "name"], ascending=[False, True])
            for name in options["name"]:
                if name not in used:
                    names[int(c)] = ("community.name_near", {"name": name})
                    used.add(name)
                    break
    return [nm if nm is not None else ("community.name", {"number": f"{k + 1:02d}"})
            for k, nm in enumerate(names)]


def derive_communities(households: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                       boundary: shapely.Geometry, *, target_households: int = 3000,
                       always_merge_below: int = 400, reach_m: float = 300.0,
                       crs=None, compounds: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Communities from the faces enclosed by arterial roads, merged to about the target.

    Faces are clipped to the boundary and to ``reach_m`` around the convex hull of the
    households, so that a face running out to the edge of a large study area (an OSM
    extract's bounding box) does not make a community of empty land. Faces holding no
    households are left out. A face with fewer than two thirds of the
    target (or too few households for any grid) merges with the neighbour that keeps the
    merged community smallest (ties: the longest shared boundary), as long as the merged
    community stays below 1.5 × the target; a face is never split.

    Parameters
    ----------
    households
        Household units (points) with ``households``, projected.
    roads
        Road lines with ``road_class``; those classed ``arterial`` bound the faces.
    boundary
        Study-area polygon the faces are clipped to.
    target_households
        About how many households a community should hold (3,000 in the reform documents).
    always_merge_below
        Faces below this merge even past 1.5 × the target (400 = two grids of 200).
    reach_m
        How far beyond the households' convex hull communities may reach.
    crs
        CRS of ``boundary``; defaults to the roads' CRS.
    compounds
        Residential compounds (``compound_id``, ``name``): a community is named after
        its largest named compound (:func:`community_names`).

    Returns
    -------
    GeoDataFrame
        ``community_id`` (``C01``…, numbered north→south, west→east: names never change
        the codes), ``name`` (in Chinese, e.g. ``锦绣东方一带`` or ``社区01``),
        ``name_key`` (the name as a stored translation key with parameters, shown with
        :func:`geo.grids.reasons.name_text`), ``households``, ``derived`` (True),
        polygons.
    """
    require_projected(households, what="households")
    require_projected(roads, what="roads")
    if target_households <= 0:
        raise InputError("err.community_target", value=target_households)
    crs = crs if crs is not None else roads.crs
    points = representative_points(households.geometry)
    counts = households["households"].to_numpy(dtype=np.int64)
    if not (counts > 0).any():
        raise InputError("err.no_households_in_area")
    settled = shapely.buffer(shapely.convex_hull(shapely.multipoints(
        shapely.get_coordinates(points[counts > 0]))), reach_m)
    region = gpd.GeoDataFrame(geometry=[shapely.intersection(shapely.make_valid(boundary),
                                                             settled)], crs=crs)
    arterial = roads.loc[roads["road_class"] == "arterial"].geometry.to_numpy()
    faces = faces_in_regions(arterial, region, "_r").geometry.to_numpy()
    w = _households_in(faces, points, counts)
    faces, w = faces[w > 0], w[w > 0]
    if len(faces) == 0:
        raise InputError("err.no_households_in_area")

    # greedy merging of small faces into their smallest neighbour (union-find on faces)
    parent = np.arange(len(faces))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    adj = _shared_lengths(faces)
    size = w.astype(np.int64).copy()
    small = 2 * target_households / 3
    cap = 1.5 * target_households
    changed = True
    while changed:
        changed = False
        roots = np.array([root(a) for a in range(len(faces))])
        ri, rj = roots[adj["i"].to_numpy()], roots[adj["j"].to_numpy()]
        cross = ri != rj
        pair = pd.DataFrame({"a": ri[cross], "b": rj[cross], "len": adj["shared_m"].to_numpy()[cross]})
        pair = pd.concat([pair, pair.rename(columns={"a": "b", "b": "a"})])
        pair = pair.groupby(["a", "b"], as_index=False)["len"].sum()
        for a in sorted(set(roots), key=lambda r: (size[r], r)):
            if size[a] >= small or root(a) != a:
                continue
            nb = pair[pair["a"] == a]
            if nb.empty:
                continue
            nb = nb.assign(root=[root(b) for b in nb["b"]])
            nb = nb[nb["root"] != a]
            if nb.empty:
                continue
            nb = nb.assign(total=size[nb["root"].to_numpy()] + size[a])
            nb = nb.sort_values(["total", "len"], ascending=[True, False])
            best = nb.iloc[0]
            if best["total"] > cap and size[a] >= always_merge_below:
                continue
            b = int(best["root"])
            parent[b] = a
            size[a] += size[b]
            changed = True

    roots = np.array([root(a) for a in range(len(faces))])
    groups = pd.Series(np.arange(len(faces))).groupby(roots)
    polys = np.array([shapely.union_all(faces[idx.to_numpy()], grid_size=0.001)
                      for _, idx in groups], dtype=object)
    totals = np.array([int(w[idx.to_numpy()].sum()) for _, idx in groups], dtype=np.int64)
    centres = shapely.get_coordinates(shapely.point_on_surface(polys))
    order = reading_order(centres, row_m=float(np.sqrt(np.median(shapely.area(polys)))))
    n = len(order)
    names = community_names(polys[order], households, compounds)
    return gpd.GeoDataFrame({
        "community_id": [community_code(k, n) for k in range(n)],
        "name": [t(key, "zh", **params) for key, params in names],
        "name_key": [encode_reasons([nm]) for nm in names],
        "households": totals[order],
        "derived": True,
    }, geometry=polys[order], crs=crs)


def validate_communities(communities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[Note]]:
    """Check a given community layer and fix what can safely be fixed.

    Checks: projected CRS; polygons only; no empty geometry (dropped and reported); a
    ``community_id`` column (generated in reading order when missing, and reported);
    unique ids; no overlaps. An overlap smaller than 1 % of the smaller community is a
    digitising sliver and is cut from the later row (reported); a larger one is refused.

    Returns
    -------
    (GeoDataFrame, list of notes)
        The checked layer (``community_id``, ``name``, other columns kept) and notes
        (:func:`geo.i18n.note`) on every fix made.

    Raises
    ------
    InputError
        Duplicate ids, non-polygon geometry, or communities that overlap.
    """
    require_projected(communities, what="communities")
    notes: list[Note] = []
    out = communities.copy().reset_index(drop=True)
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        notes.append(note("note.communities_empty_dropped", count=int(empty.sum())))
        out = out[~empty].reset_index(drop=True)
    if len(out) == 0:
        raise InputError("err.communities_empty")
    out = out.set_geometry(shapely.make_valid(out.geometry.to_numpy()))
    kinds = set(out.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError("err.community_layer_not_polygons", kinds=", ".join(sorted(kinds)))
    if "community_id" not in out.columns:
        centres = shapely.get_coordinates(out.geometry.representative_point().to_numpy())
        order = reading_order(centres, row_m=float(np.sqrt(np.median(out.area))))
        ids = np.empty(len(out), dtype=object)
        ids[order] = [community_code(k, len(out)) for k in range(len(out))]
        out["community_id"] = ids
        notes.append(note("note.communities_ids_made", count=len(out)))
    out["community_id"] = out["community_id"].astype(str)
    dup = out["community_id"][out["community_id"].duplicated()].unique()
    if len(dup):
        raise InputError("err.communities_duplicate_ids", ids=", ".join(map(str, dup[:5])))
    if "name" not in out.columns:
        out["name"] = out["community_id"]

    geoms = out.geometry.to_numpy().copy()
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    for a, b in zip(i[keep], j[keep]):
        overlap = shapely.area(shapely.intersection(geoms[a], geoms[b]))
        if overlap <= 1e-6:
            continue
        smaller = min(shapely.area(geoms[a]), shapely.area(geoms[b]))
        if overlap > SLIVER_SHARE * smaller:
            raise InputError("err.communities_overlap", a=out["community_id"].iloc[a],
                             b=out["community_id"].iloc[b], area_m2=f"{overlap:,.0f}")
        geoms[b] = shapely.difference(geoms[b], geoms[a])
        notes.append(note("note.communities_sliver_fixed", a=out["community_id"].iloc[a],
                          b=out["community_id"].iloc[b], area_m2=f"{overlap:,.0f}"))
    out = out.set_geometry(gpd.GeoSeries(geoms, crs=out.crs))
    return out, notes


def assign_communities(households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *,
                       snap_m: float = SNAP_M, refuse_outside: bool = True) -> pd.Series:
    """The community each household unit (or any located row) lies in: the one rule
    every caller uses (the grid stage, mapped communities, a planner's totals, the
    report's gap places).

    A unit on a boundary takes the first community listed; a unit outside every
    community but within ``snap_m`` of one takes the nearest.

    Returns
    -------
    Series
        ``community_id`` per unit, with the index of ``households`` (``None`` where a
        unit lies farther than ``snap_m`` from every community and ``refuse_outside``
        is False).

    Raises
    ------
    InputError
        If some units lie farther than ``snap_m`` from every community (unless
        ``refuse_outside`` is False).
    """
    require_projected(households, what="households")
    require_projected(communities, what="communities")
    points = representative_points(households.geometry)
    polys = communities.geometry.to_numpy()
    tree = shapely.STRtree(polys)
    hit_pt, hit_poly = tree.query(points, predicate="intersects")
    pos = np.full(len(points), -1)
    pos[hit_pt[::-1]] = hit_poly[::-1]
    missing = np.flatnonzero(pos < 0)
    if missing.size:
        near_pt, near_poly = tree.query_nearest(points[missing], max_distance=snap_m,
                                                all_matches=False)
        pos[missing[near_pt]] = near_poly
        far = np.flatnonzero(pos < 0)
        if far.size and refuse_outside:
            hh = households["households"].to_numpy()[far]
            ids = households["unit_id"].astype(str).to_numpy()[far] if "unit_id" in households \
                else households.index.astype(str).to_numpy()[far]
            raise InputError("err.households_outside", count=int(far.size),
                             households=int(hh.sum()), examples=", ".join(ids[:5]),
                             snap_m=f"{snap_m:g}")
    ids = np.append(communities["community_id"].astype(str).to_numpy().astype(object), None)
    return pd.Series(ids[pos], index=households.index, name="community_id")
