"""Enough, not only near: school places, care beds and clinic capacity against the demand
that reaches them (the urban check-up's 城市体检 figures).

- :mod:`analysis.capacity.stage`: the capacity stage of the run (each facility's places,
  each home's demand from the demand table, supply against demand per grid and community);
- :mod:`analysis.capacity.model`: the two-step floating catchment and nearest-free
  allocation over walk pairs, with their distance decays;
- :mod:`analysis.capacity.pairs`: bounded walks from each facility to the homes it reaches;
- :mod:`analysis.capacity.text`: the sentences the report and the page say about it.

What other modules use is offered here (``__all__``).
"""

from __future__ import annotations

from analysis.capacity.model import DECAYS, METHODS, decay_weights, nearest_free, two_step
from analysis.capacity.pairs import Pairs, facility_pairs
from analysis.capacity.stage import (DEFAULT_TABLE, Capacity, CapacitySettings, Standard,
                                     capacity_stage, demand_persons, load_standards,
                                     refreshed_summary, regroup, table_digest, with_capacity,
                                     with_capacity_columns)
from analysis.capacity.text import appendix_rows, shortfall_lines

__all__ = ["DECAYS", "DEFAULT_TABLE", "METHODS", "Capacity", "CapacitySettings", "Pairs",
           "Standard", "appendix_rows", "capacity_stage", "decay_weights", "demand_persons",
           "facility_pairs", "load_standards", "nearest_free", "refreshed_summary", "regroup",
           "shortfall_lines", "table_digest", "two_step", "with_capacity",
           "with_capacity_columns"]
