"""Minutes on foot from every household to the nearest facility of every service.

Two steps, kept apart so that the page can re-answer on every click (pandana style):

1. :func:`prepare_reach` — the expensive, settings-free part: snap homes and facilities to
   the nearest walkable *edge* (:meth:`geo.network.WalkNetwork.snap`), check the inputs
   (facilities far from any street, outside the area, duplicated, on network islands,
   services without any facility) and build one augmented graph in which every usable
   facility is a virtual source node joined to both ends of its edge by the partial
   distances ``offset + along`` and ``offset + length − along``.
2. :func:`household_minutes` — the cheap, per-settings part: for each service one
   multi-source Dijkstra pass (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True``,
   on the graph renumbered so that nodes near on the ground are near in memory,
   bounded by the horizon) gives every node its distance to, and the id of, the nearest
   facility; every household's walk then follows in one vectorised step::

       walk = offset + min(d[u] + t, d[v] + L − t)

   (``t`` = the household's position along edge ``(u, v)`` of length ``L``), or the
   direct walk along the edge when a facility stands on the household's own edge.

Service areas (:func:`service_areas`) are drawn from the reached pieces of edges, partial
edges cut at the remaining distance; they are for display only — coverage is always
counted per household from the distances, never by testing points against polygons.

Gated compounds (:mod:`geo.walls`): with walls, homes inside a walled compound reach the
streets only along its inner paths or through its access points, and nobody walks through a
compound; :mod:`analysis.reach.walls` reports what the walls change.

The code lives in :mod:`analysis.reach.index` (snapping, augmented graph),
:mod:`analysis.reach.query` (minutes), :mod:`analysis.reach.search` (the searches, on a
graph renumbered along a Morton curve, the services side by side),
:mod:`analysis.reach.areas` (service areas),
:mod:`analysis.reach.report` (input checks and notes), :mod:`analysis.reach.walls` and
:mod:`analysis.reach.plain` (a walled run's answer without walls, kept per inputs),
:mod:`analysis.reach.kept_search` (each service's search kept on the index: a slower
pace is answered from it, bit for bit);
this module offers their public API (``__all__``; the walls' reports are imported from
:mod:`analysis.reach.walls` itself).
"""

from __future__ import annotations

from analysis.reach.areas import all_service_areas, polygon_misclassification, service_areas
from analysis.reach.index import HouseholdReach, ReachIndex, WalledHomes, prepare_reach
from analysis.reach.query import (crow_flies_coverage, crow_flies_m, household_minutes,
                                  network_coverage, node_distances)
from analysis.reach.report import DUPLICATE_M, MAX_IDS, reach_note_list, reach_notes

__all__ = ["DUPLICATE_M", "MAX_IDS", "HouseholdReach", "ReachIndex", "WalledHomes",
           "all_service_areas", "crow_flies_coverage", "crow_flies_m", "household_minutes",
           "network_coverage", "node_distances", "polygon_misclassification", "prepare_reach",
           "reach_note_list", "reach_notes", "service_areas"]
