"""The service-circle stages: reach index, walking minutes, service areas, counting.

Three stage functions (:func:`index_stage`, :func:`measure`, :func:`areas_stage`) make the
layers and summary fields of CONTRACT.md (``households.walk_min_<service>``,
``service_areas``, ``coverage``, ``coverage_levels``, ``gaps``; ``coverage``,
``crow_flies_coverage``, ``thresholds_min``, ``speed_mps``). Which runs when is decided by
the stage graph (:mod:`analysis.stages`). :func:`count` is the counting part of
:func:`measure`, which re-counting after a grid edit uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis import coverage as C
from analysis import reach as R
from analysis.settings import WalkSettings
from analysis.reach.walls import compound_access, wall_notes

GRID_COVERAGE_COLUMNS = ("grid_id", "community_id", "service", "households", "off_network",
                         "covered", "share")
LEVEL_COVERAGE_COLUMNS = ("level", "community_id", "service", "households", "off_network",
                          "covered", "share")


@dataclass(frozen=True, eq=False)
class Measured:
    """Walking minutes, coverage and gaps (everything but the drawn service areas)."""

    households: gpd.GeoDataFrame
    coverage: pd.DataFrame
    coverage_levels: pd.DataFrame
    gaps: gpd.GeoDataFrame
    summary: dict
    reach: R.HouseholdReach


def index_stage(households: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, network,
                settings: WalkSettings, *, boundary: shapely.Geometry | None = None,
                services: tuple[str, ...] | None = None, walls=None) -> R.ReachIndex:
    """Homes and facilities snapped to the network (depends on the snap cap, not speeds);
    ``walls`` (:func:`geo.walls.build_walls`) makes gated compounds walls."""
    services = settings.services if services is None else tuple(services)
    return R.prepare_reach(network, households, facilities, max_snap_m=settings.max_snap_m,
                           boundary=boundary, services=services, walls=walls)


def measure(households: gpd.GeoDataFrame, index: R.ReachIndex, settings: WalkSettings,
            services: tuple[str, ...] | None = None) -> Measured:
    """Walking minutes per household, coverage tables, gaps and the summary fields."""
    services = index.services if services is None else tuple(services)
    reach = R.household_minutes(index, settings, services)
    crow = R.crow_flies_coverage(index, settings, services)
    frame = reach.frame()
    out = households.drop(columns=[c for c in frame.columns if c in households.columns])
    out = out.join(frame)
    scores = C.life_circle_scores(out, settings, services=services)
    out["life_circle_score"] = scores["life_circle_score"]
    coverage, levels, gaps = count(out, settings, services)
    life = C.life_circle_table(out, settings, by=None, services=services)
    notes = {lang: R.reach_notes(index.report, lang, reach_report=reach.report)
             for lang in ("zh", "en")}
    summary = {
        "coverage": C.coverage_summary(out, settings, services=services),
        "crow_flies_coverage": crow,
        "thresholds_min": {s: settings.threshold_min(s) for s in services},
        "speed_mps": {s: settings.speed_mps(s) for s in services},
        "reach": {
            "max_snap_m": settings.max_snap_m,
            "horizon_min": settings.horizon_min,
            "minutes": list(settings.minutes),
            "households_off_network": index.report["households"]["off_network_households"],
            "unreachable_households": {s: reach.report[s]["unreachable_households"]
                                       for s in services},
            "none_in_area": [s for s in services if reach.report[s]["none_in_area"]],
            "life_circle_score": _float(life["life_circle_score"].iloc[0]),
            "fully_served_share": _float(life["fully_served"].iloc[0]),
            "gaps": {s: int((gaps["service"] == s).sum()) for s in services},
            "input_report": index.report,
            "notes": notes,
        },
        "notes_reach": R.reach_note_list(index.report, reach_report=reach.report),
    }
    groups = C.coverage_groups(out, settings, services=services)
    if groups:  # age groups counted in the register or buildings (elderly, young children)
        summary["coverage_groups"] = groups
    if index.walls is not None:  # gated compounds: what the walls change (CONTRACT.md)

        summary["compound_access"] = compound_access(index, reach, settings, services)
        summary["notes_reach"] += wall_notes(summary["compound_access"])
    return Measured(households=out, coverage=coverage, coverage_levels=levels, gaps=gaps,
                    summary=summary, reach=reach)


def count(households: gpd.GeoDataFrame, settings: WalkSettings,
          services: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """The ``coverage``, ``coverage_levels`` and ``gaps`` layers from households that carry
    their walking minutes (and ``grid_id`` / ``community_id``): what changes when grids
    are edited."""
    coverage = coverage_layer(households, settings, services)
    levels = coverage_levels(households, settings, services)
    gaps = C.find_gaps(households, settings, services=services)
    return coverage, levels, gaps


def areas_stage(index: R.ReachIndex, settings: WalkSettings,
                services: tuple[str, ...] | None = None, *,
                minutes: tuple[float, ...] | None = None) -> gpd.GeoDataFrame:
    """The ``service_areas`` layer for some services (default all) and minute levels."""
    services = index.services if services is None else tuple(services)
    if minutes is None:
        return R.all_service_areas(index, settings, services)
    frames = [R.service_areas(index, settings, s, minutes=tuple(minutes)) for s in services]
    if not frames:
        return gpd.GeoDataFrame({"service": [], "minutes": []}, geometry=[],
                                crs=index.network.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=index.network.crs)


def with_misclassification(summary: dict, index: R.ReachIndex, reach: R.HouseholdReach,
                           areas: gpd.GeoDataFrame) -> dict:
    """``summary`` plus, per service, the households the drawn areas misclassify."""
    misclassified = R.polygon_misclassification(index, reach, areas)
    out = dict(summary)
    out["reach"] = dict(summary["reach"])
    out["reach"]["polygon_misclassified_households"] = dict(
        zip(misclassified["service"], misclassified["misclassified"].astype(int)))
    return out


def coverage_layer(households: pd.DataFrame, settings: WalkSettings,
                   services: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The ``coverage`` layer of CONTRACT.md: one row per grid and service (with the
    grid's community). Empty when no household has a grid."""
    if "grid_id" not in households.columns or households["grid_id"].isna().all():
        return pd.DataFrame(columns=list(GRID_COVERAGE_COLUMNS))
    table = C.coverage_table(households, settings, by="grid_id", services=services)
    community = None
    if "community_id" in households.columns:
        community = households.dropna(subset=["grid_id"]).groupby("grid_id")["community_id"].first()
    table["community_id"] = table["grid_id"].map(community) if community is not None else None
    return table[list(GRID_COVERAGE_COLUMNS)]


def coverage_levels(households: pd.DataFrame, settings: WalkSettings,
                    services: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The ``coverage_levels`` layer: per community and for the whole area (``level`` =
    ``community`` or ``area``), counted as the ``coverage`` layer is."""
    parts = []
    if "community_id" in households.columns and households["community_id"].notna().any():
        table = C.coverage_table(households, settings, by="community_id", services=services)
        parts.append(table.assign(level="community"))
    parts.append(C.coverage_table(households, settings, services=services).assign(level="area"))
    frame = pd.concat(parts, ignore_index=True)
    if "community_id" not in frame.columns:
        frame["community_id"] = None
    return frame[list(LEVEL_COVERAGE_COLUMNS)]


def _float(value: object) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value
