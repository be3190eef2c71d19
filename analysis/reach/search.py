"""Multi-source shortest walks on a graph renumbered for the memory cache, on all cores.

``scipy.sparse.csgraph.dijkstra(graph, indices=sources, min_only=True, limit=...,
return_predecessors=True)`` gives every node's metres to the nearest source and which source
that is. On a city-sized network its time goes mostly to waiting for memory: the search
front spreads over the whole node array. :class:`SearchGraph` renumbers the nodes along a
Morton curve over their coordinates (nodes near each other on the ground near each other
in memory), which makes the same search 1.3-1.8 times as fast on the million-node lattice of
``benchmarks/bench_reach.py`` (the more sources, the less). The distances are the
library's own, in the original numbering (only which of two sources exactly equally far a
node is given to may differ with the numbering).

The library holds the GIL while it searches (measured: a counting thread gets about 8% of
its ticks meanwhile), so threads alone do not put the services' searches on both cores. On
a graph large enough to pay for numba's first load (:func:`geo.compiled.use_compiled`)
the searches run compiled with the GIL released, several at once
(:func:`nearest_sources_many`): up to a finite limit (the horizon: every search of
:func:`analysis.reach.household_minutes`) on a bucket queue of 1 m buckets (Dial's), about
three times as fast per pass as the library's heap on the million-node lattice of
``benchmarks/bench_reach.py``; without a limit on a binary heap. Both give the library's
floats (a node's metres are the least of its neighbours' plus the arc) and the same nearest
source wherever it is unique. Without numba the library runs, one search at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.compiled import kernel, use_compiled

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


def _search(indptr, indices, data, sources, limit, dist, origin):  # pragma: no cover - compiled
    """Dijkstra from all ``sources`` at once on a binary heap with decrease-key; fills
    ``dist`` (inf where unreached) and ``origin`` (-1)."""
    n = dist.size
    heap = np.empty(n, np.int64)      # nodes, a binary heap on their key
    key = np.empty(n, np.float64)     # the key of heap[i] (the node's metres), beside it
    where = np.full(n, -1, np.int64)  # position in the heap; -1 not reached, -2 settled
    size = 0
    for s in sources:
        if dist[s] == 0.0:
            continue
        dist[s] = 0.0
        origin[s] = s
        heap[size] = s
        key[size] = 0.0
        where[s] = size
        size += 1
    while size > 0:  # all first keys are 0: already a heap
        u = heap[0]
        du = key[0]
        where[u] = -2
        size -= 1
        if size > 0:  # the last node to the root, sifted down
            last = heap[size]
            k = key[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                kc = key[c]
                if c + 1 < size and key[c + 1] < kc:
                    c += 1
                    kc = key[c]
                if kc < k:
                    heap[i] = heap[c]
                    key[i] = kc
                    where[heap[i]] = i
                    i = c
                else:
                    break
            heap[i] = last
            key[i] = k
            where[last] = i
        ou = origin[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if where[v] == -2:
                continue
            nd = du + data[j]
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                origin[v] = ou
                i = where[v]
                if i == -1:
                    i = size
                    size += 1
                while i > 0:  # sifted up
                    p = (i - 1) >> 1
                    if key[p] > nd:
                        heap[i] = heap[p]
                        key[i] = key[p]
                        where[heap[i]] = i
                        i = p
                    else:
                        break
                heap[i] = v
                key[i] = nd
                where[v] = i


def _bucket_search(indptr, indices, data, sources, limit, width, dist, origin
                   ):  # pragma: no cover - compiled
    """The same search on a bucket queue (Dial's): nodes in buckets of ``width`` metres of
    walk, held in doubly linked lists; a bucket's nodes are taken in any order, and one
    improved within its own bucket (an arc shorter than ``width``) is taken again. A node
    of an earlier bucket is never improved by a later one, so every node ends with the
    least of its neighbours' metres plus the arc, the same floats as Dijkstra's (only
    which of two sources exactly equally far a node is given to may differ). ``limit``
    must be finite; fills ``dist`` and ``origin`` as :func:`_search`."""
    n = dist.size
    nb = np.int64(limit / width) + 2
    head = np.full(nb, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    prv = np.full(n, -1, np.int64)
    held = np.full(n, -1, np.int64)  # the bucket holding the node, -1 none
    for s in sources:
        if dist[s] == 0.0:
            continue
        dist[s] = 0.0
        origin[s] = s
        h = head[0]
        nxt[s] = h
        if h >= 0:
            prv[h] = s
        head[0] = s
        held[s] = 0
    for b in range(nb):
        while head[b] >= 0:
            u = head[b]
            h = nxt[u]
            head[b] = h
            if h >= 0:
                prv[h] = -1
            held[u] = -1
            du = dist[u]
            ou = origin[u]
            for j in range(indptr[u], indptr[u + 1]):
                v = indices[j]
                nd = du + data[j]
                if nd <= limit and nd < dist[v]:
                    dist[v] = nd
                    origin[v] = ou
                    k = np.int64(nd / width)
                    old = held[v]
                    if old != k:
                        if old >= 0:  # out of its old bucket
                            p = prv[v]
                            q = nxt[v]
                            if p >= 0:
                                nxt[p] = q
                            else:
                                head[old] = q
                            if q >= 0:
                                prv[q] = p
                        h = head[k]
                        nxt[v] = h
                        prv[v] = -1
                        if h >= 0:
                            prv[h] = v
                        head[k] = v
                        held[v] = k


_SEARCH = kernel(_search)
_BUCKET_SEARCH = kernel(_bucket_search)
#: Bucket width of the bucket queue (metres of walk); searches whose limit needs more
#: buckets than :data:`MAX_BUCKETS` (or have none) run on the binary heap.
BUCKET_M = 1.0
MAX_BUCKETS = 1 << 24


def compiled_nearest_sources(parts: tuple[np.ndarray, np.ndarray, np.ndarray],
                             sources: np.ndarray, *, limit_m: float = np.inf
                             ) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`nearest_sources` compiled, the GIL released (``parts``: :func:`csr_parts`);
    ``None`` without numba."""
    buckets = np.isfinite(limit_m) and limit_m / BUCKET_M < MAX_BUCKETS
    search = (_BUCKET_SEARCH if buckets else _SEARCH).get()
    if search is None:
        return None
    indptr, indices, data = parts
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    origin = np.full(n, -1, dtype=np.int64)
    sources = np.asarray(sources, dtype=np.int64)
    if buckets:
        search(indptr, indices, data, sources, float(limit_m), BUCKET_M, dist, origin)
    else:
        search(indptr, indices, data, sources, float(limit_m), dist, origin)
    return dist, origin


def nearest_sources_many(search: SearchGraph, jobs: Sequence[tuple[np.ndarray, float]], *,
                         own: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:meth:`SearchGraph.nearest_sources` for each ``(sources, limit_m)``, in order; on a
    large graph the searches run on all cores at once (each holds two arrays of the graph's
    size until it is taken)."""
    nodes = search.graph.shape[0]
    if len(jobs) < 2 or nodes < THREADED_NODES or threads(len(jobs)) < 2 \
            or not use_compiled(nodes):
        for sources, limit in jobs:  # the library holds the GIL: one after another
            yield search.nearest_sources(sources, limit_m=limit, own=own)
        return
    parts = csr_parts(search.graph)
    with ThreadPoolExecutor(max_workers=threads(len(jobs))) as pool:
        futures = [pool.submit(search.nearest_sources, s, limit_m=limit, own=own, parts=parts)
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
                        own: bool = False, parts: tuple | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`nearest_sources` on this graph, ``sources`` and the answer in the original
        numbering, or (``own``) both in this graph's (no reordering of the answer); with
        ``parts`` (:func:`csr_parts` of :attr:`graph`) compiled when numba runs here."""
        sources = np.asarray(sources, dtype=np.int64)

        def find(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            made = (compiled_nearest_sources(parts, at, limit_m=limit_m)
                    if parts is not None else None)
            return made if made is not None else nearest_sources(self.graph, at,
                                                                 limit_m=limit_m)

        if self.rank is None or own:
            return find(sources)
        dist, origin = find(self.rank[sources])
        dist, origin = dist[self.rank], origin[self.rank]
        return dist, np.where(origin >= 0, self.order[np.maximum(origin, 0)], -1)


def threads(tasks: int) -> int:
    """Worker threads for ``tasks`` independent searches (one per core)."""
    return max(1, min(tasks, os.cpu_count() or 1))


#: Graphs with fewer located nodes than this keep their numbering (they fit in the cache).
LOCALITY_NODES = 20_000


def locality_order(xy: np.ndarray) -> np.ndarray:
    """Points ordered along a Morton (Z-order) curve over a 2¹⁶ × 2¹⁶ grid of their box."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.intp)
    # column by column (a reduction along axis 0 of an (n, 2) array is several times slower)
    lo = np.array([np.nanmin(xy[:, 0]), np.nanmin(xy[:, 1])])
    d = np.nan_to_num(xy - lo)
    span = max(float(d[:, 0].max() - d[:, 0].min()), float(d[:, 1].max() - d[:, 1].min()))
    q = np.clip(d / (span if span > 0 else 1.0) * 65535.0, 0, 65535).astype(np.intp)
    spread = _spread_table()  # each 16-bit value with a zero bit after each of its bits
    return np.argsort(spread[q[:, 0]] | (spread[q[:, 1]] << np.uint64(1)), kind="stable")


def _spread_table() -> np.ndarray:
    """``v`` → ``v`` with its 16 bits spread over 32 (bit ``i`` to bit ``2i``), every ``v``."""
    cache = _SPREAD
    if not cache:
        v = np.arange(65536, dtype=np.uint64)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        cache.append((v | (v << np.uint64(1))) & np.uint64(0x55555555))
    return cache[0]


_SPREAD: list = []
