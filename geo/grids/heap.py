"""Memory freed by one step given back to the system before the next one.

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
import sys


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


__all__ = ["release_free_memory"]
