"""The grid editing map and what the editing panel says about a selection.

* :func:`edit_map`: grids (flagged ones outlined red) with their numbers where they fit,
  units, a drawing tool, a metres-only scale; it keeps the planner's view across clicks
  and edits (the view is kept in the browser, so panning never reruns the page); every
  text from data is escaped (:mod:`ui.maphtml`). The page sends it in two parts: the
  base (:func:`edit_base`), drawn once per area, and the grids and units
  (:func:`edit_groups`), swapped into the map on screen after each edit or selection.
* :func:`unit_names`: units named as people name them — the building's (or compound's)
  name and the part number — instead of ids such as ``way/123527440:2``.
* :func:`neighbour_grid`: the grid a selection touches most, the natural target of a move.
* :func:`grids_touch`: whether two grids share a boundary (a merge of grids that do not
  needs a confirmation first).

Plain functions, tested without Streamlit.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import Draw

from analysis.project import Project
from geo.grids.rules import flagged
from geo.i18n import t
from ui import assets, mapdata
from ui.maphtml import (ESCAPE_JS, LABELS_JS, TOOLTIP_CSS, Script, esc, js_string, on_canvas,
                         tooltip)
from ui.memo import PerObject

MAX_UNIT_MARKERS = 20_000
TOUCH_M = 0.5
NEAR_M = 100.0
ROAD_STYLE = {"arterial": ("#d9a441", 3.0)}  # every other class: thin grey
PALETTE = ("#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
           "#80b1d3", "#fccde5", "#ccebc5")
_NAMES: PerObject[dict[str, str]] = PerObject()  # per grid state and language


# ------------------------------------------------------------------------ unit names


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def unit_names(project: Project, lang: str) -> dict[str, str]:
    """Unit id → a name people use: "<building or compound name> · 第 2/5 部分", unnamed
    buildings numbered within their grid ("无名楼栋 3 · C01-03"); every name unique."""
    state = project.session.state
    return _NAMES.get(state, lambda: _unit_names(project, lang), extra=lang)


def _unit_names(project: Project, lang: str) -> dict[str, str]:
    state = project.session.state
    cells = state.cells
    units = cells["unit_id"].to_numpy()
    has = pd.notna(units)
    ids = [str(u) for u in units[has]]
    grid = [str(g) for g in np.asarray(state.grid_of_cell)[has]]
    hh = project.layers.get("households")
    info = pd.DataFrame(index=pd.Index(ids, name="unit_id"))
    if isinstance(hh, pd.DataFrame) and "unit_id" in hh.columns:
        keep = [c for c in ("building_id", "compound_id", "part") if c in hh.columns]
        info = info.join(hh.drop_duplicates("unit_id").set_index("unit_id")[keep])
    names: dict[str, str] = {}
    buildings = project.layers.get("buildings")
    if isinstance(buildings, pd.DataFrame) and {"building_id", "name"} <= set(buildings.columns):
        names = {str(b): _text(n) for b, n in zip(buildings["building_id"], buildings["name"])
                 if _text(n)}
    column = {c: (info[c].to_dict() if c in info.columns else {})
              for c in ("building_id", "compound_id", "part")}
    out: dict[str, str] = {}
    unnamed: dict[tuple[str, str], int] = {}
    in_grid: Counter = Counter()  # unnamed buildings numbered so far in each grid
    for uid, gid in zip(ids, grid):
        building = _text(column["building_id"].get(uid))
        name = names.get(building, "")
        if not name:
            name = names.get(_text(column["compound_id"].get(uid)), "")
        if not name:
            key = (gid, building or uid)
            if key not in unnamed:
                in_grid[gid] += 1
                unnamed[key] = in_grid[gid]
            name = t("edit.unit_unnamed", lang, n=unnamed[key], grid=gid)
        part = _text(column["part"].get(uid))
        if part and part not in ("1/1", "1"):
            name = f"{name} · {t('edit.unit_part', lang, part=part)}"
        out[uid] = name
    counts = Counter(out.values())
    seen: Counter = Counter()
    for uid in ids:  # two units with the same name: number them
        if counts[out[uid]] > 1:
            seen[out[uid]] += 1
            out[uid] = f"{out[uid]} ({seen[out[uid]]})"
    return out


def selection_households(project: Project, units: list[str]) -> int:
    """Households in the selected units."""
    cells = project.session.state.cells
    return int(cells.loc[cells["unit_id"].isin(list(units)), "households"].sum())


# ------------------------------------------------------------------------ neighbours


def neighbour_grid(project: Project, units: list[str]) -> str | None:
    """The grid (other than the selection's own) whose cells share the longest boundary
    with the selected units' cells; when none touches (grids apart across a street), the
    nearest grid within :data:`NEAR_M`; None when there is none."""
    state = project.session.state
    cells = state.cells
    owner = np.asarray(state.grid_of_cell).astype(str)
    chosen = cells["unit_id"].isin(list(units)).to_numpy()
    if not chosen.any():
        return None
    own = set(owner[chosen])
    picked = shapely.union_all(cells.geometry.to_numpy()[chosen])
    others = np.flatnonzero(~chosen & ~np.isin(owner, list(own)))
    if not len(others):
        return None
    geoms = cells.geometry.to_numpy()[others]
    tree = shapely.STRtree(geoms)
    hit = tree.query(picked, predicate="dwithin", distance=TOUCH_M)
    if len(hit):
        shared = shapely.length(shapely.intersection(
            shapely.buffer(geoms[hit], TOUCH_M), shapely.boundary(picked)))
        totals: dict[str, float] = {}
        for k, length in zip(hit, shared):
            gid = owner[others[k]]
            totals[gid] = totals.get(gid, 0.0) + float(length)
        return max(sorted(totals), key=lambda g: totals[g])
    near = tree.query(picked, predicate="dwithin", distance=NEAR_M)
    if not len(near):
        return None
    dist = shapely.distance(geoms[near], picked)
    best = min(range(len(near)), key=lambda k: (dist[k], owner[others[near[k]]]))
    return str(owner[others[near[best]]])


def grids_touch(project: Project, first: str, second: str) -> bool:
    """Whether two grids share a boundary (within :data:`TOUCH_M`)."""
    grids = project.session.state.grids.set_index("grid_id")
    if first not in grids.index or second not in grids.index:
        return False
    return bool(shapely.dwithin(grids.geometry[first], grids.geometry[second], TOUCH_M))


# ------------------------------------------------------------------------ the map


def view_key(project: Project) -> str:
    """Names the area in the browser's memory of the map view (the same across edits)."""
    area = str(project.meta.get("area") or "")
    x0, y0, x1, y1 = project.session.state.cells.total_bounds
    return hashlib.blake2b(f"{area}|{x0:.0f}|{y0:.0f}|{x1:.0f}|{y1:.0f}".encode(),
                           digest_size=8).hexdigest()


KEEP_VIEW_JS = """
(function(map){
  var key = 'gcEditView:' + %s;
  try {
    var kept = JSON.parse(window.sessionStorage.getItem(key) || 'null');
    if (kept && kept.z) { map.setView([kept.lat, kept.lng], kept.z, {animate: false}); }
  } catch (e) {}
  map.on('moveend', function(){
    var c = map.getCenter();
    try { window.sessionStorage.setItem(key, JSON.stringify({lat: c.lat, lng: c.lng, z: map.getZoom()})); }
    catch (e) {}
  });
})({map});
"""


_ROADS: PerObject[list[dict]] = PerObject()


def _road_features(roads: gpd.GeoDataFrame) -> list[dict]:
    """The roads as GeoJSON features (arterials, then the rest), made once per roads
    layer: a grid edit changes no road, and the editing map is drawn after every edit."""
    return _ROADS.get(roads, lambda: _roads_json(roads))


def _roads_json(roads: gpd.GeoDataFrame) -> list[dict]:
    features = []
    arterial = roads["road_class"] == "arterial"
    for part, (colour, weight) in ((roads[arterial], ROAD_STYLE["arterial"]),
                                   (roads[~arterial], ("#b8b8b8", 1.0))):
        if len(part):
            one = mapdata.merged(part)
            features += mapdata.geojson(one, simplify_m=1.5, style=[
                {"color": colour, "weight": weight, "opacity": 0.9}] * len(one))["features"]
    return features


def edit_base(project: Project, *, lang: str = "zh") -> folium.Map:
    """The part of the editing map that grid edits leave as it is: roads, the drawing
    tool, a metres-only scale, the data credit and the view kept in the browser. Its
    extent is the units', which edits do not change."""
    state = project.session.state
    x0, y0, x1, y1 = gpd.GeoSeries(state.cells.geometry,
                                   crs=state.crs).to_crs(4326).total_bounds
    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=True)
    fmap.get_root().html.add_child(folium.Element(
        "<style>.leaflet-container{background:#f4f1ea;}"
        ".gc-label{background:none;border:none;font:bold 11px sans-serif;color:#222;"
        "text-shadow:0 0 2px #fff,0 0 2px #fff;white-space:nowrap}</style>" + TOOLTIP_CSS))
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    fmap.get_bounds = lambda: [[y0, x0], [y1, x1]]  # known: no need to walk every vertex
    Script(ESCAPE_JS).add_to(fmap)
    roads = project.layers.get("roads")
    if isinstance(roads, gpd.GeoDataFrame) and len(roads) and len(roads) <= 50_000:
        folium.GeoJson({"type": "FeatureCollection", "features": _road_features(roads)},
                       name=t("map.roads", lang)).add_to(fmap)
    Draw(export=False, position="topleft",
         draw_options={"polyline": False, "circle": False, "marker": False,
                       "circlemarker": False, "polygon": True, "rectangle": True},
         edit_options={"edit": False, "remove": True}).add_to(fmap)
    credit = project.credit or "Gridcircle"
    fmap.get_root().html.add_child(folium.Element(
        '<div class="gc-credit" style="position:absolute;bottom:20px;right:4px;z-index:9999;'
        f'background:rgba(255,255,255,.8);font-size:11px;padding:1px 4px">{esc(credit)}</div>'))
    Script("L.control.scale({imperial: false, metric: true}).addTo({map});"
           + KEEP_VIEW_JS % js_string(view_key(project))).add_to(fmap)
    return assets.localise(fmap)


