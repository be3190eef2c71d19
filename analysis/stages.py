"""The stage graph: the one place that says which stage needs which, and what each reads.

Every way of running the analysis goes through :func:`run_stages`: the command line and
notebooks (:func:`analysis.pipeline.run`), the page (:mod:`ui.state`, which only hands in
a cache), and :func:`analysis.circles.service_circles`. Re-counting after a grid edit uses
the counting stage's own function (:func:`analysis.circles.count`, through
:func:`analysis.project.with_session`).

Each :class:`Stage` declares the stages it needs and the settings parts it reads; a
stage's key is its name, what it reads and the keys of what it needs, so a cache keyed
by :meth:`Runner.key` re-runs a stage exactly when something it depends on changed::

    base            households, communities, grids, facilities
                    reads: the inputs (area, uploads, previous grids, locked grids),
                           the household model and the grid band
    checks          the data checks of the area and its households (street blocks
                    without data, buildings left out)
                    needs base
    index           homes and facilities snapped to the walking network
                    needs base; reads: the snap distance and the services measured
    reach           walking minutes, coverage, gaps
                    needs base, index; reads: the walking settings
    service_areas   one service's nested 5/10/15-minute areas (one entry per service)
                    needs index; reads: that service's speed, the minute levels, the snap
    capacity        each facility's places against the demand that reaches it (bounded
                    walks from each facility, two-step floating catchment)
                    needs base, index; reads: the walking and capacity settings
    result          layers and SUMMARY.json (with the households each drawn area
                    misclassifies)
                    needs base, checks, reach, capacity, every service's service_areas
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd

from analysis import pipeline as P
from geo.catalogue import Service, load_catalogue
from geo.studyarea import StudyArea

Progress = Callable[[str], None]


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


@dataclass(frozen=True, eq=False)
class Inputs:
    """What a run starts from besides its settings.

    ``key`` identifies the area and the uploaded layers (the page passes its frozen source
    and uploads; without one, the objects' identities are used). ``previous`` and
    ``locked`` are the grid ids of an earlier run to keep (see :func:`geo.grids.make_grids`).
    """

    area: StudyArea
    register: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    catalogue: tuple[Service, ...] | None = None
    previous: pd.Series | None = None
    locked: tuple[str, ...] = ()
    key: Hashable = None

    def identity(self) -> Hashable:
        if self.key is not None:
            return self.key
        return tuple(id(x) for x in (self.area, self.register, self.facilities,
                                     self.communities))

    def grid_key(self) -> Hashable:
        """What the kept grids add to the grid stage's key (a digest of ``previous``)."""
        if self.previous is None and not self.locked:
            return None
        return (previous_digest(self.previous), tuple(sorted(self.locked)))


def previous_digest(previous: pd.Series | None) -> str:
    if previous is None:
        return ""
    plain = pd.Series(previous.astype(str).to_numpy(), index=previous.index.astype(str))
    return hashlib.blake2b(pd.util.hash_pandas_object(plain).to_numpy().tobytes(),
                           digest_size=12).hexdigest()


@dataclass(frozen=True)
class Stage:
    """One stage: its name, the stages it needs, the settings parts it reads
    (``reads(runner, part)`` → hashable) and its progress step."""

    name: str
    needs: tuple[str, ...]
    reads: Callable[["Runner", str | None], Hashable]
    step: str


def _walk(runner: "Runner"):
    return runner.walk


def _demand_table(runner: "Runner") -> str:
    """The content of the capacity stage's demand table (planners edit it in place)."""
    from analysis.capacity_stage import table_digest

    return table_digest(runner.settings.capacity.table)


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("base", (), lambda r, _: (r.inputs.identity(), r.inputs.grid_key(),
                                    r.settings.households.estimate, r.settings.grids),
          "step.households"),
    Stage("checks", ("base",), lambda r, _: (), "step.coverage"),
    Stage("index", ("base",), lambda r, _: (_walk(r).max_snap_m, _walk(r).services,
                                            r.settings.walls),
          "step.reach"),
    Stage("reach", ("base", "index"), lambda r, _: _walk(r), "step.reach"),
    Stage("service_areas", ("index",),
          lambda r, service: (service, float(_walk(r).speed_mps(service)),
                              tuple(_walk(r).minutes), float(_walk(r).max_snap_m)),
          "step.service_areas"),
    Stage("capacity", ("base", "index"), lambda r, _: (
        _walk(r), r.settings.capacity, r.settings.households.persons_per_household,
        _demand_table(r)), "step.capacity"),
)}


