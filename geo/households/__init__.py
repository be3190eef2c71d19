"""Where the households are, and how many: the household model.

Its modules:

``estimate``       :func:`estimate_households`: one point per unit (building, compound point
                   or register row) with a household count and its source (``hh_source``);
                   :func:`left_out` and :func:`household_summary` say what was counted.
``building_use``   which buildings can hold households, and why the others hold none (one
                   rule table, used by the estimate, the summary and the report).
``population``     households from a population count (the dasymetric spread) and the
                   calibration to totals per community.

The readers of uploaded registers and population layers are in :mod:`geo.inputs`; the
household settings (:class:`~geo.settings.HouseholdSettings`) in :mod:`geo.settings`.
What other packages may use is listed in ``__all__``; everything else is internal.
"""

from geo.households.building_use import (BUILDING_REASON, HOME_BUILDINGS, NAME_TABLE, REASONS,
                                         building_reasons, named_other_use, sites_from_features,
                                         tag_reason)
from geo.households.estimate import (HOUSEHOLD_COLUMNS, SOURCES, estimate_households,
                                     household_summary, lattice_points, left_out, split_evenly)
from geo.households.population import calibrate, households_from_population, whole_parts

__all__ = [
    "BUILDING_REASON", "HOME_BUILDINGS", "HOUSEHOLD_COLUMNS", "NAME_TABLE",
    "REASONS", "SOURCES", "building_reasons", "calibrate",
    "estimate_households", "household_summary", "households_from_population", "lattice_points",
    "left_out", "named_other_use", "sites_from_features", "split_evenly", "tag_reason",
    "whole_parts",
]
