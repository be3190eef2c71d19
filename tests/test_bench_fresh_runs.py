"""The grids benchmark's fresh-process runs (benchmarks/fresh_runs.py): each side's run in
a new process times the same call and finds the same answer as the comparison's own."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from benchmarks.bench_grids import grids_digest, median, ratio, run_ours, side_by_side
from benchmarks.units import entrance_units
from geo.grids import GridSettings
from geo.synthetic import synthetic_district


def test_ratio_of_bests_and_medians():
    runs = {"ours": [{"seconds": 0.5}, {"seconds": 0.25}, {"seconds": 0.3}],
            "maxp": [{"seconds": 30.0}, {"seconds": 25.0}, {"seconds": 45.0}]}
    assert ratio(runs, "seconds", min) == pytest.approx(100.0)
    assert ratio(runs, "seconds", median) == pytest.approx(100.0)
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_fresh_runs_find_the_grids_of_this_process(tmp_path):
    size = 40
    area = synthetic_district(size * 25, seed=0)  # as the benchmark builds it
    result, _, _ = run_ours(entrance_units(area), area, GridSettings())
    assert result.grids["grid_id"].nunique() >= 2
    runs = side_by_side(size, gpd.GeoDataFrame(), None, tmp_path, repeat=2, maxp=False,
                        iterations=1, seed=0)
    assert runs["maxp"] == [] and len(runs["ours"]) == 2
    assert {r["digest"] for r in runs["ours"]} == {grids_digest(result)}
    assert all(np.isfinite(r["seconds"]) and r["cpu"] > 0 for r in runs["ours"])
    assert set(runs["ours"][0]["steps"]) >= {"cells", "partition", "polygons"}
