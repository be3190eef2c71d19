"""Which buildings can hold households, and why the others hold none.

Only homes hold households. A building holds none when its own tags name another use
(a dormitory, a school, a hospital, an office, a shop, a hotel, a factory, ...) or when it
stands inside a site of another use: a campus (``amenity=university|college|school``,
``landuse=education``), a hospital, a military area, a hotel, or commercial, retail or
industrial land. Residential compounds (``landuse=residential``) inside such a site are
kept: staff housing on a campus is mapped that way.

One rule table, used by the household estimate (:mod:`geo.households`), the summary and
the report, which say what was left out and why (counts per reason).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

#: Reasons a building holds no households, in the order reports list them.
REASONS = ("dormitory", "campus", "hospital", "military", "hotel", "office", "commercial",
           "industry", "named", "other", "unknown")
#: Words in a building's name that say it is not a home (中心, 食堂, 会所, 幼儿园 …) and words
#: that say it is one (住宅, 公寓 …, which win): an editable table.
NAME_TABLE = Path(__file__).resolve().parents[2] / "data" / "non_home_names.csv"

#: ``building`` values that are homes wherever they stand.
HOME_BUILDINGS = frozenset({
    "residential", "apartments", "house", "detached", "semidetached_house", "terrace",
    "bungalow", "farm", "static_caravan",
})
#: ``building`` values that are homes only when they stand inside a residential compound.
GENERIC_BUILDINGS = frozenset({"yes", "building", "block"})

#: ``building`` values naming another use, and that use's reason.
BUILDING_REASON = {
    "dormitory": "dormitory",
    "university": "campus", "college": "campus", "school": "campus", "kindergarten": "campus",
    "hospital": "hospital", "clinic": "hospital",
    "barracks": "military", "military": "military", "bunker": "military",
    "hotel": "hotel", "hostel": "hotel", "motel": "hotel",
    "office": "office", "government": "office", "civic": "office", "public": "office",
    "commercial": "commercial", "retail": "commercial", "supermarket": "commercial",
    "kiosk": "commercial", "mall": "commercial",
    "industrial": "industry", "warehouse": "industry", "factory": "industry",
    "manufacture": "industry",
}

#: Tags on a generic building (or on a site) that name another use: ``{key: {value: reason}}``;
#: ``"*"`` matches any value.
TAG_REASON: dict[str, dict[str, str]] = {
    "amenity": {"university": "campus", "college": "campus", "school": "campus",
                "kindergarten": "campus", "hospital": "hospital"},
    "landuse": {"education": "campus", "military": "military", "commercial": "commercial",
                "retail": "commercial", "industrial": "industry"},
    "healthcare": {"hospital": "hospital"},
    "military": {"*": "military"},
    "tourism": {"hotel": "hotel", "hostel": "hotel", "motel": "hotel", "guest_house": "hotel"},
    "office": {"*": "office"},
    "shop": {"*": "commercial"},
}
#: Tags or names that make any building (even one tagged ``residential``) a dormitory.
DORMITORY_TAGS = {"building:use": "dormitory", "residential": "dormitory", "amenity": "dormitory"}
DORMITORY_NAME = re.compile(r"学生公寓|学生宿舍|研究生公寓|留学生公寓|student (?:dormitory|residence|hall)",
                            re.IGNORECASE)
#: Site reasons whose land holds no homes at all (every building inside, except inside a
#: residential compound); on commercial or industrial land only generic buildings are left
#: out (a building tagged ``residential`` there is a home: 商住 mixed developments).
STRICT_SITES = frozenset({"campus", "hospital", "military", "hotel"})
#: Tags that make a polygon a site, and therefore are read from OSM features.
SITE_KEYS = ("amenity", "landuse", "healthcare", "military", "tourism")


def tag_reason(tags: pd.DataFrame, keys: tuple[str, ...] = tuple(TAG_REASON), *,
               dormitories: bool = True) -> pd.Series:
    """The first non-home use each row's tags name (None where none), checked in ``keys``
    order after (with ``dormitories``) the dormitory tags and names (``学生公寓``,
    ``residential=dormitory``)."""
    out = pd.Series(None, index=tags.index, dtype=object)
    for key, value in (DORMITORY_TAGS.items() if dormitories else ()):
        if key in tags.columns:
            out = out.where(tags[key].map(_first) != value, "dormitory")
    if dormitories and "name" in tags.columns:
        named = tags["name"].map(_first).map(lambda v: bool(DORMITORY_NAME.search(v)))
        out = out.where(~named.astype(bool), "dormitory")
    for key in keys:
        if key not in tags.columns:
            continue
        rules = TAG_REASON[key]
        values = tags[key].map(_first).astype(object)
        if "*" in rules:
            hit = values.map(lambda v: rules["*"] if v and v != "no" else None)
        else:
            hit = values.map(rules.get)
        out = out.where(out.notna(), hit)
    return out.astype(object).where(out.notna(), None)


@lru_cache(maxsize=4)
def name_words(path: str = str(NAME_TABLE)) -> tuple[re.Pattern | None, re.Pattern | None]:
    """``(not a home, a home)``: patterns of the name words of :data:`NAME_TABLE`."""
    words: dict[str, list[str]] = {"non_home": [], "home": []}
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            word, kind = (row.get("word") or "").strip(), (row.get("kind") or "").strip()
            if word and kind in words:
                words[kind].append(word)

    def pattern(items: list[str]) -> re.Pattern | None:
        items = sorted(set(items), key=len, reverse=True)
        return re.compile("|".join(map(re.escape, items))) if items else None

    return pattern(words["non_home"]), pattern(words["home"])


def named_other_use(names: pd.Series) -> np.ndarray:
    """Whether each name says its building is not a home (a word of :data:`NAME_TABLE`
    and no word saying it is one): "科技活动中心", "职工食堂", not "3号楼" or "中心住宅楼"."""
    other, home = name_words()
    if other is None or not len(names):
        return np.zeros(len(names), dtype=bool)
    text = names.map(_first)
    hit = text.map(lambda v: bool(other.search(v)) and not (home and home.search(v)))
    return hit.to_numpy(dtype=bool)


def _first(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).split(";")[0].strip()


def sites_from_features(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons of non-residential sites (``site_id``, ``reason``, ``name``) from OSM features.

    Buildings are not sites (their own use is read from their own tags).
    """
    polygonal = features.geometry.geom_type.isin(("Polygon", "MultiPolygon")).to_numpy()
    is_building = (features["building"].notna().to_numpy() if "building" in features.columns
                   else np.zeros(len(features), dtype=bool))
    cand = features[polygonal & ~is_building]
    reason = tag_reason(cand, SITE_KEYS, dormitories=False)
    keep = reason.notna().to_numpy()
    cand = cand[keep]
    names = cand["name"].map(_first) if "name" in cand.columns else pd.Series("", index=cand.index)
    ids = cand["osm_id"] if "osm_id" in cand.columns else pd.Series(
        [f"site/{k}" for k in range(len(cand))], index=cand.index)
    return gpd.GeoDataFrame({"site_id": ids.astype(str).to_numpy(),
                             "reason": reason[keep].to_numpy(), "name": names.to_numpy()},
                            geometry=cand.geometry.to_numpy(), crs=features.crs)


