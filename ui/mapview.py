"""The folium map of a run, drawn with nothing but the vendored Leaflet (:mod:`ui.assets`).

Two steps keep interactions cheap: :mod:`ui.mapdata` turns a run's layers into small
GeoJSON dictionaries (the slow part; the page caches them), and :func:`base_map` and
:func:`service_groups` here assemble the map from those dictionaries (fast): the base, and
the feature groups that change with the services shown and the walking settings, which
the page swaps into the map on screen (:func:`build_map` puts both in one map).

What a planner sees: a collapsed layer control; a compact legend with an entry for every
layer drawn (following the layer control); grid numbers only where they fit; the frequent
services (bus stops, convenience stores) off until asked for; proposed sites large and
numbered; the view fitted to the households and grids; a metres-only scale bar. Every
text from data is escaped (:mod:`ui.maphtml`). Neither imports Streamlit.
"""

from __future__ import annotations

import json
import math

import folium

from geo.i18n import t
from geo.vocabulary import DEFAULT_BAND
from ui.assets import localise
from ui.mapdata import (BAND_COLOURS, DECIMALS, GAP_COLOUR, MINUTE_OPACITY, OSM_CREDIT_HTML,
                        PANES, ROAD_STYLE, SERVICE_COLOURS, SITE_COLOUR, GridData, MapData,
                        MapLimits, ServiceData, area_data, band_class, base_data, geojson,
                        grid_data, heat_points, merged, reason_text, service_data, sites_json,
                        with_grids)
from ui.maphtml import (ESCAPE_JS, LABELS_JS, TOOLTIP_CSS, HideGroup, Script, esc, js_string,
                        on_canvas, tooltip)
from geo.i18n import table

# Services with so many facilities that their icons bury the grids: off until the
# reader turns their layer on.
FREQUENT_SERVICES = ("bus_stop", "convenience")
# The page renders the grid groups and the service groups apart (an edit renders only the
# grids): the service groups are numbered from here, past any number of grid groups.
SERVICE_GROUPS_FROM = 100
GAP_GROUPS_FROM = 200  # and the gaps (rendered apart too: their places name grids)

LEGEND_CSS = """
<style>
.gc-legend{background:rgba(255,255,255,.92);padding:4px 7px;font:11px/1.45 sans-serif;
  border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3);max-width:210px;max-height:45vh;
  overflow-y:auto}
.gc-legend summary{cursor:pointer;font-weight:bold}
.gc-legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;
  border:1px solid #666}
.gc-legend .gc-row{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.gc-legend .gc-note{color:#555;font-size:10px}
.gc-legend .gc-off{display:none}
.gc-label{background:none;border:none;font:bold 11px sans-serif;color:#222;
  text-shadow:0 0 2px #fff,0 0 2px #fff;white-space:nowrap}
.gc-icon{border-radius:50%;color:#fff;font:bold 11px/18px sans-serif;text-align:center;
  width:18px;height:18px;border:1px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6)}
.gc-site{background:#6a3d9a;color:#fff;border:3px solid #fff;border-radius:50%;
  width:30px;height:30px;font:bold 14px/30px sans-serif;text-align:center;
  box-shadow:0 0 0 2px #6a3d9a,0 0 8px rgba(0,0,0,.6)}
.leaflet-control-layers{font-size:12px;line-height:1.3}
.leaflet-control-layers-overlays label{margin:1px 0}
</style>
"""


def layer_control() -> folium.LayerControl:
    """The page's layer control: collapsed to a button, so it covers no map."""
    return folium.LayerControl(collapsed=True)


# ----------------------------------------------------------------------------- legend


def layer_name(text: str) -> str:
    """A layer's name for the layer control, which writes names as HTML: escaped (a
    service's name may come from an uploaded catalogue)."""
    return esc(text)


