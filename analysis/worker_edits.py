"""A planner's changes to the grid workers' posts: put a worker on a grid's A post (the
grid's worker, if any, swaps to the other's grid), with undo and redo.

The changes are journaled in the project's meta (``worker_edits``: entries holding worker
and grid ids only, never names or phones, and the position for undo/redo), saved with the
project like the grid edit journal. After each change the B posts are matched again
(:func:`geo.grids.workers.keep_workers`), and the summary's ``staffing`` follows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pandas as pd

from geo.errors import InputError
from geo.grids import edits
from geo.grids.workers import a_posts, keep_workers, staffing

JOURNAL_KEY = "worker_edits"


def _journal(project) -> tuple[list[dict], int]:
    rec = project.meta.get(JOURNAL_KEY) or {}
    entries = list(rec.get("entries") or [])
    return entries, min(int(rec.get("position", len(entries)) or 0), len(entries))


def _with_posts(project, grid_of: dict[str, str | None], entries: list[dict], position: int):
    grids = project.layers["grids"]
    workers = keep_workers(project.layers["workers"], grids, grid_of)
    layers = {**project.layers, "workers": workers}
    summary = {**project.summary, "staffing": staffing(workers, grids)}
    meta = {**project.meta, "summary": summary,
            JOURNAL_KEY: {"entries": entries, "position": position}}
    return replace(project, layers=layers, meta=meta)


def _check(project) -> pd.DataFrame:
    workers = project.layers.get("workers")
    if not isinstance(workers, pd.DataFrame) or not len(workers):
        raise InputError("err.no_roster")
    return workers


def reassign_worker(project, worker_id: str, grid_id: str, *, author: str = ""):
    """The project with ``worker_id`` on ``grid_id``'s A post; the grid's A worker (if
    any) takes ``worker_id``'s former grid (a swap), or no grid when it had none.

    Raises
    ------
    InputError
        If the project has no roster, or the worker or grid is unknown (the message
        names ids only).
    """
    workers = _check(project)
    worker_id, grid_id = str(worker_id), str(grid_id)
    if worker_id not in set(workers["worker_id"].astype(str)):
        raise InputError("err.worker_unknown", worker=worker_id[:20])
    if grid_id not in set(project.layers["grids"]["grid_id"].astype(str)):
        raise InputError("err.edit_unknown_grid", grid=grid_id[:40])
    before = a_posts(workers)
    after: dict[str, str | None] = dict(before)
    old = before.get(worker_id)
    holder = next((w for w, g in before.items() if g == grid_id and w != worker_id), None)
    after[worker_id] = grid_id
    if holder is not None:
        if old is None:
            after.pop(holder)
        else:
            after[holder] = old
    touched = [w for w in dict.fromkeys([worker_id, holder]) if w is not None]
    entry = {"op": "swap" if holder is not None and old is not None else "reassign",
             "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "author": edits.author_name(author),
             "before": {w: before.get(w) for w in touched},
             "after": {w: after.get(w) for w in touched}}
    entries, position = _journal(project)
    entries = entries[:position] + [entry]
    return _with_posts(project, after, entries, len(entries))


def _replay(project, forward: bool):
    entries, position = _journal(project)
    if (forward and position >= len(entries)) or (not forward and position == 0):
        return project
    entry = entries[position if forward else position - 1]
    grid_of: dict[str, str | None] = dict(a_posts(project.layers["workers"]))
    for w, g in (entry["after"] if forward else entry["before"]).items():
        if g is None:
            grid_of.pop(w, None)
        else:
            grid_of[w] = g
    return _with_posts(project, grid_of, entries, position + (1 if forward else -1))


def undo_worker_edit(project):
    """The project with its last worker change undone (unchanged when there is none)."""
    _check(project)
    return _replay(project, forward=False)


def redo_worker_edit(project):
    """The project with its last undone worker change made again."""
    _check(project)
    return _replay(project, forward=True)


__all__ = ["JOURNAL_KEY", "reassign_worker", "redo_worker_edit", "undo_worker_edit"]
