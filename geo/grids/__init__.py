"""Grids (网格): communities split into contiguous, street-following grids of 200–300
households, and the hand edits planners make to them.

Public API (import from here or from the named module):

- :func:`make_grids`, :class:`GridResult` (:mod:`.stage`) and :class:`GridSettings`
  (:mod:`.settings`) — the grid stage;
- :mod:`.rules` — the rule book every grid table is built through
  (:func:`~.rules.grid_table`, :func:`~.rules.band_feasible`,
  :func:`~.rules.reason_text`, …);
- :mod:`.blocks` — street blocks, tessellation cells and their adjacency;
- :mod:`.communities` — derived, checked and assigned communities; :mod:`.mapped` —
  community boundaries mapped in OSM, completed where not mapped;
- :mod:`.state` — the editable state of a grid layer; :mod:`.edits` — the edits, with
  undo and redo (kept by :mod:`.journal`).

Internal modules: :mod:`.units` (unit checks and tower splits), :mod:`.graph`,
:mod:`.partition` (the solver: :mod:`.construction`, :mod:`.improvement`,
:mod:`.repair`), :mod:`.numbering`, :mod:`.summary` (the stage's community table and
report) and :mod:`.splitting` (the split edit's solver).
"""

from geo.grids.reasons import reason_text
from geo.grids.rules import band_feasible, grid_count_range, infeasible_reason, nearest_grid_count
from geo.grids.settings import GridSettings
from geo.grids.stage import GridResult, make_grids
from geo.grids.units import check_units, split_large_units

__all__ = ["GridResult", "GridSettings", "band_feasible", "check_units", "grid_count_range",
           "infeasible_reason", "make_grids", "nearest_grid_count", "reason_text",
           "split_large_units"]