def _row(layer: str, swatch: str, label: str | None = None) -> str:
    """One legend entry for the layer called ``layer`` (its name as the reader sees it;
    ``data-layer`` holds the name the layer control's events carry, i.e. escaped)."""
    return (f'<div class="gc-row" data-layer="{esc(layer_name(layer))}">{swatch}'
            f'{esc(layer if label is None else label)}</div>')


def _swatch(css: str) -> str:
    return f'<i style="{css}"></i>'


def legend_html(data: MapData, services: tuple[ServiceData, ...], *, lang: str,
                band: tuple[int, int] | None, names: dict[str, str],
                minutes: tuple[float, ...], facilities: list[str], sites: bool) -> str:
    """The legend: one entry per layer the map draws, named as in the layer control
    (``data-layer``), texts escaped."""
    rows = []
    if data.roads.get("features"):
        rows.append(_row(t("map.roads", lang), _swatch(
            f"background:{ROAD_STYLE['arterial'][0]};height:3px;border:none")))
    if data.buildings is not None:
        rows.append(_row(t("map.buildings", lang), _swatch("background:#d9c9ae")))
    if data.communities.get("features"):
        rows.append(_row(t("map.communities", lang),
                         _swatch("border:2px dashed #54278f;background:none")))
    if data.grids is not None and band is not None:
        bands = "".join(_swatch(f"background:{BAND_COLOURS[k]}") for k in ("below", "in", "above"))
        rows.append(_row(t("map.grids", lang), bands, f"{t('map.grids', lang)} "
                         f"({t('map.band_range', lang, low=band[0], high=band[1])})"))
        rows.append('<div class="gc-note">' + " · ".join(
            esc(t(f"map.band_{k}", lang)) for k in ("below", "in", "above")) + "</div>")
    if data.households is not None:
        rows.append(_row(t("map.households", lang),
                         _swatch("background:#666;border-radius:50%")))
    elif data.household_heat:
        rows.append(_row(t("map.households_heat", lang), _swatch(
            "background:linear-gradient(90deg,blue,cyan,lime,yellow,red);width:28px")))
    for svc in services:
        label = names.get(svc.service, svc.service)
        colour = SERVICE_COLOURS.get(svc.service, "#555")
        if svc.areas is not None:
            rows.append(_row(t("map.service_area_of", lang, service=label),
                             _swatch(f"background:{colour};opacity:.6")))
        if svc.gaps is not None:
            rows.append(_row(t("map.gaps_of", lang, service=label), _swatch(
                f"background:rgba(17,17,17,.3);border:2px dashed {GAP_COLOUR}")))
    if any(s.areas is not None for s in services):
        shades = " / ".join(f"{m:g}" for m in sorted(minutes))
        rows.append(f'<div class="gc-note">{esc(t("map.minutes_nested", lang, minutes=shades))}</div>')
    for layer in facilities:
        rows.append(_row(layer, '<i style="background:#fff;border-radius:50%;'
                                'border:3px solid #1f77b4"></i>'))
    if sites:
        rows.append(_row(t("map.sites", lang), _swatch(
            f"background:{SITE_COLOUR};border-radius:50%;border:2px solid #fff")))
    if not rows:
        return ""
    return f"<details open><summary>{esc(t('map.legend', lang))}</summary>{''.join(rows)}</details>"


# ----------------------------------------------------------------------------- map


