"""Grids on several cores are the grids of one core, bit for bit (geo.grids.parallel)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
import shapely

from geo.grids import GridSettings, make_grids
from geo.grids import parallel
from geo.grids.communities import derive_communities
from geo.grids.nearland import cells_near_homes
from geo.grids.rules import NEAR_HOME_M, near_homes
from geo.synthetic import synthetic_district
from tests.geo.grid_fixtures import assert_same_run


def _pid(_x):
    return os.getpid()


def test_spread_keeps_the_order_and_uses_another_process():
    if not parallel.can_fork():
        pytest.skip("no fork here")
    jobs = [(k,) for k in range(40)]
    assert parallel.spread(abs, [(-k,) for k in range(40)], workers=2) == list(range(40))
    pids = set(parallel.spread(_pid, jobs, workers=2))
    assert os.getpid() in pids and len(pids) == 2  # the first job here, the others forked
    assert set(parallel.spread(_pid, jobs, workers=1)) == {os.getpid()}


def _tagged(result):
    return ("arrived", result, threading.current_thread() is threading.main_thread())


def test_spread_turns_each_child_result_as_it_arrives():
    """``arrived`` turns the children's results (in a thread), never this process's own
    first job's; serially nothing is turned."""
    if not parallel.can_fork():
        pytest.skip("no fork here")
    out = parallel.spread(abs, [(-k,) for k in range(5)], workers=2, arrived=_tagged)
    assert out == [0] + [("arrived", k, False) for k in range(1, 5)]
    assert parallel.spread(abs, [(-k,) for k in range(5)], workers=1,
                           arrived=_tagged) == list(range(5))
    with pytest.raises(ValueError):
        parallel.spread(_fail_here, [(k,) for k in range(1, 4)] + [(0,)], workers=2,
                        arrived=_tagged)
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def _fail_here(x):
    if x == 0:
        raise ValueError("the first job fails")
    return x


def test_spread_leaves_no_process_behind():
    """spread returns once every result is in, without waiting for its children to exit;
    they exit and are joined on their own (and after an error, before it is raised)."""
    if not parallel.can_fork():
        pytest.skip("no fork here")
    assert parallel.spread(abs, [(-k,) for k in range(6)], workers=2) == list(range(6))
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()
    with pytest.raises(ValueError):
        parallel.spread(_fail_here, [(k,) for k in range(4)], workers=2)
    assert not multiprocessing.active_children()


def test_chunked_is_the_array_call():
    rng = np.random.default_rng(3)
    a = shapely.buffer(shapely.points(rng.random((50, 2)) * 10), 1.0)
    b = shapely.buffer(shapely.points(rng.random((50, 2)) * 10), 2.0)
    want = shapely.intersection(a, b, grid_size=0.001)
    got = parallel.chunked(shapely.intersection, a, b, grid_size=0.001, workers=1)
    assert (shapely.to_wkb(got) == shapely.to_wkb(want)).all()
    old = parallel.MIN_CHUNKED
    try:
        parallel.MIN_CHUNKED = 1
        got = parallel.chunked(shapely.intersection, a, b, grid_size=0.001, workers=3)
    finally:
        parallel.MIN_CHUNKED = old
    assert len(got) == 50 and (shapely.to_wkb(got) == shapely.to_wkb(want)).all()


def test_parallel_run_equals_serial_run(monkeypatch):
    area = synthetic_district(40_000, seed=1)
    from benchmarks.units import entrance_units
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    serial = make_grids(units, communities, area.roads, settings=GridSettings())
    # small thresholds, so that this small city takes every parallel path
    monkeypatch.setattr(parallel, "MIN_CHUNKED", 10)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    both = make_grids(units, communities, area.roads, settings=GridSettings(), workers=2)
    assert len(communities) >= 2 and len(serial.grids) > 10
    assert_same_run(serial, both)


def test_cells_near_homes_only_when_the_land_covers_them():
    homes = np.array([[0.0, 0.0], [500.0, 0.0]])
    inside = np.array([shapely.box(-100, -100, 100, 100), shapely.box(450, -50, 550, 50)])
    land = near_homes(homes)
    assert cells_near_homes(inside, homes, NEAR_HOME_M)
    assert shapely.covers(land, shapely.union_all(inside))
    # a corner 198 m out lies inside the 16-gon only near its vertices: not claimed
    edge = np.array([shapely.box(-140, -140, 140, 140)])
    assert not cells_near_homes(edge, homes, NEAR_HOME_M)
    # a cell between two homes, each of which covers only part of it: not claimed
    between = np.array([shapely.box(100, -10, 400, 10)])
    assert not cells_near_homes(between, homes, NEAR_HOME_M)
    assert not cells_near_homes(inside, np.zeros((0, 2)), NEAR_HOME_M)