def building_reasons(buildings: gpd.GeoDataFrame, *, in_compound: np.ndarray,
                     sites: gpd.GeoDataFrame | None = None,
                     include_dormitories: bool = False) -> pd.Series:
    """Why each building holds no households (None where it holds some).

    Parameters
    ----------
    buildings
        ``building`` (OSM value); optional ``use`` (a reason from the building's other
        tags, see :func:`tag_reason`); projected.
    in_compound
        Whether each building stands inside a residential compound.
    sites
        Non-residential sites (:func:`sites_from_features`), or None.
    include_dormitories
        Count dormitories as homes (a setting; off by default).
    """
    kind = buildings["building"].map(_first).astype(str).to_numpy() if len(buildings) else np.array([], dtype=str)
    in_compound = np.asarray(in_compound, dtype=bool)
    home = np.isin(kind, list(HOME_BUILDINGS))
    generic = np.isin(kind, list(GENERIC_BUILDINGS))
    reason = pd.Series([BUILDING_REASON.get(k) for k in kind], index=buildings.index, dtype=object)
    own = buildings["use"] if "use" in buildings.columns else pd.Series(None, index=buildings.index)
    own = own.where(own.isin(REASONS), None)
    # the building's other tags decide for generic buildings only (a residential
    # building with shops on the ground floor is still a home); a dormitory is one whatever
    # its building value
    reason = reason.where(~(generic & own.notna().to_numpy()), own)
    dorm = (own == "dormitory").to_numpy() | (kind == "dormitory")
    if include_dormitories:
        reason = reason.where(~dorm, None)
        home = home | dorm
    else:
        reason = reason.where(~dorm, "dormitory")
        home = home & ~dorm
    if sites is not None and len(sites) and len(buildings):
        site = _site_of(buildings, sites)
        strict = site.isin(STRICT_SITES).to_numpy()
        loose = site.notna().to_numpy() & ~strict
        undecided = reason.isna().to_numpy()
        dorm_kept = include_dormitories & dorm
        hit = undecided & ~in_compound & ~dorm_kept & (strict | (loose & generic))
        reason = reason.where(~hit, site)
    # a generic building whose name says it is no home (科技活动中心, 职工食堂) and no
    # site or tag said otherwise holds none, inside a residential compound too
    if "name" in buildings.columns:
        named = generic & reason.isna().to_numpy() & named_other_use(buildings["name"])
        reason = reason.where(~named, "named")
    # what is neither a home nor a named other use: a value like ``transportation``,
    # ``church`` or ``garage`` ("other"), or a generic building outside every residential
    # compound ("unknown": its use is not mapped)
    plain = reason.isna().to_numpy() & ~home & ~(generic & in_compound)
    reason = reason.where(~(plain & ~generic), "other")
    reason = reason.where(~(plain & generic), "unknown")
    return reason


