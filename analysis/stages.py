"""The stage graph: the one place that says which stage needs which, what each reads and
the function that makes it; :class:`Runner` is the one runner that makes them.

Every way of running the analysis goes through it: the command line and notebooks
(:func:`analysis.pipeline.run` → :func:`run_stages`), the page (:mod:`ui.state`, which
only hands in a cache and ``workers=2``), notebooks that ask a :class:`Runner` for one
stage, and the re-count after a grid edit (:data:`EDIT_STAGES`, run by
:func:`analysis.project.state.with_session` through :func:`recount_edits`).

Each :class:`Stage` is a function plus the names of the stages it needs and the
settings parts it reads, as a task in a Dask graph is a function plus its keys. A stage's
key is its name, what it reads and the keys of what it needs, so a cache keyed by
:meth:`Runner.key` re-runs a stage exactly when something it depends on changed.
:meth:`Runner.run` makes a stage and what it needs in dependency order (side by side
with ``workers`` > 1); nothing here names a stage again::

    base ──┬── checks ───────────────────────────────┐
           │                                         │
           └── index ──┬── reach ────────────────────┤
                       ├── service_areas (each) ─────┼── result
                       └── capacity ─────────────────┘
    (base also feeds reach, capacity and result; index feeds result)

    base            households, communities, grids, facilities
                    reads: the inputs (area, uploads, previous grids, locked grids),
                           the household model's estimate and the grid band
                    run: analysis.base_stage.stage_base
    checks          the data checks of the area and its households (street blocks
                    without data, buildings left out)
                    needs base; run: analysis.completeness.area_checks
    index           homes and facilities snapped to the walking network
                    needs base; reads: the snap distance, the services measured, the walls
                    run: analysis.circles.index_stage (walls: base_stage.index_walls)
    reach           walking minutes, coverage, gaps
                    needs base, index; reads: the walking settings
                    run: analysis.circles.measure
    service_areas   one service's nested 5/10/15-minute areas (one node per service)
                    needs index; reads: that service's speed, the minute levels, the snap
                    run: analysis.circles.areas_stage
    capacity        each facility's places against the demand that reaches it (bounded
                    walks from each facility, two-step floating catchment)
                    needs base, index; reads: the walking and capacity settings and
                    the persons per household
                    run: analysis.capacity.stage.capacity_stage
    result          layers and SUMMARY.json (with the households each drawn area
                    misclassifies when every service's areas are drawn); not cached
                    needs base, index, checks, reach, capacity and the service_areas of
                    each drawn service (its part); run: analysis.result_stage.assemble

The re-count after grid edits (:data:`EDIT_STAGES`, functions in
:mod:`analysis.edit_stage`; ``project`` and ``session`` are handed in)::

    project, session ── regridded ── recounted ── edited

The walking settings are merged with the catalogue once, by
:func:`analysis.run_types.walk_settings`, into :attr:`Runner.walk`; every stage that walks
reads that.

To add a stage: write its function ``run(runner, part, *values of needs)`` (the work in
a module of its own that does not import this one; here only a few lines that hand it
the runner's settings), add a :class:`Stage` to :data:`STAGES` with the stages it needs,
a ``reads`` that returns every setting it depends on (hashable: it keys the cache), and a
progress ``step`` (a ``step.…`` key in data/i18n) if it is long; list it in ``result``'s
needs if the result uses it. The runner then orders, caches and times it (its time in
``Runner.timings_s`` under its name).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Hashable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analysis.base_stage import index_walls, stage_base
from analysis.capacity.stage import capacity_stage, table_digest
from analysis.circles import areas_stage, index_stage, measure
from analysis.completeness import area_checks
from analysis.edit_stage import edited, recounted, regrid
from analysis.result_stage import assemble
from analysis.run_types import (Base, Inputs, Progress, Reach, Result, RunSettings,
                                previous_digest, walk_settings)
from analysis.settings import WalkSettings
from analysis.stage_cache import StageCache, prefetch, stop_prefetch
from geo.catalogue import Service, load_catalogue


@dataclass(frozen=True)
class Stage:
    """One stage: its name, the stages it needs, the settings parts it reads
    (``reads(runner, part)`` → hashable, part of the stage's key), the function that
    makes it (``run(runner, part, *values of needs)``; ``None``: handed in by the caller
    with :meth:`Runner.provide`) and the progress step said before it is made.

    ``each`` names needs taken once per item of the stage's part (the result takes one
    ``service_areas`` per drawn service, as a tuple); ``cached=False``: made again each
    time it is asked for (never kept in the cache)."""

    name: str
    needs: tuple[str, ...]
    reads: Callable[["Runner", Hashable], Hashable]
    run: Callable[..., object] | None
    step: str | None = None
    each: tuple[str, ...] = ()
    cached: bool = True

    def inputs(self, part: Hashable = None) -> tuple[tuple[str, Hashable], ...]:
        """The ``(stage, part)`` nodes this stage's value is made from."""
        out: list[tuple[str, Hashable]] = []
        for need in self.needs:
            out += [(need, p) for p in (part or ())] if need in self.each else [(need, None)]
        return tuple(out)


