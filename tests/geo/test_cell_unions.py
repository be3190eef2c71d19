"""Grid unions of cells drawn by the floating overlay where that is provably the snapped
union are the snapped union's geometries, bit for bit (geo.grids.cell_unions)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.grids import cell_unions, rules
from geo.grids.blocks import GRID_SIZE_M
from tests.conftest import BEIJING_OSM


def _compare_every_union(monkeypatch) -> dict:
    seen = {"exact": 0, "snapped": 0}

    def checked(table, idx):
        got = cell_unions.exact_union(table, idx)
        if got is None:
            seen["snapped"] += 1
            return None
        want = shapely.union_all(table.geoms[idx], grid_size=GRID_SIZE_M)
        assert shapely.to_wkb(got) == shapely.to_wkb(want)
        assert shapely.get_precision(got) == shapely.get_precision(want)
        seen["exact"] += 1
        return got

    monkeypatch.setattr(rules, "exact_union", checked)
    return seen


def _table(geoms):
    return rules.CellTable(geoms=np.asarray(geoms, dtype=object),
                           households=np.ones(len(geoms), dtype=np.int64),
                           unit=np.ones(len(geoms), dtype=bool),
                           community=np.array(["C"] * len(geoms)),
                           part_of=np.full(len(geoms), None, dtype=object),
                           homes=np.full((len(geoms), 2), np.nan), ei=np.zeros(0, np.int64),
                           ej=np.zeros(0, np.int64), arterial=np.zeros(0, dtype=bool))


def test_a_vertex_near_another_cell_is_snapped_and_whole_edges_are_not():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.Polygon([(10, 0), (20, 0), (20, 5), (10.004, 5)])  # a vertex 4 mm off a
    c = shapely.Polygon([(10.004, 5), (20, 5), (20, 10), (10, 10)])
    d = shapely.box(0, 10, 10, 20)
    e = shapely.box(10, 10, 20, 20)
    geoms = shapely.set_precision(np.array([a, b, c, d, e]), GRID_SIZE_M)
    table = _table(geoms)
    grids = np.array(["G1", "G1", "G1", "G2", "G2"], dtype=object)
    assert cell_unions.mark_exact(table, grids) == 1
    idx1, idx2 = np.arange(3), np.arange(3, 5)
    assert cell_unions.exact_union(table, idx1) is None
    got = cell_unions.exact_union(table, idx2)
    want = shapely.union_all(geoms[idx2], grid_size=GRID_SIZE_M)
    assert shapely.to_wkb(got) == shapely.to_wkb(want)
    assert cell_unions.exact_union(table, np.arange(2)) is None  # a set not marked


@pytest.mark.parametrize("demo", ["helsinki", "synthetic:20000"])
def test_demo_grids_take_the_snapped_unions(monkeypatch, demo):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    seen = _compare_every_union(monkeypatch)
    Runner(inputs=Inputs(area=load_area(demo=demo)), settings=RunSettings()).get("base")
    assert seen["exact"] >= 5


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the shared Beijing sample is not here")
def test_beijing_grids_take_the_snapped_unions(monkeypatch):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    seen = _compare_every_union(monkeypatch)
    Runner(inputs=Inputs(area=load_area(osm=str(BEIJING_OSM))), settings=RunSettings()).get("base")
    assert seen["exact"] + seen["snapped"] > 10
