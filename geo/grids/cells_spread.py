"""The cells of a pass built on several cores: the tessellation cut by blocks, the same
cells as one call.

Every cell is made from its own block alone (its units' Voronoi diagram clipped to the
block, strips for units sharing a spot, a filler for a block without units), so the blocks
can be cut into runs, each tessellated on its own (:func:`geo.grids.blocks.tessellate`):
this process takes the first run while forked processes take the others
(:func:`geo.grids.parallel.spread`), and the cells are put back in the order of one call
(units in their order, then the fillers in block order). The children's cells travel as
WKB with the precision grid each carries (WKB drops it; it is set again pointwise, which
keeps every coordinate), so the cells are the same geometries, grid included.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.blocks import MIN_SHARED_M, candidate_pairs, pair_kinds, tessellate
from geo.grids.heap import release_free_memory
from geo.grids.parallel import can_fork, chunked, spread

#: Fewer units than this (about 200,000 households) are tessellated in one call: forking
#: a process and bringing its cells back cost some 0.05 s, about what a second core saves
#: on a third of a second's tessellation (an estimate on a shared machine).
MIN_SPREAD_UNITS = 8000

#: The share of the units this process leaves to the others when it has other work beside
#: its run (the partition's warm-up, in a thread): small, since a child also packs its
#: cells for the trip back (at 1M households on a busy machine this process waited
#: 0.1-0.3 s for the child with 0.1, 0.1 s with 0.03; on a quiet one the child waited
#: 0.1 s with none).
THEN_SHARE = 0.02
#: The share of the candidate pairs this process leaves to the others (it joins their
#: answers into the table after its own run: some 0.1 s at 1M households).
PAIRS_SHARE = 0.05
#: Fewer candidate pairs than this (about as many cells as MIN_SPREAD_UNITS make) are
#: judged in one call.
MIN_SPREAD_PAIRS = 25_000
#: About as many candidate pairs per cell (``i < j``) as a city's cells have.
PAIRS_PER_CELL = 3.5

_INPUTS: tuple | None = None  # what the forked children read (set before forking)


def pack(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as WKB and the precision grid each carries (see :func:`unpack`)."""
    geoms = np.asarray(geoms, dtype=object)
    return shapely.to_wkb(geoms), shapely.get_precision(geoms)


