"""The grids benchmark's fresh-process runs (benchmarks/fresh_runs.py): each side's run in
a new process times the same call and finds the same answer as the comparison's own."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from benchmarks.bench_grids import (grids_digest, median, ratio, read_maxp_inputs, run_ours,
                                    side_by_side, write_maxp_inputs)
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


def test_max_p_reads_the_very_cells_it_was_handed(tmp_path):
    """Max-p's attributes are the cells' centroids: a plain pickle drops each cell's
    precision grid and moves them (another solution); the file keeps it."""
    area = synthetic_district(40 * 25, seed=0)
    result, _, _ = run_ours(entrance_units(area), area, GridSettings())
    cells = result.cells.reset_index(drop=True)
    assert (shapely.get_precision(cells.geometry.to_numpy()) > 0).any()
    adj = pd.DataFrame({"i": [0, 1], "j": [1, 2], "kind": ["block", "arterial"]})
    write_maxp_inputs(tmp_path, cells, adj)
    back, adj_back = read_maxp_inputs(tmp_path)
    assert list(back.columns) == list(cells.columns) and back.crs == cells.crs
    assert shapely.equals_identical(back.geometry.to_numpy(), cells.geometry.to_numpy()).all()
    assert np.array_equal(shapely.get_coordinates(back.geometry.centroid.to_numpy()),
                          shapely.get_coordinates(cells.geometry.centroid.to_numpy()))
    assert back.drop(columns="geometry").equals(cells.drop(columns="geometry"))
    assert adj_back.equals(adj)
