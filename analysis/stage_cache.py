"""The store of stage values the stage graph's runner (:mod:`analysis.stages`) looks
each stage up in before it makes it: the page keeps one for the session, a run without
one gets one of its own."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class StageCache:
    """A small thread-safe least-recently-used store of stage values keyed by
    ``(stage, key)``; ``misses`` counts the values made per stage.

    A value being made in one thread is waited for, not made again, by another thread
    that asks for it meanwhile (the page makes the services not shown yet in the
    background: :func:`prefetch`)."""

    def __init__(self, entries: int = 24) -> None:
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[tuple, threading.Event] = {}
        self.misses: dict[str, int] = {}

    def __contains__(self, stage_key: tuple[str, Hashable]) -> bool:
        with self._lock:
            return stage_key in self._items

    def get(self, stage: str, key: Hashable, make: Callable[[], object]) -> object:
        """The value of ``stage`` for ``key``, made by ``make()`` on a miss."""
        full = (stage, key)
        while True:
            with self._lock:
                if full in self._items:
                    self._items.move_to_end(full)
                    return self._items[full]
                busy = self._making.get(full)
                if busy is None:
                    self._making[full] = threading.Event()
                    break
            busy.wait()  # being made elsewhere: look again (made here if it failed there)
        try:
            value = make()
            with self._lock:
                self.misses[stage] = self.misses.get(stage, 0) + 1
                self._items[full] = value
                while len(self._items) > self.entries:
                    self._items.popitem(last=False)
        finally:
            with self._lock:
                self._making.pop(full).set()
        return value


__all__ = ["StageCache"]
