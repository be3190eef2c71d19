"""Work of the grid stage spread over cores, with results identical to a serial run.

Two kinds of work split cleanly:

- **array geometry** (shapely 2 functions over arrays, which release the GIL while GEOS
  works): each element is computed on its own, so cutting the arrays into chunks and
  running the chunks in threads gives the same geometries, in the same order
  (:func:`chunked`);
- **per-community work** (cells by runs of blocks, the partition, the grids' polygons):
  a pure function of its inputs, the first share in this process and the others in
  forked worker processes, collected in input order (:func:`spread`).

``workers`` ≤ 1, small inputs, platforms without ``fork`` and daemonic processes (a
batch's own workers) run serially: the same calls in the same order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

#: Arrays shorter than this are computed in one call (threads cost more than they save).
MIN_CHUNKED = 4000
#: Fewer communities than this are partitioned in this process alone.
MIN_JOBS = 8


def available_workers() -> int:
    """The cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return ("fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


def chunked(func: Callable[..., np.ndarray], *arrays: np.ndarray, workers: int,
            at_least: int = MIN_CHUNKED, **kwargs) -> np.ndarray:
    """``func(*arrays, **kwargs)`` for an element-wise shapely function, computed in
    chunks on ``workers`` threads (the same result, element by element); arrays shorter
    than ``at_least`` in one call."""
    n = len(arrays[0]) if arrays else 0
    if workers <= 1 or n < at_least:
        return func(*arrays, **kwargs)
    bounds = np.linspace(0, n, 4 * workers + 1).astype(int)
    spans = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda s: func(*(x[s[0]:s[1]] for x in arrays), **kwargs), spans))
    return np.concatenate(parts)


def spread(func: Callable, jobs: Sequence[tuple], *, workers: int,
           then: Callable[[], None] | None = None,
           arrived: Callable[[object], object] | None = None) -> list:
    """``[func(*job) for job in jobs]``, the first job in this process while the others
    run in forked processes (one each, at most ``workers`` at once): for a few large jobs
    whose inputs the children find in memory (module-level state set before the call),
    so that only the children's results travel.
    ``then`` runs in this process once the children are forked (or first, serially): a
    thread it starts is not copied into them. ``arrived`` turns each child's result into
    what is returned, in a thread as soon as it comes, beside this process's own job
    (serially, and for the first job, results are returned as ``func`` made them)."""
    if workers <= 1 or len(jobs) < 2 or not can_fork():
        if then is not None:
            then()
        return [func(*job) for job in jobs]
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)) - 1 or 1,
                               mp_context=multiprocessing.get_context("fork"))
    done = False
    helper = ThreadPoolExecutor(max_workers=1) if arrived is not None else None
    try:
        futures = [pool.submit(_call, (func, job)) for job in jobs[1:]]
        if helper is not None:  # (started once the children are forked)
            futures = [helper.submit(_arrive, arrived, f) for f in futures]
        if then is not None:
            then()
        first = func(*jobs[0])
        out = [first] + [f.result() for f in futures]
        done = True
        return out
    finally:
        # with every result in, the children are left to exit (and be joined) on their
        # own: tearing down a forked copy of a large process takes some 0.02 s, which
        # this process need not wait for; after an error, they are waited for
        pool.shutdown(wait=not done, cancel_futures=True)
        if helper is not None:
            helper.shutdown(wait=True, cancel_futures=True)


def _arrive(arrived: Callable[[object], object], future):
    return arrived(future.result())


def _call(item: tuple[Callable, tuple]):
    func, job = item
    return func(*job)


__all__ = ["available_workers", "chunked", "spread"]
