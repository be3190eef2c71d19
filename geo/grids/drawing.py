"""Grid polygons drawn on several cores before the rule book's table asks for them.

:meth:`geo.grids.rules.CellTable.polygon` remembers each grid's polygon by its cells, and
the table remembers each community's straightened polygons by its grids' cells;
:func:`draw_ahead` fills both memories: the communities are cut into runs of about as
many cells, this process draws and straightens the first run while forked processes take
the others (:func:`geo.grids.parallel.spread`), each with the same functions, so that
:func:`geo.grids.grid_table.grid_table` then finds every polygon drawn and straightened,
the same geometries a serial run draws (they travel back as WKB with the precision grid
each carries, :func:`geo.grids.cells_spread.pack`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import shapely

from geo.grids.cells_spread import pack, unpack
from geo.grids.float_union import unions_of
from geo.grids.grid_table import by_community, grid_members, table_rows
from geo.grids.parallel import can_fork, spread
from geo.grids.rules import CellTable, crossings, straighten

#: Fewer communities than this are drawn in this process alone.
MIN_SPREAD_COMMUNITIES = 4

_INPUTS: tuple | None = None  # (table, communities' grids) the forked workers read


def draw_ahead(cells: CellTable, grid_of_cell: np.ndarray, *, workers: int,
               band: tuple[int, int] = (0, 0), attrs: dict[str, dict] | None = None
               ) -> tuple[tuple[np.ndarray, list[list]] | None, dict[str, float] | None,
                          dict[str, dict] | None]:
    """Draw and straighten every grid's polygon into ``cells``' memories on ``workers``
    processes (nothing when one worker, or no fork, would run serially anyway); first
    check the cells for floating unions (:meth:`geo.grids.float_union.CellUnions.prepare`).
    Returns :func:`geo.grids.grid_table.grid_members` of every grid when it found them
    (for :func:`geo.grids.grid_table.grid_table`, which would find them again), and the
    area of the union of each community's straightened polygons when drawn
    (:func:`geo.grids.summary.covered_m2` of the grid table, made beside the drawing) and,
    given ``attrs``, each grid's :func:`geo.grids.grid_table.table_rows` row by id."""
    global _INPUTS
    unions_of(cells).prepare()  # cells checked once, here, not in every worker
    if workers <= 1 or not can_fork():
        return None, None, None
    labels = np.asarray(grid_of_cell, dtype=object)
    has = np.array([isinstance(g, str) and g != "" for g in labels])
    found = grid_members(cells, labels, set(labels[has].tolist()))
    groups = by_community(found[1])
    if len(groups) < MIN_SPREAD_COMMUNITIES:
        return found, None, None
    size = np.cumsum([sum(g[2].size for g in members) for members in groups])
    cuts = np.searchsorted(size, size[-1] * np.arange(1, workers) / workers, side="right")
    bounds = np.unique(np.r_[0, np.clip(cuts, 1, len(groups) - 1), len(groups)])
    rows_of = None if attrs is None else \
        (crossings(found[0], cells.households, cells.ei, cells.ej, cells.arterial), band, attrs,
         Counter(p for p in cells.part_of if p is not None))
    _INPUTS = (cells, groups, rows_of)
    try:
        runs = spread(_draw, [(int(lo), int(hi), k == 0)
                              for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))],
                      workers=workers)
    finally:
        _INPUTS = None
    covered: dict[str, float] = {}
    rows: dict[str, dict] = {}
    for lo, hi, run in zip(bounds[:-1], bounds[1:], runs):
        covered.update(run[-2])
        rows.update(run[-1])
        if len(run) == 2:  # drawn here, into the memories already
            continue
        (polygons, grid), near, (straight, straight_grid), _, _ = run
        polygons = unpack(polygons, grid, workers=workers)
        straight = unpack(straight, straight_grid, workers=workers)
        at = 0
        for members in groups[lo:hi]:
            for g in members:
                cells._polygons[g[2].tobytes()] = (polygons[at], near[at])
                at += 1
            cells._straight[tuple(g[2].tobytes() for g in members)] = \
                list(straight[at - len(members):at])
    return found, covered, (rows if attrs is not None else None)


def _draw(lo: int, hi: int, here: bool):
    """Draw and straighten the communities ``lo:hi`` into the table's memories (in a
    child: and return them packed, with each grid's near-home share), with the area of
    the union of each community's straightened polygons (in id order, as
    :func:`geo.grids.summary.covered_m2` unions them)."""
    cells, groups, rows_of = _INPUTS
    shapes, near, straight, covered, rows = [], [], [], {}, {}
    cells.polygons([(g[2], g[4]) for members in groups[lo:hi] for g in members])  # remembered
    for members in groups[lo:hi]:
        drawn = [cells.polygon(g[2], g[4]) for g in members]
        done = straighten([d[0] for d in drawn], [g[4] for g in members])
        cells._straight[tuple(g[2].tobytes() for g in members)] = done
        shapes += [d[0] for d in drawn]
        near += [d[1] for d in drawn]
        straight += list(done)
        covered[members[0][7]] = float(shapely.area(shapely.union_all(
            np.asarray(done, dtype=object))))
        if rows_of is not None:  # the table's rows, as grid_table makes them
            for g, d, shape in zip(members, drawn, done):
                g[5], g[6] = shape, d[1]
            rows.update((g[1], r) for g, r in zip(members, table_rows(cells, members, *rows_of)))
    return (covered, rows) if here else (pack(shapes), near, pack(straight), covered, rows)


__all__ = ["draw_ahead"]
