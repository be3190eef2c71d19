"""A run for the command line and notebooks: load an area, read the settings from the
command line's arguments, run every stage.

Which stage runs after which, what each reads and the function that makes it live in one
place: the stage graph of :mod:`analysis.stages`. :func:`run` (command line, notebooks)
and the page (:mod:`ui.state`) both run it, so they always agree. The run's types live in
:mod:`analysis.run_types`, the stage functions in :mod:`analysis.base_stage`,
:mod:`analysis.circles`, :mod:`analysis.capacity.stage` and :mod:`analysis.result_stage`;
the names below are kept here for the code that imports them from this module.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from analysis.base_stage import (grids_report, index_walls,
                                 merge_facilities, stage_base)
from analysis.capacity.stage import CapacitySettings
from analysis.result_stage import assemble, build_summary, grid_figures
from analysis.run_types import OSM_CREDIT, Base, Progress, Reach, Result, RunSettings, walk_settings
from analysis.settings import WalkSettings
from analysis.stages import Inputs, run_stages
from geo.catalogue import Service
from geo.errors import InputError
from geo.grids import GridSettings
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from analysis.capacity.stage import load_standards
from geo.demos import load_demo
from geo.osm import download_osm, read_osm
from geo.osm.area import study_area_from_osm
from geo.settings import check_range


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

        return load_demo(demo, catalogue=catalogue)

    layers = read_osm(osm) if osm else download_osm(place)
    return study_area_from_osm(layers, catalogue=catalogue)


def settings_from_args(args: object) -> RunSettings:
    """RunSettings from the command line's arguments (each part validates itself)."""

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

        load_standards(capacity.table)  # a bad table stops the run before the long steps
    pph = getattr(args, "persons_per_household", None)
    households = (HouseholdSettings() if pph is None
                  else HouseholdSettings(persons_per_household=float(pph)))
    return RunSettings(households=households, grids=GridSettings(min_households=args.grid_min,
                                          max_households=args.grid_max), walk=walk,
                       capacity=capacity)


def run(area: StudyArea, settings: RunSettings = RunSettings(), *,
        register: gpd.GeoDataFrame | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        communities: gpd.GeoDataFrame | None = None,
        catalogue: tuple[Service, ...] | None = None,
        previous: pd.Series | None = None, locked: tuple[str, ...] = (),
        progress: Progress | None = None, grid_workers: int = 1) -> Result:
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
    grid_workers
        Processes that make the grids (the same grids as one; see
        :func:`geo.grids.make_grids`).
    """
    inputs = Inputs(area=area, register=register, facilities=facilities,
                    communities=communities, catalogue=catalogue, previous=previous,
                    locked=tuple(locked))
    return run_stages(inputs, settings, progress=progress, grid_workers=grid_workers).result


__all__ = ["OSM_CREDIT", "Base", "Progress", "Reach", "Result", "RunSettings",
           "assemble", "build_summary", "grid_figures", "grids_report",
           "index_walls", "load_area", "merge_facilities", "run", "settings_from_args",
           "stage_base", "walk_settings"]
