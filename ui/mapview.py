"""The folium map of a run: layers in WGS84, simplified and merged so that large areas stay
light, drawn with nothing but the vendored Leaflet (see :mod:`ui.assets`).

Two steps keep interactions cheap: :func:`base_data` and :func:`service_data` turn a run's
layers into small GeoJSON dictionaries (the slow part; the page caches them), and
:func:`base_map` and :func:`service_groups` assemble the map from those dictionaries
(fast): the base, and the feature groups that change with the services shown and the
walking settings, which the page swaps into the map on screen (:func:`build_map` puts
both in one map).
Neither imports Streamlit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from analysis.pipeline import OSM_CREDIT, Result
from geo.grids.rules import decode_reasons
from geo.grids.rules import reason_text as grid_reason_text
from geo.i18n import t
from ui.assets import localise

SERVICE_COLOURS = {
    "community_service": "#1f77b4", "health": "#d62728", "kindergarten": "#ff7f0e",
    "primary_school": "#2ca02c", "middle_school": "#17becf", "elderly_care": "#9467bd",
    "market": "#8c564b", "convenience": "#e377c2", "pharmacy": "#bcbd22",
    "sports": "#7f7f7f", "park": "#4c9a2a", "bus_stop": "#393b79", "culture": "#ad494a",
}
ROAD_STYLE = {"arterial": ("#e8a33d", 3.0), "local": ("#9a9a9a", 1.5), "path": ("#bbbbbb", 0.8)}
BAND_COLOURS = {"below": "#6baed6", "in": "#74c476", "above": "#fd8d3c"}
MINUTE_OPACITY = (0.35, 0.22, 0.12, 0.08)  # innermost circle first
GAP_COLOUR = "#111111"
SITE_COLOUR = "#6a3d9a"
OSM_CREDIT_HTML = ('© <a href="https://www.openstreetmap.org/copyright" target="_blank">'
                   'OpenStreetMap</a> contributors')
# Panes: grids under service areas under gaps; the browser test counts the grid pane.
PANES = {"gc-grids": 410, "gc-areas": 420, "gc-gaps": 430}
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
            decimals: int = DECIMALS) -> dict:
    """A GeoJSON FeatureCollection (WGS84) of ``frame``'s geometry and ``columns``.

    Geometries are simplified by ``simplify_m`` in the frame's metric CRS first and their
    coordinates rounded to ``decimals``; ``style`` (one dict per row) becomes each
    feature's ``style`` property, which the map applies without any per-feature script.
    """
    geoms = frame.geometry.to_numpy()
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=frame.crs).to_crs(4326).to_numpy()
    wgs = _round(np.asarray(wgs), decimals)
    feats = []
    records = frame[list(columns)].to_dict("records") if columns else [{}] * len(frame)
    for k, (geom, props) in enumerate(zip(wgs, records)):
        if geom is None or shapely.is_empty(geom):
            continue
        props = {key: _plain(value) for key, value in props.items()}
        if style is not None:
            props["style"] = style[k]
        feats.append({"type": "Feature", "properties": props,
                      "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": feats}


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


def band_class(households: pd.Series, band: tuple[int, int]) -> pd.Series:
    """``below``, ``in`` or ``above`` the household band, per grid."""
    low, high = band
    out = np.where(households < low, "below", np.where(households > high, "above", "in"))
    return pd.Series(out, index=households.index)


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


def base_data(result: Result, *, lang: str = "zh", band: tuple[int, int] = (200, 300),
              limits: MapLimits = MapLimits()) -> MapData:
    """Everything on the map except the per-service layers, as WGS84 GeoJSON."""
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
    comm_cols = [c for c in ("community_id", "name", "households") if c in comms.columns]
    communities = geojson(comms, comm_cols, simplify_m=limits.simplify_m,
                          style=[{"color": "#54278f", "weight": 3, "fill": False,
                                  "dashArray": "8 4"}] * len(comms))

    grids = grid_labels = None
    frame = layers.get("grids")
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

    fac = layers["facilities"]
    facilities = {}
    for service, part in fac.groupby("service", sort=False):
        cols = [c for c in ("facility_id", "name") if c in part.columns]
        facilities[str(service)] = geojson(part, cols)

    return MapData(bounds=tuple(float(v) for v in box), osm_derived=bool(area.osm_derived),
                   roads=roads_json, buildings=buildings, communities=communities,
                   grids=grids, grid_labels=grid_labels, households=households,
                   household_heat=heat, facilities=facilities, notes=tuple(notes))


def _grid_json(frame: gpd.GeoDataFrame, *, lang: str, band: tuple[int, int],
               limits: MapLimits) -> tuple[dict, dict | None]:
    cls = band_class(frame["households"], band)
    shown = pd.DataFrame({
        "grid_id": frame["grid_id"].astype(str),
        "households": frame["households"].astype(int),
        "status": [t(f"map.band_{c}", lang) for c in cls],
        "reason": (frame["reason"].map(lambda r: reason_text(r, lang))
                   if "reason" in frame.columns else ""),
    }, index=frame.index)
    style = [{"color": "#333333", "weight": 1.2, "fillColor": BAND_COLOURS[c],
              "fillOpacity": 0.3} for c in cls]
    grids = geojson(gpd.GeoDataFrame(shown, geometry=frame.geometry, crs=frame.crs),
                    list(shown.columns), simplify_m=limits.simplify_m, style=style)
    labels = None
    if len(frame) <= limits.grid_labels:
        points = gpd.GeoDataFrame({"label": shown["grid_id"]},
                                  geometry=frame.geometry.representative_point(),
                                  crs=frame.crs)
        labels = geojson(points, ["label"])
    return grids, labels


def reason_text(reason: object, lang: str) -> str:
    """A grid's or community's stored reasons in one language (the rule book's
    :func:`geo.grids.rules.reason_text`), or one language of a bilingual ``"中文 /
    English"`` note."""
    if decode_reasons(reason):
        return grid_reason_text(reason, lang)
    if reason is None or (isinstance(reason, float) and math.isnan(reason)):
        return ""
    text = str(reason).strip()
    if " / " in text:
        zh, en = text.split(" / ", 1)
        return zh if lang == "zh" else en
    return text


