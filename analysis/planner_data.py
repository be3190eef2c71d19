"""The data planners hold, put into a study area before the run: population counts spread
onto homes, and households calibrated to known totals (command line and page share it).

The result is a study area whose ``households`` are set, so the pipeline uses them as
they are (:func:`geo.households.estimate_households` returns given households unchanged).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd

from geo.grids.communities import assign_communities
from geo.households import estimate_households
from geo.inputs import shape_of
from geo.households import calibrate, households_from_population
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from geo.errors import InputError
from geo.inputs import match_columns, parse_count, read_table
from geo.inputs.columns import find_header


def with_planner_data(area: StudyArea, settings: HouseholdSettings, *, cells=None,
                      totals: pd.DataFrame | None = None,
                      communities: gpd.GeoDataFrame | None = None) -> tuple[StudyArea, dict]:
    """The area with households from a population count and/or calibrated to totals.

    Parameters
    ----------
    cells
        :class:`geo.inputs.population.PopulationCells` (or ``None``).
    totals
        ``households`` with an optional ``community`` (name or id) column.
    communities
        Community polygons (``community_id``, ``name``) to match totals by; default the
        area's own.

    Returns
    -------
    area, report
        ``report``: ``population`` (the spread's figures) and ``calibration`` (scale
        factor per community, unmatched names).
    """
    report: dict = {}
    if cells is None and totals is None:
        return area, report
    units = estimate_households(area, settings)
    if cells is not None:
        units, report["population"] = households_from_population(units, cells.cells,
                                                                 settings=settings)
        report["population"]["total_in_file"] = cells.total_in_file
    if totals is not None and len(totals):
        polys = communities if communities is not None else area.communities
        if polys is not None and len(polys) and "community" in totals.columns:
            units = units.assign(community_id=assign_communities(units, polys,
                                                                  refuse_outside=False))
        elif "community" in totals.columns:
            totals = totals.drop(columns="community")  # no polygons: one area total
        units, report["calibration"] = calibrate(units, totals, communities=polys)
        units = units.drop(columns=[c for c in ("community_id",) if c in units.columns])
    return dataclasses.replace(area, households=units), report


def read_totals(path) -> pd.DataFrame:
    """A small table of household totals: ``community`` (社区 name or id, optional) and
    ``households`` (户数)."""

    wanted = ("community", "community_id", "households")
    raw = read_table(path)
    at = find_header(raw.rows, wanted)
    header, rows = raw.rows[at], raw.rows[at + 1:]
    match = match_columns(header, wanted)
    col = match.column_map
    if "households" not in col:
        raise InputError("err.totals_no_households", path=getattr(path, "name", str(path)))
    key = col.get("community", col.get("community_id"))
    out = []
    for row in rows:
        values = dict(zip(header, row))
        try:
            count = parse_count(values.get(col["households"], ""))
        except ValueError:
            raise InputError("err.totals_bad_households", path=getattr(path, "name", str(path)),
                             value=shape_of(values.get(col["households"], ""))) from None
        if count is None:
            continue
        out.append({"community": values.get(key) if key else None, "households": count})
    return pd.DataFrame(out, columns=["community", "households"])
