"""Pairs of cells taken from their coordinates (one shared edge, nothing else) have the
length the overlay gives, to the bit, and every other pair is left to the overlay
(geo.grids.adjacency)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.grids import blocks
from geo.grids.adjacency import single_edge_pairs
from geo.grids.shared_edges import CLEAR_M
from tests.conftest import BEIJING_OSM


def _overlay_lengths(geoms, i, j):
    rings = shapely.boundary(geoms)
    return shapely.length(shapely.intersection(rings[i], rings[j], grid_size=blocks.GRID_SIZE_M))


def _pairs(geoms):
    i, j = shapely.STRtree(geoms).query(geoms)
    keep = i < j
    return i[keep], j[keep]


def test_one_shared_edge_is_taken_and_odd_pairs_are_not():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.box(10, 0, 20, 10)                                # one whole edge with a
    c = shapely.Polygon([(0, 10), (10, 10), (10, 20), (0, 20)])   # one whole edge with a
    d = shapely.Polygon([(20, 0), (30, 0), (30, 5), (20, 5)])     # T-junction on b's edge
    h = shapely.box(60, 0, 70, 10)
    # one whole edge with h, and a vertex 5 mm above h's top edge
    k = shapely.Polygon([(70, 10), (70, 0), (80, 0), (80, 20), (65, 10.005)])
    geoms = shapely.set_precision(np.array([a, b, c, d, h, k]), blocks.GRID_SIZE_M)
    i, j = np.array([0, 0, 1, 4, 0]), np.array([1, 2, 3, 5, 4])
    ok, ends, length = single_edge_pairs(geoms, i, j, grid_size=blocks.GRID_SIZE_M,
                                         clear_m=CLEAR_M)
    assert ok.tolist() == [True, True, False, False, False]
    assert length[0] == 10.0 and length[1] == 10.0
    assert sorted(map(tuple, ends[0])) == [(10.0, 0.0), (10.0, 10.0)]
    assert np.isnan(length[2:4]).all() and length[4] == 0.0  # a and h are apart
    want = _overlay_lengths(geoms, i, j)
    sure = ~np.isnan(length)
    assert (length[sure] == want[sure]).all()


def test_crossing_rings_go_to_the_overlay():
    # a and b share the edge x = 10, and a's spike crosses b's arm far from any vertex
    a = shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5, 30), (4, 30), (4, 10),
                         (0, 10)])
    b = shapely.Polygon([(10, 10), (10, 0), (20, 0), (20, 20), (0, 20), (0, 19), (19, 19),
                         (19, 10)])
    assert a.is_valid and b.is_valid
    geoms = np.array([a, b, shapely.box(10, -10, 20, 0)], dtype=object)
    ok, _, length = single_edge_pairs(geoms, np.array([0, 1]), np.array([1, 2]),
                                      grid_size=blocks.GRID_SIZE_M, clear_m=CLEAR_M)
    assert ok.tolist() == [False, True] and length[1] == 10.0 and np.isnan(length[0])


def _check_every_pair(cells):
    geoms = cells.geometry.to_numpy()
    i, j = _pairs(geoms)
    ok, _, length = single_edge_pairs(geoms, i, j, grid_size=blocks.GRID_SIZE_M,
                                      clear_m=CLEAR_M)
    want = _overlay_lengths(geoms, i, j)
    assert ok.sum() > len(ok) // 3 and (length == 0).sum() > 0
    sure = ~np.isnan(length)
    assert length[sure].tobytes() == want[sure].tobytes()


@pytest.mark.parametrize("households", [3000, 30000])
def test_synthetic_cells_fast_lengths_are_the_overlays(households):
    from benchmarks.units import entrance_units
    from geo.grids import GridSettings, make_grids
    from geo.grids.communities import derive_communities
    from geo.synthetic import synthetic_district

    area = synthetic_district(households, seed=1)
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    result = make_grids(units, communities, area.roads, settings=GridSettings())
    _check_every_pair(result.cells)


def _compare_every_call(monkeypatch) -> list[int]:
    calls = []

    def checked(geoms, i, j, *, grid_size, clear_m):
        ok, ends, length = single_edge_pairs(geoms, i, j, grid_size=grid_size, clear_m=clear_m)
        want = _overlay_lengths(geoms, i, j)
        sure = ~np.isnan(length)
        assert length[sure].tobytes() == want[sure].tobytes()
        calls.append(int(sure.sum()))
        return ok, ends, length

    monkeypatch.setattr(blocks, "single_edge_pairs", checked)
    return calls


@pytest.mark.parametrize("demo", ["helsinki", "synthetic:20000"])
def test_demo_fast_lengths_are_the_overlays(monkeypatch, demo):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    calls = _compare_every_call(monkeypatch)
    Runner(inputs=Inputs(area=load_area(demo=demo)), settings=RunSettings()).get("base")
    assert calls and sum(calls) > 100


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the shared Beijing sample is not here")
def test_beijing_fast_lengths_are_the_overlays(monkeypatch):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    calls = _compare_every_call(monkeypatch)
    Runner(inputs=Inputs(area=load_area(osm=str(BEIJING_OSM))), settings=RunSettings()).get("base")
    assert calls and sum(calls) > 100


def test_unsure_middles_are_decided_by_the_overlay(monkeypatch):
    """Where the two ends of a shared edge disagree about a road nearby, the overlay's
    middle decides: forcing every pair down that way gives the same adjacency."""
    from benchmarks.units import entrance_units
    from geo.grids import GridSettings, make_grids
    from geo.grids.adjacency import edge_middles_near
    from geo.grids.communities import derive_communities
    from geo.synthetic import synthetic_district

    area = synthetic_district(3000, seed=1)
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    cells = make_grids(units, communities, area.roads, settings=GridSettings()).cells
    roads = area.roads
    lines = {"arterials": roads.loc[roads["road_class"] == "arterial"].geometry,
             "paths": roads.loc[roads["road_class"] == "path"].geometry}
    want = blocks.cell_adjacency(cells, **lines)
    asked = []

    def all_unsure(tree, ends, distance):
        hit, _ = edge_middles_near(tree, ends, distance)
        asked.append(len(ends))
        return np.zeros_like(hit), np.ones(len(ends), dtype=bool)

    monkeypatch.setattr(blocks, "edge_middles_near", all_unsure)
    got = blocks.cell_adjacency(cells, **lines)
    assert sum(asked) > 100 and set(want["kind"]) >= {"street", "block", "path"}
    assert got.equals(want)


def test_free_memory_is_given_back_on_linux():
    import sys

    from geo.grids import heap

    heap.release_free_memory()
    assert (heap._LIBC is not None) == sys.platform.startswith("linux")
