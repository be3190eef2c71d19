"""The last stage: the run's layers and SUMMARY.json from what the other stages made
(the ``result`` stage of :mod:`analysis.stages`), and the summary's grid figures, which
the re-count after grid edits uses too."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.capacity.stage import with_capacity_columns
from analysis.circles import with_misclassification
from analysis.completeness import summarise
from analysis.reach.walls import wall_layers
from analysis.run_types import OSM_CREDIT, Base, Reach, Result, RunSettings
from geo.catalogue import Service
from geo.households import household_summary
from geo.studyarea import StudyArea


def assemble(area: StudyArea, settings: RunSettings, catalogue: tuple[Service, ...] | None,
             base: Base, reach: Reach, areas: gpd.GeoDataFrame, *,
             index=None, walled=None, timings_s: dict | None = None,
             checks=None, capacity=None) -> Result:
    """The run's layers and SUMMARY.json from its stages. With ``index``, the summary
    also counts the households each service's drawn area misclassifies (that needs
    every service's area at its threshold). The walled compounds' layers come from
    ``index`` or, when only some services' areas were drawn, ``walled`` (the same index).
    ``checks``: the area's data checks when already made (the ``checks`` stage);
    ``capacity``: the capacity stage (:class:`analysis.capacity.stage.Capacity`), whose
    columns join the grids and communities and whose figures are the summary's
    ``capacity`` when any capacity is known."""
    catalogue = catalogue or base.catalogue
    layers: dict[str, pd.DataFrame] = {
        "households": reach.measured.households, "communities": base.communities,
        "grids": base.grids, "cells": base.cells, "facilities": base.facilities,
        "service_areas": areas,
        "coverage": reach.measured.coverage,
        "coverage_levels": reach.measured.coverage_levels, "gaps": reach.measured.gaps,
    }
    if capacity is not None:
        layers.update(with_capacity_columns(layers, capacity))
    walled = index if index is not None else walled
    if walled is not None and walled.walls is not None:  # gated compounds (geo.walls)
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


__all__ = ["assemble", "build_summary", "grid_figures"]
