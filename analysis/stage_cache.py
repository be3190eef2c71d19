"""The store of stage values the stage graph's runner (:mod:`analysis.stages`) looks
each stage up in before it makes it (the page keeps one for the session, a run without
one gets one of its own), and :func:`prefetch`, which fills it in the background."""

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


_PREFETCH: dict[str, threading.Event] = {}  # "stop": the running prefetch's stop signal
_PREFETCH_LOCK = threading.Lock()


def stop_prefetch() -> None:
    """Ask a running :func:`prefetch` to stop after the value it is making (the page
    calls it when a run starts, so that what the planner asked for now has the machine)."""
    with _PREFETCH_LOCK:
        stop = _PREFETCH.get("stop")
        if stop is not None:
            stop.set()


def prefetch(run, *, delay_s: float = 0.0) -> threading.Thread | None:
    """Make the service areas that ``run`` (an :class:`analysis.stages.StageRun`) did not
    draw in a background thread (one at a time), into the run's cache: showing another
    service, saving, exporting or reporting then finds them made. The values are the
    ones :func:`analysis.stages.completed` would make (the
    same stage, the same key); only when they are made changes. A new prefetch stops
    the one before it (after the value it is making); ``delay_s`` lets a quick next
    request come first (the page waits until the planner pauses). Returns the thread,
    or ``None`` when there is nothing to make."""
    runner = run.runner
    if run.complete or runner is None:
        return None
    missing = [s for s in runner.walk.services if runner.missing("service_areas", s)]
    if not missing:
        return None
    stop = threading.Event()

    def work() -> None:
        if stop.wait(delay_s):  # asked for something else meanwhile: that goes first
            return
        for service in missing:
            if stop.is_set():
                return
            try:
                runner.get("service_areas", service)
            except Exception:  # noqa: BLE001 - made again (and shown) when asked for
                return

    with _PREFETCH_LOCK:
        before = _PREFETCH.get("stop")
        if before is not None:
            before.set()
        thread = threading.Thread(target=work, name="gridcircle-prefetch", daemon=True)
        _PREFETCH["stop"] = stop
        thread.start()
    return thread


__all__ = ["StageCache", "prefetch", "stop_prefetch"]
