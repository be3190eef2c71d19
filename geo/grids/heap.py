"""Memory freed by one step given back to the system before the next one, and Python's
cycle collector kept out of the way of a large run.

The grid stage makes and drops hundreds of thousands of small GEOS geometries and numpy
tables per step. glibc's allocator keeps the freed memory in its heaps (one per thread
that allocated it), so a later step that needs a different shape of memory grows the
process instead of reusing it. :func:`release_free_memory` asks the allocator to return
the free pages (``malloc_trim``): the peak of a run is then the largest step's live
memory, not the sum of what the steps left behind. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
from contextlib import contextmanager


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc
        return None


_LIBC = _libc()


def release_free_memory() -> None:
    """Return the allocator's free pages to the system (a few milliseconds)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


#: Allocations of container objects between two collections of the youngest generation
#: while a large run is under way (Python's default 700: a million-household grid stage
#: made some 1,400 collections, 9 of them of every object, about 5% of its time).
FEW_COLLECTIONS = 20_000

_gc_lock = threading.Lock()
_gc_users: list[tuple[int, int, int]] = []  # the thresholds before the first user


@contextmanager
def few_collections():
    """Python's cycle collector, while this runs, collects only after
    :data:`FEW_COLLECTIONS` new container objects, and skips every object made before
    (``gc.freeze``: nor are they copied into forked processes by the collector's marks);
    as before once the last such run (of any thread) ends. Nothing is collected that
    would not be later: no result changes."""
    with _gc_lock:
        if not _gc_users:
            gc.freeze()
            old = gc.get_threshold()
            gc.set_threshold(max(FEW_COLLECTIONS, old[0]), *old[1:])
        else:
            old = _gc_users[0]
        _gc_users.append(old)
    try:
        yield
    finally:
        with _gc_lock:
            first = _gc_users.pop()
            if not _gc_users:
                gc.set_threshold(*first)
                gc.unfreeze()


__all__ = ["few_collections", "release_free_memory"]
