"""The whole pipeline as plain functions: load an area, then run every stage on it.

The command line, the page and notebooks all call :func:`load_area` and :func:`run`, so
they always agree. Each stage is timed; ``progress`` (if given) is called with a
translation key before each long step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analysis.settings import WalkSettings
from geo.catalogue import Service, load_catalogue
from geo.errors import InputError
from geo.households import estimate_households, household_summary
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea

Progress = Callable[[str], None]
OSM_CREDIT = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class RunSettings:
    """Every setting of one run (each part validated by its own dataclass)."""

    households: HouseholdSettings = field(default_factory=HouseholdSettings)
    walk: WalkSettings = field(default_factory=WalkSettings)


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
    from geo.osm import download_osm, read_osm
    from geo.osm_area import study_area_from_osm

    layers = read_osm(osm) if osm else download_osm(place)
    return study_area_from_osm(layers, catalogue=catalogue)


def single_community(area: StudyArea, households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The whole study area as one community (used when no community layer is given)."""
    return gpd.GeoDataFrame(
        {"community_id": ["C01"], "name": [area.name],
         "households": [int(households["households"].sum())], "derived": [True]},
        geometry=[area.boundary], crs=area.crs)


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
        return RunSettings(walk=WalkSettings().with_speed(args.speed_mps))
    return RunSettings()


def merge_facilities(osm: gpd.GeoDataFrame, user: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The user's facility list replaces OSM facilities of the services it covers."""
    if user is None or len(user) == 0:
        return osm.copy()
    kept = osm[~osm["service"].isin(set(user["service"]))]
    out = pd.concat([kept, user.to_crs(osm.crs)], ignore_index=True)
    out["facility_id"] = [f"F{k:05d}" for k in range(len(out))]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=osm.crs)


def run(area: StudyArea, settings: RunSettings = RunSettings(), *,
        register: gpd.GeoDataFrame | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        communities: gpd.GeoDataFrame | None = None,
        catalogue: tuple[Service, ...] | None = None,
        progress: Progress | None = None) -> Result:
    """Run every stage on a study area.

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
    progress
        Called with a translation key before each step.
    """
    catalogue = catalogue or load_catalogue()
    timer = _Timer(progress)
    with timer.step("households"):
        households = estimate_households(area, settings.households, register=register)

    with timer.step("communities"):
        given = communities if communities is not None else area.communities
        if given is not None and len(given):
            comms = given.copy()
            households["community_id"] = assign_to_polygons(households, comms, "community_id")
            comms["households"] = (households.groupby("community_id")["households"].sum()
                                   .reindex(comms["community_id"]).fillna(0).astype(int).to_numpy())
            comms["derived"] = False
        else:
            comms = single_community(area, households)
            households["community_id"] = "C01"
        households["grid_id"] = None

    facilities = merge_facilities(area.facilities, facilities)
    layers: dict[str, pd.DataFrame] = {
        "households": households, "communities": comms, "facilities": facilities,
    }
    # service circles: walking minutes, service areas, coverage, gaps (analysis/circles.py)
    from analysis.circles import service_circles

    walk = settings.walk.for_catalogue(catalogue)
    circles = service_circles(households, facilities, area.network, walk,
                              boundary=area.boundary, step=timer.step)
    layers.update(households=circles.households, service_areas=circles.service_areas,
                  coverage=circles.coverage, gaps=circles.gaps)
    summary = build_summary(area, settings, catalogue, layers, timer.timings_s)
    summary.update({k: v for k, v in circles.summary.items() if k != "notes_reach"})
    summary["notes"] = summary["notes"] + circles.summary["notes_reach"]
    summary["settings"]["walk"] = walk.as_dict()
    return Result(area=area, settings=settings, catalogue=catalogue, layers=layers,
                  summary=summary)


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
        "grids": int(len(grids)) if grids is not None else 0,
        "grids_in_band": int(grids["in_band"].sum()) if grids is not None else 0,
        "facilities_by_service": {s.key: int(by_service.get(s.key, 0)) for s in catalogue},
        "coverage": {},
        "crow_flies_coverage": {},
        "thresholds_min": {s.key: s.threshold_min for s in catalogue},
        "speed_mps": {},
        "network": {"nodes": area.network.n_nodes, "edges": area.network.n_edges,
                    **area.network.report},
        "settings": {"households": settings.households.__dict__},
        "notes": list(area.notes),
        "credit": OSM_CREDIT if area.osm_derived else "",
        "timings_s": dict(timings_s),
    }
    return summary


def area_extent_wgs84(area: StudyArea) -> tuple[float, float, float, float]:
    """The study area's bounds in WGS84 (west, south, east, north)."""
    box = gpd.GeoSeries([area.boundary], crs=area.crs).to_crs(4326).total_bounds
    return tuple(float(v) for v in box)


__all__ = ["OSM_CREDIT", "Result", "RunSettings", "area_extent_wgs84", "assign_to_polygons",
           "build_summary", "load_area", "merge_facilities", "run", "settings_from_args"]