def service_data(result: Result, service: str, *,
                 limits: MapLimits = MapLimits()) -> ServiceData:
    """One service's service areas (5/10/15 minutes, nested) and gaps as WGS84 GeoJSON."""
    areas = gaps = None
    colour = SERVICE_COLOURS.get(service, "#555555")
    frame = result.layers.get("service_areas")
    if frame is not None and len(frame):
        part = frame[frame["service"] == service].sort_values("minutes", ascending=False)
        if len(part):
            order = part["minutes"].rank(method="dense").astype(int).to_numpy() - 1
            style = [{"color": colour, "weight": 1, "fillColor": colour,
                      "fillOpacity": MINUTE_OPACITY[min(k, len(MINUTE_OPACITY) - 1)]}
                     for k in order]
            areas = geojson(part, ["service", "minutes"], simplify_m=limits.simplify_m * 2,
                            style=style)
    frame = result.layers.get("gaps")
    if frame is not None and len(frame) and "geometry" in frame:
        part = frame[frame["service"] == service]
        if len(part):
            cols = [c for c in ("service", "rank", "households") if c in part.columns]
            style = [{"color": GAP_COLOUR, "weight": 2, "dashArray": "5 4",
                      "fillColor": GAP_COLOUR, "fillOpacity": 0.3}] * len(part)
            gaps = geojson(part, cols, simplify_m=limits.simplify_m, style=style)
    return ServiceData(service=service, areas=areas, gaps=gaps)


def sites_json(sites: gpd.GeoDataFrame) -> dict:
    """Proposed sites of a siting what-if as GeoJSON (``rank`` = order of choice)."""
    frame = sites.copy()
    if "rank" not in frame.columns and "order" in frame.columns:
        frame["rank"] = frame["order"]
    cols = [c for c in ("service", "rank", "added_households") if c in frame.columns]
    return geojson(frame, cols)


# ----------------------------------------------------------------------------- map


class _Script(MacroElement):
    """A piece of script run once the map exists (``{map}`` is the map variable, also
    when the script sits in a feature group)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.code.replace('{map}', this.map_name()) }}
        {% endmacro %}
    """)

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "GcScript"
        self.code = code

    def map_name(self) -> str:
        """The variable of the map this script sits in (directly or inside a group)."""
        from folium.utilities import get_obj_in_upper_tree

        return get_obj_in_upper_tree(self, folium.Map).get_name()


def _tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True)


