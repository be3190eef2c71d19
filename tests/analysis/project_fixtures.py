"""Small projects with grids, built in code, for the project, export and report tests.

Grids here are the residential compounds of the synthetic district (one grid each): a
stand-in partition with the same data model as the grid stage (units with ``grid_id``,
grid polygons tiled by unit cells), so these tests do not depend on the partition itself.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np

from analysis.pipeline import Result, build_summary, run
from geo.catalogue import load_catalogue

SERVICES = ("kindergarten", "elderly_care", "market")


def with_compound_grids(result: Result, *, seed: int = 0) -> Result:
    """``result`` plus a grids layer (one grid per compound), ``households.grid_id``,
    walking minutes for a few services, a coverage layer and service areas."""
    area = result.area
    hh = result.layers["households"].copy()
    # the run's own minutes are replaced by the stand-in ones below
    hh = hh.drop(columns=[c for c in hh.columns if c.startswith("walk_min_")])
    comp = area.compounds.reset_index(drop=True)
    hit = hh[["geometry"]].sjoin(comp[["compound_id", "geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    hh = hh.loc[hit["compound_id"].notna()].copy()
    hh["compound"] = hit["compound_id"].loc[hh.index]
    codes = {c: f"C01{k + 1:02d}" for k, c in enumerate(sorted(hh["compound"].unique()))}
    hh["grid_id"] = hh["compound"].map(codes)
    hh["community_id"] = "C01"
    hh = hh.drop(columns="compound").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    for service in SERVICES:
        minutes = rng.uniform(1, 25, len(hh))
        minutes[rng.random(len(hh)) < 0.05] = np.nan
        hh[f"walk_min_{service}"] = minutes
    grids = comp.loc[comp["compound_id"].isin(codes), ["compound_id", "geometry"]].copy()
    grids["grid_id"] = grids["compound_id"].map(codes)
    grids["community_id"] = "C01"
    grids = gpd.GeoDataFrame(grids.drop(columns=["compound_id"]).sort_values("grid_id")
                             .reset_index(drop=True), geometry="geometry", crs=area.crs)
    # the grid table as the rule book makes it (as every grid stage and edit does)
    from geo.grids.rules import attrs_of
    from geo.grids.state import state_from_layers

    roads = area.roads
    state = state_from_layers(hh, grids, band=(200, 300),
                              arterials=roads[roads["road_class"] == "arterial"])
    grids = state.grid_rows(state.grid_of_cell, grids["grid_id"], attrs_of(grids))
    fac = result.layers["facilities"]
    areas = []
    for service in SERVICES:
        pts = fac[fac["service"] == service]
        if len(pts):
            areas.append({"service": service, "minutes": 15,
                          "geometry": pts.geometry.buffer(600).union_all()})
    service_areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=area.crs)
    gaps = gpd.GeoDataFrame({"service": ["market"], "households": [int(hh["households"].iloc[:5].sum())],
                             "rank": [1]}, geometry=[hh.geometry.iloc[:5].union_all().buffer(80)],
                            crs=area.crs)
    layers = {**result.layers, "households": hh, "grids": grids, "service_areas": service_areas,
              "gaps": gaps}
    layers.pop("cells", None)  # the grid stage's cells belong to its own grids
    catalogue = load_catalogue()
    summary = build_summary(area, result.settings, catalogue, layers, {})
    from analysis.project import coverage_by_grid

    layers["coverage"] = coverage_by_grid(hh, summary)
    w = hh["households"].to_numpy()
    summary["coverage"] = {
        s: float((w * (hh[f"walk_min_{s}"] <= summary["thresholds_min"][s])).sum() / w.sum())
        for s in SERVICES}
    return replace(result, layers=layers, summary=summary)


def project_result(area) -> Result:
    """A pipeline run on ``area`` with compound grids added."""
    return with_compound_grids(run(area))
