"""The pipeline's parts as plain functions: load an area, each stage, the summary.

Which stage runs after which, and what each depends on, lives in one place: the stage
graph of :mod:`analysis.stages`. :func:`run` (command line, notebooks) and the page
(:mod:`ui.state`) both run it, so they always agree. Each stage is timed; ``progress``
(if given) is called with a translation key before each long step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.capacity_stage import CapacitySettings
from analysis.completeness import summarise
from analysis.settings import WalkSettings
from geo.catalogue import Service, load_catalogue
from geo.grids.communities import derive_communities
from geo.grids.mapped import complete_communities
from geo.errors import InputError
from geo.grids import GridSettings, make_grids
from geo.households import estimate_households, household_summary
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from geo.walls import WallSettings

Progress = Callable[[str], None]
OSM_CREDIT = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class RunSettings:
    """Every setting of one run (each part validated by its own dataclass)."""

    households: HouseholdSettings = field(default_factory=HouseholdSettings)
    grids: GridSettings = field(default_factory=GridSettings)
    walk: WalkSettings = field(default_factory=WalkSettings)
    walls: WallSettings = field(default_factory=WallSettings)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)


@dataclass(frozen=True, eq=False)
class Result:
    """Everything one run produced, in the study area's metric CRS.

    ``layers`` maps CONTRACT.md layer names to frames (``coverage`` has no geometry);
    ``summary`` is the content of SUMMARY.json.
    """

    area: StudyArea
    settings: RunSettings
    catalogue: tuple[Service, ...]
    layers: dict[str, pd.DataFrame]
    summary: dict

    @property
    def households(self) -> gpd.GeoDataFrame:
        return self.layers["households"]


class _Timer:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings_s: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        if self.progress is not None:
            self.progress(f"step.{name}")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(time.perf_counter() - start, 3)


def load_area(*, osm: str | None = None, place: str | None = None, demo: str | None = None,
              catalogue: tuple[Service, ...] | None = None,
              progress: Progress | None = None) -> StudyArea:
    """Build the study area from exactly one source: an OSM file, a place name or a demo.

    Raises
    ------
    InputError
        If the source cannot be read (the message says what to do).
    """
    given = [s for s in (osm, place, demo) if s]
    if len(given) != 1:
        raise InputError("err.one_source")
    if progress is not None:
        progress("step.load")
    if demo:
        from geo.demos import load_demo

        return load_demo(demo, catalogue=catalogue)
    from geo.osm import download_osm, read_osm, study_area_from_osm

    layers = read_osm(osm) if osm else download_osm(place)
    return study_area_from_osm(layers, catalogue=catalogue)


def assign_to_polygons(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame,
                       column: str) -> pd.Series:
    """The ``column`` value of the polygon each point lies in (NaN where none)."""
    hit = points[["geometry"]].sjoin(polygons[[column, "geometry"]], predicate="within",
                                     how="left")
    hit = hit[~hit.index.duplicated(keep="first")]
    return hit[column].reindex(points.index)


def settings_from_args(args: object) -> RunSettings:
    """RunSettings from the command line's arguments (each part validates itself)."""
    from geo.settings import check_range

    check_range("grid_min", args.grid_min, 1, 100_000)
    check_range("grid_max", args.grid_max, args.grid_min, 100_000)
    if args.speed_mps is not None:
        check_range("speed_mps", args.speed_mps, 0.3, 3.0)
    walk = WalkSettings()
    if args.speed_mps is not None:
        walk = walk.with_speed(args.speed_mps)
    capacity = CapacitySettings(
        method=str(getattr(args, "capacity_method", None) or "2sfca").lower(),
        decay=str(getattr(args, "capacity_decay", None) or "none").lower(),
        table=getattr(args, "demand_table", None) or None)
    if capacity.table is not None:
        from analysis.capacity_stage import load_standards

        load_standards(capacity.table)  # a bad table stops the run before the long steps
    pph = getattr(args, "persons_per_household", None)
    households = (HouseholdSettings() if pph is None
                  else HouseholdSettings(persons_per_household=float(pph)))
    return RunSettings(households=households, grids=GridSettings(min_households=args.grid_min,
                                          max_households=args.grid_max), walk=walk,
                       capacity=capacity)


