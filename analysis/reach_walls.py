"""What walled compounds change: the summary's ``compound_access`` block.

The same homes and facilities are measured once more without walls (on the same cut
network, so only the walls differ), and the two answers are compared per service.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from analysis.reach_index import HouseholdReach, ReachIndex, prepare_reach
from analysis.reach_query import household_minutes
from analysis.settings import WalkSettings

#: A change in walking minutes smaller than this is rounding, not a wall.
CHANGE_MIN = 0.05


def without_walls(index: ReachIndex) -> ReachIndex:
    """The same homes and facilities snapped to the same network, with no wall."""
    crs = index.network.crs
    xy = index.household_xy
    homes = gpd.GeoDataFrame({"households": index.household_weight},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs,
                             index=index.household_index)
    fac = index.facilities
    facilities = gpd.GeoDataFrame({"facility_id": fac["facility_id"].to_numpy(),
                                   "service": fac["service"].to_numpy()},
                                  geometry=gpd.points_from_xy(fac["x"], fac["y"]), crs=crs)
    return prepare_reach(index.network, homes, facilities, max_snap_m=index.max_snap_m,
                         services=index.services)


def compound_access(index: ReachIndex, reach: HouseholdReach, settings: WalkSettings,
                    services: tuple[str, ...] | None = None, *,
                    plain: HouseholdReach | None = None) -> dict:
    """The ``compound_access`` summary block (CONTRACT.md).

    Parameters
    ----------
    index, reach
        The walled answer (``index.walls`` set).
    settings
        Walking settings (the same for both answers).
    plain
        The answer without walls, when already measured (else measured here).

    Returns
    -------
    dict
        ``compounds_gated``; ``compounds_by_status``; ``open_no_access`` (ids of compounds
        with no known access point, treated as open); ``access_points`` by origin
        (``mapped``/``inferred``/``added``) and ``access_points_closed``;
        ``households_affected`` (households inside walls); per service ``coverage``
        ``{"with_walls", "without_walls"}``; ``minutes_changed`` per service (households
        whose walk changed, median and 90th percentile of the change in minutes).
    """
    walls = index.walls
    if walls is None:
        return {"gated": False}
    services = tuple(reach.walk_m.columns) if services is None else tuple(services)
    if plain is None:
        plain = household_minutes(without_walls(index), settings, services)
    w = index.household_weight
    inside = index.walled.compound >= 0
    rep = walls.report
    out = {
        "gated": True,
        "compounds_gated": rep["compounds_gated"],
        "compounds_by_status": rep["compounds_by_status"],
        "open_no_access": rep["no_access_ids"],
        "access_points": rep["access_points"],
        "access_points_closed": rep["access_points_closed"],
        "gates_ignored": rep["gates_mapped_ignored"] + rep["gates_added_ignored"],
        "households_affected": int(w[inside].sum()),
        "coverage": {},
        "minutes_changed": {},
    }
    for service in services:
        a = reach.report[service]
        b = plain.report[service]
        out["coverage"][service] = {"with_walls": a["coverage"], "without_walls": b["coverage"]}
        out["minutes_changed"][service] = minutes_change(
            reach.minutes[f"walk_min_{service}"].to_numpy(),
            plain.minutes[f"walk_min_{service}"].to_numpy(), w)
    return out


def minutes_change(walled: np.ndarray, plain: np.ndarray, weight: np.ndarray) -> dict:
    """Households whose minutes differ, and the median / 90th percentile of the change
    (walled − plain, weighted by households; a walk lost beyond the horizon counts as
    changed but not in the figures)."""
    both = np.isfinite(walled) & np.isfinite(plain)
    diff = np.where(both, walled - plain, 0.0)
    changed = (both & (np.abs(diff) >= CHANGE_MIN)) | (np.isfinite(walled) != np.isfinite(plain))
    sel = both & (np.abs(diff) >= CHANGE_MIN)
    return {"households": int(weight[changed].sum()),
            "households_longer": int(weight[sel & (diff > 0)].sum()),
            "median_min": _weighted_quantile(diff[sel], weight[sel], 0.5),
            "p90_min": _weighted_quantile(diff[sel], weight[sel], 0.9)}


def _weighted_quantile(values: np.ndarray, weight: np.ndarray, q: float) -> float | None:
    keep = weight > 0
    values, weight = values[keep], weight[keep]
    if values.size == 0:
        return None
    order = np.argsort(values, kind="stable")
    values, weight = values[order], weight[order]
    cum = np.cumsum(weight)
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return round(float(values[min(k, values.size - 1)]), 3)