def _legend(lang: str, band: tuple[int, int] | None, services: tuple[str, ...],
            names: dict[str, str], minutes: tuple[float, ...]) -> str:
    rows = []
    if band is not None:
        rows.append(f"<b>{t('map.grids', lang)}</b> "
                    f"({t('map.band_range', lang, low=band[0], high=band[1])})")
        for key in ("below", "in", "above"):
            label = t(f"map.band_{key}", lang)
            rows.append(f'<i style="background:{BAND_COLOURS[key]}"></i>{label}')
    if services:
        rows.append(f"<b>{t('map.service_areas', lang)}</b>")
        for service in services:
            colour = SERVICE_COLOURS.get(service, "#555")
            rows.append(f'<i style="background:{colour}"></i>{names.get(service, service)}')
        shades = " / ".join(f"{m:g}" for m in sorted(minutes))
        rows.append(f'<span class="gc-note">{t("map.minutes_nested", lang, minutes=shades)}</span>')
        rows.append(f'<i style="background:rgba(17,17,17,.3);border:2px dashed {GAP_COLOUR}">'
                    f'</i>{t("map.gaps", lang)}')
    return "<br>".join(rows)


LEGEND_CSS = """
<style>
.gc-legend{background:rgba(255,255,255,.9);padding:6px 8px;font:12px/1.5 sans-serif;
  border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3);max-width:240px}
.gc-legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;
  border:1px solid #666}
.gc-legend .gc-note{color:#555;font-size:11px}
.gc-label{background:none;border:none;font:bold 11px sans-serif;color:#222;
  text-shadow:0 0 2px #fff,0 0 2px #fff;white-space:nowrap}
.gc-icon{border-radius:50%;color:#fff;font:bold 11px/18px sans-serif;text-align:center;
  width:18px;height:18px;border:1px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6)}
.gc-site{color:#6a3d9a;font:bold 22px/22px sans-serif;text-shadow:0 0 3px #fff}
.leaflet-control-layers{font-size:12px;line-height:1.3}
.leaflet-control-layers-overlays label{margin:1px 0}
</style>
"""


def base_map(data: MapData, *, lang: str = "zh", basemap: str = "offline",
             local_assets: bool = True) -> folium.Map:
    """The part of the map that does not change with the services shown or the walking
    settings: roads, buildings, communities, grids with their numbers, households, the
    scale and the credit.

    Parameters
    ----------
    data
        From :func:`base_data`.
    basemap
        ``"offline"``: only the area's own roads and buildings (for intranets without
        internet); ``"osm"``: OpenStreetMap tiles underneath (needs internet).
    local_assets
        Serve Leaflet from the page (``static/vendor``) instead of public CDNs.
    """
    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=False,
                      zoom_snap=0.25)
    west, south, east, north = data.bounds
    fmap.fit_bounds([[south, west], [north, east]])
    # streamlit-folium asks the map for its bounds, which folium computes by walking every
    # coordinate in Python; the study area's bounds are known, so answer at once.
    fmap.get_bounds = lambda: [[south, west], [north, east]]
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=t("map.basemap_osm", lang),
                         attr=OSM_CREDIT_HTML, control=False).add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(
        LEGEND_CSS + ("<style>.leaflet-container{background:#f4f1ea;}</style>"
                      if basemap != "osm" else "")))
    for pane, z in PANES.items():
        folium.map.CustomPane(pane, z_index=z, pointer_events=True).add_to(fmap)

    group = folium.FeatureGroup(name=t("map.roads", lang))
    folium.GeoJson(data.roads, name=t("map.roads", lang), control=False).add_to(group)
    group.add_to(fmap)
    if data.buildings is not None:
        folium.GeoJson(data.buildings, name=t("map.buildings", lang)).add_to(fmap)

    folium.GeoJson(data.communities, name=t("map.communities", lang),
                   tooltip=_tooltip(*_fields(data.communities, {
                       "community_id": t("map.community_id", lang),
                       "name": t("map.name", lang),
                       "households": t("map.households_n", lang)}))).add_to(fmap)

    if data.grids is not None:
        grid_group = folium.FeatureGroup(name=t("map.grids", lang))
        folium.GeoJson(data.grids, pane="gc-grids", tooltip=_tooltip(*_fields(data.grids, {
            "grid_id": t("map.grid_id", lang), "households": t("map.households_n", lang),
            "status": t("map.band", lang), "reason": t("map.reason", lang)}))).add_to(grid_group)
        if data.grid_labels is not None:
            folium.GeoJson(data.grid_labels, marker=folium.Marker(icon=folium.DivIcon()),
                           on_each_feature=folium.JsCode(
                               "function(f, layer){layer.setIcon(L.divIcon({className:"
                               "'gc-label', html: f.properties.label, iconSize: null}));}"),
                           ).add_to(grid_group)
        grid_group.add_to(fmap)

    if data.households is not None:
        folium.GeoJson(data.households, name=t("map.households", lang),
                       marker=folium.CircleMarker(radius=3, color="#444444", weight=0.5,
                                                  fill=True, fill_color="#666666",
                                                  fill_opacity=0.7),
                       tooltip=_tooltip(*_fields(data.households, {
                           "unit_id": t("map.unit_id", lang),
                           "households": t("map.households_n", lang),
                           "hh_source": t("map.hh_source", lang),
                           "grid_id": t("map.grid_id", lang)}))).add_to(fmap)
    elif data.household_heat:
        from folium.plugins import HeatMap

        HeatMap(data.household_heat, name=t("map.households_heat", lang), radius=14,
                blur=12, min_opacity=0.3).add_to(fmap)

    credit = OSM_CREDIT_HTML if (data.osm_derived or basemap == "osm") else ""
    code = "L.control.scale({imperial: false}).addTo({map});"
    if credit:
        code += f"{{map}}.attributionControl.addAttribution({json.dumps(credit)});"
    _Script(code).add_to(fmap)
    return localise(fmap) if local_assets else fmap


