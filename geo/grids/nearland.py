"""A quick, sure answer to "does the land near a grid's homes cover all its cells?",
which the rule book (:func:`geo.grids.rules.grid_polygon`) otherwise answers by drawing
that land (a 16-gon of the given radius around each home, ``quad_segs=4``) and testing
``covers``: the same answer wherever this one says yes, without drawing anything."""

from __future__ import annotations

import math

import numpy as np
import shapely

#: Metres kept from the edge of the disc inside each home's 16-gon (snapping moves
#: vertices by less than a millimetre).
MARGIN_M = 1.0


def cells_near_homes(cell_geoms: np.ndarray, homes_xy: np.ndarray, distance_m: float) -> bool:
    """Whether every cell lies inside the land within ``distance_m`` of the homes for
    sure: all its vertices within distance_m·cos(π/16) − :data:`MARGIN_M` of one home (the
    disc inside that home's 16-gon), so the polygon of its vertices, the cell, does too.
    False means "not sure" (then draw the land)."""
    if len(homes_xy) == 0 or len(cell_geoms) == 0:
        return False
    xy, cell = shapely.get_coordinates(cell_geoms, return_index=True)
    if len(xy) == 0 or len(xy) * len(homes_xy) > 1_000_000:  # a table too big to be quick
        return False
    inside = distance_m * math.cos(math.pi / 16) - MARGIN_M
    dx = xy[:, 0, None] - homes_xy[:, 0]  # vertices × homes
    dy = xy[:, 1, None] - homes_xy[:, 1]
    far = dx * dx + dy * dy > inside * inside  # (x² + y², as a sum over both axes adds them)
    starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
    if len(starts) != len(cell_geoms):
        return False  # an empty cell
    return bool((~np.logical_or.reduceat(far, starts, axis=0)).any(axis=1).all())


__all__ = ["cells_near_homes"]