def base_map(data: MapData, *, lang: str = "zh", basemap: str = "offline",
             local_assets: bool = True) -> folium.Map:
    """The part of the map that does not change with the services shown or the walking
    settings: roads, buildings, communities, grids with their numbers, households, the
    scale and the credit.

    Parameters
    ----------
    data
        From :func:`ui.mapdata.base_data`.
    basemap
        ``"offline"``: only the area's own roads and buildings (for intranets without
        internet); ``"osm"``: OpenStreetMap tiles underneath (needs internet).
    local_assets
        Serve Leaflet from the page (``static/vendor``) instead of public CDNs.
    """
    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=False,
                      zoom_snap=0.25)
    west, south, east, north = data.view
    fmap.fit_bounds([[south, west], [north, east]])
    # streamlit-folium asks the map for its bounds, which folium computes by walking every
    # coordinate in Python; the view's bounds are known, so answer at once.
    fmap.get_bounds = lambda: [[south, west], [north, east]]
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=t("map.basemap_osm", lang),
                         attr=OSM_CREDIT_HTML, control=False).add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(
        LEGEND_CSS + TOOLTIP_CSS + ("<style>.leaflet-container{background:#f4f1ea;}</style>"
                      if basemap != "osm" else "")))
    for pane, z in PANES.items():
        folium.map.CustomPane(pane, z_index=z, pointer_events=True).add_to(fmap)
    Script(ESCAPE_JS).add_to(fmap)

    group = folium.FeatureGroup(name=layer_name(t("map.roads", lang)))
    folium.GeoJson(data.roads, name=t("map.roads", lang), control=False).add_to(group)
    group.add_to(fmap)
    if data.buildings is not None:
        folium.GeoJson(data.buildings, name=layer_name(t("map.buildings", lang))).add_to(fmap)

    folium.GeoJson(data.communities, name=layer_name(t("map.communities", lang)),
                   tooltip=tooltip(*_fields(data.communities, {
                       "community_id": t("map.community_id", lang),
                       "name": t("map.name", lang),
                       "households": t("map.households_n", lang)}))).add_to(fmap)

    for group in grid_groups(data, lang=lang):  # empty when ``data`` has no grid layers
        group.add_to(fmap)

    credit = OSM_CREDIT_HTML if (data.osm_derived or basemap == "osm") else ""
    code = "L.control.scale({imperial: false, metric: true}).addTo({map});"
    if credit:
        code += f"{{map}}.attributionControl.addAttribution({json.dumps(credit)});"  # a constant
    Script(code).add_to(fmap)
    return localise(fmap) if local_assets else fmap


def grid_groups(data: MapData, *, lang: str = "zh") -> list[folium.FeatureGroup]:
    """The grid layers of the map: the grids with their numbers, and the households (a
    point each, or a heat layer). :func:`base_map` draws them when ``data`` has them; the
    page sends them beside a base map drawn without them (:func:`ui.mapdata.area_data`),
    so that a grid edit swaps these groups into the map on screen, which keeps its view,
    instead of drawing the whole map again."""
    groups: list[folium.FeatureGroup] = []
    if data.grids is not None:
        grid_group = folium.FeatureGroup(name=layer_name(t("map.grids", lang)))
        folium.GeoJson(data.grids, pane="gc-grids", tooltip=tooltip(*_fields(data.grids, {
            "grid_id": t("map.grid_id", lang), "name": t("map.name", lang),
            "community": t("map.community_id", lang),
            "households": t("map.households_n", lang),
            "status": t("map.band", lang), "reason": t("map.reason", lang)}))).add_to(grid_group)
        if data.grid_labels is not None:
            labels = folium.GeoJson(
                data.grid_labels, marker=folium.Marker(icon=folium.DivIcon()),
                on_each_feature=folium.JsCode(
                    "function(f, layer){layer.setIcon(L.divIcon({className:"
                    "'gc-label', html: window.gcEsc(f.properties.label), iconSize: null}));}"))
            labels.add_to(grid_group)
            Script(LABELS_JS % labels.get_name()).add_to(grid_group)
        groups.append(grid_group)
    if data.households is not None:
        group = folium.FeatureGroup(name=layer_name(t("map.households", lang)))
        folium.GeoJson(data.households,
                       marker=on_canvas(folium.CircleMarker(
                           radius=3, color="#444444", weight=0.5, fill=True,
                           fill_color="#666666", fill_opacity=0.7)),
                       tooltip=tooltip(*_fields(data.households, {
                           "unit_id": t("map.unit_id", lang),
                           "households": t("map.households_n", lang),
                           "hh_source": t("map.hh_source", lang),
                           "grid_id": t("map.grid_id", lang)}))).add_to(group)
        groups.append(group)
    elif data.household_heat:
        from folium.plugins import HeatMap

        group = folium.FeatureGroup(name=layer_name(t("map.households_heat", lang)))
        HeatMap(data.household_heat, radius=14, blur=12, min_opacity=0.3).add_to(group)
        groups.append(group)
    return groups