# -- the stage functions: run(runner, part, *values of needs) ---------------------------

def _base(r: "Runner", _part: None) -> Base:
    i = r.inputs
    return stage_base(i.area, r.settings, register=i.register, facilities=i.facilities,
                      communities=i.communities, catalogue=r.catalogue, previous=i.previous,
                      locked=i.locked, progress=r.progress, grid_workers=r.grid_workers)


def _checks(r: "Runner", _part: None, base: Base):
    return area_checks(r.inputs.area, r.settings, base.households, base.communities)


def _index(r: "Runner", _part: None, base: Base):
    # the walls depend on the area, the wall settings and the snap cap only: built once
    # and kept (in the runner's cache) while the grids or the services measured change
    walls = r.cache.get("walls", (r.inputs.identity(), r.settings.walls, r.walk.max_snap_m),
                        lambda: index_walls(r.inputs.area, r.settings, r.walk))
    return index_stage(base.households, base.facilities, r.network, r.walk,
                       boundary=r.boundary, walls=walls)


def _reach(r: "Runner", _part: None, base: Base, index) -> Reach:
    start = time.perf_counter()
    measured = measure(base.households, index, r.walk)
    return Reach(measured=measured, walk=r.walk,
                 timings_s={"reach": round(time.perf_counter() - start, 3)})


def _service_areas(r: "Runner", service: str, index) -> gpd.GeoDataFrame:
    return areas_stage(index, r.walk, (service,))


def _capacity(r: "Runner", _part: None, base: Base, index):
    return capacity_stage(base.households, base.facilities, index, r.walk, r.settings.capacity,
                          persons_per_household=r.settings.households.persons_per_household)


def _result(r: "Runner", services: tuple[str, ...], base: Base, index, checks, reach: Reach,
            areas: tuple, capacity) -> Result:
    """The layers and summary; with every service's areas drawn, the summary also counts
    the households each drawn area misclassifies. The summary's ``timings_s`` name the
    steps as the page shows them (``reach`` includes snapping, ``coverage`` is this
    stage's own time)."""
    start = time.perf_counter()
    complete = tuple(services) == tuple(r.walk.services)
    result = assemble(r.inputs.area, r.settings, r.catalogue, base, reach,
                      _concat(areas, r.network.crs), index=index if complete else None,
                      walled=index, timings_s=None, checks=checks, capacity=capacity)
    timings = result.summary["timings_s"]
    timings["reach"] = round(r.timings_s.get("index", 0.0) + r.timings_s.get("reach", 0.0), 3)
    timings["service_areas"] = r.timings_s.get("service_areas", 0.0)
    timings["reach_and_areas_wall"] = r.wall_s(("reach", "checks", "service_areas"))
    timings["coverage"] = round(time.perf_counter() - start, 3)
    timings["capacity"] = r.timings_s.get("capacity", 0.0)
    return result


