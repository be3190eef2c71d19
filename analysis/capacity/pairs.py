"""Walks from each facility to every home within a bound: the reach that the two-step
floating catchment method (:mod:`analysis.capacity`) needs.

The nearest-facility pass (:func:`analysis.reach.query.household_minutes`) answers one
number per home; capacity needs every (facility, home) pair within the service's
threshold. One bounded Dijkstra search runs from each facility's virtual source node of
the reach index's augmented graph (``scipy.sparse.csgraph.dijkstra(limit=...)``), so the
graph, the snapping and the walls are those of the coverage figures: a home's walk from
its nearest facility here equals its walk in ``household_minutes`` (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csgraph

from analysis.reach import ReachIndex
from analysis.reach.query import SnappedPoints

#: Facilities searched per Dijkstra call (bounds the dense distance block in memory).
CHUNK = 64


@dataclass(frozen=True, eq=False)
class Pairs:
    """Every (facility, home) pair within a bound, each once with its shortest walk.

    ``facility`` holds positions in ``rows`` (positions in ``index.facilities``),
    ``home`` positions in the index's household arrays, ``walk_m`` metres on foot."""

    rows: np.ndarray
    facility: np.ndarray
    home: np.ndarray
    walk_m: np.ndarray
    n_homes: int

    @property
    def n_facilities(self) -> int:
        return int(self.rows.size)

    @classmethod
    def from_arrays(cls, facility, home, walk_m, *, n_facilities: int,
                    n_homes: int) -> "Pairs":
        """Pairs given directly (a cost table, tests, the benchmark)."""
        return cls(rows=np.arange(n_facilities), facility=np.asarray(facility, dtype=np.int64),
                   home=np.asarray(home, dtype=np.int64),
                   walk_m=np.asarray(walk_m, dtype=float), n_homes=int(n_homes))


def _attachments(index: ReachIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(home, graph node, metres)``: every way a home joins the graph (both ends of its
    edge; with walls also its compound's open access points, for homes that walk to them
    straight)."""
    snap = index.household_snap if index.walled is None else index.walled.snap
    pts = SnappedPoints.of(index.network, snap, index.edge_nodes)
    home = [pts.on, pts.on]
    node = [pts.u, pts.v]
    extra = [pts.offset + pts.t, pts.offset + pts.rest]
    w = index.walled
    if w is not None:
        acc_node = index.walls.access["node"].to_numpy().astype(np.int64)
        home += [w.gate_home]
        node += [acc_node[w.gate_access]]
        extra += [w.gate_m]
    return (np.concatenate(home).astype(np.int64), np.concatenate(node).astype(np.int64),
            np.concatenate(extra).astype(float))


def _direct(index: ReachIndex, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(facility position, home, metres)`` walked without passing a graph node: along a
    shared edge, or straight inside a shared compound (as the nearest-facility pass)."""
    fac = index.facilities
    snap = index.household_snap if index.walled is None else index.walled.snap
    pts = SnappedPoints.of(index.network, snap, index.edge_nodes)
    out_f, out_h, out_d = [], [], []
    f_edge = fac["edge"].to_numpy()[rows]
    on = np.flatnonzero(f_edge >= 0)
    if on.size and pts.on.size:
        order = np.argsort(pts.edge, kind="stable")
        h_edge = pts.edge[order]
        lo = np.searchsorted(h_edge, f_edge[on], side="left")
        count = np.searchsorted(h_edge, f_edge[on], side="right") - lo
        k = np.repeat(on, count)
        j = order[np.repeat(lo, count) + _ranks(count)]
        length = index.network.edge_length_m[f_edge[k]]
        along = np.clip(fac["along_m"].to_numpy()[rows][k], 0.0, length)
        d = np.abs(pts.t[j] - along) + fac["offset_m"].to_numpy()[rows][k] + pts.offset[j]
        out_f.append(k)
        out_h.append(pts.on[j])
        out_d.append(d)
    w = index.walled
    if w is not None:
        comp = fac["compound"].to_numpy()[rows]
        inside = np.flatnonzero(comp >= 0)
        straight = w.straight if w.straight is not None else np.ones(w.compound.size, bool)
        homes = np.flatnonzero((w.compound >= 0) & straight)  # as the nearest-facility pass
        if inside.size and homes.size:
            homes = homes[np.argsort(w.compound[homes], kind="stable")]
            hc = w.compound[homes]
            lo = np.searchsorted(hc, comp[inside], side="left")
            count = np.searchsorted(hc, comp[inside], side="right") - lo
            k = np.repeat(inside, count)
            h = homes[np.repeat(lo, count) + _ranks(count)]
            fxy = fac[["x", "y"]].to_numpy()[rows][k]
            d = np.hypot(*(index.household_xy[h] - fxy).T) * index.walls.inner_detour
            out_f.append(k)
            out_h.append(h)
            out_d.append(d)
    if not out_f:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_f), np.concatenate(out_h), np.concatenate(out_d)