def service_groups(data: MapData, services: tuple[ServiceData, ...] = (), *,
                   lang: str = "zh", band: tuple[int, int] = (200, 300),
                   names: dict[str, str] | None = None,
                   minutes: tuple[float, ...] = (5, 10, 15), sites: dict | None = None,
                   local_assets: bool = True) -> list[folium.FeatureGroup]:
    """The part of the map that changes with the services shown and the walking settings:
    service areas and gaps per service, the facilities (of the services shown, and the
    others), proposed sites, and the legend, one feature group each.

    The page sends these beside the :func:`base_map` (streamlit-folium's
    ``feature_group_to_add``), so that another service or walking speed swaps these
    groups in the map already on screen instead of drawing the whole map again. The last
    group draws nothing: it replaces the legend and switches off the groups that start
    hidden (streamlit-folium adds every group it is given to the map).

    Parameters
    ----------
    data, services
        From :func:`base_data` and :func:`service_data`.
    names
        Service key → display name.
    sites
        Proposed sites of a siting what-if (:func:`sites_json`).
    """
    names = names or {}
    groups: list[folium.FeatureGroup] = []
    for svc in services:
        label = names.get(svc.service, svc.service)
        if svc.areas is not None:
            group = folium.FeatureGroup(name=t("map.service_area_of", lang, service=label))
            folium.GeoJson(svc.areas, pane="gc-areas", tooltip=_tooltip(*_fields(svc.areas, {
                "minutes": t("map.minutes", lang)}))).add_to(group)
            groups.append(group)
        if svc.gaps is not None:
            group = folium.FeatureGroup(name=t("map.gaps_of", lang, service=label))
            folium.GeoJson(svc.gaps, pane="gc-gaps", tooltip=_tooltip(*_fields(svc.gaps, {
                "rank": t("map.rank", lang),
                "households": t("map.households_n", lang)}))).add_to(group)
            groups.append(group)

    shown = {svc.service for svc in services}
    icons = {service: {"c": SERVICE_COLOURS.get(service, "#000000"),
                       "g": t(f"icon.{service}", lang) if f"icon.{service}" in _keys() else "•"}
             for service in data.facilities}
    # One layer per group, each icon made in the browser from its feature's service: a
    # layer (and a tooltip, and their templates) per service made every map render slow.
    on_each = folium.JsCode(
        "function(f, layer){var s = " + json.dumps(icons, ensure_ascii=False)
        + "[f.properties.service] || {c: '#000000', g: '•'};"
        "layer.setIcon(L.divIcon({className: 'gc-fac', iconSize: [18, 18], iconAnchor: [9, 9],"
        " html: '<div class=\"gc-icon\" style=\"background:' + s.c + '\">' + s.g + '</div>'}));}")
    for main, label, visible in ((True, "map.facilities", True),
                                 (False, "map.facilities_other", False)):
        chosen = [(service, fc) for service, fc in data.facilities.items()
                  if (service in shown or not shown) == main]
        if not chosen and not main:
            continue
        options = {} if visible else {"gcHidden": True}
        group = folium.FeatureGroup(name=t(label, lang), show=visible, **options)
        features = [{**f, "properties": {**f["properties"], "service": service,
                                         "kind": names.get(service, service)}}
                    for service, fc in chosen for f in fc["features"]]
        if features:
            fc = {"type": "FeatureCollection", "features": features}
            folium.GeoJson(fc, marker=folium.Marker(icon=folium.DivIcon()),
                           on_each_feature=on_each,
                           tooltip=_tooltip(*_fields(fc, {"kind": t("page.col_service", lang),
                                                          "name": t("map.name", lang)}))
                           ).add_to(group)
        groups.append(group)

    if sites is not None and sites["features"]:
        group = folium.FeatureGroup(name=t("map.sites", lang))
        folium.GeoJson(sites, marker=folium.Marker(
            icon=folium.DivIcon(html='<div class="gc-site">★</div>', icon_size=(22, 22),
                                icon_anchor=(11, 11), class_name="gc-sitei")),
            tooltip=_tooltip(*_fields(sites, {"rank": t("map.rank", lang),
                                              "added_households": t("map.added", lang)}))
        ).add_to(group)
        groups.append(group)

    drawn = tuple(s.service for s in services if s.areas is not None or s.gaps is not None)
    legend = _legend(lang, band if data.grids is not None else None, drawn, names, minutes)
    code = ("if (window.gcLegend) { window.gcLegend.remove(); window.gcLegend = null; }"
            "{map}.eachLayer(function(l){ if (l.options && l.options.gcHidden) {"
            " {map}.removeLayer(l); } });")
    if legend:
        code += ("window.gcLegend = L.control({position: 'bottomright'});"
                 "window.gcLegend.onAdd = function(){"
                 "var d = L.DomUtil.create('div', 'gc-legend');"
                 f"d.innerHTML = {json.dumps(legend, ensure_ascii=False)}; return d;}};"
                 "window.gcLegend.addTo({map});")
    controls = folium.FeatureGroup(name="gc-controls", control=False)
    _Script(code).add_to(controls)
    groups.append(controls)
    return [localise(g) for g in groups] if local_assets else groups


