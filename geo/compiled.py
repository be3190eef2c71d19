"""Compiled inner loops (numba) with a plain fallback when numba cannot run.

A few loops (the multi-source walk search, snapping points to segments) run much faster
compiled. :func:`kernel` compiles a function with numba when it is installed and caches the
machine code (``cache=True``: in ``__pycache__`` beside the module, or numba's per-user cache
directory when the source tree is read-only), so a fresh process pays the compile time only
the first time on a machine. When numba is missing, fails to import, or
``GRIDCIRCLE_NO_NUMBA=1`` is set, :data:`AVAILABLE` is false and callers use their numpy /
scipy path, which gives the same numbers (tests compare the two).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

try:  # pragma: no cover - the branch taken depends on the machine
    if os.environ.get("GRIDCIRCLE_NO_NUMBA", "") not in ("", "0"):
        raise ImportError("GRIDCIRCLE_NO_NUMBA is set")
    import numba
except Exception:  # noqa: BLE001 - a broken numba install must not stop the analysis
    numba = None

#: Whether compiled kernels are used (numba imported and not switched off).
AVAILABLE = numba is not None


def kernel(func: Callable) -> Callable | None:
    """``func`` compiled (no Python objects, the GIL released, machine code cached), or
    ``None`` without numba."""
    if numba is None:
        return None
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except Exception:  # noqa: BLE001 - no writable cache location: compile each process
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return numba.njit(cache=False, nogil=True)(func)


def threads(tasks: int) -> int:
    """Worker threads for ``tasks`` independent compiled calls (one per core)."""
    return max(1, min(tasks, os.cpu_count() or 1))
