"""What a planner hands in, put into the study area in one order, for the command line
and the page alike.

The order matters and is decided here only:

1. uploaded building footprints and compound outlines go in first (a register's rows placed
   by compound or building name, derived communities and the population spread use them);
2. the register, the facility list and the community polygons are read against that area;
3. a population count is spread onto the area's homes and household totals calibrate them
   (:func:`analysis.planner_data.with_planner_data`, with the household model's settings:
   persons per household included).

How each file is read is the caller's: the command line reads paths
(:mod:`analysis.run_inputs`), the page reads uploads from memory through its caches
(:mod:`ui.state`). Each reader is a function of the area it is read against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from analysis.planner_data import with_planner_data
from geo.inputs import footprints

#: a reader of one layer against an area (``None``: the layer is not given)
Reader = Callable[[StudyArea], gpd.GeoDataFrame] | None


@dataclass(frozen=True)
class Given:
    """The planner's files, each as a reader (see :data:`Reader`); ``totals`` needs no area."""

    buildings: Reader = None
    compounds: Reader = None
    register: Reader = None
    facilities: Reader = None
    communities: Reader = None
    population: Callable[[StudyArea], object] | None = None  # -> PopulationCells
    totals: Callable[[], pd.DataFrame] | None = None

    @property
    def counts(self) -> bool:
        return self.population is not None or self.totals is not None


@dataclass(frozen=True, eq=False)
class Assembled:
    """The study area with the planner's data put in, the layers the run replaces its own
    with, and the reports of the population spread and calibration."""

    area: StudyArea
    register: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    report: dict = field(default_factory=dict)


def with_footprints(area: StudyArea, given: Given) -> StudyArea:
    """Step 1: the area with uploaded buildings and compound outlines put in."""

    if given.buildings is not None:
        area = footprints.with_buildings(area, given.buildings(area))
    if given.compounds is not None:
        area = footprints.with_compounds(area, given.compounds(area))
    return area


def assemble(area: StudyArea, given: Given,
             households: HouseholdSettings = HouseholdSettings()) -> Assembled:
    """The run's inputs from ``area`` and the planner's files, in the order above."""
    area = with_footprints(area, given)
    layers = {name: (read(area) if read is not None else None)
              for name, read in (("register", given.register),
                                 ("facilities", given.facilities),
                                 ("communities", given.communities))}
    report: dict = {}
    if given.counts:

        cells = given.population(area) if given.population is not None else None
        totals = given.totals() if given.totals is not None else None
        area, report = with_planner_data(area, households, cells=cells, totals=totals,
                                         communities=layers["communities"])
    return Assembled(area=area, report=report, **layers)


__all__ = ["Assembled", "Given", "Reader", "assemble", "with_footprints"]
