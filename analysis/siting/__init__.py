"""Where new facilities would close the gaps (maximal covering location, keeping the
existing facilities) or the shortfalls (new places of a given capacity).

- :mod:`analysis.siting.sites`: candidate sites, the homes each brings within the
  threshold, and :func:`site_facilities`;
- :mod:`analysis.siting.solvers`: the exact and greedy solvers of the covering model;
- :mod:`analysis.siting.walls`: candidate reach through walled compounds;
- :mod:`analysis.siting.capacity`: sites of a given capacity that close shortfalls.

What other modules use is offered here (``__all__``).
"""

from __future__ import annotations

from analysis.siting.capacity import CapacitySiting, site_for_capacity
from analysis.siting.sites import (Candidates, SitingResult, coverage_pairs, make_candidates,
                                   residential_nodes, site_facilities)
from analysis.siting.solvers import NODE_LIMIT

__all__ = ["NODE_LIMIT", "CapacitySiting", "Candidates", "SitingResult", "coverage_pairs",
           "make_candidates", "residential_nodes", "site_facilities", "site_for_capacity"]