def _concat(parts, crs) -> gpd.GeoDataFrame:
    if not parts:
        return gpd.GeoDataFrame({"service": [], "minutes": []}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)


def _demand_table(runner: "Runner") -> str:
    """The content of the capacity stage's demand table (planners edit it in place)."""
    return table_digest(runner.settings.capacity.table)


def _nothing(_runner: "Runner", _part: Hashable) -> tuple:
    return ()


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("base", (), lambda r, _: (r.inputs.identity(), r.inputs.grid_key(),
                                    r.settings.households.estimate, r.settings.grids),
          run=_base),  # says its own steps: step.households, .communities, .grids
    Stage("checks", ("base",), _nothing, run=_checks),
    Stage("index", ("base",), lambda r, _: (r.walk.max_snap_m, r.walk.services, r.settings.walls),
          run=_index, step="step.reach"),
    Stage("reach", ("base", "index"), lambda r, _: r.walk, run=_reach, step="step.reach"),
    Stage("service_areas", ("index",),
          lambda r, service: (service, float(r.walk.speed_mps(service)),
                              tuple(r.walk.minutes), float(r.walk.max_snap_m)),
          run=_service_areas, step="step.service_areas"),
    Stage("capacity", ("base", "index"),
          lambda r, _: (r.walk, r.settings.capacity, r.settings.households.persons_per_household,
                        _demand_table(r)), run=_capacity),
    Stage("result", ("base", "index", "checks", "reach", "service_areas", "capacity"),
          lambda r, services: tuple(services or ()), run=_result, each=("service_areas",),
          cached=False),
)}

#: the re-count after grid edits (:func:`analysis.project.state.with_session`): the
#: project and the edit session are handed in; ``recounted`` too (as ``None``) when the
#: layers already follow the session (a project just made from a run)
EDIT_STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("project", (), _nothing, run=None),
    Stage("session", (), _nothing, run=None),
    Stage("regridded", ("project", "session"), _nothing,
          run=lambda r, _, project, session: regrid(project, session), cached=False),
    Stage("recounted", ("project", "regridded"), _nothing,
          run=lambda r, _, project, layers: recounted(project, layers), cached=False),
    Stage("edited", ("project", "session", "regridded", "recounted"), _nothing,
          run=lambda r, _, project, session, layers, counted: edited(project, session, layers,
                                                                     counted),
          cached=False),
)}


def _memo() -> StageCache:
    """A cache for one run only: each stage is made once even without a shared cache."""
    return StageCache(entries=1_000)


Node = tuple[str, Hashable]