def _ranks(count: np.ndarray) -> np.ndarray:
    """``0..c-1`` for each ``c`` of ``count``, concatenated."""
    total = int(count.sum())
    return np.arange(total) - np.repeat(np.cumsum(count) - count, count)


def facility_pairs(index: ReachIndex, service: str, limit_m: float, *,
                   rows: np.ndarray | None = None) -> Pairs:
    """Every (facility, home) pair of ``service`` within ``limit_m`` metres on foot.

    Parameters
    ----------
    index
        From :func:`analysis.reach.prepare_reach` (walls included when it has them).
    service
        Service key.
    limit_m
        The bound (the service's threshold in metres): each facility's search stops there.
    rows
        Facility rows (positions in ``index.facilities``; default: the service's usable
        facilities).

    Returns
    -------
    Pairs
        Each pair once, with its shortest walk (≤ ``limit_m``).
    """
    rows = index.facility_rows(service) if rows is None else np.asarray(rows, dtype=np.int64)
    n_homes = index.n_households
    home, node, extra = _attachments(index)
    n = index.n_base_nodes
    order = np.argsort(node, kind="stable")
    home, node, extra = home[order], node[order], extra[order]
    ptr = np.searchsorted(node, np.arange(n + 1))
    sources = index.facilities["node"].to_numpy()[rows]
    parts_f, parts_h, parts_d = [], [], []
    for start in range(0, rows.size, CHUNK):
        src = sources[start:start + CHUNK]
        dist = csgraph.dijkstra(index.graph, directed=True, indices=src, limit=limit_m)
        dist = np.atleast_2d(dist)[:, :n]
        fi, nd = np.nonzero(np.isfinite(dist))
        count = ptr[nd + 1] - ptr[nd]
        at = np.repeat(ptr[nd], count) + _ranks(count)
        d = np.repeat(dist[fi, nd], count) + extra[at]
        parts_f.append(np.repeat(fi, count) + start)
        parts_h.append(home[at])
        parts_d.append(d)
    f, h, d = _direct(index, rows)
    parts_f.append(f)
    parts_h.append(h)
    parts_d.append(d)
    f, h, d = np.concatenate(parts_f), np.concatenate(parts_h), np.concatenate(parts_d)
    keep = d <= limit_m
    f, h, d = f[keep], h[keep], d[keep]
    return Pairs(rows=rows, n_homes=n_homes, **_shortest(f, h, d, n_homes))


def _shortest(f: np.ndarray, h: np.ndarray, d: np.ndarray, n_homes: int) -> dict:
    """Each (facility, home) pair once, with its least walk; sorted by facility, home."""
    key = f.astype(np.int64) * max(n_homes, 1) + h
    order = np.lexsort((d, key))
    key, f, h, d = key[order], f[order], h[order], d[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return {"facility": f[first], "home": h[first], "walk_m": d[first]}


__all__ = ["CHUNK", "Pairs", "facility_pairs"]