def _site_of(buildings: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> pd.Series:
    """The reason of the (smallest) site each building's representative point lies in."""
    pts = gpd.GeoDataFrame(geometry=buildings.geometry.representative_point(), crs=buildings.crs)
    ordered = sites.assign(_area=sites.area).sort_values("_area", kind="stable")
    hit = pts.sjoin(ordered[["reason", "_area", "geometry"]], predicate="within", how="left")
    hit = hit.sort_values("_area", kind="stable")
    hit = hit[~hit.index.duplicated(keep="first")]
    return hit["reason"].reindex(buildings.index)


def left_out_summary(reasons: pd.Series, buildings: gpd.GeoDataFrame,
                     households: np.ndarray) -> dict:
    """``{reason: {"buildings": n, "households_if_homes": h}}`` for the reasons that occur,
    in :data:`REASONS` order (``other`` only counts buildings that hold a plausible home's
    floor area; garages and sheds below the size limit never reach this)."""
    out = {}
    reasons = reasons.reindex(buildings.index)
    for reason in REASONS:
        mask = (reasons == reason).to_numpy()
        if mask.any():
            out[reason] = {"buildings": int(mask.sum()),
                           "households_if_homes": int(np.asarray(households)[mask].sum())}
    return out


__all__ = ["BUILDING_REASON", "NAME_TABLE", "name_words", "named_other_use", "GENERIC_BUILDINGS", "HOME_BUILDINGS", "REASONS", "SITE_KEYS",
           "STRICT_SITES", "TAG_REASON", "building_reasons", "left_out_summary",
           "sites_from_features", "tag_reason"]
