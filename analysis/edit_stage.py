"""The re-count after grid edits: the functions of the ``edited`` stages of
:mod:`analysis.stages` (:data:`analysis.stages.EDIT_STAGES`), which
:func:`analysis.project.state.with_session` runs through the stage graph's runner.

After an edit, the grids, the households' ``grid_id`` and the cells follow the edit
session's state (:func:`regrid`, which also regroups capacity per grid); coverage,
coverage levels and gaps are counted again by the coverage stage's own function
(:func:`recount`, :func:`analysis.circles.count`); the summary's grid figures by the
result stage's own (:func:`analysis.result_stage.grid_figures`), and the grid system's
codes, 四至 and posts follow the grids (:func:`edited`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analysis.capacity.stage import refreshed_summary, regroup
from analysis.circles import count
from analysis.completeness import label_gaps
from analysis.gridsystem import apply as grid_system
from analysis.result_stage import grid_figures
from analysis.settings import WalkSettings
from geo.errors import GridcircleError
from geo.grids import state as grid_state
from geo.vocabulary import minutes_column


def walk_settings_of(summary: dict) -> WalkSettings:
    """The walking settings a project was measured with (from its summary), or the
    defaults with the project's thresholds when an older file does not record them."""
    recorded = (summary.get("settings") or {}).get("walk")
    if recorded:
        try:
            return WalkSettings(**recorded)
        except (TypeError, GridcircleError):
            pass
    walk = WalkSettings()
    thresholds = dict(walk.thresholds_min)
    for service, minutes in (summary.get("thresholds_min") or {}).items():
        if service in thresholds:
            thresholds[service] = float(minutes)
    return replace(walk, thresholds_min=tuple(thresholds.items()))


def recount(households: pd.DataFrame, summary: dict) -> tuple | None:
    """``(coverage, coverage_levels, gaps)`` of households that carry walking minutes and
    grids, by the coverage stage's own function; ``None`` when they carry no minutes."""
    walk = walk_settings_of(summary)
    services = tuple(s for s in walk.services if minutes_column(s) in households.columns)
    if not services or "grid_id" not in households.columns:
        return None
    return count(households, walk, services)


def _summary(project) -> dict:
    """The project's summary, with the thresholds its meta records when it lacks them."""
    summary = dict(project.summary)
    summary.setdefault("thresholds_min", project.meta.get("thresholds_min") or {})
    return summary


def regrid(project, session) -> dict[str, pd.DataFrame]:
    """The project's layers with grids, households' grid_id and cells following the
    session's state (and capacity per grid following the homes)."""
    state = session.state
    layers = dict(project.layers)
    layers["grids"] = state.grids.copy()
    layers["households"] = grid_state.households_with_grids(layers["households"], state)
    layers["cells"] = grid_state.cell_layer(state)
    layers.update(regroup(layers))  # capacity per grid follows the homes (no-op without it)
    return layers


def recounted(project, layers: dict[str, pd.DataFrame]) -> tuple | None:
    """Coverage, coverage levels and gaps of the regridded layers (see :func:`recount`)."""
    return recount(layers["households"], _summary(project))


def edited(project, session, layers: dict[str, pd.DataFrame], counted: tuple | None, *,
           grid_system_kept: bool = False):
    """The project after edits, from its regridded layers and their counts (``None``:
    the layers already follow the state, as in a project just made from a run).
    ``grid_system_kept``: the grids are the project's own, unchanged (a project measured
    again with other walking settings), so their codes, 四至 and posts stay as they are."""
    layers = dict(layers)
    summary = _summary(project)
    if counted is not None:
        coverage, levels, gaps = counted
        layers["coverage"] = coverage
        if "coverage_levels" in layers:
            layers["coverage_levels"] = levels
        if "gaps" in layers:  # with their cause, as the run labels them (data or service)
            thin = (summary.get("data_completeness") or {}).get("thin_services")
            layers["gaps"] = gaps if thin is None else label_gaps(gaps, thin)
            if isinstance(summary.get("reach"), dict):
                summary["reach"] = {**summary["reach"], "gaps": {
                    s: int((gaps["service"] == s).sum()) for s in summary["reach"].get("gaps", {})}}
    summary.update(grid_figures(session.state.grids, summary.get("grids_report")))
    if summary.get("capacity"):
        summary["capacity"] = refreshed_summary(summary["capacity"], layers)
    meta = {**project.meta, "summary": summary}
    if not grid_system_kept:  # grid codes, 四至 and the workers' posts follow the grids
        layers, meta = grid_system(layers, meta)  # (analysis.gridsystem)
    return replace(project, layers=layers, meta=meta, session=session)


__all__ = ["edited", "recount", "recounted", "regrid", "walk_settings_of"]