def build_map(data: MapData, services: tuple[ServiceData, ...] = (), *, lang: str = "zh",
              basemap: str = "offline", band: tuple[int, int] = (200, 300),
              names: dict[str, str] | None = None, minutes: tuple[float, ...] = (5, 10, 15),
              sites: dict | None = None, local_assets: bool = True) -> folium.Map:
    """The whole map as one folium object: :func:`base_map`, :func:`service_groups` and a
    layer control (for tests, saved HTML and notebooks; the page sends the same pieces
    apart, see ``ui/page.py``). Parameters as for those two functions."""
    fmap = base_map(data, lang=lang, basemap=basemap, local_assets=False)
    for group in service_groups(data, services, lang=lang, band=band, names=names,
                                minutes=minutes, sites=sites, local_assets=False):
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return localise(fmap) if local_assets else fmap


def _keys() -> dict:
    from geo.i18n import table

    return table()


def _fields(fc: dict, wanted: dict[str, str]) -> tuple[list[str], list[str]]:
    """Tooltip fields present in a FeatureCollection, with their translated aliases."""
    first = fc["features"][0]["properties"] if fc.get("features") else {}
    keys = [k for k in wanted if k in first]
    return keys, [wanted[k] for k in keys]


def view_of(bounds: tuple[float, float, float, float], *, width_px: int = 800,
            height_px: int = 600) -> tuple[list[float], float]:
    """Centre ``[lat, lon]`` and zoom that fit WGS84 ``bounds`` (west, south, east, north)."""
    west, south, east, north = bounds
    lat = (south + north) / 2
    # Web Mercator: pixels per degree of longitude are 256·2^z/360 at every latitude;
    # a degree of latitude is longer by 1/cos(latitude).
    span_x = max(east - west, 1e-5)
    span_y = max(north - south, 1e-5) / math.cos(math.radians(lat))
    fit = min(math.log2(360 * width_px / 256 / span_x), math.log2(360 * height_px / 256 / span_y))
    zoom = max(3.0, min(18.0, math.floor((fit - 0.25) * 4) / 4))
    return [lat, (west + east) / 2], zoom


__all__ = ["MapData", "MapLimits", "ServiceData", "band_class", "base_data", "base_map",
           "build_map", "service_groups", "geojson", "heat_points", "merged", "service_data", "sites_json", "view_of"]