def unpack(wkb: np.ndarray, grid: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """The geometries :func:`pack` packed: the same coordinates and precision grid (on
    ``workers`` threads, :func:`geo.grids.parallel.chunked`)."""
    geoms = chunked(shapely.from_wkb, wkb, workers=workers)
    for size in np.unique(grid[grid > 0]):
        at = np.flatnonzero(grid == size)
        geoms[at] = chunked(shapely.set_precision, geoms[at], workers=workers, grid_size=size,
                            mode="pointwise")
    return geoms


def tessellate_spread(units: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, *,
                      block_of: np.ndarray, workers: int = 1,
                      then: Callable[[], None] | None = None) -> gpd.GeoDataFrame:
    """:func:`geo.grids.blocks.tessellate` of ``units`` in ``blocks`` (``block_of``: the
    position of each unit's block), on ``workers`` processes: the same cells. ``then``:
    work this process starts beside its own run once the others are forked (the
    partition's warm-up, :func:`geo.grids.partition.warm_up_soon`), for which its run
    is made smaller (:data:`THEN_SHARE`)."""
    global _INPUTS
    block_of = np.asarray(block_of, dtype=np.int64)
    if workers <= 1 or len(units) < MIN_SPREAD_UNITS or len(blocks) < 2 or not can_fork():
        if then is not None:
            then()
        return tessellate(units, blocks, block_of=block_of, workers=workers)
    # runs of blocks with about as many units each (this process's the smaller by
    # THEN_SHARE when it has other work beside)
    total = np.cumsum(np.bincount(block_of, minlength=len(blocks)))
    first = max(1 / workers - (THEN_SHARE if then is not None else 0.0), 0.5 / workers)
    share = first + (1 - first) * np.arange(workers - 1) / (workers - 1)
    cuts = np.searchsorted(total, total[-1] * share, side="right")
    bounds = np.unique(np.r_[0, np.clip(cuts, 1, len(blocks) - 1), len(blocks)])
    runs = [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    _INPUTS = (units, blocks, block_of)
    try:
        parts = spread(_run, [(lo, hi, k == 0) for k, (lo, hi) in enumerate(runs)],
                       workers=workers, then=then, arrived=_unpacked)
    finally:
        _INPUTS = None
    frames = []
    for (lo, hi), (pos, frame, geoms) in zip(runs, parts):
        unit = frame["unit"].to_numpy()
        frames.append(gpd.GeoDataFrame(
            frame.assign(unit=np.where(unit >= 0, pos[np.maximum(unit, 0)], -1)),
            geometry=unpack(*geoms, workers=workers) if isinstance(geoms, tuple) else geoms,
            crs=blocks.crs))
    cells = pd.concat(frames, ignore_index=True)
    unit = cells["unit"].to_numpy()
    has = np.flatnonzero(unit >= 0)
    order = np.r_[has[np.argsort(unit[has], kind="stable")], np.flatnonzero(unit < 0)]
    return gpd.GeoDataFrame(cells.take(order).reset_index(drop=True), geometry="geometry",
                            crs=blocks.crs)


def _unpacked(run: tuple) -> tuple:
    """A child's run with its cells unpacked (in a thread, beside this process's run)."""
    pos, frame, geoms = run
    return pos, frame, unpack(*geoms, workers=1)


def _run(lo: int, hi: int, here: bool):
    """The cells of the blocks ``lo:hi`` (in this process: as they are; in a child:
    packed for the trip back)."""
    units, blocks, block_of = _INPUTS
    pos = np.flatnonzero((block_of >= lo) & (block_of < hi))
    cells = tessellate(units.iloc[pos], blocks.iloc[lo:hi].reset_index(drop=True),
                       block_of=block_of[pos] - lo, workers=1)
    geoms = cells.geometry.to_numpy()
    frame = pd.DataFrame(cells.drop(columns="geometry"))
    return pos, frame, (geoms if here else pack(geoms))


def adjacency_spread(cells: gpd.GeoDataFrame, *, arterials=None, paths=None,
                     min_shared_m: float = MIN_SHARED_M, workers: int = 1) -> pd.DataFrame:
    """:func:`geo.grids.blocks.cell_adjacency` on ``workers`` processes: the cells cut
    into runs, each run's candidate pairs found and judged on their own
    (:func:`geo.grids.blocks.pair_kinds`; a pair's answer is its own), the same table."""
    global _INPUTS
    geoms = cells.geometry.to_numpy()
    block, face = cells["block_id"].to_numpy(), cells["face_id"].to_numpy()
    if workers <= 1 or len(geoms) * PAIRS_PER_CELL < MIN_SPREAD_PAIRS or not can_fork():
        i, j = candidate_pairs(geoms)
        keep, shared, kind = pair_kinds(geoms, i, j, block, face, arterials=arterials,
                                        paths=paths, min_shared_m=min_shared_m,
                                        workers=workers)
    else:
        # the cells cut into runs, each finding its own cells' pairs in one tree (the
        # pairs of one query, in its order: by cell, then the tree's order); this
        # process's run the smaller by PAIRS_SHARE: it also joins the runs' answers
        first = 1 / workers - PAIRS_SHARE
        share = first + (1 - first) * np.arange(workers - 1) / (workers - 1)
        bounds = np.r_[0, (len(geoms) * share).astype(int), len(geoms)]
        _INPUTS = (geoms, shapely.STRtree(geoms), block, face, arterials, paths, min_shared_m)
        try:
            parts = spread(_pairs, list(zip(bounds[:-1], bounds[1:])), workers=workers)
        finally:
            _INPUTS = None
        i, j, keep, shared, kind = (np.concatenate(x) for x in zip(*parts))
    out = pd.DataFrame({"i": i[keep], "j": j[keep], "shared_m": shared, "kind": kind})
    release_free_memory()  # the overlaid boundaries and coordinate tables dropped
    return out


def _pairs(lo: int, hi: int):
    """The candidate pairs ``i < j`` of the cells ``lo:hi`` (as :func:`candidate_pairs`
    finds them) and their answers."""
    geoms, tree, block, face, arterials, paths, min_shared_m = _INPUTS
    i, j = candidate_pairs(geoms, tree=tree, lo=lo, hi=hi)
    return (i, j) + tuple(pair_kinds(geoms, i, j, block, face, arterials=arterials,
                                     paths=paths, min_shared_m=min_shared_m, workers=1))


__all__ = ["adjacency_spread", "pack", "tessellate_spread", "unpack"]
