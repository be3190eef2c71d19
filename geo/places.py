"""Names of places for people: a facility by its name and where it stands, never by an id.

``place`` is the nearest named street within :data:`NEAR_M` (set when the study area is
read, :func:`nearest_street_names`); :func:`facility_labels` makes ``name (place)`` for
notes, falling back to coordinates (latitude, longitude) where no street is named.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

NEAR_M = 150.0
MAX_LABEL = 40


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = " ".join(str(value).split())  # no line breaks or runs of spaces from data
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def nearest_street_names(points: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *,
                         max_m: float = NEAR_M) -> np.ndarray:
    """Name of the nearest named street within ``max_m`` of each point ('' where none)."""
    out = np.full(len(points), "", dtype=object)
    if not len(points) or roads is None or not len(roads) or "name" not in roads.columns:
        return out
    named = roads[roads["name"].map(_text) != ""]
    if not len(named):
        return out
    tree = shapely.STRtree(named.geometry.to_numpy())
    geoms = shapely.point_on_surface(points.geometry.to_numpy())
    hit_pt, hit_road = tree.query_nearest(geoms, max_distance=max_m, all_matches=False)
    names = named["name"].map(_text).to_numpy()
    out[hit_pt] = names[hit_road]
    return out


def facility_labels(facilities: gpd.GeoDataFrame) -> np.ndarray:
    """``name (place)`` of each facility; ``place`` is the ``place`` column (a street) or,
    where empty, the facility's latitude and longitude."""
    n = len(facilities)
    if not n:
        return np.array([], dtype=object)
    names = (facilities["name"].map(_text).to_numpy() if "name" in facilities.columns
             else np.full(n, "", dtype=object))
    places = (facilities["place"].map(_text).to_numpy() if "place" in facilities.columns
              else np.full(n, "", dtype=object))
    coords = np.full(n, "", dtype=object)
    if facilities.crs is not None:
        coords[:] = _latitude_longitude(facilities)
    out = []
    for name, place, xy in zip(names, places, coords):
        where = place or xy
        if name and where and where not in name:  # never "畅乐园 (畅乐园)"
            out.append(f"{name} ({where})")
        elif name:
            out.append(name)
        else:
            out.append(f"({place}, {xy})" if place and xy else f"({where})" if where else "(?)")
    return np.array(out, dtype=object)


def _latitude_longitude(facilities: gpd.GeoDataFrame) -> list[str]:
    """``"lat, lon"`` of each facility ('' where it has no geometry): the transformation
    geopandas' ``to_crs(4326)`` makes (the same numbers), without building a frame for it."""
    pts = shapely.point_on_surface(facilities.geometry.to_numpy())
    ok = ~(shapely.is_empty(pts) | shapely.is_missing(pts))
    if shapely.has_z(pts[ok]).any():  # geopandas transforms those with their heights
        series = gpd.GeoSeries(pts, crs=facilities.crs).to_crs(4326)
        x, y = series.x.to_numpy()[ok], series.y.to_numpy()[ok]
    else:
        xy = shapely.get_coordinates(pts[ok])
        x, y = _to_wgs84(facilities.crs).transform(xy[:, 0], xy[:, 1])
    out = [""] * len(pts)
    for i, lon, lat in zip(np.flatnonzero(ok).tolist(), np.asarray(x).tolist(),
                           np.asarray(y).tolist()):
        out[i] = f"{lat:.5f}, {lon:.5f}"
    return out


@lru_cache(maxsize=8)
def _to_wgs84(crs: pyproj.CRS) -> pyproj.Transformer:
    """The transformer geopandas' ``to_crs(4326)`` uses (made once per CRS)."""
    return pyproj.Transformer.from_crs(crs, pyproj.CRS.from_user_input(4326), always_xy=True)


def with_places(facilities: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``facilities`` with ``place``: the nearest named street."""
    out = facilities.copy()
    out["place"] = nearest_street_names(facilities, roads) if len(facilities) else pd.Series(dtype=object)
    return out


__all__ = ["NEAR_M", "facility_labels", "nearest_street_names", "with_places"]
