"""Grid edits a planner makes by hand, with undo and redo.

Edits work on a :class:`~geo.gridstate.GridState` (every tessellation cell's grid, the
grids' names and locks, and the grid table). Every edit is a pure function
``edit(state, ..., *, author="") -> Edit``: it returns a new state and a
:class:`JournalEntry` that records exactly which cells changed grid and which attributes
changed (a *delta*), the before/after figures of every grid it touched, and warnings for
every rule the result breaks. Edits never refuse silently: an edit that
breaks a rule is applied and says so; an edit that cannot be carried out at all (unknown
grid, empty selection) raises :class:`~geo.errors.InputError`.

Undo and redo replay the deltas (:func:`undo`, :func:`redo` on an :class:`EditSession`),
so they are exact and need no re-computation of the partition, and the journal can be
saved and re-opened with the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from geo.errors import InputError
from geo.gridstate import (GRID_COLUMNS, GRID_SIZE_M, GridState, arterial_faces, cell_layer,
                           cells_from_grids, community_feasible, grid_attrs, grid_rows,
                           households_with_grids, polsby_popper, reason_text,
                           state_from_layers)

#: Columns of the grid table shown before and after each edit.
FIGURES = ("households", "in_band", "contiguous", "arterial_crossings", "polsby_popper",
           "n_units", "locked")
OPS = ("move", "merge", "split", "lock", "unlock", "rename")




@dataclass(frozen=True, eq=False)
class JournalEntry:
    """One edit as the journal keeps it (everything needed to undo and redo it).

    ``cells``/``before_grid``/``after_grid`` are the delta of the assignment;
    ``attrs_before``/``attrs_after`` map each touched grid id to its ``{"name",
    "locked"}`` before and after (``None`` where the grid did not exist). ``before`` and
    ``after`` are the grid table rows (every column but the geometry) of the touched
    grids, so that undo and redo restore them exactly; ``warnings`` are
    ``(translation key, params)`` pairs.
    """

    op: str
    params: dict
    time_utc: str
    author: str
    cells: tuple[int, ...]
    before_grid: tuple[str, ...]
    after_grid: tuple[str, ...]
    attrs_before: dict
    attrs_after: dict
    before: tuple[dict, ...]
    after: tuple[dict, ...]
    warnings: tuple[tuple[str, dict], ...] = ()

    def warning_texts(self, lang: str = "zh") -> list[str]:
        """The warnings in one language."""
        from geo.i18n import t

        return [t(key, lang, **params) for key, params in self.warnings]

    def touched(self) -> list[str]:
        """Ids of the grids this edit touched (before or after)."""
        ids = {r["grid_id"] for r in self.before} | {r["grid_id"] for r in self.after}
        return sorted(ids)

    def to_record(self) -> dict:
        """A JSON-ready dict (see :func:`entry_from_record`)."""
        return {"op": self.op, "params": self.params, "time_utc": self.time_utc,
                "author": self.author, "cells": list(self.cells),
                "before_grid": list(self.before_grid), "after_grid": list(self.after_grid),
                "attrs_before": self.attrs_before, "attrs_after": self.attrs_after,
                "before": list(self.before), "after": list(self.after),
                "warnings": [[k, p] for k, p in self.warnings]}


def entry_from_record(record: dict) -> JournalEntry:
    """Rebuild a :class:`JournalEntry` from :meth:`JournalEntry.to_record` output."""
    return JournalEntry(
        op=str(record["op"]), params=dict(record.get("params") or {}),
        time_utc=str(record.get("time_utc", "")), author=str(record.get("author") or ""),
        cells=tuple(int(c) for c in record["cells"]),
        before_grid=tuple(str(g) for g in record["before_grid"]),
        after_grid=tuple(str(g) for g in record["after_grid"]),
        attrs_before=dict(record.get("attrs_before") or {}),
        attrs_after=dict(record.get("attrs_after") or {}),
        before=tuple(record.get("before") or ()), after=tuple(record.get("after") or ()),
        warnings=tuple((str(k), dict(p)) for k, p in record.get("warnings") or ()))


@dataclass(frozen=True, eq=False)
class Edit:
    """What an edit function returns: the new state and its journal entry."""

    state: GridState
    entry: JournalEntry

    def table(self) -> pd.DataFrame:
        """Before/after figures of the touched grids (see :func:`before_after`)."""
        return before_after(self.entry)


@dataclass(frozen=True, eq=False)
class EditSession:
    """A state plus the journal of edits that led to it, for undo and redo.

    ``entries[:position]`` are applied; ``entries[position:]`` were undone and can be
    redone until a new edit discards them.
    """

    state: GridState
    entries: tuple[JournalEntry, ...] = ()
    position: int = 0

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.entries)

    @property
    def applied(self) -> tuple[JournalEntry, ...]:
        return self.entries[:self.position]


# ------------------------------------------------------------------ applying deltas


def _plain(value: object) -> object:
    """A JSON-ready Python value (numpy scalars unwrapped, NaN as None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def _row_record(row: pd.Series) -> dict:
    """Every column of a grid table row but the geometry, JSON-ready."""
    out = {col: _plain(row[col]) for col in row.index if col != "geometry"}
    out["grid_id"] = str(row["grid_id"])
    out["locked"] = int(bool(out.get("locked")))
    return out


def _apply(state: GridState, cells: np.ndarray, new_grid: Sequence[str],
           attrs: dict[str, dict | None]) -> tuple[GridState, list[str]]:
    """Reassign ``cells`` and set ``attrs``; recompute the grids concerned."""
    grid_of_cell = state.grid_of_cell.copy()
    touched = set(attrs)
    if len(cells):
        touched |= set(grid_of_cell[cells]) | set(new_grid)
        grid_of_cell[cells] = np.asarray(new_grid, dtype=object)
    current = grid_attrs(state.grids)
    for gid, a in attrs.items():
        if a is None:
            current.pop(gid, None)
        else:
            current[gid] = {"name": str(a.get("name") or ""), "locked": bool(a.get("locked"))}
    touched_sorted = sorted(touched)
    fresh = grid_rows(state.cells, grid_of_cell, touched_sorted, state.band, current)
    kept = state.grids[~state.grids["grid_id"].isin(touched)]
    grids = pd.concat([kept, fresh], ignore_index=True) if len(kept) else fresh
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=state.crs)
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    new = replace(state, grid_of_cell=grid_of_cell, grids=grids,
                  known_ids=state.known_ids | frozenset(grids["grid_id"]))
    return new, touched_sorted


