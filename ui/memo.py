"""Values made from one object (a roads layer, a grid state), kept while that object lives.

The page asks for some values on every rerun although the object they come from rarely
changes: the editing map's roads, unit names, named streets, the editing map's key. They
are kept by the object's identity (never by comparing contents, which would cost what
making them costs) and a small ``extra`` key (a language, say); a new object makes them
anew, and a dead one is never mistaken for a new one at the same address.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class PerObject(Generic[V]):
    """A few values, one per live object (the oldest all dropped past ``size``)."""

    def __init__(self, size: int = 8) -> None:
        self._held: dict[int, tuple[weakref.ref, Hashable, V]] = {}
        self._size = size

    def get(self, obj: object, make: Callable[[], V], extra: Hashable = None) -> V:
        """The value kept for ``obj`` and ``extra``, or ``make()`` (kept when ``obj`` can
        be referenced weakly)."""
        held = self._held.get(id(obj))
        if held is not None and held[0]() is obj and held[1] == extra:
            return held[2]
        value = make()
        if len(self._held) >= self._size:
            self.clear()
        try:
            self._held[id(obj)] = (weakref.ref(obj), extra, value)
        except TypeError:  # e.g. None: not kept
            pass
        return value

    def clear(self) -> None:
        """Forget every value kept."""
        self._held.clear()


__all__ = ["PerObject"]
