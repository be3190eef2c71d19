"""Checking a project's rows when it is opened (issue 26 item 10).

A GeoPackage is SQLite: any tool can leave a NULL, a text, a negative or an absurd number in
the ``households`` column (SQLite keeps whatever was stored; the GDAL reader turns text into
0 and 2.5 into 2, so the values are read here with SQLite itself), give two units one
``unit_id`` or break a geometry. :func:`check_project_rows` finds every such problem and
raises one :class:`ProjectRowsError` that lists them, one clear sentence each; rows are named
by their number, never by their values.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ProjectFileError
from geo.i18n import LANGUAGES, Note, t

#: Most households one unit (a building, a compound, a raster cell) may hold.
MAX_UNIT_HOUSEHOLDS = 100_000
#: Row numbers quoted per problem.
SHOWN_ROWS = 5
#: Layers whose ``households`` column is a count.
COUNT_LAYERS = ("households", "grids", "communities")


class ProjectRowsError(ProjectFileError):
    """A project whose rows cannot be used: every problem, one sentence each."""

    def __init__(self, path: Path, problems: list[tuple[str, dict]]) -> None:
        self.problems = tuple(problems)
        super().__init__("err.project_rows", path=path, problems="")

    def __reduce__(self):  # picklable (a district's error crosses process boundaries)
        return (type(self), (self.params["path"], list(self.problems)))

    def note(self) -> Note:
        """The message as a note: the problems listed the way each language lists."""
        seps = {"zh": "；", "en": "; "}
        listed = {lang: seps[lang].join(t(key, lang, **params) for key, params in self.problems)
                  for lang in LANGUAGES}
        return {"key": self.key, "params": {"path": self.params["path"], "problems": listed}}

    def __str__(self) -> str:
        return self.message("en")


def _rows(numbers: pd.Series | np.ndarray | list) -> str:
    numbers = [int(n) for n in list(numbers)[:SHOWN_ROWS + 1]]
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    return shown + (", …" if len(numbers) > SHOWN_ROWS else "")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count_problems(con: sqlite3.Connection, layer: str) -> list[tuple[str, dict]]:
    """NULL, text, fractional, negative and absurd counts in ``layer.households``."""
    columns = {row[1] for row in con.execute(f"PRAGMA table_info({_quoted(layer)})")}
    if "households" not in columns:
        return []
    frame = pd.DataFrame(con.execute(
        f"SELECT rowid, typeof(households), households FROM {_quoted(layer)} ORDER BY rowid"
    ).fetchall(), columns=["row", "kind", "value"])
    number = pd.to_numeric(frame["value"].where(frame["kind"].isin(["integer", "real"])),
                           errors="coerce")
    checks = {
        "project.problem.count_null": frame["kind"] == "null",
        "project.problem.count_text": ~frame["kind"].isin(["null", "integer", "real"]),
        "project.problem.count_not_whole": number.notna() & (
            ~np.isfinite(number) | (np.mod(number.fillna(0), 1) != 0)),
        "project.problem.count_negative": number < 0,
        "project.problem.count_absurd": number > MAX_UNIT_HOUSEHOLDS,
    }
    return [(key, {"layer": layer, "count": int(bad.sum()), "rows": _rows(frame["row"][bad]),
                   "limit": f"{MAX_UNIT_HOUSEHOLDS:,}"})
            for key, bad in checks.items() if bad.any()]


def _id_problems(frame: pd.DataFrame, layer: str, column: str) -> list[tuple[str, dict]]:
    if column not in frame.columns:
        return []
    ids = frame[column]
    problems = []
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        problems.append(("project.problem.id_missing",
                         {"layer": layer, "column": column, "count": int(missing.sum()),
                          "rows": _rows(np.flatnonzero(missing.to_numpy()) + 1)}))
    repeated = ids.duplicated(keep=False) & ~missing
    if repeated.any():
        problems.append(("project.problem.id_repeated",
                         {"layer": layer, "column": column,
                          "count": int(ids[repeated].nunique()),
                          "rows": _rows(np.flatnonzero(repeated.to_numpy()) + 1)}))
    return problems


def _geometry_problems(frame: pd.DataFrame, layer: str
                       ) -> tuple[list[tuple[str, dict]], np.ndarray | None]:
    """Missing geometries and coordinates that are not finite numbers (problems), and the
    rows whose polygons are merely invalid (self-intersecting: repaired by the caller)."""
    if "geometry" not in frame.columns or not len(frame):
        return [], None
    geoms = np.asarray(frame["geometry"], dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = np.flatnonzero(~missing)
    broken = np.zeros(len(geoms), dtype=bool)
    invalid = np.zeros(len(geoms), dtype=bool)
    for i in present:
        broken[i] = not np.isfinite(shapely.get_coordinates(geoms[i])).all()
    invalid[present] = ~shapely.is_valid(geoms[present]) & ~broken[present]
    problems = []
    if missing.any():
        problems.append(("project.problem.geometry_missing",
                         {"layer": layer, "count": int(missing.sum()),
                          "rows": _rows(np.flatnonzero(missing) + 1)}))
    if broken.any():
        problems.append(("project.problem.geometry_broken",
                         {"layer": layer, "count": int(broken.sum()),
                          "rows": _rows(np.flatnonzero(broken) + 1)}))
    return problems, (invalid if invalid.any() else None)


def check_project_rows(path: str | Path, layers: dict[str, pd.DataFrame]
                       ) -> tuple[dict[str, pd.DataFrame], list[tuple[str, dict]]]:
    """Refuse a project whose rows cannot be used (see the module docstring).

    ``layers`` are the project's layers as read from ``path``. Returns the layers with
    self-intersecting polygons repaired (``shapely.make_valid``) and a note per layer
    repaired; the inputs are left unchanged.

    Raises
    ------
    ProjectRowsError
        Listing every problem found.
    """
    path = Path(path)
    problems: list[tuple[str, dict]] = []
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            for layer in COUNT_LAYERS:
                if layer in tables:
                    problems += _count_problems(con, layer)
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ProjectFileError("err.not_project", path=path, detail=type(exc).__name__) from None
    for layer, column in (("households", "unit_id"), ("grids", "grid_id"),
                          ("communities", "community_id")):
        if layer in layers:
            problems += _id_problems(layers[layer], layer, column)
    repaired = dict(layers)
    notes: list[tuple[str, dict]] = []
    for layer in ("households", "grids", "communities"):
        if layer in layers:
            found, invalid = _geometry_problems(layers[layer], layer)
            problems += found
            if invalid is not None:
                frame = layers[layer].copy()
                geoms = np.array(frame.geometry, dtype=object)
                geoms[invalid] = shapely.make_valid(geoms[invalid])
                frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
                repaired[layer] = frame
                notes.append(("project.note.geometry_repaired",
                              {"layer": layer, "count": int(invalid.sum()),
                               "rows": _rows(np.flatnonzero(invalid) + 1)}))
    if problems:
        raise ProjectRowsError(path, problems)
    return repaired, notes


__all__ = ["MAX_UNIT_HOUSEHOLDS", "ProjectRowsError", "check_project_rows"]