def merge_facilities(osm: gpd.GeoDataFrame, user: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The user's facility list replaces OSM facilities of the services it covers."""
    if user is None or len(user) == 0:
        return osm.copy()
    kept = osm[~osm["service"].isin(set(user["service"]))]
    out = pd.concat([kept, user.to_crs(osm.crs)], ignore_index=True)
    out["facility_id"] = [f"F{k:05d}" for k in range(len(out))]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=osm.crs)


@dataclass(frozen=True, eq=False)
class Base:
    """What the first stages produced: households, communities, grids, facilities."""

    households: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    grids_report: dict
    facilities: gpd.GeoDataFrame
    catalogue: tuple[Service, ...]
    timings_s: dict


@dataclass(frozen=True, eq=False)
class Reach:
    """Walking minutes, coverage and gaps (:class:`analysis.circles.Measured`) and the
    walking settings they were measured with."""

    measured: object
    walk: WalkSettings
    timings_s: dict

    @property
    def reach(self):
        return self.measured.reach


def walk_settings(settings: RunSettings, catalogue: tuple[Service, ...]) -> WalkSettings:
    """The run's walking settings with the services of ``catalogue``: a threshold the
    user changed from the bundled default wins; otherwise the catalogue's applies."""
    walk = settings.walk
    merged = walk.for_catalogue(catalogue)
    if merged is walk:
        return walk
    default = dict(WalkSettings().thresholds_min)
    chosen = {k: m for k, m in walk.thresholds_min if default.get(k) != m}
    if not chosen:
        return merged
    thresholds = tuple((k, chosen.get(k, m)) for k, m in merged.thresholds_min)
    return replace(merged, thresholds_min=thresholds)


def stage_base(area: StudyArea, settings: RunSettings = RunSettings(), *,
               register: gpd.GeoDataFrame | None = None,
               facilities: gpd.GeoDataFrame | None = None,
               communities: gpd.GeoDataFrame | None = None,
               catalogue: tuple[Service, ...] | None = None,
               previous: pd.Series | None = None, locked: tuple[str, ...] = (),
               progress: Progress | None = None) -> Base:
    """Households, communities (given or derived), grids and the facility list.

    ``previous`` (grid id per unit of an earlier run) and ``locked`` (grid ids) keep the
    planner's grids: locked grids keep their units and ids, the others the previous id
    they overlap most (:func:`geo.grids.make_grids`)."""
    catalogue = catalogue or load_catalogue()
    timer = _Timer(progress)
    with timer.step("households"):
        households = estimate_households(area, settings.households, register=register)
        if register is None and area.households is None and \
                "households" in area.buildings.columns:  # uploaded buildings' 户数
            from geo.inputs.footprints import given_counts

            households = given_counts(households, area.buildings)

    with timer.step("communities"):
        given = communities if communities is not None else area.communities
        if communities is None and given is not None and "source" in given and \
                (given["source"] == "osm").all():  # mapped in OSM: completed where not
            comms = complete_communities(given, households, area.roads, area.boundary,
                                         compounds=area.compounds)
        elif given is not None and len(given):
            comms = given.copy()
            households["community_id"] = assign_to_polygons(households, comms, "community_id")
            comms["households"] = (households.groupby("community_id")["households"].sum()
                                   .reindex(comms["community_id"]).fillna(0).astype(int).to_numpy())
            comms["derived"] = False
        else:
            comms = derive_communities(households, area.roads, area.boundary,
                                       compounds=area.compounds)

    # grids (geo.grids): checks the communities, splits towers above the band, numbers grids
    with timer.step("grids"):
        gridded = make_grids(households, comms, area.roads, settings=settings.grids,
                             previous=previous, locked=tuple(locked))

    return Base(households=gridded.households, communities=gridded.communities,
                grids=gridded.grids, cells=gridded.cells, grids_report=grids_report(gridded.report),
                facilities=merge_facilities(area.facilities, facilities),
                catalogue=catalogue, timings_s=dict(timer.timings_s))


