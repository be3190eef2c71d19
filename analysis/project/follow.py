"""A held project following a new run of the stage graph (the page holds one project and
runs the stages on every rerun): what a change of settings makes again, and what it keeps.

* The same base and index stages, another reach (a walking speed, a threshold, whose pace a
  service is walked at): the run measured the project's own grids again. Its grid parts
  (grids, cells, the edit session, grid codes, 四至, workers' posts) stay as they are;
  what follows the walking minutes (households' minutes, coverage, coverage levels, gaps,
  service areas, capacity, the summary) comes from the run (:func:`remeasured`).
* Anything else (an opened project measured for the first time, other uploads): the
  project is made again from the run (:func:`analysis.project.state.project_from_result`),
  with the planner's edits applied to it (:func:`with_edits_of`) and bound to the same
  file, codes and roster (:func:`carried`).

Both give the numbers the command line gives for the same grids: the counting is the
edit stages' own (:mod:`analysis.edit_stage`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.capacity.stage import regroup
from analysis.edit_stage import edited, recounted
from analysis.gridsystem import carry_grid_system
from analysis.project.state import Project, meta_of, project_from_result, with_session
from analysis.run_types import Result
from geo.grids import edits
from geo.grids.state import households_with_grids
from geo.vocabulary import CAPACITY_KINDS

#: the project's layers a walking-settings change leaves as they are (the grid parts)
GRID_PARTS = ("grids", "cells")
#: the stages a walking-settings change leaves as they were (their keys in StageRun.keys)
GRID_STAGES = ("base", "index")


def state_digest(state) -> str:
    """Identifies a grid state (its grid table and every cell's grid)."""
    digest = hashlib.blake2b(digest_size=12)
    plain = pd.DataFrame(state.grids.drop(columns="geometry")).astype(str)
    digest.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
    digest.update(np.asarray(state.grid_of_cell).astype(str).tobytes())
    return digest.hexdigest()


def same_grids(before: dict[str, Hashable] | None, now: dict[str, Hashable]) -> bool:
    """Whether a run with stage keys ``now`` measured the grids of the run with keys
    ``before`` again: the same base stage (households, communities, grids) and the same
    index (snapped homes and facilities, the compound walls whose outlines 四至 name)."""
    return before is not None and all(
        k in before and before[k] == now.get(k) for k in GRID_STAGES)


def remeasured(project: Project, result: Result) -> Project:
    """``project`` measured again by ``result``, a run of the same base and index stages
    as the run it was made from (:func:`same_grids`): its grids, cells, edit session,
    grid codes, 四至 and workers stay as they are (not rebuilt, not re-applied); the
    households take the run's minutes and capacity columns with their grids as the
    project has them, and coverage, gaps and the summary's grid figures are counted for
    those grids (again only when the planner's edits moved homes)."""
    session = project.session
    meta = {**project.meta, **meta_of(result)}
    staffing = project.summary.get("staffing")
    if staffing is not None:  # the posts follow the grids, which did not change
        meta["summary"] = {**meta["summary"], "staffing": staffing}
    layers = {name: frame for name, frame in project.layers.items()  # none the run lacks
              if name not in result.layers or result.layers[name] is not None}
    layers.update({name: frame for name, frame in result.layers.items()
                   if frame is not None and name not in GRID_PARTS})
    measured = replace(project, layers=layers, meta=meta)
    if session is None:
        return measured
    grids = project.layers["grids"]
    order = list(grids.columns)
    layers["grids"] = grids.drop(columns=[c for c in grids.columns if any(
        str(c).startswith(f"{kind}_") for kind in CAPACITY_KINDS)])
    layers["households"] = households_with_grids(layers["households"], session.state)
    layers.update(regroup(layers))  # capacity per grid and community, for these grids
    if set(layers["grids"].columns) == set(order):
        layers["grids"] = layers["grids"][order]
    ran = result.layers["households"]
    moved = ("grid_id" not in ran or not np.array_equal(
        ran["grid_id"].astype(str).to_numpy(), layers["households"]["grid_id"].astype(str).to_numpy()))
    counted = recounted(measured, layers) if moved else None
    return edited(measured, session, layers, counted, grid_system_kept=True)


def with_edits_of(fresh: Project, session: edits.EditSession | None) -> Project:
    """``fresh`` (the run measured again) with the planner's edit session: its grids
    re-counted when edits are applied, else only its journal kept (for redo)."""
    if session is None or fresh.session is None:
        return fresh
    if state_digest(session.state) == state_digest(fresh.session.state):
        return replace(fresh, session=replace(session, state=fresh.session.state))
    return with_session(fresh, session)


def carried(made: Project, old: Project) -> Project:
    """``made`` bound to ``old``'s file, revision and notes (the same project, re-measured)."""
    meta = dict(made.meta)
    for key in ("revision", "saved_at", "saved_by", "format_version"):
        if key in old.meta:
            meta[key] = old.meta[key]
    made = replace(made, path=old.path, revision=old.revision, notes=old.notes, meta=meta)
    if "grid_system" in old.meta or "workers" in old.layers:  # codes and roster carry over
        made = carry_grid_system(made, old)
    return made


def measured_again(project: Project, result: Result, keys: dict[str, Hashable], *,
                   before: dict[str, Hashable] | None = None,
                   area_source: dict | None = None) -> Project:
    """``project`` following a run with other walking minutes (``result``, stage keys
    ``keys``; ``before``: the keys of the run it was last measured with, ``None`` when it
    was not measured here): measured again in place when the run kept its grids
    (:func:`remeasured`), else made again from the run with its edits (see the module)."""
    if same_grids(before, keys):
        return remeasured(project, result)
    fresh = project_from_result(result, area_source=area_source)
    return carried(with_edits_of(fresh, project.session), project)


__all__ = ["GRID_PARTS", "GRID_STAGES", "carried", "measured_again", "remeasured", "same_grids",
           "state_digest", "with_edits_of"]