def _rows_for(state: GridState, ids: Iterable[str]) -> tuple[dict, ...]:
    table = state.grids.set_index("grid_id", drop=False)
    return tuple(_row_record(table.loc[g]) for g in ids if g in table.index)


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
            out.append(("edit.warn.band", {"grid": gid, "households": int(row["households"]),
                                           "low": low, "high": high}))
        if not row["contiguous"]:
            out.append(("edit.warn.contiguous", {"grid": gid}))
        crossings = int(row["arterial_crossings"])
        if crossings and (was is None or crossings > int(was["arterial_crossings"])):
            out.append(("edit.warn.arterial", {"grid": gid, "count": crossings}))
        if was is not None and bool(was["locked"]):
            out.append(("edit.warn.locked", {"grid": gid}))
    return out


def _commit(state: GridState, op: str, params: dict, cells: np.ndarray, new_grid: Sequence[str],
            attrs_after: dict[str, dict | None], author: str,
            extra_warnings: list[tuple[str, dict]] = ()) -> Edit:
    cells = np.asarray(cells, dtype=np.int64)
    before_grid = tuple(str(g) for g in state.grid_of_cell[cells])
    current = grid_attrs(state.grids)
    # a grid that appears gets default attributes; one that loses all its cells, none
    after_ids = set(new_grid)
    attrs_after = dict(attrs_after)
    for g in set(before_grid) - after_ids:
        if np.isin(state.cells_of(g), cells).all():
            attrs_after.setdefault(g, None)
    for g in after_ids - set(current):
        attrs_after.setdefault(g, {"name": "", "locked": False})
    attrs_before = {g: current.get(g) for g in attrs_after}
    new_state, touched = _apply(state, cells, list(new_grid), attrs_after)
    warnings = list(extra_warnings) + _rule_warnings(state, new_state, touched)
    entry = JournalEntry(
        op=op, params=params, time_utc=_now(), author=str(author or "").strip(),
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
    if not shapely.intersects(a.geometry.buffer(2 * GRID_SIZE_M), b.geometry):
        warnings.append(("edit.warn.not_adjacent", {"a": keep, "b": absorb}))
    cells = state.cells_of(absorb)
    params = {"keep": keep, "absorb": absorb}
    return _commit(state, "merge", params, cells, [keep] * len(cells), {absorb: None}, author,
                   warnings)


def _adjacency(geoms: np.ndarray) -> coo_array:
    """Rook adjacency (shared edge longer than 0.5 m) between a few cells."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=2 * GRID_SIZE_M)
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i):
        rings = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(
            rings[i], shapely.buffer(rings[j], 2 * GRID_SIZE_M, cap_style="flat", quad_segs=1)))
        ok = shared >= 0.5
        i, j = i[ok], j[ok]
    n = len(geoms)
    data = np.ones(2 * len(i))
    return coo_array((data, (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()


def _n_pieces(adj, mask: np.ndarray) -> int:
    idx = np.flatnonzero(mask)
    if idx.size <= 1:
        return idx.size
    sub = adj[idx][:, idx]
    return connected_components(sub, directed=False)[0]


def best_split(geoms: np.ndarray, households: np.ndarray, faces: np.ndarray,
               band: tuple[int, int], *, angles: int = 12) -> tuple[np.ndarray, dict]:
    """Cut a set of cells into two groups, each in the band where possible.

    Candidates are straight sweeps in ``angles`` directions (cells ordered along the
    direction and cut where both sides best fit the band) and region growing from the
    cell farthest from the centre. The chosen cut has, in order of priority: both parts
    in one piece; both parts in the band; no arterial road crossed (an arterial is
    crossed only when that is the only way to get both parts into the band); as many
    parts in the band as possible; counts closest to the middle of the band (or to each
    other); the shortest boundary.

    Returns
    -------
    (mask, info)
        ``mask`` marks the cells of the first part; ``info`` holds the part counts.
    """
    n = len(geoms)
    adj = _adjacency(geoms)
    centres = shapely.get_coordinates(shapely.point_on_surface(geoms))
    area = shapely.area(geoms)
    mid = (band[0] + band[1]) / 2
    total = households.sum()
    target = min(max(total / 2, band[0]), band[1]) if total >= 2 * band[0] else total / 2
    candidates: list[np.ndarray] = []
    for k in range(angles):
        theta = np.pi * k / angles
        along = centres @ np.array([np.cos(theta), np.sin(theta)])
        order = np.argsort(along, kind="stable")
        cum = np.cumsum(households[order])
        # every cut where both sides keep at least one household-bearing cell
        for cut in np.unique(np.searchsorted(cum, [target * f for f in (0.8, 0.9, 1.0, 1.1, 1.2)]))[:]:
            for c in (cut, cut + 1):
                if 0 < c < n:
                    mask = np.zeros(n, dtype=bool)
                    mask[order[:c]] = True
                    candidates.append(mask)
    centre = centres.mean(axis=0)
    for seed in np.argsort(-np.hypot(*(centres - centre).T))[:4]:
        mask = np.zeros(n, dtype=bool)
        mask[seed] = True
        count = households[seed]
        dist = np.hypot(*(centres - centres[seed]).T)
        while count < target:
            frontier = np.flatnonzero((adj[mask].sum(axis=0) > 0) & ~mask)
            if not frontier.size:
                break
            pick = frontier[np.argmin(dist[frontier])]
            mask[pick] = True
            count += households[pick]
        if 0 < mask.sum() < n:
            candidates.append(mask)
    faces_all = len(np.unique(faces))
    best, best_key = None, None
    for mask in candidates:
        h1, h2 = int(households[mask].sum()), int(households[~mask].sum())
        if h1 == 0 or h2 == 0:
            continue
        out_band = int(not band[0] <= h1 <= band[1]) + int(not band[0] <= h2 <= band[1])
        pieces = _n_pieces(adj, mask) + _n_pieces(adj, ~mask) - 2
        crossings = (len(np.unique(faces[mask])) - 1) + (len(np.unique(faces[~mask])) - 1)
        crossings = max(0, crossings - max(0, faces_all - 2))
        shape1 = shapely.union_all(geoms[mask], grid_size=GRID_SIZE_M)
        shape2 = shapely.union_all(geoms[~mask], grid_size=GRID_SIZE_M)
        cut_m = (shapely.length(shape1) + shapely.length(shape2)) / 2
        key = (pieces, out_band > 0, crossings, out_band,
               abs(h1 - mid) + abs(h2 - mid) if out_band == 0 else abs(h1 - h2), round(cut_m, 1))
        if best_key is None or key < best_key:
            best, best_key = mask, key
    if best is None:  # every cell but one is empty: cut off the first cell
        best = np.zeros(n, dtype=bool)
        best[np.argmax(households)] = True
    # the first part is the north-west one, so that it keeps the grid's id
    c1 = (centres[best] * area[best, None]).sum(0) / max(area[best].sum(), 1e-9)
    c2 = (centres[~best] * area[~best, None]).sum(0) / max(area[~best].sum(), 1e-9)
    if (c1[1] - c1[0]) < (c2[1] - c2[0]):
        best = ~best
    return best, {"households": [int(households[best].sum()), int(households[~best].sum())]}


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
    faces = state.cells["face_id"].to_numpy()[idx]
    mask, info = best_split(geoms, hh, faces, state.band)
    community = state.row(grid_id)["community_id"]
    new_id = next_grid_id(community, state.known_ids | set(state.grid_of_cell))
    warnings: list[tuple[str, dict]] = [("edit.note.new_grid", {"grid": new_id})]
    total = int(hh.sum())
    if total < 2 * state.band[0]:
        warnings.append(("edit.warn.split_too_small", {"grid": grid_id, "households": total,
                                                       "low": state.band[0]}))
    moved = idx[~mask]
    params = {"grid": grid_id, "new_grid": new_id, "households": info["households"]}
    return _commit(state, "split", params, moved, [new_id] * len(moved), {}, author, warnings)


def set_locked(state: GridState, grid_ids: Iterable[str], locked: bool = True, *,
               author: str = "") -> Edit:
    """Lock grids against automatic re-runs (or unlock them); manual edits still work."""
    ids = [_check_grid(state, g) for g in dict.fromkeys(map(str, grid_ids))]
    if not ids:
        raise InputError("err.edit_no_grids")
    attrs = grid_attrs(state.grids)
    after = {g: {**attrs[g], "locked": bool(locked)} for g in ids}
    op = "lock" if locked else "unlock"
    return _commit(state, op, {"grids": ids}, np.array([], dtype=np.int64), [], after, author)


def rename_grid(state: GridState, grid_id: str, name: str, *, author: str = "") -> Edit:
    """Give a grid a display name (e.g. 东区一网格); its id, the stable code, stays."""
    grid_id = _check_grid(state, grid_id)
    name = str(name or "").strip()
    if len(name) > 100:
        raise InputError("err.edit_name_long", count=len(name))
    attrs = grid_attrs(state.grids)
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


# ------------------------------------------------------------------ undo / redo


def start_session(state: GridState) -> EditSession:
    """A session with an empty journal."""
    return EditSession(state=state)


def record(session: EditSession, edit: Edit) -> EditSession:
    """Add an edit to the session; any undone edits beyond the current point are dropped."""
    entries = session.entries[:session.position] + (edit.entry,)
    return EditSession(state=edit.state, entries=entries, position=len(entries))


def apply_edit(session: EditSession, fn: Callable[..., Edit], *args, **kwargs) -> tuple[EditSession, Edit]:
    """Run an edit function on the session's state and record it."""
    edit = fn(session.state, *args, **kwargs)
    return record(session, edit), edit


def _replay(state: GridState, entry: JournalEntry, forward: bool) -> GridState:
    cells = np.asarray(entry.cells, dtype=np.int64)
    grids = entry.after_grid if forward else entry.before_grid
    expected = entry.before_grid if forward else entry.after_grid
    if len(cells) and tuple(state.grid_of_cell[cells]) != tuple(expected):
        raise InputError("err.edit_journal_mismatch", op=entry.op, time=entry.time_utc)
    attrs = entry.attrs_after if forward else entry.attrs_before
    new = _apply(state, cells, list(grids), attrs)[0]
    # restore the recorded rows exactly (they may come from the grid stage's own checks)
    rows = {r["grid_id"]: r for r in (entry.after if forward else entry.before)}
    table = new.grids.copy()
    for k in np.flatnonzero(table["grid_id"].isin(list(rows)).to_numpy()):
        record_ = rows[table["grid_id"].iat[k]]
        for col, value in record_.items():
            if col in table.columns and col != "geometry":
                table.iat[k, table.columns.get_loc(col)] = value
    return replace(new, grids=table)


def undo(session: EditSession) -> EditSession:
    """Undo the last applied edit (no change when there is none)."""
    if not session.can_undo:
        return session
    entry = session.entries[session.position - 1]
    return replace(session, state=_replay(session.state, entry, False),
                   position=session.position - 1)


def redo(session: EditSession) -> EditSession:
    """Redo the last undone edit (no change when there is none)."""
    if not session.can_redo:
        return session
    entry = session.entries[session.position]
    return replace(session, state=_replay(session.state, entry, True),
                   position=session.position + 1)


def before_after(entry: JournalEntry) -> pd.DataFrame:
    """One row per touched grid: each figure before and after the edit."""
    before = {r["grid_id"]: r for r in entry.before}
    after = {r["grid_id"]: r for r in entry.after}
    rows = []
    for gid in entry.touched():
        row = {"grid_id": gid}
        for col in ("households", "in_band", "contiguous", "arterial_crossings", "polsby_popper",
                    "locked"):
            row[f"{col}_before"] = before.get(gid, {}).get(col)
            row[f"{col}_after"] = after.get(gid, {}).get(col)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["Edit", "EditSession", "FIGURES", "GRID_COLUMNS", "GridState", "JournalEntry",
           "arterial_faces", "reason_text",
           "apply_edit", "before_after", "best_split", "cell_layer", "cells_from_grids",
           "community_feasible", "entry_from_record", "grid_rows", "households_with_grids",
           "locked_units", "merge_grids", "move_units", "nearest_unit", "next_grid_id",
           "polsby_popper", "record", "redo", "rename_grid", "rerun_inputs", "set_locked",
           "split_grid",
           "start_session", "state_from_layers", "undo", "units_in_polygon"]
