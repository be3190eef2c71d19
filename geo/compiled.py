"""Compiled inner loops (numba), loaded only when a large input asks for them.

A few loops (snapping points to segments, cutting lines into grid pieces) run several times
faster compiled. :func:`kernel` wraps such a function: :meth:`Kernel.get` imports numba and
compiles the function the first time it is asked for, with the machine code cached
(``cache=True``: in ``__pycache__`` beside the module, or numba's per-user cache directory
when the source tree is read-only; with no writable place at all it compiles in memory).
Callers ask only for large inputs (:data:`MIN_ITEMS`), so a page or a test on a district
never imports numba. When numba is missing or broken, or ``GRIDCIRCLE_NO_NUMBA=1`` is
set, :meth:`Kernel.get` gives ``None`` and callers run their numpy code, which gives the
same numbers (tests compare the two).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable

#: Inputs with fewer items (points to snap, line vertices) than this run the numpy code:
#: numba's import and the first load of a kernel cost about half a second per process,
#: more than they save below this (the 100,000-node network of bench_reach.py's first
#: section, 380,000 vertices, builds its segment grid faster in numpy).
MIN_ITEMS = 500_000

_lock = threading.Lock()
_numba: list = []  # [module or None] once tried


def _load_numba():
    with _lock:
        if not _numba:
            module = None
            if os.environ.get("GRIDCIRCLE_NO_NUMBA", "") in ("", "0"):
                try:
                    import numba as module
                except Exception:  # noqa: BLE001 - a broken install must not stop the analysis
                    module = None
            _numba.append(module)
    return _numba[0]


def available() -> bool:
    """Whether compiled kernels can run here (imports numba on the first call)."""
    return _load_numba() is not None


class Kernel:
    """A function compiled on first use (no Python objects, the GIL released)."""

    def __init__(self, func: Callable) -> None:
        self.func = func
        self._compiled: list = []

    def get(self) -> Callable | None:
        """The compiled function, or ``None`` without numba."""
        if not self._compiled:
            numba = _load_numba()
            compiled = None
            if numba is not None:
                try:
                    compiled = numba.njit(cache=True, nogil=True)(self.func)
                except Exception:  # noqa: BLE001 - no writable cache: compile in memory
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        compiled = numba.njit(cache=False, nogil=True)(self.func)
            with _lock:
                if not self._compiled:
                    self._compiled.append(compiled)
        return self._compiled[0]


def kernel(func: Callable) -> Kernel:
    """``func`` to be compiled when first asked for (see :class:`Kernel`)."""
    return Kernel(func)


def use_compiled(items: int) -> bool:
    """Whether an input of ``items`` points or segments is large enough to run compiled."""
    return items >= MIN_ITEMS and available()


def threads(tasks: int) -> int:
    """Worker threads for ``tasks`` independent compiled calls (one per core)."""
    return max(1, min(tasks, os.cpu_count() or 1))