def _facility_groups(data: MapData, shown: set[str], names: dict[str, str], lang: str):
    """(layer name, visible, features) of the facility layers: the services shown, the
    frequent services (bus stops, convenience stores; off unless shown), the others
    (off)."""
    frequent = [s for s in FREQUENT_SERVICES if s in data.facilities]
    kinds = (("map.facilities", True,
              [s for s in data.facilities if (s in shown or not shown) and s not in frequent]),
             ("map.facilities_frequent", True, [s for s in frequent if s in shown]),
             ("map.facilities_frequent", False, [s for s in frequent if s not in shown]),
             ("map.facilities_other", False,
              [s for s in data.facilities if shown and s not in shown and s not in frequent]))
    out = []
    for key, visible, chosen in kinds:
        features = [{**f, "properties": {**f["properties"], "service": service,
                                         "kind": names.get(service, service)}}
                    for service in chosen for f in data.facilities[service]["features"]]
        if features:
            out.append((t(key, lang), visible, features))
    return out


# The legend starts folded where it would cover a grid number (a small map, or a small
# area filling it); the planner opens it with one click, and that choice is kept while
# the layers are swapped (an edit, another service) and when the map is drawn again (a
# language switch, another area): the browser tab's sessionStorage holds it.
LEGEND_FOLD_JS = (
    "(function(){ var box = window.gcLegend.getContainer();"
    " var det = box.querySelector('details'); if (!det) { return; }"
    " if (window.gcLegendOpen === undefined) { try {"
    "  var kept = window.sessionStorage.getItem('gcLegendOpen');"
    "  if (kept === '1' || kept === '0') { window.gcLegendOpen = kept === '1'; }"
    " } catch (e) {} }"
    " det.addEventListener('toggle', function(){"
    "  if (det.gcAuto) { det.gcAuto = false; return; } window.gcLegendOpen = det.open;"
    "  try { window.sessionStorage.setItem('gcLegendOpen', det.open ? '1' : '0'); }"
    "  catch (e) {} });"
    " if (window.gcLegendOpen !== undefined) {"
    "  if (det.open !== window.gcLegendOpen) { det.gcAuto = true; det.open = window.gcLegendOpen; }"
    "  return; }"
    " setTimeout(function(){ var r = box.getBoundingClientRect();"
    "  var covers = Array.prototype.some.call(document.querySelectorAll('.gc-label'), function(e){"
    "   if (e.style.visibility === 'hidden') { return false; } var o = e.getBoundingClientRect();"
    "   return o.width > 0 && o.left < r.right && r.left < o.right && o.top < r.bottom"
    "    && r.top < o.bottom; });"
    "  if (covers && det.open) { det.gcAuto = true; det.open = false; } }, 300); })();")


def gap_groups(services: tuple[ServiceData, ...], *, lang: str = "zh",
               names: dict[str, str] | None = None,
               local_assets: bool = True) -> list[folium.FeatureGroup]:
    """One feature group per service's gaps (the gap areas, with their rank, place and
    households), named as the legend names them."""
    names = names or {}
    groups = []
    for svc in services:
        if svc.gaps is None:
            continue
        label = names.get(svc.service, svc.service)
        group = folium.FeatureGroup(name=layer_name(t("map.gaps_of", lang, service=label)))
        folium.GeoJson(svc.gaps, pane="gc-gaps", tooltip=tooltip(*_fields(svc.gaps, {
            "rank": t("map.rank", lang), "place": t("map.place", lang),
            "households": t("map.households_n", lang)}))).add_to(group)
        groups.append(group)
    return [localise(g) for g in groups] if local_assets else groups


