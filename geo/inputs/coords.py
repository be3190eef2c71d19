"""Placing uploaded coordinates: which coordinate system they are in, converting them once,
and catching the usual mistakes.

The mistakes looked for are the ones district data really has: longitude and latitude
swapped; projected metres (CGCS2000 Gauss–Krüger, UTM) passed as degrees, or degrees as
metres; rows in different systems mixed in one file; points far outside the study area;
and Amap/Tencent (GCJ-02) or Baidu (BD-09) coordinates read as WGS84, which puts every
point a few hundred metres off. That last one is judged against the study area's streets
and only *offered* as a fix (``suggested_crs``), never applied silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo import chinacrs
from geo.crs import WGS84, normalise_crs_name, require_projected, to_wgs84
from geo.errors import CRSError, InputError
from geo.settings import InputLimits
from geo.studyarea import StudyArea

#: Names of coordinate systems in degrees that :func:`geo.crs.to_wgs84` understands.
DEGREE_NAMES = ("wgs84", "gcj02", "bd09", "cgcs2000")
SHIFTED = ("gcj02", "bd09")
#: Projected systems tried when metres come without a usable CRS: WGS84 / UTM 43N–53N,
#: CGCS2000 Gauss–Krüger 6° (with and without zone prefix) and 3° (with and without).
CANDIDATE_EPSG = (tuple(range(32643, 32654)) + tuple(range(4491, 4513))
                  + tuple(range(4513, 4555)))
_SHIFT_MIN_POINTS = 8


@dataclass(frozen=True, eq=False)
class Placed:
    """Coordinates after conversion.

    Attributes
    ----------
    frame
        The features in WGS84, or in ``area.crs`` when a study area was given; rows that
        could not be converted are gone (and counted in ``notes``).
    crs_name
        The coordinate system the input was read in (``'gcj02'``, ``'EPSG:4547'`` ...).
    notes
        ``(key, params)`` pairs for the user.
    suggested_crs
        A coordinate system that fits the study area's streets much better than
        ``crs_name`` (``'gcj02'``, ``'bd09'`` or ``'wgs84'``), offered, not applied.
    """

    frame: gpd.GeoDataFrame
    crs_name: str
    notes: list[tuple[str, dict]] = field(default_factory=list)
    suggested_crs: str | None = None


def _stated(crs: str | None, file_crs: pyproj.CRS | None, hint: tuple[str, str] | None,
            *, path: str, notes: list) -> str | pyproj.CRS | None:
    """The coordinate system to read in: the user's word, a column name, or the file's."""
    file_name = None
    if file_crs is not None:
        try:
            file_name = normalise_crs_name(file_crs.to_string())
        except CRSError:
            file_name = None
    if crs:
        name = normalise_crs_name(crs)
        if file_crs is not None and name != file_name:
            notes.append(("note.input_crs_override",
                          {"path": path, "file_crs": file_name or file_crs.name, "crs": name}))
        return name
    if hint is not None:
        notes.append(("note.input_crs_from_header",
                      {"path": path, "column": hint[1], "crs": hint[0]}))
        return hint[0]
    if file_crs is not None:
        return file_name if file_name is not None else file_crs
    return None


def _is_degrees(stated: str | pyproj.CRS | None) -> bool:
    if stated is None or stated in DEGREE_NAMES:
        return True
    crs = stated if isinstance(stated, pyproj.CRS) else pyproj.CRS.from_user_input(stated)
    return crs.is_geographic


def _label(stated: str | pyproj.CRS | None) -> str:
    if stated is None:
        return "WGS84"
    return stated.name if isinstance(stated, pyproj.CRS) else str(stated)


def _fmt(x: float, y: float) -> str:
    return f"{x:.6g}, {y:.6g}"


def candidate_crs(x: np.ndarray, y: np.ndarray, *, area: StudyArea | None,
                  limits: InputLimits, limit: int = 3) -> list[str]:
    """Projected coordinate systems that put these metres inside the study area (or, with
    no study area, inside mainland China for zone-prefixed Gauss–Krüger eastings only,
    the one case where the numbers alone name the zone)."""
    take = np.linspace(0, x.size - 1, min(x.size, 200)).astype(int)
    xs, ys = np.asarray(x, dtype=float)[take], np.asarray(y, dtype=float)[take]
    codes: list[int | pyproj.CRS] = list(CANDIDATE_EPSG)
    near = exact = None
    if area is not None:
        codes = [area.crs] + [c for c in codes if c != area.crs.to_epsg()]
        near, exact = gpd.GeoSeries([shapely.buffer(area.boundary, limits.outside_area_m),
                                     area.boundary], crs=area.crs).to_crs(WGS84)
    else:
        # only Gauss–Krüger eastings that carry their zone number: 6° zones 13–23 are
        # EPSG:4491–4501, 3° zones 25–45 EPSG:4513–4533
        zone = int(np.median(xs) // 1_000_000)
        codes = [c for c in codes if (4491 <= c <= 4501 and c - 4478 == zone)
                 or (4513 <= c <= 4533 and c - 4488 == zone)]
    hits: list[tuple[float, int, str]] = []
    for order, code in enumerate(codes):
        try:  # a Proj's inverse gives lon/lat on its own datum: WGS84 or CGCS2000 (cm apart)
            proj = pyproj.Proj(code if isinstance(code, pyproj.CRS) else f"EPSG:{code}")
            with np.errstate(all="ignore"):
                lon, lat = proj(xs, ys, inverse=True, errcheck=False)
        except (pyproj.exceptions.CRSError, pyproj.exceptions.ProjError):
            continue
        lon, lat = np.asarray(lon), np.asarray(lat)
        if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
            continue
        if near is None:
            ok, score = chinacrs.in_mainland_china(lon, lat).mean() > 0.9, 0.0
        else:
            ok = shapely.contains_xy(near, lon, lat).mean() > 0.5
            score = shapely.contains_xy(exact, lon, lat).mean()
        if ok:
            epsg = code.to_epsg() if isinstance(code, pyproj.CRS) else code
            hits.append((-score, order, f"EPSG:{epsg}" if epsg else code.to_string()))
    return [name for _, _, name in sorted(hits)[:limit]]


def _metres_error(key_base: str, *, x: np.ndarray, y: np.ndarray, stated, area, limits,
                  path: str) -> CRSError:
    fits = candidate_crs(x, y, area=area, limits=limits)
    example = _fmt(float(x[0]), float(y[0]))
    if fits:
        return CRSError(f"{key_base}_fit", path=path, example=example, crs=_label(stated),
                        candidates=", ".join(fits), first=fits[0])
    return CRSError(key_base, path=path, example=example, crs=_label(stated))


def place(raw: gpd.GeoDataFrame, rows: np.ndarray, *, crs: str | None = None,
          hint: tuple[str, str] | None = None, area: StudyArea | None = None,
          path: str = "", limits: InputLimits = InputLimits()) -> Placed:
    """Convert features given in the user's coordinates into WGS84 or ``area.crs``.

    Parameters
    ----------
    raw
        The features as read, in the coordinates of the file; its ``crs`` is the file's
        own CRS (``None`` for tables and files without one).
    rows
        Row (or feature) numbers as the user sees them, for messages; one per feature.
    crs
        The user's choice (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``, ``EPSG:NNNN``);
        it overrides the file's own CRS.
    hint
        ``(crs, column)`` when a column name says which system it is in (``经度(GCJ02)``).
    area
        The study area; when given, the result is in ``area.crs`` and is checked against it.

    Raises
    ------
    CRSError
        Metres given as degrees or degrees as metres, a mix of both, coordinates outside
        the valid range, or an unknown CRS.
    InputError
        Every point lies far outside the study area.
    """
    notes: list[tuple[str, dict]] = []
    rows = np.asarray(rows)
    if area is not None:
        require_projected(gpd.GeoSeries([area.boundary], crs=area.crs), what="study area")
    stated = _stated(crs, raw.crs, hint, path=path, notes=notes)
    geoms = raw.geometry.to_numpy()
    bounds = shapely.bounds(geoms)
    x0, y0, x1, y1 = bounds.T
    big = np.maximum.reduce([np.abs(x0), np.abs(x1), np.abs(y0), np.abs(y1)])
    if _is_degrees(stated):
        lon_ok = (np.abs(x0) <= 180) & (np.abs(x1) <= 180)
        lat_ok = (np.abs(y0) <= 90) & (np.abs(y1) <= 90)
        degrees = lon_ok & lat_ok
        swapped = ~degrees & (np.abs(x0) <= 90) & (np.abs(x1) <= 90) & \
            (np.abs(y0) <= 180) & (np.abs(y1) <= 180)
        metres = big > 1000
        if metres.any():
            if (degrees | swapped).any():
                first = int(np.flatnonzero(metres)[0])
                raise CRSError("err.mixed_crs", path=path, degrees=int((degrees | swapped).sum()),
                               metres=int(metres.sum()), row=int(rows[first]))
            key = "err.metres_no_crs" if stated is None else "err.metres_as_degrees"
            raise _metres_error(key, x=x0, y=y0, stated=stated, area=area, limits=limits,
                                path=path)
        bad = ~degrees & ~swapped
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CRSError("err.coords_invalid", path=path, row=int(rows[k]),
                           x=f"{x0[k]:.6g}", y=f"{y0[k]:.6g}", crs=_label(stated))
        china_swapped = (degrees & (x0 > 3.8) & (x1 < 53.6) & (y0 > 73.6) & (y1 < 135.1))
        if swapped.any() or (china_swapped.all() and area_prefers_swap(geoms, area)):
            which = swapped if swapped.any() else china_swapped
            geoms = geoms.copy()
            geoms[which] = shapely.transform(geoms[which], lambda c: c[:, ::-1])
            reason = ("纬度大于 90 度 / latitude above 90°" if swapped.any()
                      else "坐标落在中国的对调位置 / they fit China only the other way round")
            notes.append(("note.input_swapped", {"path": path, "count": int(which.sum()),
                                                 "reason": reason}))
        if stated is None:
            notes.append(("note.input_crs_assumed", {"path": path}))
            stated = "wgs84"
    else:
        if np.all(big <= 180):
            raise CRSError("err.degrees_as_metres", path=path, example=_fmt(x0[0], y0[0]),
                           crs=_label(stated))
        small = big <= 180
        if small.any():
            first = int(np.flatnonzero(small)[0])
            raise CRSError("err.mixed_crs", path=path, degrees=int(small.sum()),
                           metres=int((~small).sum()), row=int(rows[first]))

    frame = raw.set_geometry(gpd.GeoSeries(geoms, index=raw.index))
    frame = frame.set_crs(None, allow_override=True)
    converted = _to_wgs84(frame, stated)
    crs_name = stated if isinstance(stated, str) else (
        f"EPSG:{stated.to_epsg()}" if stated.to_epsg() else stated.to_string())
    if crs_name in SHIFTED:
        corner = shapely.bounds(geoms)
        outside = ~chinacrs.in_mainland_china(corner[:, 0], corner[:, 1])
        if outside.any():
            notes.append(("note.input_gcj_mainland", {"count": int(outside.sum())}))
    if area is not None:
        converted = converted.to_crs(area.crs)
    keep = _finite(converted.geometry.to_numpy())
    if not keep.all():
        notes.append(("note.input_nonfinite", {"path": path, "count": int((~keep).sum()),
                                               "rows": _some(rows[~keep])}))
        converted, rows, raw_geoms = converted[keep], rows[keep], geoms[keep]
    else:
        raw_geoms = geoms
    suggested = None
    if area is not None and len(converted):
        dist = shapely.distance(area.boundary, converted.geometry.to_numpy())
        far = dist > limits.outside_area_m
        if far.all():
            raise InputError("err.all_far", path=path, count=int(far.size),
                             km=round(limits.outside_area_m / 1000, 1),
                             nearest_km=round(float(dist.min()) / 1000, 1))
        if far.any():
            notes.append(("note.input_far", {"path": path, "count": int(far.sum()),
                                             "km": round(limits.outside_area_m / 1000, 1),
                                             "rows": _some(rows[far])}))
        if crs_name in DEGREE_NAMES:
            suggested, before, after = suspect_shift(raw_geoms, crs_name, area)
            if suggested is not None:
                notes.append(("note.input_shift_suspect", {
                    "path": path, "suspect": suggested, "stated": crs_name,
                    "before": round(100 * before), "after": round(100 * after)}))
    return Placed(frame=converted, crs_name=crs_name, notes=notes, suggested_crs=suggested)


def area_prefers_swap(geoms: np.ndarray, area: StudyArea | None) -> bool:
    """For coordinates that fit China only with their axes swapped: without a study area,
    swap; with one, swap only if the swapped points land nearer to it."""
    if area is None:
        return True
    as_is = _to_area(geoms, "wgs84", area)
    swapped = _to_area(shapely.transform(geoms, lambda c: c[:, ::-1]), "wgs84", area)
    return (np.nanmedian(shapely.distance(area.boundary, swapped))
            < np.nanmedian(shapely.distance(area.boundary, as_is)))


def _to_wgs84(frame: gpd.GeoDataFrame, stated: str | pyproj.CRS) -> gpd.GeoDataFrame:
    if isinstance(stated, pyproj.CRS):
        return frame.set_crs(stated, allow_override=True).to_crs(WGS84)
    return to_wgs84(frame, stated)


def _to_area(geoms: np.ndarray, name: str, area: StudyArea) -> np.ndarray:
    frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms))
    return _to_wgs84(frame, name).to_crs(area.crs).geometry.to_numpy()


def _finite(geoms: np.ndarray) -> np.ndarray:
    keep = np.ones(len(geoms), dtype=bool)
    if len(geoms) == 0:
        return keep
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    keep[np.unique(index[bad])] = False
    keep &= ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    return keep


def _some(rows: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:n])
    return shown + (" …" if len(rows) > n else "")


def street_distance_m(points: np.ndarray, area: StudyArea) -> np.ndarray:
    """Distance from each point to the nearest street (arterial or local; all roads if the
    area has few of those) in metres."""
    roads = area.roads
    if "road_class" in roads.columns:
        streets = roads[roads["road_class"].isin(["arterial", "local"])]
        if len(streets) >= 10:
            roads = streets
    if len(roads) == 0 or len(points) == 0:
        return np.full(len(points), np.inf)
    tree = shapely.STRtree(roads.geometry.to_numpy())
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return dist


def fit_share(points: np.ndarray, area: StudyArea, *, street_m: float = 20.0) -> float:
    """Share of points that sit where homes and facilities are: within ``street_m`` of a
    street or inside a building footprint."""
    if len(points) == 0:
        return 0.0
    fits = street_distance_m(points, area) <= street_m
    if len(area.buildings):
        tree = shapely.STRtree(area.buildings.geometry.to_numpy())
        inside = np.unique(tree.query(points, predicate="within")[0])
        fits[inside] = True
    return float(fits.mean())


def suspect_shift(geoms: np.ndarray, crs_name: str, area: StudyArea, *,
                  min_gain: float = 0.2, min_share: float = 0.5,
                  max_points: int = 2000) -> tuple[str | None, float, float]:
    """Whether the points fit the study area much better read in another web-map system.

    The points (in the user's coordinates) are read as WGS84, GCJ-02 and BD-09 in turn.
    Facilities stand by streets and homes inside buildings, so the right system puts
    clearly more of them there (:func:`fit_share`); a wrong one, a few hundred metres off,
    scatters them. Checked on the Xueqing Road OpenStreetMap extract and the synthetic
    district: right 0.79–1.0, wrong 0.21–0.61. Another system is suggested only when its
    share is at least ``min_share`` and beats the stated one by ``min_gain``, with at
    least eight points. At most ``max_points`` points, evenly spread over the file, are
    looked at.

    Returns ``(suggested or None, share as stated, share of the best system)``.
    """
    points = shapely.centroid(np.asarray(geoms, dtype=object))
    points = points[~shapely.is_empty(points)]
    if len(points) > max_points:  # a share needs no more; keeps big registers fast
        points = points[np.linspace(0, len(points) - 1, max_points).astype(int)]
    if len(points) < _SHIFT_MIN_POINTS or (len(area.roads) == 0 and len(area.buildings) == 0):
        return None, np.nan, np.nan
    shares = {name: fit_share(_to_area(points, name, area), area)
              for name in ("wgs84", "gcj02", "bd09")}
    stated = crs_name if crs_name in shares else "wgs84"  # CGCS2000 is WGS84 to centimetres
    before = shares[stated]
    best = max(shares, key=shares.get)
    after = shares[best]
    if best != stated and after >= min_share and after - before >= min_gain:
        return best, before, after
    return None, before, after
