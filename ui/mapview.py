"""The folium map of a run's layers (WGS84), with the OpenStreetMap credit."""

from __future__ import annotations

import folium
import geopandas as gpd

from analysis.pipeline import OSM_CREDIT, Result
from geo.i18n import t

SERVICE_COLOURS = {
    "community_service": "#1f77b4", "health": "#d62728", "kindergarten": "#ff7f0e",
    "primary_school": "#2ca02c", "middle_school": "#17becf", "elderly_care": "#9467bd",
    "market": "#8c564b", "convenience": "#e377c2", "pharmacy": "#bcbd22",
    "sports": "#7f7f7f", "park": "#98df8a", "bus_stop": "#393b79", "culture": "#ad494a",
}
ROAD_STYLE = {"arterial": ("#e8a33d", 3.0), "local": ("#999999", 1.5), "path": ("#bbbbbb", 0.8)}


def build_map(result: Result, *, lang: str = "zh", basemap: str = "offline") -> folium.Map:
    """A folium map of roads, households and facilities.

    ``basemap`` is ``"offline"`` (only the area's own roads and buildings, for
    intranets without internet) or ``"osm"`` (OpenStreetMap tiles, needs internet).
    """
    area = result.area
    bounds = gpd.GeoSeries([area.boundary], crs=area.crs).to_crs(4326).total_bounds
    credit = OSM_CREDIT if area.osm_derived or basemap == "osm" else "Gridcircle"
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=t("map.basemap_osm", lang), attr=OSM_CREDIT).add_to(fmap)
    else:
        fmap.get_root().html.add_child(folium.Element(
            "<style>.leaflet-container{background:#f4f1ea;}</style>"))
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])

    roads = area.roads.to_crs(4326)
    group = folium.FeatureGroup(name=t("map.roads", lang))
    for cls, (colour, weight) in ROAD_STYLE.items():
        part = roads.loc[roads["road_class"] == cls, ["road_class", "geometry"]]
        if len(part):
            folium.GeoJson(part, style_function=lambda _, c=colour, w=weight: {
                "color": c, "weight": w, "opacity": 0.9}).add_to(group)
    group.add_to(fmap)

    buildings = area.buildings
    if len(buildings) and len(buildings) <= 20_000:
        folium.GeoJson(buildings[["geometry"]].to_crs(4326), name=t("map.buildings", lang),
                       style_function=lambda _: {"color": "#c9b79c", "weight": 0.5,
                                                 "fillOpacity": 0.5}).add_to(fmap)

    hh = result.households.to_crs(4326)
    group = folium.FeatureGroup(name=t("map.households", lang))
    label = t("map.hh_unit", lang)
    for x, y, n, uid in zip(hh.geometry.x, hh.geometry.y, hh["households"], hh["unit_id"]):
        folium.CircleMarker([y, x], radius=2 + min(6, n ** 0.5 / 4), color="#555555", weight=0.5,
                            fill=True, fill_opacity=0.7,
                            tooltip=f"{uid}: {n} {label}").add_to(group)
    group.add_to(fmap)

    fac = result.layers["facilities"].to_crs(4326)
    names = {s.key: s.name(lang) for s in result.catalogue}
    group = folium.FeatureGroup(name=t("map.facilities", lang))
    for x, y, service, name in zip(fac.geometry.x, fac.geometry.y, fac["service"], fac["name"]):
        folium.CircleMarker([y, x], radius=5, color=SERVICE_COLOURS.get(service, "#000"),
                            fill=True, fill_opacity=1.0,
                            tooltip=f"{names.get(service, service)}: {name or ''}").add_to(group)
    group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(
        f'<div class="gc-credit" style="position:absolute;bottom:4px;left:4px;z-index:9999;'
        f'background:rgba(255,255,255,.8);font-size:11px;padding:1px 4px">{credit}</div>'))
    return fmap
