"""Grid polygons drawn on several cores before the rule book's table asks for them.

:meth:`geo.grids.rules.CellTable.polygon` remembers each grid's polygon by its cells;
:func:`draw_ahead` fills that memory from forked worker processes, each drawing whole
grids with the same function, so :func:`geo.grids.rules.grid_table` then finds every
polygon drawn, the same geometries a serial run draws (they travel back as WKB, exact).
"""

from __future__ import annotations

import numpy as np

from geo.grids.float_union import unions_of
from geo.grids.parallel import can_fork, ordered
from geo.grids.rules import CellTable

_TABLE: CellTable | None = None  # the table the forked workers read (set before forking)


def grid_cells(cells: CellTable, grid_of_cell: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each grid's cells (sorted positions) and home points, as the rule book takes them."""
    labels = np.asarray(grid_of_cell, dtype=object)
    has = np.array([isinstance(g, str) and g != "" for g in labels])
    pos = np.flatnonzero(has)
    codes, inverse = np.unique(labels[pos].astype(str), return_inverse=True)
    order = pos[np.argsort(inverse, kind="stable")]
    bounds = np.searchsorted(np.sort(inverse, kind="stable"), np.arange(len(codes) + 1))
    out = []
    for k in range(len(codes)):
        idx = order[bounds[k]:bounds[k + 1]]
        homes = (cells.households[idx] > 0) & cells.unit[idx]
        out.append((idx, cells.homes[idx][homes & np.isfinite(cells.homes[idx]).all(axis=1)]))
    return out


def draw_ahead(cells: CellTable, grid_of_cell: np.ndarray, *, workers: int) -> None:
    """Draw every grid's polygon into ``cells``' memory on ``workers`` processes (nothing
    when one worker, or no fork, would run serially anyway); first check the cells for
    floating unions (:meth:`geo.grids.float_union.CellUnions.prepare`)."""
    global _TABLE
    unions_of(cells).prepare()  # cells checked once, here, not in every worker
    if workers <= 1 or not can_fork():
        return
    jobs = grid_cells(cells, grid_of_cell)
    _TABLE = cells
    try:
        drawn = ordered(_draw, jobs, workers=workers)
        for (idx, _), found in zip(jobs, drawn):
            cells._polygons[idx.tobytes()] = found
    finally:
        _TABLE = None


def _draw(idx: np.ndarray, homes_xy: np.ndarray):
    return _TABLE.polygon(idx, homes_xy)


__all__ = ["draw_ahead", "grid_cells"]
