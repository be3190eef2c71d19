"""What the main map can show, as small WGS84 GeoJSON dictionaries: :func:`base_data`
(roads, buildings, communities, grids and their labels, households, facilities) and
:func:`service_data` (one service's nested service areas and gaps). This is the slow part
of drawing a map; the page caches it (:mod:`ui.state`) and :mod:`ui.mapview` assembles
the map from it. Text from data is kept as it is here and escaped where it is shown
(:mod:`ui.maphtml`). Neither imports Streamlit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.colours import SERVICE_COLOURS  # one table for the page and the report
from analysis.pipeline import Result
from geo.grids.rules import band_class
from geo.grids.reasons import reason_text as grid_reason_text
from geo.i18n import t
from geo.vocabulary import DEFAULT_BAND
from ui.places import community_names, place_parts

ROAD_STYLE = {"arterial": ("#e8a33d", 3.0), "local": ("#9a9a9a", 1.5), "path": ("#bbbbbb", 0.8)}
BAND_COLOURS = {"below": "#6baed6", "in": "#74c476", "above": "#fd8d3c"}
MINUTE_OPACITY = (0.35, 0.22, 0.12, 0.08)  # innermost circle first
GAP_COLOUR = "#111111"
SITE_COLOUR = "#6a3d9a"
OSM_CREDIT_HTML = ('© <a href="https://www.openstreetmap.org/copyright" target="_blank">'
                   'OpenStreetMap</a> contributors')
# Panes: service areas under the grids' colours (an area no longer hides the grid
# colours), gaps on top; the browser test counts the grid pane.
PANES = {"gc-grids": 410, "gc-areas": 405, "gc-gaps": 430}
DECIMALS = 5  # 1e-5 degree ≈ 1 m: enough for a district map, half the bytes of 1e-6


@dataclass(frozen=True)
class MapLimits:
    """How much the map draws before it simplifies or aggregates.

    Attributes
    ----------
    household_points
        Up to this many household points are drawn one by one; beyond it households
        are drawn as a heat layer of households aggregated to ``heat_cell_m`` cells.
    heat_cell_m
        Cell size for that aggregation.
    buildings
        Buildings are drawn (merged into one shape) up to this many.
    grid_labels
        Grid numbers are written on the map up to this many grids.
    simplify_m
        Tolerance for simplifying polygons and roads before they are sent.
    """

    household_points: int = 3_000
    heat_cell_m: float = 25.0
    buildings: int = 30_000
    grid_labels: int = 400
    simplify_m: float = 1.5


@dataclass(frozen=True, eq=False)
class MapData:
    """GeoJSON (WGS84) of everything the map can show, independent of what is shown."""

    bounds: tuple[float, float, float, float]
    """The study area's bounds (west, south, east, north)."""
    osm_derived: bool
    roads: dict
    buildings: dict | None
    communities: dict
    grids: dict | None
    grid_labels: dict | None
    households: dict | None
    household_heat: list | None
    facilities: dict[str, dict]
    notes: tuple[str, ...] = field(default_factory=tuple)
    view: tuple[float, float, float, float] | None = None
    """What the map opens on: the households and grids (the study area when it has
    neither); roads running past a file's edge do not widen it."""

    def __post_init__(self) -> None:
        if self.view is None:
            object.__setattr__(self, "view", self.bounds)


@dataclass(frozen=True, eq=False)
class ServiceData:
    """GeoJSON (WGS84) of one service's nested service areas and its gaps."""

    service: str
    areas: dict | None
    gaps: dict | None


# ----------------------------------------------------------------------------- data