def index_walls(area: StudyArea, settings: RunSettings, walk: WalkSettings):
    """The walled compounds of ``area`` (:func:`geo.walls.build_walls`) the index stage
    routes through, with the run's wall settings and snap cap."""
    from geo.walls import build_walls

    return build_walls(area.network, area.compounds, area.gates, settings=settings.walls,
                       max_snap_m=walk.max_snap_m)


def stage_reach(base: Base, index, settings: RunSettings = RunSettings(), *,
                progress: Progress | None = None) -> Reach:
    """Walking minutes to every service, coverage per grid/community/area, and gaps."""
    from analysis.circles import measure

    timer = _Timer(progress)
    walk = walk_settings(settings, base.catalogue)
    with timer.step("reach"):
        measured = measure(base.households, index, walk)
    return Reach(measured=measured, walk=walk, timings_s=dict(timer.timings_s))


def stage_service_areas(index, settings: RunSettings = RunSettings(),
                        services: tuple[str, ...] | None = None, *,
                        minutes: tuple[float, ...] | None = None) -> gpd.GeoDataFrame:
    """Nested 5/10/15-minute service areas of some services (default: all)."""
    from analysis.circles import areas_stage

    walk = settings.walk
    if services is not None:
        known = dict(walk.thresholds_min)
        missing = [s for s in services if s not in known]
        if missing:  # a service of another catalogue: measured at its own profile
            walk = walk_settings(settings, load_catalogue())
    return areas_stage(index, walk, services, minutes=minutes)


def assemble(area: StudyArea, settings: RunSettings, catalogue: tuple[Service, ...] | None,
             base: Base, reach: Reach, areas: gpd.GeoDataFrame, *,
             index=None, walled=None, timings_s: dict | None = None,
             checks=None, capacity=None) -> Result:
    """The run's layers and SUMMARY.json from its stages. With ``index``, the summary
    also counts the households each service's drawn area misclassifies (that needs
    every service's area at its threshold). The walled compounds' layers come from
    ``index`` or, when only some services' areas were drawn, ``walled`` (the same index).
    ``checks``: the area's data checks when already made (the ``checks`` stage);
    ``capacity``: the capacity stage (:class:`analysis.capacity_stage.Capacity`), whose
    columns join the grids and communities and whose figures are the summary's
    ``capacity`` when any capacity is known."""
    from analysis.circles import with_misclassification

    catalogue = catalogue or base.catalogue
    layers: dict[str, pd.DataFrame] = {
        "households": reach.measured.households, "communities": base.communities,
        "grids": base.grids, "cells": base.cells, "facilities": base.facilities,
        "service_areas": areas,
        "coverage": reach.measured.coverage,
        "coverage_levels": reach.measured.coverage_levels, "gaps": reach.measured.gaps,
    }
    if capacity is not None:
        from analysis.capacity_stage import with_capacity_columns

        layers.update(with_capacity_columns(layers, capacity))
    walled = index if index is not None else walled
    if walled is not None and walled.walls is not None:  # gated compounds (geo.walls)
        from analysis.reach.walls import wall_layers

        layers.update(wall_layers(walled))
    timings = {**base.timings_s, **reach.timings_s, **(timings_s or {})}
    summary = build_summary(area, settings, catalogue, layers, timings)
    summary["grids_report"] = base.grids_report
    circles = reach.measured.summary
    if index is not None:
        circles = with_misclassification(circles, index, reach.reach, areas)
    summary.update({k: v for k, v in circles.items() if k != "notes_reach"})
    summary["notes"] = summary["notes"] + circles["notes_reach"]
    summary["settings"]["walk"] = reach.walk.as_dict()
    if capacity is not None and capacity.summary:
        summary["capacity"] = capacity.summary
        summary["settings"]["capacity"] = {**settings.capacity.__dict__,  # the table's name only
                                           "table": (Path(settings.capacity.table).name
                                                     if settings.capacity.table else None)}
    summarise(area, settings, catalogue, layers, summary,  # completeness, distinct headlines
              checks=checks)
    return Result(area=area, settings=settings, catalogue=catalogue, layers=layers,
                  summary=summary)


