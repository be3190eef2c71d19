"""The first stage: households, communities and grids, and the facility list (the
``base`` stage of :mod:`analysis.stages`), and the walled compounds the index stage routes
through."""

from __future__ import annotations

import time
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd

from analysis.run_types import Base, Progress, RunSettings
from analysis.settings import WalkSettings
from geo.catalogue import Service, load_catalogue
from geo.grids import make_grids
from geo.grids.communities import assign_communities, derive_communities
from geo.grids.mapped import complete_communities
from geo.households import estimate_households
from geo.studyarea import StudyArea
from geo.inputs.footprints import given_counts
from geo.walls import build_walls


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


def merge_facilities(osm: gpd.GeoDataFrame, user: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The user's facility list replaces OSM facilities of the services it covers."""
    if user is None or len(user) == 0:
        return osm.copy()
    kept = osm[~osm["service"].isin(set(user["service"]))]
    out = pd.concat([kept, user.to_crs(osm.crs)], ignore_index=True)
    out["facility_id"] = [f"F{k:05d}" for k in range(len(out))]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=osm.crs)


def stage_base(area: StudyArea, settings: RunSettings = RunSettings(), *,
               register: gpd.GeoDataFrame | None = None,
               facilities: gpd.GeoDataFrame | None = None,
               communities: gpd.GeoDataFrame | None = None,
               catalogue: tuple[Service, ...] | None = None,
               previous: pd.Series | None = None, locked: tuple[str, ...] = (),
               progress: Progress | None = None, grid_workers: int = 1) -> Base:
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

            households = given_counts(households, area.buildings)

    with timer.step("communities"):
        given = communities if communities is not None else area.communities
        if communities is None and given is not None and "source" in given and \
                (given["source"] == "osm").all():  # mapped in OSM: completed where not
            comms = complete_communities(given, households, area.roads, area.boundary,
                                         compounds=area.compounds)
        elif given is not None and len(given):
            comms = given.copy()
            # the grid stage's own rule (a home on a boundary: the first community listed);
            # homes far outside every community are refused there, with the layer's checks
            households["community_id"] = assign_communities(households, comms,
                                                            refuse_outside=False)
            comms["households"] = (households.groupby("community_id")["households"].sum()
                                   .reindex(comms["community_id"]).fillna(0).astype(int).to_numpy())
            comms["derived"] = False
        else:
            comms = derive_communities(households, area.roads, area.boundary,
                                       compounds=area.compounds)

    # grids (geo.grids): checks the communities, splits towers above the band, numbers grids
    with timer.step("grids"):
        gridded = make_grids(households, comms, area.roads, settings=settings.grids,
                             previous=previous, locked=tuple(locked), workers=grid_workers)

    return Base(households=gridded.households, communities=gridded.communities,
                grids=gridded.grids, cells=gridded.cells, grids_report=grids_report(gridded.report),
                facilities=merge_facilities(area.facilities, facilities),
                catalogue=catalogue, timings_s=dict(timer.timings_s))


def index_walls(area: StudyArea, settings: RunSettings, walk: WalkSettings):
    """The walled compounds of ``area`` (:func:`geo.walls.build_walls`) the index stage
    routes through, with the run's wall settings and snap cap."""

    return build_walls(area.network, area.compounds, area.gates, settings=settings.walls,
                       max_snap_m=walk.max_snap_m)


def grids_report(report: dict) -> dict:
    """The grid stage's report, trimmed for SUMMARY.json."""
    keys = ("share_in_band", "feasible_in_band", "non_contiguous", "arterial_crossings",
            "mean_polsby_popper", "near_home_share", "grids_far_from_homes",
            "infeasible_communities", "zero_household_units", "notes")
    out = {k: report[k] for k in keys}
    out["split_units"] = len(report["split_units"])
    return out


__all__ = ["grids_report", "index_walls", "merge_facilities", "stage_base"]