def _round(geoms: np.ndarray, decimals: int = DECIMALS) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def geojson(frame: gpd.GeoDataFrame, columns: list[str] | tuple[str, ...] = (), *,
            simplify_m: float = 0.0, style: list[dict] | None = None,
            decimals: int = DECIMALS, keep: bool = False) -> dict:
    """A GeoJSON FeatureCollection (WGS84) of ``frame``'s geometry and ``columns``.

    Geometries are simplified by ``simplify_m`` in the frame's metric CRS first and their
    coordinates rounded to ``decimals``; ``style`` (one dict per row) becomes each
    feature's ``style`` property, which the map applies without any per-feature script.
    ``keep``: each geometry's GeoJSON is kept (by its WKB) and reused for the same
    geometry later, for layers made again after every edit whose shapes mostly stay
    (grids, gaps): only the shapes that changed are converted.
    """
    geoms = frame.geometry.to_numpy()
    made = (kept_shapes if keep else shapes)(geoms, frame.crs, simplify_m=simplify_m,
                                             decimals=decimals)
    names = list(columns)
    return collection(made, len(frame), {name: _plain_column(frame[name]) for name in names},
                      style)


def shapes(geoms: np.ndarray, crs, *, simplify_m: float = 0.0,
           decimals: int = DECIMALS) -> dict[int, dict]:
    """Row position → GeoJSON geometry (WGS84, simplified and rounded as :func:`geojson`
    says) of every geometry that is neither missing nor empty."""
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=crs).to_crs(4326).to_numpy()
    wgs = _round(np.asarray(wgs), decimals)
    keep = np.flatnonzero(~(shapely.is_missing(wgs) | shapely.is_empty(wgs)))
    # one JSON parse for every geometry (a parse per feature costs more than the parsing)
    made = json.loads("[" + ",".join(shapely.to_geojson(wgs[keep]).tolist()) + "]") \
        if keep.size else []
    return dict(zip(keep.tolist(), made))


_KEPT: dict[tuple, dict | None] = {}
KEPT_SHAPES = 50_000  # geometries kept by kept_shapes (all let go past it)


def kept_shapes(geoms: np.ndarray, crs, *, simplify_m: float = 0.0,
                decimals: int = DECIMALS) -> dict[int, dict]:
    """:func:`shapes`, each geometry converted once: the GeoJSON of a geometry is kept
    under its WKB (with the CRS and the settings), so a layer made again with most of its
    shapes unchanged converts only the others."""
    wkb = shapely.to_wkb(geoms)
    where = (str(crs), float(simplify_m), int(decimals))
    out: dict[int, dict] = {}
    missing = []
    for k, key in enumerate(wkb.tolist()):
        if key is None:
            continue
        held = _KEPT.get((key, where), False)
        if held is False:
            missing.append(k)
        elif held is not None:
            out[k] = held
    if missing:
        made = shapes(geoms[missing], crs, simplify_m=simplify_m, decimals=decimals)
        if len(_KEPT) + len(missing) > KEPT_SHAPES:
            _KEPT.clear()
        for j, k in enumerate(missing):
            out[k] = made.get(j)
            _KEPT[(wkb[k], where)] = out[k]
        out = {k: v for k, v in out.items() if v is not None}
    return out


def collection(made: dict[int, dict], rows: int, columns: dict[str, list],
               style: list[dict] | None = None) -> dict:
    """A FeatureCollection of ``rows`` rows: row k's geometry ``made[k]`` (rows without
    one are left out), its ``columns`` values (JSON-safe) and ``style[k]``."""
    names = list(columns)
    values = [columns[name] for name in names]
    feats = []
    for k, row in enumerate(zip(*values) if names else ((),) * rows):
        if k not in made:
            continue
        props = dict(zip(names, row))
        if style is not None:
            props["style"] = style[k]
        feats.append({"type": "Feature", "properties": props, "geometry": made[k]})
    return {"type": "FeatureCollection", "features": feats}


def _plain_column(column: pd.Series) -> list:
    """A column's values as JSON-safe Python scalars (as :func:`_plain`, a column at a
    time where its type allows)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"  # numpy types only
    if kind == "f":
        rounded = np.round(column.to_numpy(dtype=float), 3)
        return [None if v != v else v for v in rounded.tolist()]
    if kind in "iu":
        return column.to_numpy().tolist()
    if kind == "b":
        return column.to_numpy().tolist()
    return [_plain(v) for v in column.tolist()]


def _plain(value: object) -> object:
    """A JSON-safe scalar (NaN → None, numpy → Python)."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), 3)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if pd.isna(value) if not isinstance(value, (list, tuple, dict)) else False:
        return None
    return value


