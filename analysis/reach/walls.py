"""What walled compounds change: the summary's ``compound_access`` block.

The same homes and facilities are measured once more without walls, and the two answers
are compared per service. "Without walls" is the plain street model on the same (cut)
network: every point snapped to its nearest walkable way, inner paths included; what
``WallSettings(gated=False)`` measures too. The walled answer is never shorter than it
(:func:`analysis.reach.query.household_minutes` keeps the longer of the two), so the
figures compare like with like.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from analysis.reach.index import HouseholdReach, ReachIndex, prepare_reach
from analysis.reach.query import household_minutes
from analysis.settings import WalkSettings
from geo.vocabulary import minutes_column
from geo.i18n import note, note_by_language, t
from geo.walls import build_walls

#: A change in walking minutes smaller than this is rounding, not a wall.
CHANGE_MIN = 0.05


def reindexed(index: ReachIndex, walls=None, network=None) -> ReachIndex:
    """The same homes and facilities snapped again to ``network`` (default: the index's
    own), with ``walls`` (none by default)."""
    crs = index.network.crs
    xy = index.household_xy
    homes = gpd.GeoDataFrame({"households": index.household_weight},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs,
                             index=index.household_index)
    fac = index.facilities
    facilities = gpd.GeoDataFrame({"facility_id": fac["facility_id"].to_numpy(),
                                   "service": fac["service"].to_numpy()},
                                  geometry=gpd.points_from_xy(fac["x"], fac["y"]), crs=crs)
    return prepare_reach(network if network is not None else index.network, homes, facilities,
                         max_snap_m=index.max_snap_m, services=index.services, walls=walls)


def without_walls(index: ReachIndex) -> ReachIndex:
    """The same homes and facilities on the same network in the plain street model: snapped
    to the nearest walkable way, inner paths included (what ``WallSettings(gated=False)``
    measures too)."""
    if index.plain is not None:
        return index.plain
    return index if index.walls is None else reindexed(index, None)


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
        (``mapped``/``inferred``/``added``/``assumed``) and ``access_points_closed``;
        ``gates_ignored_why`` (each ignored mapped gate: ``lon``, ``lat``, ``reason``);
        ``compounds_with_assumed_gates`` and ``assumed_ids``; ``households_affected`` (households inside walls); per service ``coverage``
        ``{"with_walls", "without_walls"}``; ``minutes_changed`` per service (households
        whose walk changed, median and 90th percentile of the change in minutes).
    """
    walls = index.walls
    if walls is None:
        return {"gated": False}
    services = tuple(reach.walk_m.columns) if services is None else tuple(services)
    if plain is None:  # no wall at all: the answer without walls is this one
        plain = reach.plain if reach.plain is not None else (
            reach if walls.n_gated == 0 else household_minutes(without_walls(index),
                                                               settings, services))
    w = index.household_weight
    inside = (walls.walled(index.walled.compound) if index.walled is not None
              else np.zeros(index.n_households, dtype=bool))
    rep = walls.report
    out = {
        "gated": True,
        "compounds_gated": rep["compounds_gated"],
        "compounds_by_status": rep["compounds_by_status"],
        "open_no_access": rep["no_access_ids"],
        "open_no_access_names": rep.get("no_access_names", rep["no_access_ids"]),
        "access_points": rep["access_points"],
        "access_points_closed": rep["access_points_closed"],
        "gates_ignored": rep["gates_mapped_ignored"] + rep["gates_added_ignored"],
        "gates_ignored_why": list(rep.get("gates_ignored_why", [])),
        "compounds_with_assumed_gates": len(rep.get("compounds_assumed", [])),
        "assumed_ids": list(rep.get("compounds_assumed", []))[:20],
        "households_affected": int(w[inside].sum()),
        "coverage": {},
        "minutes_changed": {},
    }
    for service in services:
        a = reach.report[service]
        b = plain.report[service]
        out["coverage"][service] = {"with_walls": a["coverage"], "without_walls": b["coverage"]}
        out["minutes_changed"][service] = minutes_change(
            reach.minutes[minutes_column(service)].to_numpy(),
            plain.minutes[minutes_column(service)].to_numpy(), w)
    return out


def minutes_change(walled: np.ndarray, plain: np.ndarray, weight: np.ndarray) -> dict:
    """Households whose minutes differ, and the median / 90th percentile of the change
    (walled − plain, weighted by households; a walk lost beyond the horizon counts as
    changed but not in the figures)."""
    both = np.isfinite(walled) & np.isfinite(plain)
    diff = np.where(both, walled - plain, 0.0)
    changed = (both & (np.abs(diff) >= CHANGE_MIN)) | (np.isfinite(walled) != np.isfinite(plain))
    sel = both & (np.abs(diff) >= CHANGE_MIN)
    longer, shorter = sel & (diff > 0), sel & (diff < 0)
    # no walk is shorter with walls (the model without them has every way it has); the
    # split is kept so that a regression shows
    return {"households": int(weight[changed].sum()),
            "median_min": _weighted_quantile(diff[sel], weight[sel], 0.5),
            "p90_min": _weighted_quantile(diff[sel], weight[sel], 0.9),
            "longer": {"households": int(weight[longer].sum()),
                       "median_min": _weighted_quantile(diff[longer], weight[longer], 0.5),
                       "p90_min": _weighted_quantile(diff[longer], weight[longer], 0.9)},
            "shorter": {"households": int(weight[shorter].sum()),
                        "median_min": _weighted_quantile(-diff[shorter], weight[shorter], 0.5),
                        "p90_min": _weighted_quantile(-diff[shorter], weight[shorter], 0.9)},
            "lost_beyond_horizon": int(weight[np.isfinite(plain) & ~np.isfinite(walled)].sum())}


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


