"""Community boundaries mapped in OpenStreetMap, completed where the map has none.

Chinese communities (社区) are sometimes mapped as ``boundary=administrative`` with
``admin_level=10``, or as ``place=neighbourhood`` areas with a name. Where such polygons
exist they are used as they are (their OSM name is the community's name); households
outside all of them get derived communities (:func:`geo.grids.communities.derive_communities`)
drawn on the land the mapped ones leave. Codes ``C01``… follow reading order over all of
them, so that they stay the same from one run to the next.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.communities import (SNAP_M, assign_communities, community_code,
                                   derive_communities, reading_order)
from geo.grids.reasons import encode_reasons

#: Mapped polygons overlapping an already kept one by more than this share are dropped.
OVERLAP_SHARE = 0.05
#: Mapped polygons smaller than this (m²) are not communities (a mapped square or yard).
MIN_COMMUNITY_M2 = 20_000.0


def _tag(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[name].map(lambda v: v[0] if isinstance(v, list) and v else v)


def communities_from_osm(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Mapped community polygons among OSM features (projected, with their tags):
    ``boundary=administrative`` + ``admin_level=10`` if any, else ``place=neighbourhood``
    with a name. Overlapping ones are dropped (smaller first kept). None when there are
    none."""
    if not len(features):
        return None
    polygonal = features.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    name = _tag(features, "name").astype(object)
    named = name.notna().to_numpy() & (name.astype(str).str.strip() != "").to_numpy()
    admin = (_tag(features, "boundary") == "administrative").to_numpy() & \
        (_tag(features, "admin_level").astype(str).str.strip() == "10").to_numpy()
    hood = (_tag(features, "place") == "neighbourhood").to_numpy() & named
    pick = polygonal & admin if (polygonal & admin).any() else polygonal & hood
    if not pick.any():
        return None
    geoms = shapely.make_valid(features.geometry.to_numpy()[pick])
    names = name.to_numpy()[pick]
    area = shapely.area(geoms)
    kept: list[int] = []
    for k in np.argsort(area, kind="stable"):
        if area[k] < MIN_COMMUNITY_M2:
            continue
        if any(shapely.area(shapely.intersection(geoms[k], geoms[m])) > OVERLAP_SHARE * area[k]
               for m in kept):
            continue
        kept.append(int(k))
    if not kept:
        return None
    kept.sort()
    return gpd.GeoDataFrame({"name": [str(n) if n is not None else "" for n in names[kept]],
                             "source": "osm"}, geometry=geoms[kept], crs=features.crs)


def complete_communities(mapped: gpd.GeoDataFrame, households: gpd.GeoDataFrame,
                         roads: gpd.GeoDataFrame, boundary: shapely.Geometry, *,
                         compounds: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The mapped communities plus derived ones for the households outside them.

    Returns
    -------
    GeoDataFrame
        ``community_id`` (reading order over all), ``name``, ``name_key``,
        ``households``, ``derived`` (False for mapped ones), ``source`` (``osm`` or
        ``derived``), polygons.
    """
    mapped = mapped.reset_index(drop=True)
    union = shapely.union_all(mapped.geometry.to_numpy())
    points = households.geometry.representative_point().to_numpy()
    counts = households["households"].to_numpy(dtype=np.int64)
    inside = shapely.dwithin(union, points, SNAP_M)
    parts = [gpd.GeoDataFrame({
        "name": mapped["name"].to_numpy(),
        "name_key": [""] * len(mapped),
        "derived": False, "source": "osm"}, geometry=mapped.geometry.to_numpy(), crs=mapped.crs)]
    outside = ~inside & (counts > 0)
    if outside.any():
        rest = shapely.difference(shapely.make_valid(boundary), union)
        derived = derive_communities(households[outside], roads, rest, compounds=compounds,
                                     crs=mapped.crs)
        parts.append(derived.drop(columns=["community_id"]).assign(source="derived"))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                           crs=mapped.crs)
    centres = shapely.get_coordinates(out.geometry.representative_point().to_numpy())
    order = reading_order(centres, row_m=float(np.sqrt(np.median(out.area))))
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "community_id", [community_code(k, len(out)) for k in range(len(out))])
    of_unit = assign_communities(households, out)
    out["households"] = pd.Series(counts, index=of_unit.index).groupby(of_unit).sum() \
        .reindex(out["community_id"]).fillna(0).astype(np.int64).to_numpy()
    out["name_key"] = [key if key else encode_reasons([("community.name_mapped", {"name": n})])
                       for key, n in zip(out["name_key"], out["name"])]
    return out