def merged(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """All of ``frame``'s lines, or else all its polygons, as one multi-part feature: one
    path in the browser instead of thousands. Parts of other kinds are dropped."""
    geoms = shapely.get_parts(frame.geometry.to_numpy())
    geoms = geoms[~shapely.is_empty(geoms)]
    kinds = shapely.get_type_id(geoms)
    lines = geoms[(kinds == 1) | (kinds == 2)]
    polygons = geoms[kinds == 3]
    if len(lines) >= len(polygons) and len(lines):
        geom = shapely.multilinestrings(lines)
    elif len(polygons):
        geom = shapely.multipolygons(polygons)
    else:
        return frame.iloc[:0][["geometry"]]
    return gpd.GeoDataFrame(geometry=[geom], crs=frame.crs)


def heat_points(households: gpd.GeoDataFrame, *, cell_m: float) -> list[list[float]]:
    """Households summed in ``cell_m`` cells, as ``[lat, lon, households]`` (WGS84)."""
    xy = shapely.get_coordinates(households.geometry.to_numpy())
    if not len(xy):
        return []
    cells = np.floor(xy / cell_m).astype(np.int64)
    frame = pd.DataFrame({"cx": cells[:, 0], "cy": cells[:, 1],
                          "n": households["households"].to_numpy(dtype=float)})
    agg = frame.groupby(["cx", "cy"], sort=False)["n"].sum().reset_index()
    agg = agg[agg["n"] > 0]
    centres = gpd.GeoSeries(gpd.points_from_xy((agg["cx"] + 0.5) * cell_m,
                                               (agg["cy"] + 0.5) * cell_m),
                            crs=households.crs).to_crs(4326)
    return [[round(y, DECIMALS), round(x, DECIMALS), float(n)]
            for x, y, n in zip(centres.x, centres.y, agg["n"])]


@dataclass(frozen=True, eq=False)
class GridData:
    """GeoJSON (WGS84) of what changes with the grids: the grids and their numbers, and
    the households (whose properties name their grid)."""

    grids: dict | None
    grid_labels: dict | None
    households: dict | None
    household_heat: list | None
    notes: tuple[str, ...] = ()


def base_data(result: Result, *, lang: str = "zh", band: tuple[int, int] = DEFAULT_BAND,
              limits: MapLimits = MapLimits()) -> MapData:
    """Everything on the map except the per-service layers, as WGS84 GeoJSON."""
    return with_grids(area_data(result, lang=lang, limits=limits),
                      grid_data(result, lang=lang, band=band, limits=limits))


def with_grids(area: MapData, grids: GridData) -> MapData:
    """``area`` (from :func:`area_data`) with the grid layers of ``grids``."""
    return replace(area, grids=grids.grids, grid_labels=grids.grid_labels,
                   households=grids.households, household_heat=grids.household_heat,
                   notes=area.notes + grids.notes)


def area_data(result: Result, *, lang: str = "zh",
              limits: MapLimits = MapLimits()) -> MapData:
    """What the map shows that grid edits do not change: roads, buildings, communities
    and facilities (the grid layers are empty: :func:`grid_data`)."""
    area = result.area
    layers = result.layers
    box = gpd.GeoSeries([area.boundary], crs=area.crs).to_crs(4326).total_bounds
    notes: list[str] = []

    roads = area.roads
    road_parts = []
    for cls, (colour, weight) in ROAD_STYLE.items():
        part = roads[roads["road_class"] == cls]
        if len(part):
            one = merged(part)
            road_parts.append(geojson(one, simplify_m=limits.simplify_m,
                                      style=[{"color": colour, "weight": weight,
                                              "opacity": 0.9}] * len(one)))
    roads_json = {"type": "FeatureCollection",
                  "features": [f for part in road_parts for f in part["features"]]}

    buildings = None
    if 0 < len(area.buildings) <= limits.buildings:
        one = merged(area.buildings[["geometry"]])
        buildings = geojson(one, simplify_m=limits.simplify_m / 2, style=[{
            "color": "#c9b79c", "weight": 0.5, "fillColor": "#d9c9ae", "fillOpacity": 0.6}])
    elif len(area.buildings):
        notes.append(t("map.note_buildings_hidden", lang, count=len(area.buildings)))

    comms = layers["communities"]
    if len(comms) and "community_id" in comms.columns:  # names in the page's language

        named = community_names(comms, lang)
        comms = comms.assign(name=[named.get(str(c), "") for c in comms["community_id"]])
    comm_cols = [c for c in ("community_id", "name", "households") if c in comms.columns]
    communities = geojson(comms, comm_cols, simplify_m=limits.simplify_m,
                          style=[{"color": "#54278f", "weight": 3, "fill": False,
                                  "dashArray": "8 4"}] * len(comms))

    fac = layers["facilities"]
    facilities = {}
    for service, part in fac.groupby("service", sort=False):
        cols = [c for c in ("facility_id", "name") if c in part.columns]
        facilities[str(service)] = geojson(part, cols)

    return MapData(bounds=tuple(float(v) for v in box),
                   view=_view(result.households, layers.get("grids")),
                   osm_derived=bool(area.osm_derived),
                   roads=roads_json, buildings=buildings, communities=communities,
                   grids=None, grid_labels=None, households=None,
                   household_heat=None, facilities=facilities, notes=tuple(notes))


def grid_data(result: Result, *, lang: str = "zh", band: tuple[int, int] = DEFAULT_BAND,
              limits: MapLimits = MapLimits()) -> GridData:
    """The grid layers of the map (:class:`GridData`): what an edit changes."""
    notes: list[str] = []
    grids = grid_labels = None
    frame = result.layers.get("grids")
    if frame is not None and len(frame):
        grids, grid_labels = _grid_json(frame, lang=lang, band=band, limits=limits)
        if grid_labels is None:
            notes.append(t("map.note_labels_hidden", lang, count=len(frame)))

    hh = result.households
    households = heat = None
    if len(hh) <= limits.household_points:
        cols = [c for c in ("unit_id", "households", "hh_source", "grid_id") if c in hh.columns]
        radius = (2 + np.minimum(6, np.sqrt(hh["households"].to_numpy(dtype=float)) / 4)).round(1)
        households = geojson(hh, cols, style=[{"radius": float(r)} for r in radius])
    else:
        heat = heat_points(hh, cell_m=limits.heat_cell_m)
        notes.append(t("map.note_heat", lang, count=len(hh)))
    return GridData(grids=grids, grid_labels=grid_labels, households=households,
                    household_heat=heat, notes=tuple(notes))


def _view(households: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None
          ) -> tuple[float, float, float, float] | None:
    """WGS84 bounds of the households and grids (None when there are neither)."""
    boxes = [f.to_crs(4326).total_bounds for f in (households, grids)
             if f is not None and len(f) and f.crs is not None]
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        return None
    box = np.array(boxes)
    return (float(box[:, 0].min()), float(box[:, 1].min()),
            float(box[:, 2].max()), float(box[:, 3].max()))


def _grid_json(frame: gpd.GeoDataFrame, *, lang: str, band: tuple[int, int],
               limits: MapLimits) -> tuple[dict, dict | None]:
    cls = band_class(frame["households"], band)
    shown = pd.DataFrame({
        "grid_id": frame["grid_id"].astype(str),
        "name": (frame["name"].fillna("").astype(str) if "name" in frame.columns else ""),
        "community": (frame["community_id"].fillna("").astype(str)
                      if "community_id" in frame.columns else ""),
        "households": frame["households"].astype(int),
        "status": [t(f"map.band_{c}", lang) for c in cls],
        "reason": (frame["reason"].map(lambda r: reason_text(r, lang))
                   if "reason" in frame.columns else ""),
    }, index=frame.index)
    style = [{"color": "#333333", "weight": 1.2, "fillColor": BAND_COLOURS[c],
              "fillOpacity": 0.3} for c in cls]
    grids = geojson(gpd.GeoDataFrame(shown, geometry=frame.geometry, crs=frame.crs),
                    list(shown.columns), simplify_m=limits.simplify_m, style=style, keep=True)
    labels = None
    if len(frame) <= limits.grid_labels:
        boxes = gpd.GeoSeries(frame.geometry, crs=frame.crs).to_crs(4326).bounds.round(DECIMALS)
        points = gpd.GeoDataFrame({"label": shown["grid_id"],
                                   "bbox": [list(b) for b in boxes.to_numpy()],
                                   "size": frame.geometry.area.round(0).to_numpy()},
                                  geometry=frame.geometry.representative_point(),
                                  crs=frame.crs)
        labels = geojson(points, ["label", "bbox", "size"], keep=True)
    return grids, labels


def reason_text(reason: object, lang: str) -> str:
    """A grid's or community's stored reasons in one language (the rule book's
    :func:`geo.grids.reasons.reason_text`, which reads an older version's ``中文 /
    English`` text too)."""
    return grid_reason_text(reason, lang)


def service_data(result: Result, service: str, *, lang: str | None = None,
                 limits: MapLimits = MapLimits(), areas: bool = True,
                 gaps: bool = True) -> ServiceData:
    """One service's service areas (5/10/15 minutes, nested) and gaps as WGS84 GeoJSON
    (the gaps' places with community names in ``lang``, when given). ``areas=False`` or
    ``gaps=False`` leaves that part out: the page makes them apart, since the gaps'
    places name grids (an edit changes them) and the areas do not."""
    return ServiceData(service=service,
                       areas=_areas_json(result, service, limits) if areas else None,
                       gaps=_gaps_json(result, service, lang, limits) if gaps else None)


def _areas_json(result: Result, service: str, limits: MapLimits) -> dict | None:
    frame = result.layers.get("service_areas")
    if frame is None or not len(frame):
        return None
    part = frame[frame["service"] == service].sort_values("minutes", ascending=False)
    if not len(part):
        return None
    colour = SERVICE_COLOURS.get(service, "#555555")
    order = part["minutes"].rank(method="dense").astype(int).to_numpy() - 1
    style = [{"color": colour, "weight": 1, "fillColor": colour,
              "fillOpacity": MINUTE_OPACITY[min(k, len(MINUTE_OPACITY) - 1)]}
             for k in order]
    return geojson(part, ["service", "minutes"], simplify_m=limits.simplify_m * 2, style=style)


def _gaps_json(result: Result, service: str, lang: str | None,
               limits: MapLimits) -> dict | None:
    frame = result.layers.get("gaps")
    if frame is None or not len(frame) or "geometry" not in frame:
        return None
    part = frame[frame["service"] == service]
    if not len(part):
        return None
    part = part.assign(place=_places(part, result, lang))
    cols = [c for c in ("service", "rank", "place", "households") if c in part.columns]
    style = [{"color": GAP_COLOUR, "weight": 2, "dashArray": "5 4",
              "fillColor": GAP_COLOUR, "fillOpacity": 0.3}] * len(part)
    return geojson(part, cols, simplify_m=limits.simplify_m, style=style, keep=True)


def sites_json(sites: gpd.GeoDataFrame, places: list[str] | None = None) -> dict:
    """Proposed sites of a siting what-if as GeoJSON (``rank`` = order of choice,
    ``places`` their place names, see :mod:`ui.places`)."""
    frame = sites.copy()
    if "rank" not in frame.columns and "order" in frame.columns:
        frame["rank"] = frame["order"]
    if "rank" not in frame.columns:
        frame["rank"] = np.arange(1, len(frame) + 1)
    if places is not None:
        frame["place"] = list(places)
    cols = [c for c in ("service", "rank", "place", "added_households") if c in frame.columns]
    return geojson(frame, cols)


def _places(frame: gpd.GeoDataFrame, result: Result, lang: str | None = None) -> list[str]:
    """Place names (community · grid · street) of ``frame``'s rows; a derived
    community by its name in ``lang`` when given."""

    communities = result.layers.get("communities")
    parts = place_parts(frame.geometry, communities=communities,
                        grids=result.layers.get("grids"),
                        roads=getattr(result.area, "roads", None))
    names = community_names(communities, lang) if lang else {}
    return [" · ".join(v for v in (names.get(p.get("community_id", "")) or p["community"],
                                   p["grid"], p["street"]) if v) for p in parts]
