"""Gated compounds (封闭小区): which compound outlines are walls, their access points, and
the walled walking graph.

The rule itself is written once, in :mod:`geo.walls.rule` (its docstring says it in full).
Its modules:

``rule``    :class:`WallSettings` (the planner's edits included), :func:`build_walls` and
            the :class:`Walls` it returns; which compounds are walls.
``graph``   the network cut at outlines, access points and the directed walled graph.
``gates``   gates the map does not give (assumed gates), why mapped gates were left
            unused, and where a planner's new gate goes on an outline.

What other packages may use is listed in ``__all__``; everything else is internal.
"""

from geo.walls.gates import SIDES, outline_point, to_wgs84
from geo.walls.graph import cut_at_outlines, on_minor_island
from geo.walls.rule import GATE_BARRIERS, ORIGINS, Walls, WallSettings, build_walls, wall_candidates

__all__ = [
    "GATE_BARRIERS", "ORIGINS", "SIDES", "WallSettings", "Walls", "build_walls",
    "cut_at_outlines", "on_minor_island", "outline_point", "to_wgs84", "wall_candidates",
]