def edit_groups(project: Project, *, lang: str = "zh", selected: list[str] = (),
                highlight: list[str] = ()) -> list[folium.FeatureGroup]:
    """The part of the editing map that edits and selections change: the grids (flagged
    ones outlined red, ``highlight`` ones thick) with their numbers where they fit, and
    the units (``selected`` ones drawn larger), one feature group each. The page swaps
    them into the map on screen (:func:`ui.mapframe.render_groups`), which keeps its
    view; every layer carries its style in its features, so the map stays light."""
    state = project.session.state
    grids = state.grids
    highlight = set(highlight)
    data = grids[["grid_id", "name", "households", "in_band", "contiguous", "arterial_crossings",
                  "locked", "geometry"]].copy()
    flag = flagged(data).to_numpy()
    lit = data["grid_id"].isin(highlight).to_numpy()
    data["locked"] = data["locked"].astype(bool).map({True: t("edit.locked_yes", lang),
                                                      False: ""})
    # a grid's colour follows its id, so an edit never recolours the grids it left alone
    style = [{"fillColor": PALETTE[zlib.crc32(str(g).encode()) % len(PALETTE)],
              "fillOpacity": 0.45,
              "color": "#e31a1c" if f else "#333333", "weight": 4 if h else 2 if f else 1}
             for g, f, h in zip(data["grid_id"], flag, lit)]
    grid_group = folium.FeatureGroup(name=t("edit.map_grids", lang), control=False)
    folium.GeoJson(
        mapdata.geojson(data, ["grid_id", "name", "households", "locked"], style=style,
                        keep=True),
        tooltip=tooltip(["grid_id", "name", "households", "locked"],
                        [t("edit.col.grid", lang), t("edit.col.name", lang),
                         t("edit.col.households", lang), t("edit.col.locked", lang)])
    ).add_to(grid_group)
    boxes = gpd.GeoSeries(grids.geometry, crs=state.crs).to_crs(4326).bounds.round(5)
    points = gpd.GeoDataFrame(
        {"label": grids["grid_id"].astype(str).to_numpy(),
         "bbox": [list(b) for b in boxes.to_numpy()],
         "size": grids.geometry.area.round(0).to_numpy()},
        geometry=grids.geometry.representative_point().to_numpy(), crs=state.crs)
    labels = folium.GeoJson(
        mapdata.geojson(points, ["label", "bbox", "size"], keep=True),
        marker=folium.Marker(icon=folium.DivIcon()),
        on_each_feature=folium.JsCode(
            "function(f, layer){layer.setIcon(L.divIcon({className: 'gc-label', "
            "html: window.gcEsc(f.properties.label), iconSize: null}));}"))
    labels.add_to(grid_group)
    Script(LABELS_JS % labels.get_name()).add_to(grid_group)
    groups = [grid_group]
    cells = state.cells
    has = pd.notna(cells["unit_id"]).to_numpy()
    if 0 < has.sum() <= MAX_UNIT_MARKERS:
        units = cells["unit_id"].to_numpy()[has]
        hh = cells["households"].to_numpy()[has]
        grid = state.grid_of_cell[has]
        named = unit_names(project, lang)
        chosen = set(selected)
        on = np.array([u in chosen for u in units], dtype=bool)
        unit = t("map.hh_unit", lang)
        labels = [f"{named.get(str(u), u)} · {n} {unit} · {g}" for u, n, g in zip(units, hh, grid)]
        style = [{"radius": 8, "color": "#08306b", "weight": 3, "fillColor": "#ffd400",
                  "fillOpacity": 1} if o else
                 {"radius": 3, "color": "#555555", "weight": 0.5} for o in on]
        unit_group = folium.FeatureGroup(name=t("map.households", lang), control=False)
        points = mapdata.collection(_unit_points(cells, has), len(labels),
                                    {"label": labels}, style)
        folium.GeoJson(points,
                       marker=on_canvas(folium.CircleMarker(radius=3, fill=True, fill_opacity=0.9)),
                       tooltip=tooltip(["label"], [""], labels=False)).add_to(unit_group)
        groups.append(unit_group)
    return [assets.localise(group) for group in groups]


_POINTS: PerObject[dict[int, dict]] = PerObject()


def _unit_points(cells: gpd.GeoDataFrame, has: np.ndarray) -> dict[int, dict]:
    """The units' points (a point on each unit's cell; GeoJSON, WGS84), made once per
    cells layer: an edit reassigns cells to grids, it moves no cell."""
    return _POINTS.get(cells, lambda: mapdata.shapes(
        shapely.point_on_surface(cells.geometry.to_numpy()[has]), cells.crs))


def edit_map(project: Project, *, lang: str = "zh", selected: list[str] = (),
             highlight: list[str] = ()) -> folium.Map:
    """The whole editing map in one (:func:`edit_base` with :func:`edit_groups` on it),
    for notebooks and checks; the page sends the two parts apart."""
    fmap = edit_base(project, lang=lang)
    for group in edit_groups(project, lang=lang, selected=selected, highlight=highlight):
        group.add_to(fmap)
    return fmap


__all__ = ["edit_base", "edit_groups", "edit_map", "grids_touch", "neighbour_grid",
           "selection_households", "unit_names", "view_key"]
