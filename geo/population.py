"""Households from a population count: the dasymetric spread, and calibration to totals.

* :func:`households_from_population`: persons per cell ÷ persons per household (2.62 by
  default: 平均每个家庭户的人口为2.62人, the 2020 seventh national census, National Bureau of
  Statistics bulletin no. 2, May 2021) are spread onto the household model's residential
  units (buildings, compound points) whose point lies in the cell, in proportion to the
  households the model gives them (dasymetric mapping); a cell holding none gets one
  unit at its centre, so grids can still be cut. Whole households are handed out by the
  largest remainder, so the area's total stays within one household of persons ÷ size.
* :func:`calibrate`: totals per community (name or id) or one total for the area scale
  the households to match; the scale factor per community is reported.
"""

from __future__ import annotations


import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.settings import HouseholdSettings



def whole_parts(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers summing to ``total``, each within 1 of ``values`` (largest remainder;
    ties broken by position, so the result is deterministic)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    base = np.floor(values).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        order = np.lexsort((np.arange(values.size), -(values - base)))
        base[order[:left]] += 1
    elif left < 0:
        order = np.lexsort((np.arange(values.size), values - base))
        take = order[base[order] > 0][:-left]
        base[take] -= 1
    return base


def households_from_population(units: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *,
                               settings: HouseholdSettings = HouseholdSettings()
                               ) -> tuple[gpd.GeoDataFrame, dict]:
    """Spread the persons of ``cells`` onto household ``units`` (see the module text).

    Parameters
    ----------
    units
        The household model's units (points with ``households``), projected.
    cells
        ``persons`` per polygon (raster cells, districts) or per point; same CRS.

    Returns
    -------
    units, report
        Units with ``households`` (whole) and ``hh_source = 'population'`` (units outside
        every cell are left out: the population count is the truth where it exists), and
        ``{"persons", "households", "persons_per_household", "cells", "cells_without_homes"}``.
    """
    pph = settings.persons_per_household
    persons = cells["persons"].to_numpy(dtype=float)
    total_hh = int(round(persons.sum() / pph))
    xy = shapely.get_coordinates(units.geometry.to_numpy())
    weight = np.maximum(units["households"].to_numpy(dtype=float), 0.0) if len(units) else \
        np.zeros(0)
    geoms = cells.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == 0
    cell_of = np.full(len(units), -1, dtype=np.int64)
    poly = np.flatnonzero(~is_point)
    if poly.size and len(units):
        src, tgt = shapely.STRtree(geoms[poly]).query(shapely.points(xy), predicate="within")
        order = np.lexsort((tgt, src))
        src, tgt = src[order], tgt[order]
        first = np.ones(src.size, dtype=bool)
        first[1:] = src[1:] != src[:-1]
        cell_of[src[first]] = poly[tgt[first]]
    has = cell_of >= 0
    # each cell's weight: the model's households of its units (equal shares if all zero)
    w_cell = np.bincount(cell_of[has], weights=weight[has], minlength=len(cells))
    n_cell = np.bincount(cell_of[has], minlength=len(cells))
    share = np.zeros(len(units))
    c = cell_of[has]
    share[has] = np.where(w_cell[c] > 0, weight[has] / np.where(w_cell[c] > 0, w_cell[c], 1),
                          1.0 / np.maximum(n_cell[c], 1))
    unit_hh = np.zeros(len(units))
    unit_hh[has] = persons[c] / pph * share[has]
    empty = np.flatnonzero(n_cell == 0)  # cells without homes (and point cells): own unit
    centre = shapely.get_coordinates(_inside_point(geoms[empty])) if empty.size else \
        np.zeros((0, 2))
    wanted = np.concatenate([unit_hh[has], persons[empty] / pph])
    whole = whole_parts(wanted, total_hh)
    kept = units[has].copy()
    kept["households"] = whole[:int(has.sum())]
    new = gpd.GeoDataFrame({
        "unit_id": [f"P{k + 1:06d}" for k in range(empty.size)],
        "households": whole[int(has.sum()):],
        "building_id": None, "compound_id": None, "floor_area_m2": np.nan,
    }, geometry=shapely.points(centre), crs=units.crs)
    out = pd.concat([kept, new], ignore_index=True)
    out["hh_source"] = "population"
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=units.crs)
    out = out[out["households"] > 0].reset_index(drop=True)
    report = {"persons": float(persons.sum()), "households": int(out["households"].sum()),
              "persons_per_household": pph, "cells": int(len(cells)),
              "cells_without_homes": int(empty.size), "units_spread_onto": int(has.sum())}
    return out, report


def _inside_point(geoms: np.ndarray) -> np.ndarray:
    """Centroids (cheap; raster cells are convex), ``point_on_surface`` where a centroid
    falls outside its polygon (a concave district)."""
    points = shapely.centroid(geoms)
    # quadrilaterals (raster cells) are convex: their centroid is inside
    check = (shapely.get_type_id(geoms) != 0) & (shapely.get_num_coordinates(geoms) > 5)
    outside = check.copy()
    outside[check] = ~shapely.contains_properly(geoms[check], points[check])
    if outside.any():
        points[outside] = shapely.point_on_surface(geoms[outside])
    return points


def calibrate(units: gpd.GeoDataFrame, totals: pd.DataFrame, *,
              communities: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """Scale households to known totals.

    Parameters
    ----------
    units
        Household units (``households``; ``community_id`` when totals are per community).
    totals
        ``households`` and, per community, ``community`` (a name or an id); a single row
        without a community is one total for the whole area.
    communities
        ``community_id`` and ``name`` (to match totals given by name).

    Returns
    -------
    units, report
        Units with scaled whole households (each community's total is met exactly), and
        ``{"factors": {community_id: factor}, "unmatched": [...], "area_factor": ...}``.
    """
    out = units.copy()
    hh = out["households"].to_numpy(dtype=float)
    report: dict = {"factors": {}, "unmatched": []}
    has_key = "community" in totals.columns and totals["community"].notna().any()
    if not has_key:
        target = int(totals["households"].sum())
        factor = target / hh.sum() if hh.sum() else np.nan
        out["households"] = whole_parts(hh * factor, target) if hh.sum() else hh.astype(int)
        report["area_factor"] = round(float(factor), 4)
        return out, report
    names = {}
    if communities is not None:
        names = {str(n).strip(): str(c) for c, n in zip(communities["community_id"],
                                                          communities["name"])}
    comm = out["community_id"].astype(str).to_numpy()
    new = hh.copy()
    for key, target in zip(totals["community"].astype(str).str.strip(), totals["households"]):
        cid = key if key in set(comm) else names.get(key)
        mine = comm == cid
        if cid is None or not mine.any() or hh[mine].sum() == 0:
            report["unmatched"].append(key)
            continue
        factor = float(target) / hh[mine].sum()
        new[mine] = whole_parts(hh[mine] * factor, int(target))
        report["factors"][cid] = round(factor, 4)
    out["households"] = np.round(new).astype(np.int64)
    return out, report
