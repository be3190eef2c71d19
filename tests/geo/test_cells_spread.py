"""Cells and adjacency built on several processes are those of one call, bit for bit and
grid for grid (geo.grids.cells_spread)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from benchmarks.units import entrance_units
from geo.grids import cells_spread, parallel
from geo.grids.blocks import cell_adjacency, locate_in_blocks, street_blocks, tessellate
from geo.grids.communities import derive_communities
from geo.synthetic import synthetic_district
from tests.geo.grid_fixtures import assert_same_run, same_geoms


@pytest.fixture(scope="module")
def city():
    area = synthetic_district(30_000, seed=1)
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    blocks = street_blocks(area.roads, communities)
    return area, units, blocks, locate_in_blocks(units.geometry, blocks)


def test_pack_keeps_coordinates_and_grid():
    geoms = np.array([shapely.set_precision(shapely.box(0, 0, 1.23456, 2), 0.001),
                      shapely.box(0, 0, 1.23456, 2), None,
                      shapely.set_precision(shapely.Point(1.5, 2.25), 0.5)], dtype=object)
    back = cells_spread.unpack(*cells_spread.pack(geoms))
    assert same_geoms(back, geoms)
    assert list(shapely.get_precision(back)[[0, 1, 3]]) == [0.001, 0.0, 0.5]


@pytest.mark.parametrize("workers", [2, 3])
def test_tessellation_on_processes_is_one_call(city, monkeypatch, workers):
    if not parallel.can_fork():
        pytest.skip("no fork here")
    _, units, blocks, block_of = city
    monkeypatch.setattr(cells_spread, "MIN_SPREAD_UNITS", 10)
    one = tessellate(units, blocks, block_of=block_of)
    many = cells_spread.tessellate_spread(units, blocks, block_of=block_of, workers=workers)
    assert len(one) > 1000 and (one["unit"] < 0).any()  # fillers too
    assert one.drop(columns="geometry").equals(many.drop(columns="geometry"))
    assert same_geoms(one.geometry.to_numpy(), many.geometry.to_numpy())


def test_adjacency_on_processes_is_one_call(city, monkeypatch):
    if not parallel.can_fork():
        pytest.skip("no fork here")
    area, units, blocks, block_of = city
    cells = tessellate(units, blocks, block_of=block_of)
    roads = area.roads
    arterials = roads.loc[roads["road_class"] == "arterial"].geometry.to_numpy()
    paths = roads.loc[roads["road_class"] == "path"].geometry.to_numpy()
    monkeypatch.setattr(cells_spread, "MIN_SPREAD_PAIRS", 10)
    one = cell_adjacency(cells, arterials=arterials, paths=paths)
    many = cells_spread.adjacency_spread(cells, arterials=arterials, paths=paths, workers=2)
    assert set(one["kind"]) == {"block", "path", "street", "arterial"}
    assert one.equals(many)
    plain = cell_adjacency(cells, arterials=arterials)
    assert plain.equals(cells_spread.adjacency_spread(cells, arterials=arterials, workers=2))


def test_whole_run_on_processes_is_one_call(city, monkeypatch):
    """Every path spread over processes at once (thresholds lowered): the same cells,
    adjacency, grids (their precision grid too), tables and work as one process."""
    if not parallel.can_fork():
        pytest.skip("no fork here")
    from geo.grids import GridSettings, drawing, make_grids

    area, units, _, _ = city
    communities = derive_communities(units, area.roads, area.boundary)
    serial = make_grids(units, communities, area.roads, settings=GridSettings())
    monkeypatch.setattr(cells_spread, "MIN_SPREAD_UNITS", 10)
    monkeypatch.setattr(cells_spread, "MIN_SPREAD_PAIRS", 10)
    monkeypatch.setattr(drawing, "MIN_SPREAD_COMMUNITIES", 2)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    both = make_grids(units, communities, area.roads, settings=GridSettings(), workers=2)
    assert len(communities) >= 2 and len(serial.grids) > 10
    assert_same_run(serial, both)
    assert serial.communities.drop(columns="geometry").equals(
        both.communities.drop(columns="geometry"))
