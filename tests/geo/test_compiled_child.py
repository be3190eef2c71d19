"""The compiled partition in a forked child (geo.grids.compiled_child): the grids of one
process, bit for bit, without numba in the stage's own process."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.grids import compiled_child, parallel
from geo.grids.pass_graph import PassGraph

ROOT = Path(__file__).resolve().parents[2]


def _graph() -> PassGraph:
    cells = shapely.box(np.arange(6.0), 0.0, np.arange(6.0) + 1.0, np.r_[1.0, 2, 1, 3, 1, 2])
    return PassGraph(w=np.array([3, 0, 5, 2, 7, 1]), geoms=cells, ai=np.array([0, 1, 2, 3, 4]),
                     aj=np.array([1, 2, 3, 4, 5]), alen=np.array([1.0, 1, 1, 1, 1]),
                     akind=np.array([0, 1, 0, 2, 0]))


def test_array_graph_cuts_the_pass_graphs_communities():
    graph = _graph()
    arrays = compiled_child.ArrayGraph.of(graph, workers=2)
    for nodes in (np.array([0, 1, 2]), np.array([1, 3, 4, 5]), np.arange(6)):
        want, got = graph.community(nodes), arrays.community(nodes)
        for name in ("w", "xy", "area", "perim", "face", "ei", "ej", "elen", "ekind"):
            a, b = getattr(want, name), getattr(got, name)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    empty = PassGraph(w=graph.w[:2], geoms=np.array([graph.geoms[0], shapely.Polygon()]),
                      ai=graph.ai[:1], aj=graph.aj[:1], alen=graph.alen[:1],
                      akind=graph.akind[:1])
    assert compiled_child.ArrayGraph.of(empty) is None  # partitioned here instead


def test_arrays_travel_whole():
    here, there = multiprocessing.Pipe()
    arrays = [np.arange(7.5, step=0.5), np.arange(12).reshape(6, 2)[::2],
              np.zeros(0, dtype=np.int64), np.array([True, False])]
    compiled_child._send_arrays(here, arrays)
    got = compiled_child._recv_arrays(there)
    for a, b in zip(arrays, got):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        assert b.flags.writeable and b.flags.c_contiguous


def test_a_child_not_asked_is_stopped(monkeypatch):
    if not parallel.can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(compiled_child, "_numba_wanted", lambda: True)
    started = []

    @compiled_child.in_child
    def stage(*, workers):
        compiled_child.warm_up_soon(10**6, workers)
        started.append(len(compiled_child._child))

    stage(workers=2)
    assert started == [1] and not compiled_child._child
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()
    stage(workers=1)  # one core: nothing forked
    assert started == [1, 0]


_SCRIPT = """
import json, sys
from benchmarks.units import entrance_units
from geo.grids import GridSettings, compiled_child, float_union, improvement, make_grids, parallel
from geo.grids.communities import derive_communities
from geo.synthetic import synthetic_district
from tests.geo.grid_fixtures import assert_same_run

# small thresholds, so that this small city takes the compiled paths and the child
improvement.MIN_COMPILED_CELLS = float_union.MIN_CELLS = 200
parallel.MIN_JOBS = int(sys.argv[1])  # (large: the child partitions alone)
sent = []
send = compiled_child._send_arrays
compiled_child._send_arrays = lambda conn, arrays: (sent.append(len(arrays)), send(conn, arrays))
area = synthetic_district(40_000, seed=1)
units = entrance_units(area)
communities = derive_communities(units, area.roads, area.boundary)
both = make_grids(units, communities, area.roads, settings=GridSettings(), workers=2)
numba_here = "numba" in sys.modules
serial = make_grids(units, communities, area.roads, settings=GridSettings())
assert_same_run(serial, both)
print(json.dumps({"sent": sent, "numba_here": numba_here, "numba_later": "numba" in sys.modules,
                  "grids": len(serial.grids)}))
"""


@pytest.mark.parametrize("min_jobs", [2, 10**6])
def test_stage_partitions_in_a_child_with_the_grids_of_one_process(min_jobs):
    if not parallel.can_fork():
        pytest.skip("no fork here")
    if os.environ.get("GRIDCIRCLE_NO_NUMBA", "") not in ("", "0"):
        pytest.skip("numba turned off")
    pytest.importorskip("numba")
    run = subprocess.run([sys.executable, "-c", _SCRIPT, str(min_jobs)], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["sent"] == [8, 4]  # the pass graph's arrays, then the cells' rings
    assert not out["numba_here"] and out["numba_later"]  # the serial run loads it here
    assert out["grids"] > 10
