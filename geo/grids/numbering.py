"""Grid ids: the community code plus a number in reading order (north→south,
west→east), or the id a grid had before.

When grids are made again (``make_grids(previous=..., locked=...)``), a locked grid keeps
its id and its units; every other grid takes the previous id it overlaps most (in
households, then units), each previous id going to one grid at most; the rest are
numbered in reading order after the numbers in use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geo.grids.communities import reading_order
from geo.grids.parallel import chunked


@dataclass
class NewGrid:
    """A grid of one community waiting for its id: its centre, area and how many
    households (and units) of each previous grid it holds."""

    centre: np.ndarray
    area: float
    overlap: dict[str, tuple[int, int]] = field(default_factory=dict)  # id → (households, units)


def grid_ids(community_id: str, grids: Sequence[NewGrid], previous_ids: set[str],
             taken: set[str]) -> list[str]:
    """Ids for the new grids of one community.

    Each grid takes the previous id it overlaps most (households, then units; ties: the
    grid first in order, then the smaller id), if that id is in ``previous_ids`` and not
    ``taken``; the others get the next number in reading order that no grid had before."""
    n = len(grids)
    ids: list[str | None] = [None] * n
    used = set(taken)
    scores = sorted((-hh, -units, k, gid) for k, g in enumerate(grids)
                    for gid, (hh, units) in g.overlap.items()
                    if gid in previous_ids and (hh > 0 or units > 0))
    for _, _, k, gid in scores:
        if ids[k] is None and gid not in used:
            ids[k] = gid
            used.add(gid)
    centres = np.array([g.centre for g in grids]).reshape(-1, 2)
    areas = np.array([g.area for g in grids])
    order = reading_order(centres, row_m=math.sqrt(float(np.median(areas))) if n else 1.0)
    used |= set(previous_ids)  # an old id never names another place
    width = max(2, len(str(n + len(used))))
    number = 0
    for k in order:
        if ids[k] is not None:
            continue
        while True:
            number += 1
            gid = f"{community_id}-{number:0{width}d}"
            if gid not in used:
                break
        ids[k] = gid
        used.add(gid)
    return ids  # type: ignore[return-value]


def number_parts(parts: Sequence, cells, pieces, previous, workers: int = 1) -> None:
    """Set the id (``grid_id``) of every part (a grid: ``community_id``, ``cells``,
    ``locked``) that is not locked: ``cells`` and ``pieces`` are the grid stage's cell
    and piece layers (cells by position, each cell's ``unit`` a piece position or -1),
    ``previous`` the grid id each piece (by ``unit_id``) had before, if any."""
    geoms = cells.geometry.to_numpy()
    area = shapely.area(geoms)
    centroid = shapely.get_coordinates(chunked(shapely.centroid, geoms, workers=workers))
    cell_unit = cells["unit"].to_numpy()
    piece_ids = pieces["unit_id"].astype(str).to_numpy()
    piece_hh = pieces["households"].to_numpy()
    prev = previous.reindex(piece_ids).to_numpy() if previous is not None else None
    locked_ids = {p.grid_id for p in parts if p.locked}
    prev_ids = {str(x) for x in prev if pd.notna(x)} - locked_ids if prev is not None else set()
    by_comm: dict[str, list] = {}
    for p in parts:
        if not p.locked:
            by_comm.setdefault(p.community_id, []).append(p)
    for cid, mine in by_comm.items():
        new = []
        for p in mine:
            w = area[p.cells]
            total = w.sum()  # summed once (the same float each time)
            centre = (centroid[p.cells] * w[:, None]).sum(axis=0) / total if total > 0 \
                else centroid[p.cells].mean(axis=0)
            grid = NewGrid(centre=centre, area=float(total))
            if prev is not None:
                cu = cell_unit[p.cells]
                cu = cu[cu >= 0]
                ids, hh = prev[cu], piece_hh[cu]
                has = pd.notna(ids)
                frame = pd.DataFrame({"id": ids[has].astype(str), "hh": hh[has]})
                grid.overlap = {g: (int(s["hh"].sum()), len(s))
                                for g, s in frame.groupby("id", sort=True)}
            new.append(grid)
        taken = {gid for gid in locked_ids if gid.startswith(f"{cid}-")}
        for p, gid in zip(mine, grid_ids(cid, new, prev_ids, taken)):
            p.grid_id = gid