def wall_layers(index: ReachIndex) -> dict[str, gpd.GeoDataFrame]:
    """The project's ``compound_walls`` (every compound outline with its ``status`` and, when
    walled, its households) and ``compound_gates`` (open access points with their
    ``origin``) layers, in the network's CRS."""
    walls = index.walls
    crs = index.network.crs
    comps = walls.compounds.copy()
    counts = np.zeros(walls.polygons.size, dtype=np.int64)
    if walls.polygons.size and index.walled is not None:
        inside = walls.walled(index.walled.compound)
        np.add.at(counts, index.walled.compound[inside], index.household_weight[inside])
    by_id = dict(zip(walls.compound_ids, counts))
    comps["households"] = [int(by_id.get(c, 0)) for c in comps["compound_id"]]
    acc = walls.access[walls.walled(walls.access["compound"].to_numpy())]
    gates = gpd.GeoDataFrame({"compound_id": acc["compound_id"].astype(str).to_numpy(),
                              "origin": acc["origin"].astype(str).to_numpy()},
                             geometry=gpd.points_from_xy(acc["x"], acc["y"]), crs=crs)
    return {"compound_walls": gpd.GeoDataFrame(comps, geometry="geometry", crs=crs),
            "compound_gates": gates}


def wall_notes(block: dict) -> list[dict]:
    """Notes for the summary (:func:`geo.i18n.note`): how many compounds are walls, which
    are open for want of a known access point."""

    if not block.get("gated"):
        return []
    acc = block["access_points"]
    notes = [note("note.walls_gated", compounds=block["compounds_gated"],
                  households=block["households_affected"], mapped=acc["mapped"],
                  inferred=acc["inferred"], added=acc["added"])]
    assumed = acc.get("assumed", 0)
    if assumed:
        notes.append(note("note.walls_assumed", compounds=block.get("compounds_with_assumed_gates", 0),
                          gates=assumed))
    why = block.get("gates_ignored_why") or []
    if why:
        counts: dict[str, int] = {}
        for gate in why:
            counts[gate["reason"]] = counts.get(gate["reason"], 0) + 1
        notes.append(_ignored_note(len(why), counts))
    no_access = block["compounds_by_status"].get("no_access", 0)
    if no_access:
        names = block.get("open_no_access_names") or block["open_no_access"]
        notes.append(note_by_language("note.walls_no_access", {
            lang: {"count": no_access, "ids": sep.join(names)}
            for lang, sep in (("zh", "、"), ("en", ", "))}))
    return notes


def _ignored_note(count: int, counts: dict[str, int]) -> dict:
    """Why mapped gates were not used (a note, the reasons listed in each language)."""

    return note_by_language("note.gates_ignored", {
        lang: {"count": count, "reasons": sep.join(t(f"gates.why_{r}", lang, count=n)
                                                   for r, n in sorted(counts.items()))}
        for lang, sep in (("zh", "；"), ("en", "; "))})


def what_if(index: ReachIndex, network, compounds: gpd.GeoDataFrame,
            gates: gpd.GeoDataFrame | None, walls_after, settings: WalkSettings,
            services: tuple[str, ...] | None = None, *,
            before: HouseholdReach | None = None):
    """Coverage per service now (``index``) and with other wall settings (a gate added or
    closed, a compound opened): a frame ``service``, ``before``, ``after``, ``change``
    (shares of households) and ``households_changed`` (homes whose walk changed)."""
    import pandas as pd

    services = index.services if services is None else tuple(services)
    before = household_minutes(index, settings, services) if before is None else before
    walls = build_walls(network, compounds, gates, settings=walls_after,
                        max_snap_m=index.max_snap_m)
    after_index = reindexed(index, walls, network)
    after = household_minutes(after_index, settings, services)
    rows = []
    for service in services:
        b, a = before.report[service]["coverage"], after.report[service]["coverage"]
        changed = minutes_change(after.minutes[minutes_column(service)].to_numpy(),
                                 before.minutes[minutes_column(service)].to_numpy(),
                                 index.household_weight)["households"]
        rows.append({"service": service, "before": b, "after": a, "change": a - b,
                     "households_changed": changed})
    return pd.DataFrame(rows), walls
