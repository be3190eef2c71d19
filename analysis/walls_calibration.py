"""Calibrating the detour inside compounds from compounds whose inner paths are mapped.

Where a compound has no inner path, a home walks to its gates in a straight line times
:attr:`geo.walls.WallSettings.inner_detour`. The factor is measured where the paths are
mapped: for each home snapped to an inner path that leads out, the walk along the paths
(the straight bit to the path included) to the nearest of its compound's crossings,
divided by the straight line to the nearest of the same crossings. The median of that
ratio over homes is the default (README, "Compounds and gates").
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.walls import on_minor_island

#: Homes nearer than this to a crossing in a straight line are left out (the ratio of two
#: short distances says more about where the home point sits than about the paths).
MIN_STRAIGHT_M = 20.0


def _minor(index) -> float:
    return float(index.report.get("moved_off_islands", {}).get("minor_island_share", 0.05))


def detour_ratios(index) -> np.ndarray:
    """The ratio (inner-path walk ÷ straight line to the nearest crossing) of every home of
    ``index`` (:class:`analysis.reach.index.ReachIndex` with walls) snapped to an inner path
    that leads out; empty when none is."""
    walls, w = index.walls, index.walled
    if walls is None or w is None:
        return np.zeros(0)
    net = walls.network
    acc = walls.access
    node = acc["node"].to_numpy().astype(np.int64)
    inside = acc["inside"].to_numpy().astype(np.int64)
    a_comp = acc["compound"].to_numpy()
    crossing = (node >= 0) & (node < net.n_nodes) & (inside >= 0) & walls.walled(a_comp)
    island = on_minor_island(net, _minor(index))  # leading nowhere (Walls.leads_out)
    crossing[crossing] &= ~island[acc["edge"].to_numpy()[crossing]]
    homes = np.flatnonzero((w.compound >= 0) & walls.leads_out(w.snap.edge, _minor(index)))
    if homes.size == 0 or not crossing.any():
        return np.zeros(0)
    inner = np.flatnonzero(walls.edge_walled >= 0)
    g = sparse.coo_array((net.edge_length_m[inner], (net.edge_u[inner], net.edge_v[inner])),
                         shape=(net.n_nodes, net.n_nodes)).tocsr()
    dist = csgraph.dijkstra(g, directed=False, indices=np.unique(node[crossing]), min_only=True)
    e = w.snap.edge[homes]
    length = net.edge_length_m[e]
    t = np.clip(w.snap.along_m[homes], 0, length)
    walk = w.snap.offset_m[homes] + np.minimum(dist[net.edge_u[e]] + t,
                                               dist[net.edge_v[e]] + length - t)
    xy = index.household_xy[homes]
    comp = w.compound[homes]
    axy = acc[["x", "y"]].to_numpy()
    straight = np.full(homes.size, np.inf)
    for c in np.unique(comp):
        mine = comp == c
        pts = axy[crossing & (a_comp == c)]
        if pts.size:
            d = np.hypot(xy[mine, None, 0] - pts[None, :, 0], xy[mine, None, 1] - pts[None, :, 1])
            straight[mine] = d.min(axis=1)
    ok = np.isfinite(walk) & np.isfinite(straight) & (straight >= MIN_STRAIGHT_M)
    return walk[ok] / straight[ok]


def detour_summary(index) -> dict:
    """Homes measured, compounds they lie in, and the median and quartiles of the ratio."""
    ratios = detour_ratios(index)
    w = index.walled
    homes = (np.flatnonzero((w.compound >= 0) & index.walls.leads_out(w.snap.edge, _minor(index)))
             if w is not None else np.zeros(0, dtype=np.int64))
    if ratios.size == 0:
        return {"homes": 0, "compounds": 0, "median": None, "q25": None, "q75": None}
    return {"homes": int(ratios.size),
            "compounds": int(np.unique(w.compound[homes]).size),
            "median": round(float(np.median(ratios)), 3),
            "q25": round(float(np.quantile(ratios, 0.25)), 3),
            "q75": round(float(np.quantile(ratios, 0.75)), 3)}
