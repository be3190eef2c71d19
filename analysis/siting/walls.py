"""Siting with walled compounds: which homes a candidate site brings within the threshold,
measured as coverage measures them (:mod:`analysis.reach.query`).

With walls a home's walk is the walled walk (along its compound's inner paths, or
straight to a gate where no path leads out, through open access points only), and never
shorter than the plain street model's. So a candidate covers a home when both walks are
within the threshold: the walled walk on the walled graph (every walled compound given
its exit layer, so a site inside a compound leaves through its gates) and the plain walk
(:func:`analysis.siting.coverage_pairs` on the plain index).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from analysis.reach.index import augment_graph
from analysis.reach.index import snap_points

#: Candidates per Dijkstra call (the distance block is candidates × graph nodes).
BLOCK_CELLS = 8_000_000


def _minor_share(index) -> float:
    return float(index.report.get("moved_off_islands", {}).get("minor_island_share", 0.05))


def snapped_like_facilities(index, cands, walls=None):
    """Point candidates snapped as a facility at that point would be (in the plain model,
    or with ``walls``): ``(candidates, compound of each)``; node candidates are kept."""
    import dataclasses

    n = cands.size
    points = cands.node < 0
    comp = np.full(n, -1, dtype=np.int64)
    if not points.any():
        return cands, comp
    net = index.network
    snap, _, comp_p = snap_points(net, walls, cands.xy[points], index.max_snap_m,
                                   _minor_share(index))
    edge, along, offset = cands.edge.copy(), cands.along_m.copy(), cands.offset_m.copy()
    u, v, a_u, a_v = cands.u.copy(), cands.v.copy(), cands.a_u.copy(), cands.a_v.copy()
    at = np.flatnonzero(points)
    ok = snap.edge >= 0
    e = np.maximum(snap.edge, 0)
    length = net.edge_length_m[e]
    t = np.clip(np.nan_to_num(snap.along_m), 0, length)
    o = np.nan_to_num(snap.offset_m)
    edge[at] = snap.edge
    along[at], offset[at] = np.where(ok, t, np.nan), np.where(ok, o, np.nan)
    u[at], v[at] = net.edge_u[e], net.edge_v[e]
    a_u[at] = np.where(ok, o + t, np.inf)
    a_v[at] = np.where(ok, o + length - t, np.inf)
    comp[at] = comp_p
    return dataclasses.replace(cands, edge=edge, along_m=along, offset_m=offset, u=u, v=v,
                               a_u=a_u, a_v=a_v), comp


def walled_pairs(index, cands, demand: np.ndarray, budget_m: float) -> sparse.csr_array:
    """``(n_candidates, demand.size)`` boolean: the walled walk from each candidate to each
    demand home is within ``budget_m`` (see the module docstring)."""
    walls = index.walls
    w = index.walled
    n_c, n_d = cands.size, demand.size
    if n_c == 0 or n_d == 0:
        return sparse.csr_array((n_c, n_d), dtype=bool)
    cands, c_comp = snapped_like_facilities(index, cands, walls)
    graph, exit_node = walls.graph(np.flatnonzero(walls.restrict))
    n = graph.shape[0]
    # one source row per candidate: to both ends of its edge as walked from it (and to
    # their exit copies, for a site inside a compound), or to its node; straight to its
    # compound's gates where no inner path leads out (as a facility there)
    on_edge = cands.edge >= 0
    e = np.maximum(cands.edge, 0)
    eu = np.where(on_edge, walls.edge_node_u[e], cands.u)
    ev = np.where(on_edge, walls.edge_node_v[e], cands.v)
    k = np.arange(n_c)
    src, tgt, wt = [k, k], [eu, ev], [cands.a_u, cands.a_v]
    for ends, a in ((eu, cands.a_u), (ev, cands.a_v)):
        ex = exit_node[np.minimum(ends, exit_node.size - 1)]
        ok = (ends < exit_node.size) & (ex >= 0)
        src.append(k[ok])
        tgt.append(ex[ok])
        wt.append(a[ok])
    f, acc, m = walls.gate_pairs(cands.xy, c_comp, cands.edge, _minor_share(index))
    src.append(f)
    tgt.append(walls.access["node"].to_numpy().astype(np.int64)[acc])
    wt.append(m)
    fin = np.concatenate(wt)

    src, tgt = np.concatenate(src), np.concatenate(tgt).astype(np.int64)
    keep = np.isfinite(fin)
    full = augment_graph(graph, n_c, src[keep], tgt[keep], fin[keep])
    net = index.network
    snap = w.snap
    h_edge = snap.edge[demand]
    on = h_edge >= 0
    he = np.maximum(h_edge, 0)
    h_len = net.edge_length_m[he]
    h_t = np.clip(np.nan_to_num(snap.along_m[demand]), 0, h_len)
    h_o = np.nan_to_num(snap.offset_m[demand])
    h_u, h_v = walls.edge_node_u[he], walls.edge_node_v[he]
    # homes walking straight to their gates: (demand position, access node, metres)
    pos_of = np.full(index.n_households, -1, dtype=np.int64)
    pos_of[demand] = np.arange(n_d)
    g_pos = pos_of[w.gate_home]
    keep = g_pos >= 0
    g_pos, g_node = g_pos[keep], walls.access["node"].to_numpy().astype(np.int64)[
        w.gate_access[keep]]
    g_m = w.gate_m[keep]
    rows_out, cols_out = [], []
    chunk = max(1, BLOCK_CELLS // max(full.shape[0], 1))
    for start in range(0, n_c, chunk):
        part = np.arange(start, min(n_c, start + chunk))
        dist = csgraph.dijkstra(full, directed=True, indices=n + part, limit=budget_m)
        walk = np.where(on[None, :], h_o[None, :] + np.minimum(dist[:, h_u] + h_t[None, :],
                                                                 dist[:, h_v] + (h_len - h_t)[None, :]),
                        np.inf)
        same = (cands.edge[part, None] == h_edge[None, :]) & on[None, :]
        if same.any():
            direct = (np.abs(np.nan_to_num(cands.along_m[part, None]) - h_t[None, :])
                      + np.nan_to_num(cands.offset_m[part, None]) + h_o[None, :])
            walk = np.where(same, np.minimum(walk, direct), walk)
        if g_pos.size:
            via = g_m[None, :] + dist[:, g_node]
            best = np.full((n_d, part.size), np.inf)
            np.minimum.at(best, g_pos, via.T)
            walk = np.minimum(walk, best.T)
        # a straight home and a site in the same compound: straight (times the detour)
        straight = w.straight[demand] & (w.compound[demand] >= 0)
        same_c = (c_comp[part, None] == w.compound[demand][None, :]) & straight[None, :]
        if same_c.any():
            d = np.hypot(cands.xy[part, None, 0] - index.household_xy[demand][None, :, 0],
                         cands.xy[part, None, 1] - index.household_xy[demand][None, :, 1])
            walk = np.where(same_c, np.minimum(walk, d * walls.inner_detour), walk)
        ci, di = np.nonzero(walk <= budget_m)
        rows_out.append(part[ci])
        cols_out.append(di)
    rows = np.concatenate(rows_out)
    cols = np.concatenate(cols_out)
    return sparse.csr_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n_c, n_d))
