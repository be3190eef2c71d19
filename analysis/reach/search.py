"""Multi-source shortest walks on a graph renumbered for the memory cache, on all cores.

``scipy.sparse.csgraph.dijkstra(graph, indices=sources, min_only=True, limit=...,
return_predecessors=True)`` gives every node's metres to the nearest source and which source
that is. On a city-sized network its time goes mostly to waiting for memory: the search
front spreads over the whole node array. :class:`SearchGraph` renumbers the nodes along a
Morton curve over their coordinates (nodes near each other on the ground near each other
in memory), which makes the same search 1.3-1.8 times as fast on the million-node lattice of
``benchmarks/bench_reach.py`` (the more sources, the less); the library releases the GIL,
so the services' searches run on all cores at once (:func:`nearest_sources_many`). The
distances are the library's own, in the original numbering (only which of two sources
exactly equally far a node is given to may differ with the numbering).

A compiled (numba) binary-heap search and an exact bucket queue were measured here against
the library's (the pinned scipy searches with a C++ priority queue, not a Fibonacci heap):
no faster per pass, the time being memory waits, so neither is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

#: Graphs smaller than this are searched one service after another (a search takes a few
#: milliseconds there, about what starting threads costs).
THREADED_NODES = 50_000


def csr_parts(graph: sparse.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of a CSR graph as int64, int32 and float64 (no copy when
    already so)."""
    g = sparse.csr_array(graph)
    return (g.indptr.astype(np.int64, copy=False), g.indices.astype(np.int32, copy=False),
            g.data.astype(np.float64, copy=False))


def nearest_sources(graph: sparse.csr_array, sources: np.ndarray, *, limit_m: float = np.inf
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every node's walk to the nearest of ``sources`` and that source's node.

    Parameters
    ----------
    graph
        Square CSR graph of non-negative arc metres (explicit zeros are arcs).
    sources
        Source nodes.
    limit_m
        Nodes farther than this get ``inf`` (and origin -1).

    Returns
    -------
    dist_m, origin
        ``(n,)`` float metres and the source node that is nearest (-1 where none).
    """
    dist, _, origin = csgraph.dijkstra(graph, directed=True,
                                       indices=np.asarray(sources, dtype=np.int64),
                                       min_only=True, limit=limit_m, return_predecessors=True)
    return dist, np.where(origin >= 0, origin, -1).astype(np.int64)


def nearest_sources_many(search: SearchGraph, jobs: Sequence[tuple[np.ndarray, float]], *,
                         own: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:meth:`SearchGraph.nearest_sources` for each ``(sources, limit_m)``, in order; on a
    large graph the searches run on all cores at once (each holds two arrays of the graph's
    size until it is taken)."""
    if len(jobs) < 2 or search.graph.shape[0] < THREADED_NODES or threads(len(jobs)) < 2:
        for sources, limit in jobs:
            yield search.nearest_sources(sources, limit_m=limit, own=own)
        return
    with ThreadPoolExecutor(max_workers=threads(len(jobs))) as pool:
        futures = [pool.submit(search.nearest_sources, s, limit_m=limit, own=own)
                   for s, limit in jobs]
        for future in futures:
            yield future.result()


@dataclass(frozen=True, eq=False)
class SearchGraph:
    """A graph renumbered so that nodes near each other on the ground are near each other
    in memory (a Morton curve over their coordinates): a search's front then touches far
    fewer cache lines, and runs 1.3-1.8 times as fast on a city-sized network. Build with :meth:`of`; searches take and give the original numbering."""

    graph: sparse.csr_array
    rank: np.ndarray | None   # original node → renumbered node (None: not renumbered)
    order: np.ndarray | None  # renumbered node → original node

    @classmethod
    def of(cls, graph: sparse.csr_array, xy: np.ndarray | None = None) -> SearchGraph:
        """``graph`` renumbered by the coordinates ``xy`` of its first ``len(xy)`` nodes
        (the others keep their order after them); not renumbered without ``xy``."""
        g = sparse.csr_array(graph)
        if xy is None or len(xy) < LOCALITY_NODES:
            return cls(graph=g, rank=None, order=None)
        n = g.shape[0]
        order = np.concatenate([locality_order(np.asarray(xy, dtype=float)),
                                np.arange(len(xy), n)])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        indptr, indices, data = csr_parts(g)
        degree = np.diff(indptr)[order]
        new_indptr = np.concatenate([[0], np.cumsum(degree)]).astype(np.int64)
        # each renumbered row holds the arcs of its original row, in the same order
        take = np.repeat(indptr[order] - new_indptr[:-1], degree) + np.arange(indices.size)
        new_indices = rank[indices[take]].astype(np.int32)
        new_data = data[take]
        renumbered = sparse.csr_array((new_data, new_indices, new_indptr), shape=(n, n))
        return cls(graph=renumbered, rank=rank, order=order)

    def own(self, nodes: np.ndarray) -> np.ndarray:
        """Nodes of the original numbering in this graph's."""
        nodes = np.asarray(nodes, dtype=np.int64)
        return nodes if self.rank is None else self.rank[nodes]

    def nearest_sources(self, sources: np.ndarray, *, limit_m: float = np.inf,
                        own: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """:func:`nearest_sources` on this graph, ``sources`` and the answer in the original
        numbering, or (``own``) both in this graph's (no reordering of the answer)."""
        sources = np.asarray(sources, dtype=np.int64)
        if self.rank is None or own:
            return nearest_sources(self.graph, sources, limit_m=limit_m)
        dist, origin = nearest_sources(self.graph, self.rank[sources], limit_m=limit_m)
        dist, origin = dist[self.rank], origin[self.rank]
        return dist, np.where(origin >= 0, self.order[np.maximum(origin, 0)], -1)


def threads(tasks: int) -> int:
    """Worker threads for ``tasks`` independent searches (one per core)."""
    return max(1, min(tasks, os.cpu_count() or 1))


#: Graphs with fewer located nodes than this keep their numbering (they fit in the cache).
LOCALITY_NODES = 20_000


def locality_order(xy: np.ndarray) -> np.ndarray:
    """Points ordered along a Morton (Z-order) curve over a 2¹⁶ × 2¹⁶ grid of their box."""
    lo = np.nanmin(xy, axis=0) if len(xy) else np.zeros(2)
    span = float(np.nanmax(np.ptp(np.nan_to_num(xy - lo), axis=0))) if len(xy) else 0.0
    q = np.nan_to_num((xy - lo) / (span if span > 0 else 1.0) * 65535.0)
    q = np.clip(q, 0, 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return np.argsort(spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)), kind="stable")
