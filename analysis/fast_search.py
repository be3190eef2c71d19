"""Multi-source shortest walks over a CSR graph: a compiled Dijkstra search.

The same search as ``scipy.sparse.csgraph.dijkstra(graph, indices=sources,
min_only=True, limit=..., return_predecessors=True)``: every node's metres to the nearest
source and which source that is. It runs compiled (:mod:`geo.compiled`) on a binary heap with
decrease-key, with the GIL released so the searches of several services run on all cores
at once (:func:`nearest_sources_many`). Distances are summed as scipy sums them (a node's
distance is its predecessor's plus the arc), so they are the same floats; only which of two
sources exactly equally far a node is given to may differ. Without numba, scipy runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.compiled import AVAILABLE, kernel, threads


def _search(indptr, indices, data, sources, limit, dist, origin):  # pragma: no cover - compiled
    """Dijkstra from all ``sources`` at once; fills ``dist`` (inf) and ``origin`` (-1)."""
    n = dist.size
    heap = np.empty(n, np.int64)      # nodes, a binary heap on their key
    key = np.empty(n, np.float64)     # the key of heap[i] (dist of the node), kept beside it
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
    # all keys are 0: already a heap
    while size > 0:
        u = heap[0]
        du = key[0]
        where[u] = -2
        size -= 1
        if size > 0:  # move the last node to the root and sift it down
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
                while i > 0:  # sift up
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


_search_compiled = kernel(_search)


def csr_parts(graph: sparse.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of a CSR graph in the kernel's types (int64, int32,
    float64; no copy when already so)."""
    g = sparse.csr_array(graph)
    return (g.indptr.astype(np.int64, copy=False), g.indices.astype(np.int32, copy=False),
            g.data.astype(np.float64, copy=False))


def nearest_sources(graph: sparse.csr_array, sources: np.ndarray, *, limit_m: float = np.inf,
                    parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                    compiled: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every node's walk to the nearest of ``sources`` and that source's node.

    Parameters
    ----------
    graph
        Square CSR graph of non-negative arc metres (explicit zeros are arcs).
    sources
        Source nodes.
    limit_m
        Nodes farther than this get ``inf`` (and origin -1).
    parts
        :func:`csr_parts` of ``graph``, when already at hand.
    compiled
        Force the compiled search (True) or scipy (False); default: compiled when numba
        runs here.

    Returns
    -------
    dist_m, origin
        ``(n,)`` float metres and the source node that is nearest (-1 where none).
    """
    sources = np.asarray(sources, dtype=np.int64)
    use = AVAILABLE if compiled is None else compiled
    if not use or _search_compiled is None:
        dist, _, origin = csgraph.dijkstra(graph, directed=True, indices=sources,
                                           min_only=True, limit=limit_m,
                                           return_predecessors=True)
        return dist, origin.astype(np.int64, copy=False)
    indptr, indices, data = csr_parts(graph) if parts is None else parts
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    origin = np.full(n, -1, dtype=np.int64)
    _search_compiled(indptr, indices, data, sources, float(limit_m), dist, origin)
    return dist, origin


def nearest_sources_many(graph: sparse.csr_array,
                         jobs: Sequence[tuple[np.ndarray, float]]
                         ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`nearest_sources` for each ``(sources, limit_m)``, in order; compiled searches
    run on all cores at once (each search holds two arrays of the graph's size until it is
    taken)."""
    if not AVAILABLE or _search_compiled is None or len(jobs) < 2:
        parts = csr_parts(graph) if AVAILABLE else None
        for sources, limit in jobs:
            yield nearest_sources(graph, sources, limit_m=limit, parts=parts)
        return
    parts = csr_parts(graph)
    with ThreadPoolExecutor(max_workers=threads(len(jobs))) as pool:
        futures = [pool.submit(nearest_sources, graph, s, limit_m=limit, parts=parts)
                   for s, limit in jobs]
        for future in futures:
            yield future.result()
