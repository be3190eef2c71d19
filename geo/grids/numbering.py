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

from geo.grids.communities import reading_order


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