def service_groups(data: MapData, services: tuple[ServiceData, ...] = (), *,
                   lang: str = "zh", band: tuple[int, int] = DEFAULT_BAND,
                   names: dict[str, str] | None = None,
                   minutes: tuple[float, ...] = (5, 10, 15), sites: dict | None = None,
                   local_assets: bool = True,
                   with_gaps: bool = True) -> list[folium.FeatureGroup]:
    """The part of the map that changes with the services shown and the walking settings:
    service areas and gaps per service, the facilities, proposed sites, and the legend,
    one feature group each.

    The page sends these beside the :func:`base_map` (streamlit-folium's
    ``feature_group_to_add``), so that another service or walking speed swaps these
    groups in the map already on screen instead of drawing the whole map again. The last
    group draws nothing: it replaces the legend and switches off the groups that start
    hidden (streamlit-folium adds every group it is given to the map).

    Parameters
    ----------
    data, services
        From :func:`ui.mapdata.base_data` and :func:`ui.mapdata.service_data`.
    names
        Service key → display name.
    sites
        Proposed sites of a siting what-if (:func:`ui.mapdata.sites_json`).
    with_gaps
        ``False``: the gaps are left to :func:`gap_groups` (the page renders them apart:
        their places name grids, which an edit changes); the legend still lists them.
    """
    names = names or {}
    groups: list[folium.FeatureGroup] = []
    for svc in services:
        label = names.get(svc.service, svc.service)
        if svc.areas is not None:
            group = folium.FeatureGroup(name=layer_name(t("map.service_area_of", lang, service=label)))
            folium.GeoJson(svc.areas, pane="gc-areas", tooltip=tooltip(*_fields(svc.areas, {
                "minutes": t("map.minutes", lang)}))).add_to(group)
            groups.append(group)
        if with_gaps:
            groups += gap_groups((svc,), lang=lang, names=names, local_assets=False)

    shown = {svc.service for svc in services}
    known = _keys()
    icons = {service: {"c": SERVICE_COLOURS.get(service, "#000000"),
                       "g": t(f"icon.{service}", lang) if f"icon.{service}" in known else "•"}
             for service in data.facilities}
    # One layer per group, each icon made in the browser from its feature's service: a
    # layer (and a tooltip, and their templates) per service made every map render slow.
    on_each = folium.JsCode(
        "function(f, layer){var s = " + js_string(json.dumps(icons, ensure_ascii=False))
        + ";s = JSON.parse(s)[f.properties.service] || {c: '#000000', g: '•'};"
        "layer.setIcon(L.divIcon({className: 'gc-fac', iconSize: [18, 18], iconAnchor: [9, 9],"
        " html: '<div class=\"gc-icon\" style=\"background:' + window.gcEsc(s.c) + '\">'"
        " + window.gcEsc(s.g) + '</div>'}));}")
    facility_layers = []
    for name, visible, features in _facility_groups(data, shown, names, lang):
        group = folium.FeatureGroup(name=layer_name(name), show=visible)
        if not visible:
            # marked in the browser (streamlit-folium drops a group's options) and taken
            # off the map by the last group's script below
            HideGroup().add_to(group)
        fc = {"type": "FeatureCollection", "features": features}
        folium.GeoJson(fc, marker=folium.Marker(icon=folium.DivIcon()),
                       on_each_feature=on_each,
                       tooltip=tooltip(*_fields(fc, {"kind": t("page.col_service", lang),
                                                     "name": t("map.name", lang)}))
                       ).add_to(group)
        groups.append(group)
        if visible:
            facility_layers.append(name)

    has_sites = sites is not None and bool(sites.get("features"))
    if has_sites:
        group = folium.FeatureGroup(name=layer_name(t("map.sites", lang)))
        folium.GeoJson(sites, marker=folium.Marker(icon=folium.DivIcon()),
                       on_each_feature=folium.JsCode(
                           "function(f, layer){layer.setIcon(L.divIcon({className: 'gc-sitei',"
                           " iconSize: [36, 36], iconAnchor: [18, 18], html: '<div class=\"gc-site\">'"
                           " + window.gcEsc(f.properties.rank) + '</div>'}));"
                           "layer.setZIndexOffset(1000);}"),
                       tooltip=tooltip(*_fields(sites, {
                           "rank": t("map.rank", lang), "place": t("map.place", lang),
                           "added_households": t("map.added", lang)}))).add_to(group)
        groups.append(group)

    legend = legend_html(data, services, lang=lang,
                         band=band if data.grids is not None else None, names=names,
                         minutes=minutes, facilities=facility_layers, sites=has_sites)
    code = ("if (window.gcLegend) { window.gcLegend.remove(); window.gcLegend = null; }"
            "var gcHide = function(){ {map}.eachLayer(function(l){"
            " if (l.gcHidden) { {map}.removeLayer(l); l.gcHidden = false; } }); };"
            "gcHide(); setTimeout(gcHide, 0);")
    if legend:
        code += ("window.gcLegend = L.control({position: 'bottomright'});"
                 "window.gcLegend.onAdd = function(){"
                 "var d = L.DomUtil.create('div', 'gc-legend');"
                 f"d.innerHTML = {js_string(legend)};"
                 "L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);"
                 "return d;};"
                 "window.gcLegend.addTo({map});"
                 + LEGEND_FOLD_JS +
                 "if (!window.gcLegendFollows) { window.gcLegendFollows = true;"
                 " var gcFollow = function(e, on){ if (!window.gcLegend) { return; }"
                 "  window.gcLegend.getContainer().querySelectorAll('[data-layer]').forEach("
                 "   function(r){ if (r.getAttribute('data-layer') === e.name) {"
                 "    r.classList.toggle('gc-off', !on); } }); };"
                 " {map}.on('overlayadd', function(e){ gcFollow(e, true); });"
                 " {map}.on('overlayremove', function(e){ gcFollow(e, false); }); }")
    controls = folium.FeatureGroup(name="gc-controls", control=False)
    Script(code).add_to(controls)
    groups.append(controls)
    return [localise(g) for g in groups] if local_assets else groups


