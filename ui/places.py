"""Where a gap or a proposed site is, in the words a planner uses: its community, its grid
and the nearest named street ("学院路社区 · 网格 C01-03 · 近 学院路").

The places are looked up once per layer (kept beside the frame it was made from), so a
rerun that shows the same gaps does no spatial work. Names come from data and are
returned as plain text; whoever shows them escapes them. No Streamlit here.
"""

from __future__ import annotations

import weakref

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.i18n import t
from ui.memo import PerObject
from geo.grids.reasons import name_text

STREET_WITHIN_M = 300.0
_MEMO: dict[tuple, tuple[tuple, list[dict]]] = {}


def _name(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def community_names(communities: gpd.GeoDataFrame | None, lang: str) -> dict[str, str]:
    """Each community's name in ``lang``: a derived community's stored ``name_key``
    (e.g. "西2家园一带" / "around 西2家园") read in the page's language, else its mapped
    name, else its id."""

    if communities is None or not len(communities) or "community_id" not in communities:
        return {}
    index = communities.index
    names = communities["name"] if "name" in communities.columns else pd.Series("", index=index)
    keys = (communities["name_key"] if "name_key" in communities.columns
            else pd.Series("", index=index))
    out = {}
    for cid, name, key in zip(communities["community_id"].astype(str), names, keys):
        shown = name_text(key, lang) if isinstance(key, str) and key.strip() else _name(name)
        out[cid] = _name(shown) or cid
    return out


def place_parts(geoms: gpd.GeoSeries, *, communities: gpd.GeoDataFrame | None,
                grids: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None) -> list[dict]:
    """Per geometry: ``community`` (name, else id), ``grid`` (id) and ``street`` (the
    nearest named road within :data:`STREET_WITHIN_M`), each "" when unknown.

    All frames in the same metric CRS as ``geoms``.
    """
    points = gpd.GeoDataFrame(geometry=geoms.representative_point().to_numpy(),
                              crs=geoms.crs)
    out = [{"community": "", "grid": "", "street": ""} for _ in range(len(points))]
    if not len(points):
        return out
    if communities is not None and len(communities):
        names = (communities["name"] if "name" in communities.columns
                 else pd.Series("", index=communities.index))
        ids = communities.get("community_id", pd.Series("", index=communities.index))
        frame = gpd.GeoDataFrame({"c_label": [(_name(n) or _name(i)) for n, i in zip(names, ids)],
                                  "c_id": [_name(i) for i in ids]},
                                 geometry=communities.geometry.to_numpy(), crs=communities.crs)
        hit = gpd.sjoin(points, frame, how="left", predicate="within")
        hit = hit[~hit.index.duplicated()]
        for k, (label, cid) in enumerate(zip(hit["c_label"].to_numpy(), hit["c_id"].to_numpy())):
            out[k]["community"] = _name(label)
            out[k]["community_id"] = _name(cid)
    if grids is not None and len(grids) and "grid_id" in grids.columns:
        frame = gpd.GeoDataFrame({"g_label": grids["grid_id"].astype(str).to_numpy()},
                                 geometry=grids.geometry.to_numpy(), crs=grids.crs)
        hit = gpd.sjoin_nearest(points, frame, how="left", max_distance=50.0)
        hit = hit[~hit.index.duplicated()]
        for k, label in enumerate(hit["g_label"].to_numpy()):
            out[k]["grid"] = _name(label)
    if roads is not None and len(roads) and "name" in roads.columns:
        frame = _named_streets(roads)
        if len(frame):
            hit = gpd.sjoin_nearest(points, frame, how="left", max_distance=STREET_WITHIN_M)
            hit = hit[~hit.index.duplicated()]
            for k, label in enumerate(hit["s_label"].to_numpy()):
                out[k]["street"] = _name(label)
    return out


_STREETS: PerObject[gpd.GeoDataFrame] = PerObject()


def _named_streets(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The named roads (``s_label``), one per name and geometry, kept per roads frame."""
    return _STREETS.get(roads, lambda: _streets_of(roads))


def _streets_of(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    labels = roads["name"].map(_name)
    named = roads[labels != ""]
    frame = gpd.GeoDataFrame({"s_label": labels[labels != ""].to_numpy()},
                             geometry=named.geometry.to_numpy(), crs=named.crs)
    frame.sindex  # built once
    return frame


def place_text(parts: dict, lang: str, names: dict[str, str] | None = None) -> str:
    """One line: community · grid · near street (the parts that are known); the
    community by its name in ``lang`` when ``names`` (:func:`community_names`) has it."""
    bits = []
    community = (names or {}).get(parts.get("community_id", "")) or parts.get("community")
    if community:
        bits.append(community)
    if parts.get("grid"):
        bits.append(t("page.place_grid", lang, grid=parts["grid"]))
    if parts.get("street"):
        bits.append(t("page.place_street", lang, street=parts["street"]))
    return " · ".join(bits) or t("page.place_unknown", lang)


def places_of(frame: gpd.GeoDataFrame, result, lang: str) -> list[str]:
    """The place of every row of ``frame`` (gaps or proposed sites of ``result``).

    Kept per frame and the layers it is placed in (the page's result is a new object on
    every rerun, its layers are not), so a rerun that shows the same gaps does no
    spatial work; an edit that changes the grids places them again."""
    layers = result.layers
    roads = getattr(getattr(result, "area", None), "roads", None)
    sources = (frame, layers.get("communities"), layers.get("grids"), roads)
    key = tuple(id(x) for x in sources)
    held = _MEMO.get(key)
    if held is None or any(ref() is not x for ref, x in zip(held[0], sources)
                           if x is not None):
        parts = place_parts(frame.geometry, communities=layers.get("communities"),
                            grids=layers.get("grids"), roads=roads)
        if len(_MEMO) > 64:
            _MEMO.clear()
        try:
            _MEMO[key] = (tuple(weakref.ref(x) if x is not None else None for x in sources),
                          parts)
        except TypeError:  # a frame that cannot be referenced weakly: not kept
            pass
        held = (None, parts)
    names = community_names(layers.get("communities"), lang)
    return [place_text(p, lang, names) for p in held[1]]


__all__ = ["community_names", "place_parts", "place_text", "places_of"]
