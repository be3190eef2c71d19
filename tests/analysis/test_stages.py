"""The stage graph: one order and one set of keys for the command line, the page and
notebooks."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analysis.pipeline import RunSettings, run
from analysis.settings import WalkSettings
from analysis.stages import STAGES, Inputs, Runner, StageCache, run_stages
from geo.grids import GridSettings
from geo.settings import HouseholdSettings
from geo.synthetic import synthetic_district


def test_each_stage_key_changes_exactly_with_what_it_reads():
    area = synthetic_district(1500, seed=4)
    inputs = Inputs(area=area, key="area")

    def keys(settings):
        r = Runner(inputs=inputs, settings=settings)
        return {name: r.key(name, "health" if name == "service_areas" else None)
                for name in STAGES}

    plain = keys(RunSettings())
    slower = keys(RunSettings(walk=WalkSettings().with_speed(1.0)))
    assert slower["base"] == plain["base"] and slower["index"] == plain["index"]
    assert slower["reach"] != plain["reach"] and slower["service_areas"] != plain["service_areas"]
    threshold = keys(RunSettings(walk=WalkSettings().with_threshold("bus_stop", 20)))
    assert threshold["service_areas"] == plain["service_areas"]  # areas do not read thresholds
    assert threshold["reach"] != plain["reach"]
    band = keys(RunSettings(grids=GridSettings(min_households=150, max_households=250)))
    assert all(band[name] != plain[name] for name in STAGES if name != "service_areas")
    assert band["service_areas"] != plain["service_areas"]  # it needs the index, which needs base
    persons = keys(RunSettings(households=HouseholdSettings(persons_per_household=3.1)))
    assert persons["capacity"] != plain["capacity"]  # demand in persons
    # the result needs the capacity stage: its key follows
    assert all(persons[name] == plain[name] for name in STAGES if name not in ("capacity", "result"))
    assert persons["result"] != plain["result"]
    kept = Runner(inputs=replace(inputs, previous=pd.Series({"u": "C01-01"}), locked=("C01-01",)))
    assert kept.key("base") != Runner(inputs=inputs).key("base")


def test_a_cached_rerun_makes_only_the_stages_whose_inputs_changed_and_agrees_with_run():
    area = synthetic_district(1500, seed=4)
    cache = StageCache()
    inputs = Inputs(area=area, key="area")
    first = run_stages(inputs, RunSettings(), cache=cache, workers=2)
    made = dict(cache.misses)
    assert made["base"] == made["index"] == made["reach"] == made["checks"] == 1
    assert made["service_areas"] == len(first.result.summary["thresholds_min"])
    slower = RunSettings(walk=WalkSettings().with_speed(1.0))
    second = run_stages(inputs, slower, cache=cache)
    assert cache.misses["base"] == 1 and cache.misses["index"] == 1
    assert cache.misses["checks"] == 1  # the data checks do not read the walking settings
    assert cache.misses["reach"] == 2
    # the same stages, the same numbers as the command line's run (misclassification too)
    plain = run(area, slower)
    for key in ("coverage", "grids", "grids_in_band", "reach", "data_completeness",
                "households_left_out", "headline_households"):
        assert second.result.summary[key] == plain.summary[key], key
    assert "polygon_misclassified_households" in second.result.summary["reach"]
    assert len(second.result.layers["service_areas"]) == len(plain.layers["service_areas"])


def test_a_value_being_made_is_waited_for_not_made_twice():
    import threading

    cache = StageCache()
    started, release = threading.Event(), threading.Event()
    made = []

    def make():
        made.append(1)
        started.set()
        release.wait(10)
        return "areas"

    first = threading.Thread(target=lambda: cache.get("service_areas", "k", make))
    first.start()
    started.wait(10)
    got = []
    second = threading.Thread(target=lambda: got.append(cache.get("service_areas", "k", make)))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the first thread's value
    release.set()
    first.join(10)
    second.join(10)
    assert got == ["areas"] and len(made) == 1 and cache.misses["service_areas"] == 1


def test_a_failed_make_is_made_again_by_the_next_caller():
    cache = StageCache()

    def fail():
        raise ValueError("bad")

    import pytest

    with pytest.raises(ValueError):
        cache.get("reach", "k", fail)
    assert cache.get("reach", "k", lambda: 3) == 3


def test_prefetch_makes_the_services_not_drawn_and_completing_then_makes_nothing():
    from analysis.stages import completed, prefetch

    area = synthetic_district(1500, seed=4)
    cache = StageCache()
    shown = run_stages(Inputs(area=area, key="area"), RunSettings(), services=("health",),
                       cache=cache)
    assert not shown.complete and cache.misses["service_areas"] == 1
    thread = prefetch(shown)
    assert thread is not None
    thread.join(120)
    every = len(shown.result.summary["thresholds_min"])
    assert cache.misses["service_areas"] == every
    assert prefetch(shown) is None  # nothing left to make
    full = completed(shown)
    assert cache.misses["service_areas"] == every  # found made, not made again
    alone = run_stages(Inputs(area=area, key="area"), RunSettings())
    assert full.result.summary["reach"] == alone.result.summary["reach"]
    assert full.result.layers["service_areas"].geometry.geom_equals(
        alone.result.layers["service_areas"].geometry).all()


def test_a_stopped_prefetch_makes_nothing_more(monkeypatch):
    """Stopped while it makes one service's areas, the prefetch finishes that one and
    makes no other (the stop is given while the first is being made: how many a free
    thread makes before the test's next line runs is up to the machine)."""
    import threading

    import analysis.stages as stages
    from analysis.stages import prefetch, stop_prefetch

    area = synthetic_district(1500, seed=4)
    cache = StageCache()
    shown = run_stages(Inputs(area=area, key="area"), RunSettings(), services=("health",),
                       cache=cache)
    assert cache.misses["service_areas"] == 1
    making, go_on = threading.Event(), threading.Event()
    areas_stage = stages.areas_stage

    def held(*args, **kwargs):
        making.set()
        assert go_on.wait(60)
        return areas_stage(*args, **kwargs)

    monkeypatch.setattr(stages, "areas_stage", held)
    thread = prefetch(shown)
    assert making.wait(60)  # the prefetch is making its first service's areas
    stop_prefetch()
    go_on.set()
    thread.join(120)
    assert not thread.is_alive()
    assert cache.misses["service_areas"] == 2  # health, and the one being made