def _memo() -> StageCache:
    """A cache for one run only: each stage is made once even without a shared cache."""
    return StageCache(entries=1_000)


@dataclass(eq=False)
class Runner:
    """Runs stages of :data:`STAGES` for one set of inputs and settings, each looked up
    in ``cache`` under :meth:`key` before it is made."""

    inputs: Inputs
    settings: P.RunSettings = field(default_factory=P.RunSettings)
    cache: object = field(default_factory=_memo)
    progress: Progress | None = None
    timings_s: dict = field(default_factory=dict)
    given: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalogue: tuple[Service, ...] = self.inputs.catalogue or load_catalogue()
        #: the walking settings with the catalogue's services (what the reach stages read)
        self.walk = P.walk_settings(self.settings, self.catalogue)

    def key(self, name: str, part: str | None = None) -> tuple:
        """The stage's key: its name, what it reads and the keys of what it needs."""
        stage = STAGES[name]
        return (name, part, stage.reads(self, part), tuple(self.key(n) for n in stage.needs))

    def provide(self, name: str, value: object) -> None:
        """Use ``value`` as the stage's value (e.g. households made elsewhere)."""
        self.given[name] = value

    def missing(self, name: str, part: str | None = None) -> bool:
        return name not in self.given and (name, self.key(name, part)) not in self.cache

    def get(self, name: str, part: str | None = None) -> object:
        if name in self.given:
            return self.given[name]
        return self.cache.get(name, self.key(name, part), lambda: self._make(name, part))

    def _make(self, name: str, part: str | None) -> object:
        if self.progress is not None and name == "index":
            self.progress(STAGES[name].step)  # base names its own steps; finish() the rest
        start = time.perf_counter()
        try:
            return self._compute(name, part)
        finally:
            label = "index" if name == "index" else name
            self.timings_s[label] = round(self.timings_s.get(label, 0.0)
                                          + time.perf_counter() - start, 3)

    def _compute(self, name: str, part: str | None) -> object:
        inputs, settings = self.inputs, self.settings
        if name == "base":
            return P.stage_base(inputs.area, settings, register=inputs.register,
                                facilities=inputs.facilities, communities=inputs.communities,
                                catalogue=self.catalogue, previous=inputs.previous,
                                locked=inputs.locked, progress=self.progress)
        if name == "index":
            from analysis.circles import index_stage

            walls = P.index_walls(inputs.area, settings, _walk(self))
            return index_stage(self.get("base").households, self.get("base").facilities,
                               self.network, _walk(self), boundary=self.boundary, walls=walls)
        if name == "checks":
            from analysis.completeness import area_checks

            base = self.get("base")
            return area_checks(inputs.area, settings, base.households, base.communities)
        if name == "reach":
            return P.stage_reach(self.get("base"), self.get("index"), settings)
        if name == "capacity":
            from analysis.capacity_stage import capacity_stage

            base = self.get("base")
            return capacity_stage(base.households, base.facilities, self.get("index"),
                                  _walk(self), settings.capacity,
                                  persons_per_household=settings.households.persons_per_household)
        return P.stage_service_areas(self.get("index"), replace(settings, walk=_walk(self)),
                                     (part,))

    @property
    def network(self):
        return self.inputs.area.network

    @property
    def boundary(self):
        return self.inputs.area.boundary

    def service_areas(self, services: Collection[str]) -> gpd.GeoDataFrame:
        parts = [self.get("service_areas", s) for s in services]
        crs = self.network.crs
        if not parts:
            return gpd.GeoDataFrame({"service": [], "minutes": []}, geometry=[], crs=crs)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)


@dataclass(frozen=True, eq=False)
class StageRun:
    """What :func:`run_stages` produced: the result, the reach objects a siting what-if
    needs, the key of each stage (the page keys its map caches on them), and whether the
    result is complete (every service's areas and the misclassification figures)."""

    result: P.Result
    index: object
    reach: object
    keys: dict[str, Hashable]
    complete: bool = True
    runner: Runner | None = None