def build_map(data: MapData, services: tuple[ServiceData, ...] = (), *, lang: str = "zh",
              basemap: str = "offline", band: tuple[int, int] = DEFAULT_BAND,
              names: dict[str, str] | None = None, minutes: tuple[float, ...] = (5, 10, 15),
              sites: dict | None = None, local_assets: bool = True) -> folium.Map:
    """The whole map as one folium object: :func:`base_map`, :func:`service_groups` and a
    layer control (for tests, saved HTML and notebooks; the page sends the same pieces
    apart, see ``ui/page.py``). Parameters as for those two functions."""
    fmap = base_map(data, lang=lang, basemap=basemap, local_assets=False)
    for group in service_groups(data, services, lang=lang, band=band, names=names,
                                minutes=minutes, sites=sites, local_assets=False):
        group.add_to(fmap)
    layer_control().add_to(fmap)
    return localise(fmap) if local_assets else fmap


def _keys() -> dict:

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


__all__ = ["BAND_COLOURS", "DECIMALS", "FREQUENT_SERVICES", "GAP_GROUPS_FROM", "MINUTE_OPACITY", "MapData", "SERVICE_GROUPS_FROM",
           "GridData", "MapLimits", "SERVICE_COLOURS", "ServiceData", "area_data", "band_class",
           "base_data", "grid_data", "with_grids",
           "base_map", "build_map", "gap_groups", "geojson", "grid_groups", "heat_points", "layer_control", "legend_html",
           "merged", "reason_text", "service_data", "service_groups", "sites_json", "view_of"]