def run(area: StudyArea, settings: RunSettings = RunSettings(), *,
        register: gpd.GeoDataFrame | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        communities: gpd.GeoDataFrame | None = None,
        catalogue: tuple[Service, ...] | None = None,
        previous: pd.Series | None = None, locked: tuple[str, ...] = (),
        progress: Progress | None = None) -> Result:
    """Run every stage on a study area (through the stage graph, :mod:`analysis.stages`).

    Parameters
    ----------
    area
        From :func:`load_area` (or built in code).
    settings
        All settings of the run.
    register
        Household register points (projected to ``area.crs``), replacing estimates.
    facilities
        The user's facilities (projected), replacing OSM ones of the same services.
    communities
        Community polygons (projected), replacing ``area.communities``.
    catalogue
        The service catalogue (default: ``data/services.csv``).
    previous, locked
        Grids of an earlier run to keep (a saved project's ``households.grid_id`` per
        ``unit_id`` and its locked grid ids; see :func:`stage_base`).
    progress
        Called with a translation key before each step.
    """
    from analysis.stages import Inputs, run_stages

    inputs = Inputs(area=area, register=register, facilities=facilities,
                    communities=communities, catalogue=catalogue, previous=previous,
                    locked=tuple(locked))
    return run_stages(inputs, settings, progress=progress).result


def grids_report(report: dict) -> dict:
    """The grid stage's report, trimmed for SUMMARY.json."""
    keys = ("share_in_band", "feasible_in_band", "non_contiguous", "arterial_crossings",
            "mean_polsby_popper", "near_home_share", "grids_far_from_homes",
            "infeasible_communities", "zero_household_units", "notes")
    out = {k: report[k] for k in keys}
    out["split_units"] = len(report["split_units"])
    return out


def grid_figures(grids: pd.DataFrame | None, report: dict | None = None) -> dict:
    """The summary's grid figures from a grid table (the grid stage's, or one after edits):
    ``grids``, ``grids_in_band`` and, when ``report`` (the summary's ``grids_report``) is
    given, that report with its table-derived figures counted again."""
    if grids is None:
        return {"grids": 0, "grids_in_band": 0}
    n = int(len(grids))
    out = {"grids": n, "grids_in_band": int(grids["in_band"].astype(int).sum()) if n else 0}
    if report is not None:
        report = dict(report)
        report["share_in_band"] = out["grids_in_band"] / n if n else 0.0
        if "contiguous" in grids:
            report["non_contiguous"] = int((grids["contiguous"].astype(int) == 0).sum())
        if "arterial_crossings" in grids:
            report["arterial_crossings"] = int(grids["arterial_crossings"].astype(int).sum())
        if "polsby_popper" in grids:
            report["mean_polsby_popper"] = float(grids["polsby_popper"].mean()) if n else 0.0
        out["grids_report"] = report
    return out


def build_summary(area: StudyArea, settings: RunSettings, catalogue: tuple[Service, ...],
                  layers: dict[str, pd.DataFrame], timings_s: dict[str, float]) -> dict:
    """The SUMMARY.json content (CONTRACT.md) from what the stages produced."""
    households = layers["households"]
    facilities = layers["facilities"]
    grids = layers.get("grids")
    by_service = facilities["service"].value_counts()
    summary = {
        "area": area.name,
        "crs": area.crs.to_string(),
        "households": int(households["households"].sum()),
        "household_units": int(len(households)),
        "households_by_source": household_summary(households),
        "communities": int(len(layers["communities"])),
        **grid_figures(grids),
        "facilities_by_service": {s.key: int(by_service.get(s.key, 0)) for s in catalogue},
        "coverage": {},
        "crow_flies_coverage": {},
        "thresholds_min": {s.key: s.threshold_min for s in catalogue},
        "speed_mps": {},
        "network": {"nodes": area.network.n_nodes, "edges": area.network.n_edges,
                    **area.network.report},
        "settings": {"households": settings.households.__dict__,
                     "grids": settings.grids.__dict__},
        "notes": list(area.notes),
        "credit": OSM_CREDIT if area.osm_derived else "",
        "timings_s": dict(timings_s),
    }
    return summary


__all__ = ["OSM_CREDIT", "Base", "Reach", "Result", "RunSettings",
           "assemble", "assign_to_polygons", "build_summary", "grid_figures", "load_area", "merge_facilities",
           "run", "settings_from_args", "stage_base", "stage_reach",
           "stage_service_areas", "walk_settings"]
