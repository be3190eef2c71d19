"""The grid stage's overheads cut without changing a result: the communities' covered
area without ``dissolve``, the cycle collector held back during a run and restored after,
and a pass's check of floating unions taken over by the result's table of the same cells."""

from __future__ import annotations

import gc
import threading

import geopandas as gpd
import numpy as np
import shapely

from geo.grids.blocks import GRID_SIZE_M
from geo.grids.float_union import CellUnions
from geo.grids.heap import FEW_COLLECTIONS, few_collections
from geo.grids.summary import covered_m2


def test_covered_area_is_the_dissolved_area():
    rng = np.random.default_rng(3)
    grids = gpd.GeoDataFrame({"community_id": rng.choice(["C2", "C10", "C1"], 300)},
                             geometry=shapely.buffer(shapely.points(rng.random((300, 2)) * 50),
                                                     3.0))
    want = grids.dissolve("community_id").area
    for workers in (1, 2):
        got = covered_m2(grids, workers)
        assert list(got.index) == list(want.index)
        assert np.array_equal(got.to_numpy(), want.to_numpy())  # bit for bit


def test_few_collections_restores_the_collector_after_nested_and_threaded_runs():
    before = gc.get_threshold()
    seen = []

    def run():
        with few_collections():
            seen.append(gc.get_threshold()[0])

    with few_collections():
        assert gc.get_threshold()[0] >= FEW_COLLECTIONS and gc.get_freeze_count() > 0
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert gc.get_threshold()[0] >= FEW_COLLECTIONS  # still held by this run
    assert seen == [max(FEW_COLLECTIONS, before[0])] * 4
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_check_is_adopted_only_by_the_same_cells():
    cells = np.array([shapely.set_precision(shapely.box(x, 0, x + 1, 1), GRID_SIZE_M)
                      for x in range(30)], dtype=object)
    checked = CellUnions(cells, grid_size=GRID_SIZE_M)
    checked._proof = ("proof",)  # as prepare() leaves it (large tables only)
    same = CellUnions(cells.copy(), grid_size=GRID_SIZE_M)  # the same objects
    same.adopt(checked)
    assert same._proof == ("proof",)
    other = CellUnions(np.array([shapely.box(*g.bounds) for g in cells], dtype=object),
                       grid_size=GRID_SIZE_M)
    other.adopt(checked)
    assert other._proof is None  # equal shapes, other objects: checked again when asked
