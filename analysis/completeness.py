"""Is the input data complete enough to sign? And the headline counts, as distinct households.

``data_completeness`` (SUMMARY.json, the page's notes, the report's first page):

* the study area's street blocks (bounded by arterial and local roads, at least
  :data:`MIN_BLOCK_M2`) that hold residential data (household units), those whose land is
  mapped as another use (a campus, offices, shops, ...), and those with no data at all;
* per service, the facilities per 10,000 households against a plausible minimum (column
  ``min_per_10k_hh`` of ``data/services.csv``, with its justification in ``min_source``):
  fewer facilities than that is more likely missing data than a missing service, so that
  service's gaps are labelled as data gaps (``cause`` = ``data`` in the ``gaps`` layer);
* one sentence (a translation key and its parameters) saying where the data is thin and
  what to upload.

Headline counts of households are distinct households (:func:`headline_households`): a
household outside the circles of three services counts once in "outside any service", and
per service where a figure is per service. :func:`check_headlines` makes an impossible
figure (more households in a gap than in the area) a bug that stops the run.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalogue import DEFAULT_CATALOGUE, Service
from geo.i18n import t
from geo.vocabulary import minutes_column
from geo.grids.blocks import street_blocks
from geo.households import BUILDING_REASON
from geo.households import left_out
from geo.i18n import note
from geo.i18n import note_by_language

MIN_BLOCK_M2 = 5_000.0  # smaller faces are traffic islands and slivers between carriageways
THIN_BLOCK_SHARE = 0.25  # more block land than this without any data: households are thin
FALLBACK_MIN_PER_10K = {5: 1.2, 10: 0.6, 15: 0.15}  # half of one per life circle (services.csv)
MAX_PLACES = 3


@lru_cache(maxsize=4)
def plausible_minimums(path: str = str(DEFAULT_CATALOGUE)) -> dict[str, float]:
    """``{service: facilities per 10,000 households}`` below which data is likely missing."""
    out = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                out[row["key"].strip()] = float(row.get("min_per_10k_hh") or "nan")
            except ValueError:
                continue
    return {k: v for k, v in out.items() if np.isfinite(v) and v >= 0}


def _minimum(service: Service) -> float:
    known = plausible_minimums()
    if service.key in known:
        return known[service.key]
    return FALLBACK_MIN_PER_10K.get(int(service.level), 0.15)


# ------------------------------------------------------------------------------ blocks


def area_blocks(roads: gpd.GeoDataFrame, boundary: shapely.Geometry, crs) -> gpd.GeoDataFrame:
    """Street blocks of the study area (``block_id``), at least :data:`MIN_BLOCK_M2` each."""

    whole = gpd.GeoDataFrame({"community_id": ["area"]}, geometry=[boundary], crs=crs)
    if roads is None or not len(roads) or "road_class" not in roads.columns:
        return whole.assign(block_id=0)[["block_id", "geometry"]]
    blocks = street_blocks(roads, whole)
    blocks = blocks[blocks.area >= MIN_BLOCK_M2].reset_index(drop=True)
    return blocks[["block_id", "geometry"]]


def block_completeness(blocks: gpd.GeoDataFrame, households: gpd.GeoDataFrame, *,
                       other_use: gpd.GeoDataFrame | None = None,
                       communities: gpd.GeoDataFrame | None = None) -> dict:
    """Blocks holding residential data, mapped as another use, or holding no data.

    Parameters
    ----------
    blocks
        Street blocks (projected).
    households
        Household units (points with ``households``).
    other_use
        Polygons whose land is known to hold no homes (sites and buildings of another use).
    communities
        Communities (``name``/``community_id``) to say where the data-less blocks lie.
    """
    n = len(blocks)
    if not n:
        return {"blocks": 0, "with_households": 0, "other_use": 0, "without_data": 0,
                "share_with_households": None, "share_without_data": None,
                "area_share_without_data": None, "thin_places": []}
    geoms = blocks.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    has_hh = np.zeros(n, dtype=bool)
    if households is not None and len(households):
        held = households[households["households"].to_numpy() > 0] if "households" in households else households
        pts = shapely.point_on_surface(held.geometry.to_numpy())
        _, hit = tree.query(pts, predicate="intersects")
        has_hh[np.unique(hit)] = True
    other = np.zeros(n, dtype=bool)
    if other_use is not None and len(other_use):
        shapes = shapely.make_valid(other_use.geometry.to_numpy())
        pairs_b, pairs_o = tree.query(shapes, predicate="intersects")[::-1]
        covered = np.zeros(n)
        for b, o in zip(pairs_b, pairs_o):
            covered[b] += shapely.area(shapely.intersection(geoms[b], shapes[o]))
        # a block with a building of another use, or half its land in a site, has data
        other = covered > 0
    other &= ~has_hh
    none = ~has_hh & ~other
    areas = shapely.area(geoms)
    out = {
        "blocks": int(n), "with_households": int(has_hh.sum()), "other_use": int(other.sum()),
        "without_data": int(none.sum()),
        "share_with_households": round(float(has_hh.mean()), 4),
        "share_without_data": round(float(none.mean()), 4),
        "area_share_without_data": round(float(areas[none].sum() / areas.sum()), 4)
        if areas.sum() > 0 else None,
        "thin_places": [],
    }
    if communities is not None and len(communities) and none.any():
        out["thin_places"] = _thin_places(blocks[none], communities)
    return out


def _thin_places(empty: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> list[str]:
    """Names of the communities holding the most land of blocks without data."""
    names = communities["name"] if "name" in communities else communities["community_id"]
    names = names.where(names.notna() & (names.astype(str) != ""), communities["community_id"])
    pieces = gpd.overlay(empty[["geometry"]], gpd.GeoDataFrame(
        {"place": names.astype(str).to_numpy()}, geometry=communities.geometry.to_numpy(),
        crs=communities.crs), how="intersection", keep_geom_type=True)
    if not len(pieces):
        return []
    land = pieces.assign(m2=pieces.area).groupby("place")["m2"].sum()
    land = land[land > MIN_BLOCK_M2].sort_values(ascending=False, kind="stable")
    return [str(p)[:40] for p in land.index[:MAX_PLACES]]


# ---------------------------------------------------------------------------- services


def service_density(households: int, facilities: pd.DataFrame,
                    catalogue: Sequence[Service], services: Sequence[str] | None = None) -> dict:
    """Per service: facilities, facilities per 10,000 households, the plausible minimum
    and whether the mapped facilities fall short of it (``thin``)."""
    counts = (facilities["service"].value_counts() if facilities is not None and len(facilities)
              else pd.Series(dtype=int))
    out = {}
    for s in catalogue:
        if services is not None and s.key not in services:
            continue
        n = int(counts.get(s.key, 0))
        minimum = _minimum(s)
        per_10k = n / households * 10_000 if households > 0 else None
        out[s.key] = {"facilities": n,
                      "per_10k_households": round(per_10k, 3) if per_10k is not None else None,
                      "plausible_min_per_10k": minimum,
                      "thin": bool(per_10k is not None and per_10k < minimum)}
    return out


# ---------------------------------------------------------------------------- sentence


def completeness_sentence(blocks: dict, services: dict, names: dict[str, dict[str, str]]) -> dict:
    """The one sentence: ``{"key": ..., "params": {...}}`` (params in both languages where
    they are words: ``{"zh": {...}, "en": {...}}``)."""
    # judged on land, not on the count of blocks: slivers between carriageways are many
    thin_blocks = (blocks.get("area_share_without_data") or 0) > THIN_BLOCK_SHARE
    thin = [k for k, v in services.items() if v["thin"]]
    key = ("completeness.thin_both" if thin_blocks and thin else
           "completeness.thin_blocks" if thin_blocks else
           "completeness.thin_services" if thin else "completeness.ok")
    params = {}
    for lang, sep in (("zh", "、"), ("en", ", ")):
        shown = [names.get(k, {}).get(lang, k) for k in thin[:6]]
        more = len(thin) - len(shown)
        text = sep.join(shown) + (t("completeness.more", lang, count=more) if more > 0 else "")
        places = blocks.get("thin_places") or []
        where = (t("completeness.where", lang, places=sep.join(places)) if places else "")
        params[lang] = {"services": text, "where": where,
                        "blocks_share": f"{(blocks.get('area_share_without_data') or 0):.0%}",
                        "with_share": f"{(blocks.get('share_with_households') or 0):.0%}",
                        "blocks": blocks.get("without_data", 0),
                        "count": len(thin)}
    return {"key": key, "params": params}


def sentence_text(completeness: dict, lang: str) -> str:
    """The completeness sentence in ``lang`` (from ``summary["data_completeness"]``)."""
    sentence = completeness.get("sentence") or {}
    key = sentence.get("key")
    if not key:
        return ""
    params = (sentence.get("params") or {}).get(lang) or {}
    try:
        return t(key, lang, **params)
    except (KeyError, IndexError, ValueError):
        return ""


# ------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class AreaChecks:
    """What the data checks find from the area and its households alone (not from the
    walking settings or the services shown): the street blocks with and without data,
    and the buildings left out by reason. The stage graph keeps it as the ``checks``
    stage, so a change of walking speed or of the services shown does not redo it."""

    blocks: dict
    left_out: dict


def area_checks(area, settings, households: gpd.GeoDataFrame,
                communities: gpd.GeoDataFrame | None) -> AreaChecks:
    """The :class:`AreaChecks` of an area whose households are ``households`` (buildings
    are left out only where some households were estimated from footprints or compounds)."""

    estimated = estimated_households(households)
    return AreaChecks(blocks=_block_part(area, households, communities),
                      left_out=left_out(area, settings.households) if estimated else {})


def data_completeness(area, layers: dict, catalogue: Sequence[Service], *,
                      services: Sequence[str] | None = None,
                      blocks: dict | None = None) -> dict:
    """``summary["data_completeness"]`` of a run (see the module's text); ``blocks``: the
    block part when already known (:func:`area_checks`)."""
    hh = layers["households"]
    total = int(hh["households"].sum()) if len(hh) else 0
    block_part = blocks if blocks is not None else _block_part(area, hh,
                                                               layers.get("communities"))
    service_part = service_density(total, layers.get("facilities"), catalogue, services)
    names = {s.key: {"zh": s.name("zh"), "en": s.name("en")} for s in catalogue}
    out = {"blocks": block_part, "services": service_part,
           "thin_services": [k for k, v in service_part.items() if v["thin"]],
           "min_block_m2": MIN_BLOCK_M2}
    out["sentence"] = completeness_sentence(block_part, service_part, names)
    return out


def _block_part(area, households: gpd.GeoDataFrame,
                communities: gpd.GeoDataFrame | None) -> dict:
    """The street blocks with households, of another use, or without data."""
    return block_completeness(area_blocks(area.roads, area.boundary, area.crs), households,
                              other_use=_other_use(area), communities=communities)


def _other_use(area) -> gpd.GeoDataFrame | None:
    """Land and buildings known to hold no homes (sites, and buildings of another use)."""
    parts = []
    sites = getattr(area, "sites", None)
    if sites is not None and len(sites):
        parts.append(sites[["geometry"]])
    b = area.buildings
    if b is not None and len(b) and "building" in b.columns:

        kind = b["building"].astype(str)
        named = kind.isin(list(BUILDING_REASON)) | (b["use"].notna() if "use" in b else False)
        if named.any():
            parts.append(b.loc[named, ["geometry"]])
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=area.crs)


def headline_households(households: pd.DataFrame, thresholds_min: dict[str, float],
                        services: Sequence[str], *, exclude: Sequence[str] = ()) -> dict:
    """Distinct households behind the headlines: in the area, on the network, outside the
    circle of at least one service (each household once), and per service.

    ``exclude``: services whose facilities are implausibly few (``cause`` = ``data``):
    ``outside_any_service`` leaves them out and ``excluded_services`` names them, so that
    a mapping gap does not make the headline 100%; ``outside_any_service_all`` keeps the
    figure over every service beside it."""
    w = households["households"].to_numpy(dtype=np.int64) if len(households) else np.zeros(0, np.int64)
    on = (households["on_network"].fillna(False).to_numpy(dtype=bool)
          if "on_network" in households else np.ones(len(w), dtype=bool))
    skip = set(exclude)
    outside_any = np.zeros(len(w), dtype=bool)
    outside_all = np.zeros(len(w), dtype=bool)
    per_service = {}
    excluded = []
    for s in services:
        col = minutes_column(s)
        if col not in households:
            continue
        minutes = households[col].to_numpy(dtype=float)
        out = on & ~(minutes <= float(thresholds_min.get(s, 15)) + 1e-9)  # NaN: unreachable
        outside_all |= out
        if s in skip:
            excluded.append(s)
        else:
            outside_any |= out
        per_service[s] = int(w[out].sum())
    return {"households": int(w.sum()), "on_network": int(w[on].sum()),
            "outside_any_service": int(w[outside_any].sum()),
            "outside_any_service_all": int(w[outside_all].sum()),
            "excluded_services": excluded,
            "outside_by_service": per_service, "distinct": True}


def check_headlines(summary: dict) -> None:
    """Raise ``RuntimeError`` (a bug) if a headline count exceeds the area's households."""
    total = int(summary.get("households", 0))
    head = summary.get("headline_households") or {}
    figures = {"outside_any_service": head.get("outside_any_service", 0),
               "outside_any_service_all": head.get("outside_any_service_all", 0),
               "on_network": head.get("on_network", 0)}
    figures.update({f"outside:{k}": v for k, v in (head.get("outside_by_service") or {}).items()})
    reach = summary.get("reach") or {}
    figures.update({f"unreachable:{k}": v
                    for k, v in (reach.get("unreachable_households") or {}).items()})
    figures["off_network"] = reach.get("households_off_network", 0)
    bad = {k: v for k, v in figures.items() if v is not None and int(v) > total}
    if int(head.get("outside_any_service", 0)) > int(head.get("outside_any_service_all",
                                                              head.get("outside_any_service", 0))):
        bad["outside_any_service"] = head.get("outside_any_service")
    if bad:
        raise RuntimeError(f"headline counts exceed the area's {total} households: {bad}")


def label_gaps(gaps: pd.DataFrame, thin_services: Sequence[str]) -> pd.DataFrame:
    """The gaps with ``cause``: ``data`` where the service's facilities are implausibly
    few (likely unmapped), else ``service``."""
    out = gaps.copy()
    out["cause"] = np.where(out["service"].isin(list(thin_services)), "data", "service") \
        if len(out) else pd.Series(dtype=object)
    return out


def estimated_households(households: pd.DataFrame) -> bool:
    """Whether some households were estimated from footprints or compounds."""
    if not len(households) or "hh_source" not in households:
        return False
    return bool(set(households["hh_source"].dropna().astype(str)) & {"footprint", "compound"})


def summarise(area, settings, catalogue, layers: dict, summary: dict, *,
              checks: AreaChecks | None = None) -> None:
    """The pipeline's hook: adds ``data_completeness``, ``headline_households`` and
    ``households_left_out`` to ``summary`` (and the sentence to its notes), labels the
    gaps' cause, and checks that no headline is impossible. ``checks``: the area's
    :class:`AreaChecks` when already made (the stage graph's ``checks`` stage)."""

    if checks is None:
        checks = area_checks(area, settings, layers["households"], layers.get("communities"))
    services = list((summary.get("thresholds_min") or {}).keys())
    completeness = data_completeness(area, layers, catalogue, services=services or None,
                                     blocks=checks.blocks)
    summary["data_completeness"] = completeness
    summary["headline_households"] = headline_households(
        layers["households"], summary.get("thresholds_min") or {}, services,
        exclude=completeness["thin_services"])
    summary["households_left_out"] = checks.left_out
    if layers.get("gaps") is not None:
        layers["gaps"] = label_gaps(layers["gaps"], completeness["thin_services"])
    sentence = completeness["sentence"]
    summary["notes"] = [sentence_note(sentence)] + list(summary.get("notes") or [])
    left = summary["households_left_out"]
    if left:
        summary["notes"].append(note("note.left_out", **left_out_params(left)))
    check_headlines(summary)


def sentence_note(sentence: dict) -> dict:
    """The completeness sentence (parameters per language) as a note of the summary."""

    return note_by_language(sentence["key"], sentence.get("params") or {})


def left_out_params(left: dict, lang: str | None = None) -> dict:
    """Parameters of ``note.left_out``: buildings and households-if-homes per reason."""
    buildings = sum(v["buildings"] for k, v in left.items() if k not in ("other", "unknown"))
    would = sum(v["households_if_homes"] for k, v in left.items() if k not in ("other", "unknown"))
    return {"buildings": buildings, "households": f"{would:,}",
            "dormitories": left.get("dormitory", {}).get("buildings", 0),
            "campus": left.get("campus", {}).get("buildings", 0),
            "unknown": left.get("unknown", {}).get("buildings", 0)}


__all__ = ["AreaChecks", "MIN_BLOCK_M2", "area_blocks", "area_checks", "block_completeness", "check_headlines",
           "completeness_sentence", "data_completeness", "estimated_households",
           "headline_households", "label_gaps",
           "plausible_minimums", "sentence_text", "service_density", "summarise"]
