"""The grid stage's community table and report."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.improvement import ImproveStats
from geo.grids.reasons import Reason, encode_reasons
from geo.grids.settings import GridSettings
from geo.grids.units import UnitSplit
from geo.i18n import Note, note


@dataclass
class Outcome:
    """What a community's partition came to."""

    households: int
    feasible: bool
    reason: Reason | None
    unassigned: int


def covered_m2(grids: gpd.GeoDataFrame, workers: int = 1) -> pd.Series:
    """The area of the union of each community's grids (``grids.dissolve("community_id")
    .area``: the same unions of the same polygons in the same order), the communities'
    unions made on ``workers`` threads (GEOS works without the GIL)."""
    comm = grids["community_id"].to_numpy()
    codes, names = pd.factorize(comm, sort=True)
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]  # as dissolve drops a missing community
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    geoms = grids.geometry.to_numpy()
    groups = [geoms[order[a:b]] for a, b in zip(bounds[:-1], bounds[1:])]
    if workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            unions = list(pool.map(shapely.union_all, groups))
    else:
        unions = [shapely.union_all(g) for g in groups]
    return pd.Series(shapely.area(np.asarray(unions, dtype=object)), index=names)


def covered_with(grids: gpd.GeoDataFrame, drawn: dict[str, float], workers: int = 1) -> dict:
    """:func:`covered_m2` of ``grids`` by community, taken from ``drawn`` where the grid
    table's straightening drew that union already (the same union: the community's
    polygons in the table's order)."""
    comm = grids["community_id"].to_numpy(dtype=object)
    rest = np.array([c not in drawn for c in comm], dtype=bool)
    out = dict(drawn)
    if rest.any():
        out.update(covered_m2(grids[rest], workers).to_dict())
    return out


def communities_table(communities: gpd.GeoDataFrame, outcomes: dict[str, Outcome],
                      grids: gpd.GeoDataFrame, workers: int = 1,
                      covered: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    """The communities with ``households``, ``grids``, ``feasible``, ``reason`` and
    ``outside_grids_m2`` (the unions of the grids on ``workers`` threads; ``covered``:
    :func:`covered_m2` of ``grids``, when made already)."""
    out = communities.copy()
    n_grids = Counter(grids["community_id"].to_numpy(dtype=object).tolist())  # grids per id
    info = [outcomes.get(c, Outcome(0, True, None, 0)) for c in out["community_id"].astype(str)]
    out["households"] = [i.households for i in info]
    out["grids"] = [int(n_grids.get(c, 0)) for c in out["community_id"]]
    out["feasible"] = [int(i.feasible) for i in info]
    out["reason"] = [encode_reasons([i.reason]) if i.reason else "" for i in info]
    # land of the community outside every grid: far from the homes of the grid it lies in
    covered = pd.Series(covered, dtype=float) if covered is not None else \
        covered_m2(grids, workers) if len(grids) else pd.Series(dtype=float)
    out["outside_grids_m2"] = np.round(np.maximum(
        out.area.to_numpy() - covered.reindex(out["community_id"]).fillna(0).to_numpy(), 0), 1)
    return out


def grid_report(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                settings: GridSettings, *, notes: list[Note], units: pd.DataFrame,
                splits: list[UnitSplit], outcomes: dict[str, Outcome],
                improvement: ImproveStats, timings: dict[str, float]) -> dict:
    """The grid stage's report (see :func:`geo.grids.make_grids`)."""
    lo, hi = settings.band
    notes = list(notes)
    above = sum(s.why == "above_band" for s in splits)
    to_fit = sum(s.why == "to_fit" for s in splits)
    if above:
        notes.append(note("note.units_split", count=above, max=hi))
    if to_fit:
        notes.append(note("note.units_split_to_fit", count=to_fit, min=lo, max=hi))
    unassigned = sum(o.unassigned for o in outcomes.values())
    if unassigned:
        notes.append(note("note.cells_without_grid", count=unassigned))
    feasible = set(communities.loc[communities["feasible"] == 1, "community_id"])
    in_feasible = np.array([c in feasible for c in grids["community_id"].to_numpy(dtype=object)],
                           dtype=bool)
    in_band = grids["in_band"].to_numpy()
    keys = grids["reason_key"].to_numpy(dtype=object)
    near = grids["near_home_share"].to_numpy(dtype=float)
    return {
        "grids": int(len(grids)),
        "grids_in_band": int(grids["in_band"].sum()),
        "share_in_band": float(grids["in_band"].mean()) if len(grids) else 0.0,
        "feasible_in_band": bool(in_band[in_feasible].all()),
        "non_contiguous": int((grids["contiguous"] == 0).sum()),
        "arterial_crossings": int(grids["arterial_crossings"].sum()),
        "mean_polsby_popper": float(grids["polsby_popper"].mean()) if len(grids) else 0.0,
        "near_home_share": {"min": float(near.min()) if len(near) else 1.0,
                            "median": float(np.median(near)) if len(near) else 1.0},
        "grids_far_from_homes": sum(isinstance(k, str) and "far_from_homes" in k for k in keys),
        "infeasible_communities": [
            {"community_id": cid, "households": int(h), "reason": r}
            for cid, h, f, r in zip(communities["community_id"], communities["households"],
                                    communities["feasible"], communities["reason"]) if not f],
        "split_units": [s.as_dict() for s in splits],
        "zero_household_units": int((units["households"] == 0).sum()),
        "cells_without_grid": int(unassigned),
        "improvement": improvement.as_dict(),
        "notes": notes,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
