"""Coordinate systems: parse what users say, choose one metric CRS per study area.

Inside the core every layer is in one projected CRS in metres, chosen once per study area
(local UTM zone). Inputs are converted once on the way in; outputs once on the way out.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo import chinacrs
from geo.errors import CRSError

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
#: Names a user may give, besides any ``EPSG:NNNN``.
CRS_NAMES = ("wgs84", "gcj02", "bd09", "cgcs2000")
_SHIFTED = {"gcj02": chinacrs.gcj02_to_wgs84, "bd09": chinacrs.bd09_to_wgs84}


def normalise_crs_name(name: str) -> str:
    """Return ``'wgs84'``, ``'gcj02'``, ``'bd09'``, ``'cgcs2000'`` or ``'EPSG:NNNN'``.

    Raises
    ------
    CRSError
        If the name is neither one of :data:`CRS_NAMES` nor a CRS that pyproj knows.
    """
    raw = str(name).strip()
    key = raw.lower().replace("-", "").replace("_", "").replace(" ", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "gcj": "gcj02",
               "amap": "gcj02", "bd09": "bd09", "baidu": "bd09", "cgcs2000": "cgcs2000",
               "epsg:4326": "wgs84"}
    if key in aliases:
        return aliases[key]
    if not re.fullmatch(r"(?i)epsg:\d{4,6}", raw.replace(" ", "")):
        raise CRSError("err.unknown_crs", crs=raw)
    try:
        crs = pyproj.CRS.from_user_input(raw.replace(" ", "").upper())
    except pyproj.exceptions.CRSError:
        raise CRSError("err.unknown_crs", crs=raw) from None
    epsg = crs.to_epsg()
    if epsg == 4326:
        return "wgs84"
    if epsg == 4490:
        return "cgcs2000"
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def to_wgs84(gdf: gpd.GeoDataFrame, crs_name: str | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84, undoing GCJ-02 / BD-09 shifts when named.

    ``crs_name`` overrides the frame's own CRS (a CSV has none). CGCS2000 differs from
    WGS84 by centimetres and is treated as such after pyproj's transform.
    """
    name = normalise_crs_name(crs_name) if crs_name else None
    if name in _SHIFTED:
        out = gdf.set_crs(WGS84, allow_override=True)
        xy = shapely.get_coordinates(out.geometry.values)
        lon, lat = _SHIFTED[name](xy[:, 0], xy[:, 1])
        geoms = shapely.set_coordinates(out.geometry.values.copy(), np.column_stack([lon, lat]))
        return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))
    if name is not None:
        target = {"wgs84": WGS84, "cgcs2000": CGCS2000}.get(name, name)
        gdf = gdf.set_crs(target, allow_override=True)
    if gdf.crs is None:
        raise CRSError("err.no_crs", what="layer")
    return gdf.to_crs(WGS84)


def choose_crs(gdf_wgs84: gpd.GeoDataFrame) -> pyproj.CRS:
    """The local UTM zone for a study area given in WGS84."""
    if gdf_wgs84.crs is None:
        raise CRSError("err.no_crs", what="study area")
    return gdf_wgs84.to_crs(WGS84).estimate_utm_crs()


def require_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, what: str = "layer") -> None:
    """Refuse data that is not in a projected CRS in metres."""
    if gdf.crs is None:
        raise CRSError("err.no_crs", what=what)
    if not gdf.crs.is_projected:
        raise CRSError("err.unprojected", what=what)
    unit = gdf.crs.axis_info[0].unit_name if gdf.crs.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        raise CRSError("err.unprojected", what=what)