@dataclass(eq=False)
class Runner:
    """Runs the stages of ``graph`` (:data:`STAGES` by default) for one set of inputs and
    settings: :meth:`run` makes a stage and what it needs in dependency order, each
    cached stage looked up in ``cache`` under :meth:`key` before it is made."""

    inputs: Inputs | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    cache: object = field(default_factory=_memo)
    progress: Progress | None = None
    timings_s: dict = field(default_factory=dict)
    given: dict = field(default_factory=dict)
    graph: dict[str, Stage] = field(default_factory=lambda: STAGES)
    #: processes the grid stage may fork (``make_grids(workers=…)``, the same grids as one):
    #: the command line's single run gives its cores; the page and the batch's districts
    #: keep 1 (no forking inside a server's or a Dask worker's threads)
    grid_workers: int = 1

    def __post_init__(self) -> None:
        self.catalogue: tuple[Service, ...] = ()
        #: the walking settings with the catalogue's services (what the walking stages read)
        self.walk: WalkSettings | None = None
        if self.inputs is not None:
            self.catalogue = self.inputs.catalogue or load_catalogue()
            self.walk = walk_settings(self.settings, self.catalogue)
        self._lock = threading.Lock()
        self._spans: dict[str, list[float]] = {}

    # -- keys -----------------------------------------------------------------------
    def key(self, name: str, part: Hashable = None) -> tuple:
        """The stage's key: its name, what it reads and the keys of what it needs."""
        stage = self.graph[name]
        return (name, part, stage.reads(self, part),
                tuple(self.key(n, p) for n, p in stage.inputs(part)))

    def provide(self, name: str, value: object) -> None:
        """Use ``value`` as the stage's value (e.g. households made elsewhere)."""
        self.given[name] = value

    def missing(self, name: str, part: Hashable = None) -> bool:
        if name in self.given:
            return False
        return not self.graph[name].cached or (name, self.key(name, part)) not in self.cache

    # -- making ---------------------------------------------------------------------
    def plan(self, name: str, part: Hashable = None) -> list[Node]:
        """The nodes ``(stage, part)`` that make ``name``, in dependency order (each
        after the ones it needs; the ones handed in left out)."""
        order: list[Node] = []
        seen: set[Node] = set()

        def visit(node: Node) -> None:
            if node in seen or node[0] in self.given:
                return
            seen.add(node)
            for needed in self.graph[node[0]].inputs(node[1]):
                visit(needed)
            order.append(node)

        visit((name, part))
        return order

    def get(self, name: str, part: Hashable = None, made: dict | None = None) -> object:
        """The stage's value: handed in, found in ``made`` (this run's values) or the
        cache, or made from the values it needs."""
        made = {} if made is None else made
        node = (name, part)
        if node in made:
            return made[node]
        if name in self.given:
            return self.given[name]
        stage = self.graph[name]
        if stage.run is None:
            raise KeyError(f"stage {name!r} is handed in: Runner.provide() it first")
        if stage.cached:
            value = self.cache.get(name, self.key(name, part),
                                   lambda: self._make(stage, part, made))
        else:
            value = self._make(stage, part, made)
        made[node] = value
        return value

    def _make(self, stage: Stage, part: Hashable, made: dict) -> object:
        values = [tuple(self.get(need, p, made) for p in (part or ())) if need in stage.each
                  else self.get(need, None, made) for need in stage.needs]
        start = time.perf_counter()
        try:
            return stage.run(self, part, *values)
        finally:
            end = time.perf_counter()
            with self._lock:
                self.timings_s[stage.name] = round(self.timings_s.get(stage.name, 0.0)
                                                   + end - start, 3)
                span = self._spans.setdefault(stage.name, [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)

    def wall_s(self, names: Collection[str]) -> float:
        """Seconds from the first start to the last end of the named stages made in the
        current :meth:`run` (0 when none was made)."""
        with self._lock:
            spans = [self._spans[n] for n in names if n in self._spans]
        return round(max(e for _, e in spans) - min(s for s, _ in spans), 3) if spans else 0.0

    def run(self, name: str, part: Hashable = None, *, workers: int = 1) -> dict[Node, object]:
        """Make ``name`` (and what it needs, in dependency order); the values of every
        node of its :meth:`plan`. With ``workers`` > 1, nodes whose needs are made run
        side by side in that many threads (a node that is alone, as ``base`` is, is made
        in this thread). The progress step of each stage is said (once per stage, in
        this thread) before its first node that is not made yet."""
        order = self.plan(name, part)
        made: dict[Node, object] = {}
        said: set[str] = set()
        with self._lock:
            self._spans = {}
        if workers <= 1:
            for node in order:
                self._say(node, said)
                self.get(*node, made=made)
            return made
        pending = list(order)
        running: dict = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while pending or running:
                ready = [n for n in pending if all(
                    i in made or i[0] in self.given for i in self.graph[n[0]].inputs(n[1]))]
                if len(ready) == 1 and not running:  # alone: made here (base says its steps)
                    pending.remove(ready[0])
                    self._say(ready[0], said)
                    self.get(*ready[0], made=made)
                    continue
                for node in ready[:workers - len(running)]:
                    pending.remove(node)
                    self._say(node, said)
                    running[pool.submit(self.get, *node, made)] = node
                if not running:  # pragma: no cover - a graph with a loop
                    raise RuntimeError(f"stages cannot be ordered: {pending}")
                wait(running, return_when=FIRST_COMPLETED)
                for future in [f for f in running if f.done()]:
                    made[running.pop(future)] = future.result()
        return made

    def _say(self, node: Node, said: set[str]) -> None:
        stage = self.graph[node[0]]
        if self.progress is None or stage.step is None or stage.name in said:
            return
        if self.missing(*node):
            said.add(stage.name)
            self.progress(stage.step)

    @property
    def network(self):
        return self.inputs.area.network

    @property
    def boundary(self):
        return self.inputs.area.boundary

    def service_areas(self, services: Collection[str]) -> gpd.GeoDataFrame:
        return _concat([self.get("service_areas", s) for s in services], self.network.crs)


def recount_edits(project, session, *, counted: bool = False):
    """The project after grid edits, made by the :data:`EDIT_STAGES` graph
    (``counted=True``: the layers already follow the session)."""
    runner = Runner(graph=EDIT_STAGES, given={"project": project, "session": session})
    if counted:
        runner.provide("recounted", None)
    return runner.run("edited")[("edited", None)]


@dataclass(frozen=True, eq=False)
class StageRun:
    """What :func:`run_stages` produced: the result, the reach objects a siting what-if
    needs, the key of each stage (the page keys its map caches on them), and whether the
    result is complete (every service's areas and the misclassification figures)."""

    result: Result
    index: object
    reach: object
    keys: dict[str, Hashable]
    complete: bool = True
    runner: Runner | None = None


def run_stages(inputs: Inputs, settings: RunSettings = RunSettings(), *,
               services: Collection[str] | None = None, cache: object | None = None,
               progress: Progress | None = None, workers: int = 1,
               grid_workers: int = 1) -> StageRun:
    """Run every stage of :data:`STAGES` in order and assemble the result.

    ``services`` limits the drawn service areas to some services (the page draws those
    it shows; :func:`completed` adds the others later); by default every service's
    areas are drawn and the summary counts the households they misclassify. ``cache``
    (e.g. a :class:`StageCache`) is asked for each stage under its key first; with
    ``workers=2`` walking minutes and the service areas (which both start from the index)
    are made side by side. ``grid_workers`` processes make the grids (:attr:`Runner.grid_workers`).
    The result is the same either way.
    """
    runner = Runner(inputs=inputs, settings=settings, cache=cache if cache is not None else _memo(),
                    progress=progress, grid_workers=grid_workers)
    return finish(runner, services=services, workers=workers)


def completed(run: StageRun) -> StageRun:
    """``run`` with every service's areas and the misclassification figures (the stages
    already made come from the run's cache)."""
    if run.complete or run.runner is None:
        return run
    return finish(run.runner)


def finish(runner: Runner, *, services: Collection[str] | None = None,
           workers: int = 1) -> StageRun:
    """Everything a :class:`Runner` can make, assembled (see :func:`run_stages`): the
    ``result`` stage with the areas of ``services`` (default: every service)."""
    every = runner.walk.services
    services = every if services is None else tuple(s for s in every if s in set(services))
    made = runner.run("result", tuple(services), workers=workers)
    index, reach = made[("index", None)], made[("reach", None)]
    keys = {"base": runner.key("base"), "index": runner.key("index"),
            "reach": runner.key("reach")}
    return StageRun(result=made[("result", tuple(services))], index=index, reach=reach.reach,
                    keys=keys, complete=tuple(services) == tuple(every), runner=runner)


__all__ = ["EDIT_STAGES", "Inputs", "Runner", "STAGES", "Stage", "StageCache", "StageRun",
           "completed", "finish", "prefetch", "previous_digest", "recount_edits", "run_stages",
           "stop_prefetch"]
