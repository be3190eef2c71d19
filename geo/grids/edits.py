"""Grid edits a planner makes by hand, with undo and redo.

Edits work on a :class:`~geo.grids.state.GridState` (every tessellation cell's grid, the
grids' names and locks, and the grid table). Every edit is a pure function
``edit(state, ..., *, author="") -> Edit``: it returns a new state and a
:class:`JournalEntry` that records exactly which cells changed grid and which attributes
changed (a *delta*), the before/after figures of every grid it touched, and warnings for
every rule the result breaks. Edits never refuse silently: an edit that
breaks a rule is applied and says so; an edit that cannot be carried out at all (unknown
grid, empty selection) raises :class:`~geo.errors.InputError`.

Undo and redo replay the deltas (:func:`undo`, :func:`redo` on an :class:`EditSession`,
kept in :mod:`geo.grids.journal` and part of this module's API), so they are exact and
need no re-computation of the partition, and the journal can be saved and re-opened
with the project. Every grid table row comes from the rule book (:mod:`geo.grids.rules`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.grids.journal import (FIGURES, Edit, EditSession, JournalEntry, apply_edit,
                               before_after, entry_from_record, reassign_cells, record, redo,
                               row_record, start_session, undo)
from geo.grids.rules import attrs_of
from geo.grids.splitting import best_split
from geo.grids.state import GridState

OPS = ("move", "merge", "split", "lock", "unlock", "rename")


def _rows_for(state: GridState, ids: Iterable[str]) -> tuple[dict, ...]:
    table = state.grids.set_index("grid_id", drop=False)
    return tuple(row_record(table.loc[g]) for g in ids if g in table.index)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _rule_warnings(before: GridState, after: GridState, touched: Iterable[str]) -> list[tuple[str, dict]]:
    """Warnings for every rule a touched grid breaks after the edit."""
    out: list[tuple[str, dict]] = []
    old = before.grids.set_index("grid_id")
    new = after.grids.set_index("grid_id")
    low, high = after.band
    for gid in touched:
        if gid not in new.index:
            if gid in old.index:
                out.append(("edit.warn.removed", {"grid": gid}))
            continue
        row = new.loc[gid]
        was = old.loc[gid] if gid in old.index else None
        if not row["in_band"]:
            n = int(row["households"])
            out.append(("edit.warn.band_low" if n < low else "edit.warn.band_high",
                        {"grid": gid, "households": n, "low": low, "high": high}))
        if not row["contiguous"]:
            out.append(("edit.warn.contiguous", {"grid": gid}))
        crossings = int(row["arterial_crossings"])
        if crossings and (was is None or crossings > int(was["arterial_crossings"])):
            out.append(("edit.warn.arterial", {"grid": gid, "count": crossings}))
        if was is not None and bool(was["locked"]):
            out.append(("edit.warn.locked", {"grid": gid}))
    return out


#: the longest grid name and author name taken (a name is shown in labels, tables, the
#: report and exports; longer text is refused with a message, never cut silently)
MAX_GRID_NAME = 60
MAX_AUTHOR = 40


def author_name(author: object) -> str:
    """An edit's or save's author as kept (trimmed); refused when too long."""
    text = str(author or "").strip()
    if len(text) > MAX_AUTHOR:
        raise InputError("err.author_long", count=len(text), limit=MAX_AUTHOR)
    return text


def _commit(state: GridState, op: str, params: dict, cells: np.ndarray, new_grid: Sequence[str],
            attrs_after: dict[str, dict | None], author: str,
            extra_warnings: list[tuple[str, dict]] = ()) -> Edit:
    author = author_name(author)
    cells = np.asarray(cells, dtype=np.int64)
    before_grid = tuple(str(g) for g in state.grid_of_cell[cells])
    current = attrs_of(state.grids)
    # a grid that appears gets default attributes; one that loses all its cells, none
    after_ids = set(new_grid)
    attrs_after = dict(attrs_after)
    for g in set(before_grid) - after_ids:
        if np.isin(state.cells_of(g), cells).all():
            attrs_after.setdefault(g, None)
    for g in after_ids - set(current):
        attrs_after.setdefault(g, {"name": "", "locked": False})
    attrs_before = {g: current.get(g) for g in attrs_after}
    new_state, touched = reassign_cells(state, cells, list(new_grid), attrs_after)
    warnings = list(extra_warnings) + _rule_warnings(state, new_state, touched)
    entry = JournalEntry(
        op=op, params=params, time_utc=_now(), author=author,
        cells=tuple(int(c) for c in cells), before_grid=before_grid,
        after_grid=tuple(str(g) for g in new_grid), attrs_before=attrs_before,
        attrs_after=attrs_after, before=_rows_for(state, touched),
        after=_rows_for(new_state, touched), warnings=tuple(warnings))
    return Edit(state=new_state, entry=entry)


# ------------------------------------------------------------------ the edits


def next_grid_id(community_id: str, known_ids: Iterable[str]) -> str:
    """The next free grid id of a community: its code plus a (two-digit) number, with
    the separator and width the community's existing ids use (``C01-07`` by default).

    Numbers are never reused, so an id names one grid for the life of the project.
    """
    pattern = re.compile(re.escape(str(community_id)) + r"(-?)(\d+)$")
    found = [m for g in known_ids if (m := pattern.match(str(g)))]
    n = max((int(m.group(2)) for m in found), default=0) + 1
    # follow the ids already there: "C01-07" (the grid stage's style) or "C0107"
    dashed = sum(1 for m in found if m.group(1)) >= sum(1 for m in found if not m.group(1))
    width = max([2] + [len(m.group(2)) for m in found])
    return f"{community_id}{'-' if dashed else ''}{n:0{width}d}"


def _check_grid(state: GridState, grid_id: str) -> str:
    grid_id = str(grid_id)
    if grid_id not in set(state.grids["grid_id"]):
        raise InputError("err.edit_unknown_grid", grid=grid_id)
    return grid_id


def units_in_polygon(state: GridState, polygon: shapely.Geometry, *, crs=None) -> list[str]:
    """Ids of the units whose cell's representative point lies inside a drawn polygon.

    Parameters
    ----------
    polygon
        The drawn shape (Polygon or MultiPolygon).
    crs
        CRS of ``polygon`` (e.g. ``4326`` for a shape drawn on a web map); default: the
        state's CRS.
    """
    if crs is not None:
        polygon = gpd.GeoSeries([polygon], crs=crs).to_crs(state.crs).iloc[0]
    units = state.cells["unit_id"].to_numpy()
    has = pd.notna(units)
    pts = shapely.point_on_surface(state.cells.geometry.to_numpy()[has])
    inside = shapely.contains_xy(polygon, shapely.get_x(pts), shapely.get_y(pts))
    return [str(u) for u in units[has][inside]]


def nearest_unit(state: GridState, x: float, y: float, *, crs=None,
                 max_m: float = 30.0) -> str | None:
    """Id of the unit whose cell contains (or lies within ``max_m`` of) a clicked point."""
    point = shapely.Point(x, y)
    if crs is not None:
        point = gpd.GeoSeries([point], crs=crs).to_crs(state.crs).iloc[0]
    units = state.cells["unit_id"].to_numpy()
    has = np.flatnonzero(pd.notna(units))
    geoms = state.cells.geometry.to_numpy()[has]
    tree = shapely.STRtree(geoms)
    hit = tree.query(point, predicate="dwithin", distance=max_m)
    if not len(hit):
        return None
    dist = shapely.distance(geoms[hit], point)
    return str(units[has[hit[np.argmin(dist)]]])


def move_units(state: GridState, unit_ids: Iterable[str], to_grid: str | None = None, *,
               author: str = "") -> Edit:
    """Move household units (and their cells) to another grid.

    Parameters
    ----------
    state
        The current state.
    unit_ids
        Units to move (from a click, or :func:`units_in_polygon`).
    to_grid
        The receiving grid; ``None`` makes a new grid (next free id of the units'
        community).
    author
        Free text saved in the journal.

    Raises
    ------
    InputError
        If no units are given, an id is unknown, or ``to_grid`` does not exist.
    """
    wanted = list(dict.fromkeys(str(u) for u in unit_ids))
    if not wanted:
        raise InputError("err.edit_no_units")
    units = state.cells["unit_id"].to_numpy()
    position = {str(u): i for i, u in enumerate(units) if u is not None and pd.notna(u)}
    unknown = [u for u in wanted if u not in position]
    if unknown:
        raise InputError("err.edit_unknown_units", units=", ".join(unknown[:5]), count=len(unknown))
    cells = np.array([position[u] for u in wanted], dtype=np.int64)
    warnings: list[tuple[str, dict]] = []
    communities = state.cells["community_id"].to_numpy()[cells]
    if to_grid is None:
        community = pd.Series(communities).mode().iloc[0]
        target = next_grid_id(community, state.known_ids | set(state.grid_of_cell))
        warnings.append(("edit.note.new_grid", {"grid": target}))
    else:
        target = _check_grid(state, to_grid)
        community = state.row(target)["community_id"]
    already = state.grid_of_cell[cells] == target
    if already.any():
        warnings.append(("edit.note.already", {"count": int(already.sum()), "grid": target}))
        cells = cells[~already]
        if not len(cells):
            raise InputError("err.edit_nothing_to_move", grid=target)
    foreign = sorted(set(communities[~already]) - {community})
    if foreign:
        warnings.append(("edit.warn.community", {"grid": target, "community": community,
                                                 "others": ", ".join(foreign)}))
    # a source grid left with nothing but empty filler cells goes with its units
    sources = set(state.grid_of_cell[cells])
    extra = []
    hh = state.cells["households"].to_numpy()
    for src in sources:
        rest = np.setdiff1d(state.cells_of(src), cells)
        if rest.size and hh[rest].sum() == 0 and not pd.notna(units[rest]).any():
            extra.append(rest)
    if extra:
        cells = np.concatenate([cells, *extra])
    params = {"units": wanted, "to_grid": target, "new_grid": to_grid is None}
    return _commit(state, "move", params, cells, [target] * len(cells), {}, author, warnings)


def merge_grids(state: GridState, keep: str, absorb: str, *, author: str = "") -> Edit:
    """Merge grid ``absorb`` into grid ``keep`` (``absorb``'s id is retired).

    Raises
    ------
    InputError
        If a grid does not exist or both ids are the same.
    """
    keep, absorb = _check_grid(state, keep), _check_grid(state, absorb)
    if keep == absorb:
        raise InputError("err.edit_same_grid", grid=keep)
    warnings: list[tuple[str, dict]] = []
    a, b = state.row(keep), state.row(absorb)
    if a["community_id"] != b["community_id"]:
        warnings.append(("edit.warn.community", {"grid": keep, "community": a["community_id"],
                                                 "others": b["community_id"]}))
    ei, ej = state.edges["i"].to_numpy(), state.edges["j"].to_numpy()
    ga, gb = state.grid_of_cell[ei], state.grid_of_cell[ej]
    if not (((ga == keep) & (gb == absorb)) | ((ga == absorb) & (gb == keep))).any():
        warnings.append(("edit.warn.not_adjacent", {"a": keep, "b": absorb}))
    cells = state.cells_of(absorb)
    params = {"keep": keep, "absorb": absorb}
    return _commit(state, "merge", params, cells, [keep] * len(cells), {absorb: None}, author,
                   warnings)


def split_grid(state: GridState, grid_id: str, *, author: str = "") -> Edit:
    """Split a grid in two; the north-west part keeps the id, the other gets a new one.

    Raises
    ------
    InputError
        If the grid does not exist or holds fewer than two household units.
    """
    grid_id = _check_grid(state, grid_id)
    idx = state.cells_of(grid_id)
    units = state.cells["unit_id"].to_numpy()[idx]
    if pd.notna(units).sum() < 2:
        raise InputError("err.edit_split_one_unit", grid=grid_id)
    geoms = state.cells.geometry.to_numpy()[idx]
    hh = state.cells["households"].to_numpy()[idx]
    faces = state.rule_cells.face[idx]
    mask, info = best_split(geoms, hh, faces, state.band)
    community = state.row(grid_id)["community_id"]
    new_id = next_grid_id(community, state.known_ids | set(state.grid_of_cell))
    warnings: list[tuple[str, dict]] = [("edit.note.new_grid", {"grid": new_id})]
    total = int(hh.sum())
    first, second = int(hh[mask].sum()), int(hh[~mask].sum())
    low = state.band[0]
    if first < low and second < low:
        warnings.append(("edit.warn.split_both_low", {"grid": grid_id, "households": total,
                                                      "first": first, "second": second,
                                                      "low": low}))
    elif min(first, second) < low:
        warnings.append(("edit.warn.split_one_low", {"grid": grid_id, "households": total,
                                                     "first": first, "second": second,
                                                     "short": min(first, second), "low": low}))
    moved = idx[~mask]
    params = {"grid": grid_id, "new_grid": new_id, "households": info["households"]}
    return _commit(state, "split", params, moved, [new_id] * len(moved), {}, author, warnings)


def set_locked(state: GridState, grid_ids: Iterable[str], locked: bool = True, *,
               author: str = "") -> Edit:
    """Lock grids against automatic re-runs (or unlock them); manual edits still work."""
    ids = [_check_grid(state, g) for g in dict.fromkeys(map(str, grid_ids))]
    if not ids:
        raise InputError("err.edit_no_grids")
    attrs = attrs_of(state.grids)
    after = {g: {**attrs[g], "locked": bool(locked)} for g in ids}
    op = "lock" if locked else "unlock"
    return _commit(state, op, {"grids": ids}, np.array([], dtype=np.int64), [], after, author)


def rename_grid(state: GridState, grid_id: str, name: str, *, author: str = "") -> Edit:
    """Give a grid a display name (e.g. 东区一网格); its id, the stable code, stays."""
    grid_id = _check_grid(state, grid_id)
    name = str(name or "").strip()
    if len(name) > MAX_GRID_NAME:
        raise InputError("err.edit_name_long", count=len(name), limit=MAX_GRID_NAME)
    attrs = attrs_of(state.grids)
    after = {grid_id: {**attrs[grid_id], "name": name}}
    return _commit(state, "rename", {"grid": grid_id, "name": name},
                   np.array([], dtype=np.int64), [], after, author)


def rerun_inputs(state: GridState) -> tuple[pd.Series, set[str]]:
    """What an automatic re-run of the grids needs to keep the planner's work:
    ``(previous, locked)`` = the grid id of every unit (so unchanged grids keep their
    ids) and the ids of the locked grids (kept exactly as they are)."""
    locked = set(state.grids.loc[state.grids["locked"].astype(bool), "grid_id"].astype(str))
    return state.unit_grid(), locked


def locked_units(state: GridState) -> pd.Series:
    """Grid of every unit in a locked grid (index ``unit_id``): what a re-run must keep."""
    locked = set(state.grids.loc[state.grids["locked"].astype(bool), "grid_id"])
    grid = state.unit_grid()
    return grid[grid.isin(locked)]



__all__ = ["FIGURES", "MAX_AUTHOR", "MAX_GRID_NAME", "OPS", "author_name", "Edit", "EditSession", "JournalEntry", "apply_edit", "before_after",
           "entry_from_record", "locked_units", "merge_grids", "move_units", "nearest_unit",
           "next_grid_id", "record", "redo", "rename_grid", "rerun_inputs", "set_locked",
           "split_grid", "start_session", "undo", "units_in_polygon"]