def run_stages(inputs: Inputs, settings: P.RunSettings = P.RunSettings(), *,
               services: Collection[str] | None = None, cache: object | None = None,
               progress: Progress | None = None, workers: int = 1) -> StageRun:
    """Run every stage of :data:`STAGES` in order and assemble the result.

    ``services`` limits the drawn service areas to some services (the page draws those
    it shows; :func:`completed` adds the others later); by default every service's
    areas are drawn and the summary counts the households they misclassify. ``cache``
    (e.g. a :class:`StageCache`) is asked for each stage under its key first; with
    ``workers=2`` walking minutes and the service areas (which both start from the index)
    are made side by side. The result is the same either way.
    """
    runner = Runner(inputs=inputs, settings=settings, cache=cache if cache is not None else _memo(),
                    progress=progress)
    return finish(runner, services=services, workers=workers)


def completed(run: StageRun) -> StageRun:
    """``run`` with every service's areas and the misclassification figures (the stages
    already made come from the run's cache)."""
    if run.complete or run.runner is None:
        return run
    return finish(run.runner)


_PREFETCH: dict[str, threading.Event] = {}  # "stop": the running prefetch's stop signal
_PREFETCH_LOCK = threading.Lock()


def stop_prefetch() -> None:
    """Ask a running :func:`prefetch` to stop after the value it is making (the page
    calls it when a run starts, so that what the planner asked for now has the machine)."""
    with _PREFETCH_LOCK:
        stop = _PREFETCH.get("stop")
        if stop is not None:
            stop.set()


def prefetch(run: StageRun, *, delay_s: float = 0.0) -> threading.Thread | None:
    """Make the service areas that ``run`` did not draw in a background thread (one at a
    time), into the run's cache: showing another service, saving, exporting or reporting
    then finds them made. The values are the ones :func:`completed` would make (the
    same stage, the same key); only when they are made changes. A new prefetch stops
    the one before it (after the value it is making); ``delay_s`` lets a quick next
    request come first (the page waits until the planner pauses). Returns the thread,
    or ``None`` when there is nothing to make."""
    runner = run.runner
    if run.complete or runner is None:
        return None
    missing = [s for s in _walk(runner).services if runner.missing("service_areas", s)]
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


def finish(runner: Runner, *, services: Collection[str] | None = None,
           workers: int = 1) -> StageRun:
    """Everything a :class:`Runner` can make, assembled (see :func:`run_stages`)."""
    base = runner.get("base")
    index = runner.get("index")
    every = _walk(runner).services
    services = every if services is None else tuple(s for s in every if s in set(services))
    complete = tuple(services) == tuple(every)
    if runner.progress is not None:
        if runner.missing("reach"):
            runner.progress("step.reach")
        if any(runner.missing("service_areas", s) for s in services):
            runner.progress("step.service_areas")
    start = time.perf_counter()
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            measured = pool.submit(lambda: (runner.get("reach"), runner.get("checks")))
            areas = runner.service_areas(services)
            reach, checks = measured.result()
    else:
        reach, checks = runner.get("reach"), runner.get("checks")
        areas = runner.service_areas(services)
    wall = round(time.perf_counter() - start, 3)
    capacity = runner.get("capacity")
    start = time.perf_counter()
    result = P.assemble(runner.inputs.area, runner.settings, runner.catalogue, base, reach,
                        areas, index=index if complete else None, walled=index,
                        timings_s=None, checks=checks, capacity=capacity)
    timings = result.summary["timings_s"]
    timings["reach"] = round(runner.timings_s.get("index", 0.0)
                             + runner.timings_s.get("reach", 0.0), 3)
    timings["service_areas"] = runner.timings_s.get("service_areas", 0.0)
    timings["reach_and_areas_wall"] = wall
    timings["coverage"] = round(time.perf_counter() - start, 3)
    timings["capacity"] = runner.timings_s.get("capacity", 0.0)
    keys = {"base": runner.key("base"), "index": runner.key("index"),
            "reach": runner.key("reach")}
    return StageRun(result=result, index=index, reach=reach.reach, keys=keys,
                    complete=complete, runner=runner)


__all__ = ["Inputs", "Runner", "STAGES", "Stage", "StageCache", "StageRun", "completed", "finish",
           "prefetch", "previous_digest", "run_stages", "stop_prefetch"]
