"""The edit journal: what each edit changed (a delta of the cell assignment and of the
grids' names and locks), with undo and redo replaying the deltas exactly, and the
sessions that keep the journal. The edits themselves are in :mod:`geo.grids.edits`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.grids.rules import attrs_of
from geo.grids.state import GridState
from geo.i18n import t

#: Columns of the grid table shown before and after each edit.
FIGURES = ("households", "in_band", "contiguous", "arterial_crossings", "polsby_popper",
           "n_units", "near_home_share", "locked")


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


def row_record(row: pd.Series) -> dict:
    """Every column of a grid table row but the geometry, JSON-ready."""
    out = {col: _plain(row[col]) for col in row.index if col != "geometry"}
    out["grid_id"] = str(row["grid_id"])
    out["locked"] = int(bool(out.get("locked")))
    return out


def reassign_cells(state: GridState, cells: np.ndarray, new_grid: Sequence[str],
                   attrs: dict[str, dict | None]) -> tuple[GridState, list[str]]:
    """Reassign ``cells`` and set ``attrs``; recompute the grids concerned."""
    grid_of_cell = state.grid_of_cell.copy()
    touched = set(attrs)
    if len(cells):
        touched |= set(grid_of_cell[cells]) | set(new_grid)
        grid_of_cell[cells] = np.asarray(new_grid, dtype=object)
    current = attrs_of(state.grids)
    for gid, a in attrs.items():
        if a is None:
            current.pop(gid, None)
        else:
            current[gid] = {"name": str(a.get("name") or ""), "locked": bool(a.get("locked"))}
    touched_sorted = sorted(touched)
    fresh = state.grid_rows(grid_of_cell, touched_sorted, current)
    kept = state.grids[~state.grids["grid_id"].isin(touched | set(fresh["grid_id"]))]
    grids = pd.concat([kept, fresh], ignore_index=True) if len(kept) else fresh
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=state.crs)
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    new = replace(state, grid_of_cell=grid_of_cell, grids=grids,
                  known_ids=state.known_ids | frozenset(grids["grid_id"]))
    return new, touched_sorted




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
    new = reassign_cells(state, cells, list(grids), attrs)[0]
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
        for col in FIGURES:
            row[f"{col}_before"] = before.get(gid, {}).get(col)
            row[f"{col}_after"] = after.get(gid, {}).get(col)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["FIGURES", "Edit", "EditSession", "JournalEntry", "apply_edit", "before_after",
           "entry_from_record", "reassign_cells", "record", "redo", "row_record", "start_session",
           "undo"]
