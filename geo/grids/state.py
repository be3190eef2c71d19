"""The editable state of a grid layer: which grid each tessellation cell belongs to, and
the grid table derived from it.

A :class:`GridState` is the assignment of every *cell* (one per household unit, plus the
empty "filler" cells that make grids tile their community) to a grid, the per-grid
attributes a planner sets (``name``, ``locked``), and the grid table derived from both
(households, band, contiguity, arterial crossings, compactness), computed the way the
grid stage computes it: through the rule book (:mod:`geo.grids.rules`). Cells never
change shape; edits (:mod:`geo.grids.edits`) only move cells between grids, so grids never
overlap and a grid polygon is always its cells near its homes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected
from geo.errors import InputError
from geo.grids.blocks import GRID_SIZE_M, cell_adjacency, polygonal, strips
from geo.grids.grid_table import grid_table
from geo.grids.rules import GRID_COLUMNS, CellTable, attrs_of


@dataclass(frozen=True, eq=False)
class GridState:
    """Which grid every cell belongs to, the grids' attributes, and the grid table.

    Attributes
    ----------
    cells
        Fixed for the life of a project: one row per cell, positional index ``0…n-1``,
        columns ``unit_id`` (``None`` for filler cells), ``community_id``, ``face_id``
        (the area enclosed by arterial roads the cell lies in), ``households`` (int),
        ``part_of`` (the building a unit is a part of, when a building too big for one
        grid was split; else ``None``), ``home_x``/``home_y`` (the unit's location),
        polygons in a projected CRS.
    grid_of_cell
        Grid id of each cell (object array aligned with ``cells``).
    grids
        The grid table (:data:`GRID_COLUMNS`, polygons), one row per grid, sorted by id.
    band
        ``(min, max)`` households per grid.
    edges
        Neighbouring cells (``i``, ``j``, ``kind``), fixed like the cells.
    known_ids
        Every grid id ever used in this project, so that a new grid never reuses the id
        of one that was merged away.
    """

    cells: gpd.GeoDataFrame
    grid_of_cell: np.ndarray
    grids: gpd.GeoDataFrame
    band: tuple[int, int]
    edges: pd.DataFrame
    known_ids: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def rule_cells(self) -> CellTable:
        """The cells as the rule book reads them (shared by every state of a project)."""
        return CellTable.of(self.cells, self.edges)

    def grid_rows(self, grid_of_cell: np.ndarray, grid_ids: Iterable[str],
                  attrs: dict[str, dict]) -> gpd.GeoDataFrame:
        """The rule book's grid table rows of ``grid_ids`` for an assignment of the cells."""
        return grid_table(self.rule_cells, grid_of_cell, grid_ids, self.band, attrs, crs=self.crs)

    @property
    def crs(self):
        return self.cells.crs

    def grid_ids(self) -> list[str]:
        """Ids of the grids that exist now, sorted."""
        return list(self.grids["grid_id"])

    def unit_grid(self) -> pd.Series:
        """Grid id of every household unit (index ``unit_id``)."""
        units = self.cells["unit_id"].to_numpy()
        has = pd.notna(units)
        return pd.Series(self.grid_of_cell[has], index=pd.Index(units[has], name="unit_id"),
                         name="grid_id")

    def cells_of(self, grid_id: str) -> np.ndarray:
        """Positions of the cells of one grid."""
        return np.flatnonzero(self.grid_of_cell == grid_id)

    def row(self, grid_id: str) -> pd.Series:
        """The grid table row of one grid."""
        hit = self.grids.index[self.grids["grid_id"] == grid_id]
        if not len(hit):
            raise InputError("err.edit_unknown_grid", grid=grid_id)
        return self.grids.loc[hit[0]]


# ------------------------------------------------------------------ building a state


def cells_from_grids(households: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *,
                     arterials: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Cells rebuilt from a grid layer: a Voronoi diagram of each grid's units, clipped to it.

    Used when a project carries no cell layer (older files, grids made elsewhere): the
    cells tile each grid exactly, so moving cells between grids keeps the tiling.

    Parameters
    ----------
    households
        Unit points with ``unit_id``, ``households``, ``grid_id``, projected.
    grids
        Grid polygons with ``grid_id`` and ``community_id``, same CRS.
    arterials
        Arterial road lines; when given, ``face_id`` tells which side of them a cell is on.

    Returns
    -------
    GeoDataFrame
        Cell table as in :class:`GridState` plus ``grid_id`` (the grid each cell came from).
    """
    require_projected(households, what="household units")
    require_projected(grids, what="grids")
    rows: list[dict] = []
    geoms: list = []
    hh = households.reset_index(drop=True)
    by_grid = hh.groupby("grid_id", sort=False).indices
    for gid, comm, shape in zip(grids["grid_id"], grids["community_id"], grids.geometry):
        members = by_grid.get(gid, np.array([], dtype=int))
        if members.size == 0:
            rows.append({"unit_id": None, "community_id": comm, "households": 0, "grid_id": gid})
            geoms.append(shape)
            continue
        pts = hh.geometry.to_numpy()[members]
        xy = np.round(shapely.get_coordinates(pts), 2)
        keys = pd.Series([f"{x:.2f},{y:.2f}" for x, y in xy])
        site_of = keys.groupby(keys, sort=False).ngroup().to_numpy()
        site_xy = np.zeros((site_of.max() + 1, 2))
        site_xy[site_of] = xy
        if len(site_xy) == 1:
            site_cells = [shape]
        else:
            vor = shapely.voronoi_polygons(shapely.multipoints(site_xy), extend_to=shape,
                                           ordered=True)
            site_cells = list(shapely.intersection(shapely.get_parts(vor), shape,
                                                   grid_size=GRID_SIZE_M))
        for s in range(len(site_xy)):
            on_site = members[site_of == s]
            pieces = ([site_cells[s]] if on_site.size == 1 else
                      strips(site_cells[s], np.maximum(hh["households"].to_numpy()[on_site], 1)))
            for m, piece in zip(on_site, pieces):
                rows.append({"unit_id": hh["unit_id"].iat[m], "community_id": comm,
                             "households": int(hh["households"].iat[m]), "grid_id": gid})
                geoms.append(piece)
    cells = gpd.GeoDataFrame(rows, geometry=polygonal(np.asarray(geoms, dtype=object)),
                             crs=grids.crs)
    cells["face_id"] = arterial_faces(cells, arterials) if arterials is not None else 0
    cells["part_of"] = None
    return cells


def arterial_faces(cells: gpd.GeoDataFrame, arterials: gpd.GeoDataFrame) -> np.ndarray:
    """Which area enclosed by arterial roads each cell lies in (an integer label)."""
    lines = shapely.get_parts(arterials.geometry.to_numpy()) if len(arterials) else np.array([])
    frame = shapely.box(*cells.total_bounds).buffer(1.0, join_style="mitre")
    edges = np.concatenate([lines, [frame.exterior]]) if len(lines) else np.array([frame.exterior])
    noded = shapely.union_all(edges, grid_size=GRID_SIZE_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(faces):
        return np.zeros(len(cells), dtype=int)
    tree = shapely.STRtree(faces)
    pts = shapely.point_on_surface(cells.geometry.to_numpy())
    out = np.zeros(len(cells), dtype=int)  # an empty cell (a sliver lost to rounding): face 0
    found = tree.query_nearest(pts, all_matches=False)
    out[found[0]] = found[1]
    return out


def _part_of(cells: pd.DataFrame, households: pd.DataFrame) -> np.ndarray:
    """The building each cell's unit is a part of (``None`` for whole buildings)."""
    if "part_of" in cells:
        values = cells["part_of"].to_numpy(dtype=object)
    elif "part_of" in households:
        lookup = households.set_index("unit_id")["part_of"]
        lookup = lookup[~lookup.index.duplicated()]
        values = cells["unit_id"].map(lookup).to_numpy(dtype=object)
    else:
        values = np.full(len(cells), None, dtype=object)
    return np.array([v if v is not None and not (isinstance(v, float) and np.isnan(v)) else None
                     for v in values], dtype=object)


def _homes(cells: pd.DataFrame, households: gpd.GeoDataFrame) -> np.ndarray:
    """Location of each cell's unit (NaN for cells without one)."""
    if "home_x" in cells and "home_y" in cells:
        return cells[["home_x", "home_y"]].to_numpy(dtype=float)
    pts = households.geometry.representative_point()
    xy = pd.DataFrame({"x": pts.x.to_numpy(), "y": pts.y.to_numpy()},
                      index=households["unit_id"].astype(str).to_numpy())
    xy = xy[~xy.index.duplicated()]
    unit = cells["unit_id"].astype(object).where(cells["unit_id"].notna(), None)
    return xy.reindex(unit.astype(str).where(unit.notna(), "")).to_numpy(dtype=float)


def state_from_layers(households: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *,
                      band: tuple[int, int], cells: gpd.GeoDataFrame | None = None,
                      arterials: gpd.GeoDataFrame | None = None,
                      adjacency: pd.DataFrame | None = None,
                      known_ids: Iterable[str] = ()) -> GridState:
    """The editable state of a grid layer.

    Parameters
    ----------
    households
        Unit points with ``unit_id``, ``households``, ``grid_id`` (projected).
    grids
        The ``grids`` layer (projected): its table is kept as it is (so a re-opened
        project shows exactly the numbers it was saved with); ``name`` and ``locked``
        are added where missing.
    band
        ``(min, max)`` households per grid.
    cells
        The cell layer (``unit_id`` or None, ``community_id``, ``face_id``,
        ``households``, ``grid_id``; optional ``part_of``). Rebuilt from the grids with
        :func:`cells_from_grids` when not given.
    arterials
        Arterial roads: which neighbouring cells they separate (and, when the cells
        must be rebuilt, which side of them a cell lies on).
    adjacency
        The cells' adjacency (``i``, ``j``, ``kind``) when known (the grid stage's
        :attr:`GridResult.adjacency`); else found with
        :func:`geo.grids.blocks.cell_adjacency`.
    known_ids
        Grid ids used earlier in the project (besides the current ones).

    Raises
    ------
    InputError
        If a unit has no grid, or a cell's grid is not in the grid layer.
    """
    require_projected(grids, what="grids")
    if band[0] <= 0 or band[0] > band[1]:
        raise InputError("err.setting_range", name="band", value=f"{band[0]}–{band[1]}",
                         allowed="0 < min ≤ max")
    if households["grid_id"].isna().any():
        missing = households.loc[households["grid_id"].isna(), "unit_id"].head(5).tolist()
        raise InputError("err.edit_unit_without_grid", units=", ".join(map(str, missing)))
    if cells is None:
        cells = cells_from_grids(households, grids, arterials=arterials)
    cells = cells.reset_index(drop=True)
    require_projected(cells, what="cells")
    unknown = set(cells["grid_id"]) - set(grids["grid_id"])
    if unknown:
        raise InputError("err.edit_unknown_grid", grid=", ".join(sorted(map(str, unknown))[:5]))
    base = gpd.GeoDataFrame({
        "unit_id": cells["unit_id"].astype(object).where(cells["unit_id"].notna(), None),
        "community_id": cells["community_id"].astype(str),
        "face_id": cells["face_id"].fillna(-1).astype(int) if "face_id" in cells else -1,
        "households": cells["households"].fillna(0).astype(np.int64),
        "part_of": _part_of(cells, households),
        "block_id": cells["block_id"].fillna(-1).astype(int) if "block_id" in cells
        else -1 - np.arange(len(cells)),
    }, geometry=cells.geometry.to_numpy(), crs=cells.crs)
    base[["home_x", "home_y"]] = _homes(cells, households)
    if adjacency is None:
        lines = arterials.geometry.to_numpy() if arterials is not None else None
        adjacency = cell_adjacency(base, arterials=lines)
    table = grids.copy()
    if "name" not in table:
        table["name"] = ""
    if "locked" not in table:
        table["locked"] = 0
    table["name"] = table["name"].fillna("").astype(str)
    table["locked"] = table["locked"].fillna(0).astype(bool).astype(int)
    table = table.sort_values("grid_id").reset_index(drop=True)
    ids = cells["grid_id"].astype(str).to_numpy(dtype=object)
    state = GridState(cells=base, grid_of_cell=ids, grids=table, band=(int(band[0]), int(band[1])),
                      edges=adjacency[["i", "j", "kind"]].reset_index(drop=True),
                      known_ids=frozenset(map(str, table["grid_id"])) | frozenset(known_ids))
    missing = [col for col in GRID_COLUMNS if col not in table]
    if missing:  # a table from an older version or another tool: the rule book fills it in
        fresh = state.grid_rows(ids, table["grid_id"], attrs_of(table)).set_index("grid_id")
        for col in missing:
            table[col] = fresh[col].reindex(table["grid_id"]).to_numpy()
    return state


def households_with_grids(households: pd.DataFrame, state: GridState) -> pd.DataFrame:
    """A copy of the household layer whose ``grid_id`` follows the state."""
    out = households.copy()
    out["grid_id"] = out["unit_id"].map(state.unit_grid()).astype(object)
    return out


def cell_layer(state: GridState) -> gpd.GeoDataFrame:
    """The cell layer to save with a project (cells plus their current grid)."""
    out = state.cells.copy()
    out.insert(0, "cell", np.arange(len(out)))
    out["grid_id"] = state.grid_of_cell
    return out


__all__ = ["GRID_COLUMNS", "GridState", "arterial_faces", "attrs_of", "cell_layer",
           "cells_from_grids", "households_with_grids", "state_from_layers"]
