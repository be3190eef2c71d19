"""A service's search kept on its reach index, re-used after a speed change.

A search runs in metres up to a radius (the horizon at the service's speed,
``horizon_min × 60 × speed``, :meth:`analysis.settings.WalkSettings.horizon_m`). Every
node no farther than a radius ``r`` from the nearest source gets the same float from a
search up to any radius ``R ≥ r``: a node's metres are the least of its neighbours' plus
the arc, and every neighbour that offers a value up to ``r`` is itself no farther than
``r``, so the same values are offered by the same neighbours whichever the radius (the
library's search and the compiled one alike). A search kept at radius ``R`` therefore
answers any radius ``r ≤ R`` without searching again: its metres where they are at most
``r``, ``inf`` (and no source) beyond, bit for bit what a new search up to ``r`` gives
(a walk after a slower pace, or another service of the same facilities, is measured so).
A larger radius is searched again (and kept instead). Only which of two sources exactly
equally far a node is given to may differ from a new search (as between numberings of the
graph, :mod:`analysis.reach.search`); the metres, and so the minutes, never do.

What is kept, and for how long: on the reach index (:class:`analysis.reach.ReachIndex`),
so for as long as the index lives (the page and the stage runner keep the index of the
area in use; a new area, a new set of facilities or new walls make a new index and drop
these with the old one); per set of source nodes (a service's facilities) and numbering
of the graph, the search with the largest radius asked for; each holds the graph's nodes'
metres and sources (16 bytes a node), at most :data:`KEPT_BYTES` per index (the oldest
dropped first), none at all for a graph too large for one search to fit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np

from analysis.reach.search import SearchGraph, nearest_sources_many

#: Most bytes of searches kept on one reach index (a 100,000-node graph keeps 40 searches).
KEPT_BYTES = 64 * 2**20

_LOCK = threading.Lock()


def _store(owner) -> dict:
    return owner.__dict__.setdefault("_kept_searches", {})


def _key(search: SearchGraph, sources: np.ndarray) -> tuple:
    return (search.rank is None, id(search.graph),
            np.ascontiguousarray(sources, dtype=np.int64).tobytes())


def kept_nearest_sources(owner, search: SearchGraph, jobs: Sequence[tuple[np.ndarray, float]]
                         ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`analysis.reach.search.nearest_sources_many` (``own=True``: sources and
    answers in ``search``'s numbering) for each ``(sources, limit_m)``, in order, from
    the searches kept on ``owner`` where one was made up to at least ``limit_m``; the
    others searched (all cores at once, as there) and kept."""
    keys = [_key(search, sources) for sources, _ in jobs]
    with _LOCK:
        store = dict(_store(owner))
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    todo = []
    for k, ((_, limit), key) in enumerate(zip(jobs, keys)):
        held = store.get(key)
        if held is not None and held[0] >= limit:
            found[k] = _within(held[1], held[2], limit)
        else:
            todo.append(k)
    made = nearest_sources_many(search, [jobs[k] for k in todo], own=True)
    for k in range(len(jobs)):
        if k in found:
            yield found.pop(k)
            continue
        dist, origin = next(made)
        _keep(owner, keys[k], float(jobs[k][1]), dist, origin)
        yield dist, origin


def kept_within(owner, search: SearchGraph, sources: np.ndarray, limit_m: float
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The search from ``sources`` (``search``'s numbering) up to ``limit_m`` from one kept
    on ``owner`` up to at least that radius (as :func:`kept_nearest_sources` gives it), or
    ``None`` where none is kept."""
    with _LOCK:
        held = _store(owner).get(_key(search, sources))
    if held is None or not held[0] >= limit_m:
        return None
    return _within(held[1], held[2], limit_m)


def _within(dist: np.ndarray, origin: np.ndarray, limit: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """A search kept up to a radius ≥ ``limit`` as a search up to ``limit`` gives it."""
    near = dist <= limit
    if near.all():
        return dist, origin  # (the kept arrays: read, never written)
    return np.where(near, dist, np.inf), np.where(near, origin, -1)


def _keep(owner, key: tuple, limit: float, dist: np.ndarray, origin: np.ndarray) -> None:
    size = dist.nbytes + origin.nbytes
    if size > KEPT_BYTES:
        return
    with _LOCK:
        store = _store(owner)
        held = store.pop(key, None)
        if held is not None and held[0] > limit:  # a wider one kept meanwhile
            store[key] = held
            return
        total = sum(v[1].nbytes + v[2].nbytes for v in store.values())
        while store and total + size > KEPT_BYTES:
            old = store.pop(next(iter(store)))
            total -= old[1].nbytes + old[2].nbytes
        # kept as made (no copy): the callers only read them (not flagged read-only: a
        # compiled loop given a read-only array would be compiled again for that type)
        store[key] = (limit, dist, origin)


def kept_radii(owner) -> list[float]:
    """The radii of the searches kept on ``owner`` (for tests and reports)."""
    with _LOCK:
        return [v[0] for v in _store(owner).values()]


__all__ = ["KEPT_BYTES", "kept_nearest_sources", "kept_radii", "kept_within"]
