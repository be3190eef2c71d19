"""The gates tab's map: compound outlines and their gates, the chosen compound highlighted
and zoomed to.

Outlines are coloured by status (walled, no known gate, opened by the planner, not walled);
gates by origin (mapped, inferred from a crossing way, assumed on a side facing a street,
added by the planner). Names come from data and are escaped in every tooltip.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.i18n import t, table
from ui import assets
from ui.maphtml import Script, esc

STATUS_COLOURS = {"gated": "#c0392b", "no_access": "#e67e22", "opened": "#27ae60"}
OTHER_STATUS = "#7f8c8d"
ORIGIN_COLOURS = {"mapped": "#1f4e9c", "inferred": "#8e44ad", "assumed": "#e6a700",
                  "added": "#16a085"}
CHOSEN = "#d7191c"


def households_by_compound(households: gpd.GeoDataFrame | None,
                           compounds: gpd.GeoDataFrame) -> dict[str, int]:
    """Households inside each compound outline, whatever its status (walled or open)."""
    if households is None or not len(households) or not len(compounds):
        return {}
    pts = gpd.GeoDataFrame({"households": households["households"].to_numpy()},
                           geometry=households.geometry.to_numpy(), crs=households.crs)
    outlines = gpd.GeoDataFrame({"compound_id": compounds["compound_id"].astype(str).to_numpy()},
                                geometry=compounds.geometry.to_numpy(), crs=compounds.crs)
    if pts.crs != outlines.crs and pts.crs is not None and outlines.crs is not None:
        pts = pts.to_crs(outlines.crs)
    hit = pts.sjoin(outlines, predicate="within", how="inner")
    hit = hit[~hit.index.duplicated(keep="first")]
    return {str(k): int(v) for k, v in hit.groupby("compound_id")["households"].sum().items()}


def _label(prefix: str, key: str, lang: str) -> str:
    known = table()
    for full in (f"{prefix}{key}", f"gatesmap.{prefix.split('.', 1)[1]}{key}"):
        if full in known:
            return t(full, lang)
    return key


def gates_map(compounds: gpd.GeoDataFrame, access: pd.DataFrame, crs, *, chosen: str | None,
              added: tuple = (), lang: str = "zh") -> folium.Map:
    """Outlines (by status) and gates (by origin) on one map, zoomed to ``chosen``."""
    comps = gpd.GeoDataFrame(compounds[["compound_id", "name", "status"]].copy(),
                             geometry=compounds.geometry.to_numpy(), crs=crs).to_crs(4326)
    fmap = folium.Map(tiles=None, control_scale=False)  # SVG: few shapes, each in the DOM
    Script("L.control.scale({imperial: false, metric: true}).addTo({map});").add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(
        "<style>.leaflet-container{background:#f4f1ea;}</style>"))
    for cid, name, status, geom in zip(comps["compound_id"].astype(str), comps["name"],
                                       comps["status"].astype(str), comps.geometry):
        if geom is None or geom.is_empty:
            continue
        mine = cid == chosen
        colour = CHOSEN if mine else STATUS_COLOURS.get(status, OTHER_STATUS)
        tip = f"{esc(name if isinstance(name, str) and name else cid)} · " \
              f"{esc(_label('gates.status_', status, lang))}"
        folium.GeoJson(shapely.geometry.mapping(geom), tooltip=tip,
                       style_function=lambda _f, c=colour, m=mine: {
                           "color": c, "weight": 4 if m else 1.5, "fillColor": c,
                           "fillOpacity": 0.18 if m else 0.05,
                           "dashArray": None if m else "4 3"}).add_to(fmap)
    if access is not None and len(access):
        pts = gpd.GeoSeries(gpd.points_from_xy(access["x"], access["y"]), crs=crs).to_crs(4326)
        for origin, cid, p in zip(access["origin"].astype(str),
                                  access["compound_id"].astype(str), pts):
            colour = ORIGIN_COLOURS.get(origin, "#333333")
            folium.CircleMarker([p.y, p.x], radius=6 if cid == chosen else 4, color="#ffffff",
                                weight=1, fill=True, fill_color=colour, fill_opacity=1,
                                tooltip=esc(_label("gates.origin_", origin, lang))).add_to(fmap)
    if chosen is not None and (comps["compound_id"].astype(str) == chosen).any():
        x0, y0, x1, y1 = comps[comps["compound_id"].astype(str) == chosen].total_bounds
        pad = max(x1 - x0, y1 - y0) * 0.4 + 1e-4
    else:
        x0, y0, x1, y1 = comps.total_bounds
        pad = 1e-4
    fmap.fit_bounds([[y0 - pad, x0 - pad], [y1 + pad, x1 + pad]])
    items = "".join(
        f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
        f'background:{c};margin-right:4px"></span>{esc(_label("gates.origin_", o, lang))}</div>'
        for o, c in ORIGIN_COLOURS.items())
    items += f'<div><span style="display:inline-block;width:14px;border-top:3px solid {CHOSEN};' \
             f'margin-right:4px"></span>{esc(t("gates.map_chosen", lang))}</div>'
    fmap.get_root().html.add_child(folium.Element(
        '<div style="position:absolute;bottom:24px;right:4px;z-index:9999;'
        'background:rgba(255,255,255,.85);font:11px sans-serif;padding:3px 5px;'
        f'border-radius:3px">{items}</div>'))
    return assets.localise(fmap)


__all__ = ["ORIGIN_COLOURS", "STATUS_COLOURS", "gates_map", "households_by_compound"]
