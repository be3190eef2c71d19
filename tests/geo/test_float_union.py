"""Grid unions drawn the floating way where the check allows it are the snapped unions,
bit for bit (geo.grids.float_union), and the check catches what snapping would change."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.grids import float_union
from geo.grids.float_union import CellUnions, unclear_pairs
from tests.conftest import BEIJING_OSM

GRID = 0.001
P = shapely.Polygon


def _cells() -> np.ndarray:
    cells = shapely.set_precision(np.array([
        shapely.box(0, 0, 10, 10),                                    # 0
        P([(10, 0), (20, 0), (20, 5), (10, 5)]),                      # 1: a T on 0's edge x = 10
        P([(10, 5), (20, 5), (20, 10), (10, 10)]),                    # 2
        shapely.box(0, 10, 10, 20),                                   # 3: 0's edge y = 10
        P([(30, 0), (40, 3), (40, 10), (30, 10)]),                    # 4
        P([(30, 0), (33.334, 1.0), (40, 0)]),                         # 5: a vertex 0.2 mm from 4
        shapely.box(50, 0, 60, 10),                                   # 6
        P([(59, 1), (70, 1), (70, 9), (59, 9)]),                      # 7: crosses 6
        P([(80, 0), (90, 3), (90, 10), (83.334, 1.001), (80, 5)]),    # 8: 0.77 mm from itself
        P([(100, 0), (110, 3), (110, 10), (100, 10)]),                # 9
        P([(100, 0), (105, 1.5), (110, 3), (110, 0)]),                # 10: a T on a diagonal
    ]), GRID)
    bow_tie = P([(140, 0), (150, 10), (150, 0), (140, 10)])           # 12: crosses itself
    off_grid = P([(120, 0), (130, 0), (130, 10), (120, 10), (120, 0.0004)])  # 11
    return np.r_[cells, [off_grid, bow_tie]]


def _snapped(geoms, idx):
    return shapely.union_all(geoms[idx], grid_size=GRID)


def _same(a, b) -> bool:
    return a.wkb == b.wkb and shapely.get_precision(a) == shapely.get_precision(b)


def test_check_flags_near_vertices_crossings_and_diagonal_t_junctions():
    geoms = _cells()
    bad_cell, bi, bj = unclear_pairs(geoms, grid_size=GRID)
    assert np.flatnonzero(bad_cell).tolist() == [8, 11, 12]
    assert sorted(zip(bi.tolist(), bj.tolist())) == [(4, 5), (6, 7), (9, 10)]
    # the near vertex is one snapping moves: the floating union differs there
    plain = shapely.set_precision(geoms[[4, 5]], 0.0, mode="pointwise")
    assert shapely.union_all(plain).wkb != _snapped(geoms, [4, 5]).wkb


def test_compiled_check_gives_the_same_answers():
    pytest.importorskip("numba")
    geoms = _cells()
    want = unclear_pairs(geoms, grid_size=GRID)
    got = unclear_pairs(geoms, grid_size=GRID, pairs_clear=float_union.pairs_clear_kernel())
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("carried", [0.0, GRID])
def test_unions_are_the_snapped_unions(monkeypatch, carried):
    pytest.importorskip("numba")
    monkeypatch.setattr(float_union, "MIN_CELLS", 0)
    geoms = shapely.set_precision(_cells(), carried, mode="pointwise")
    unions = CellUnions(geoms, grid_size=GRID)
    first = unions.union(np.array([0, 1]))  # snapped: not checked yet
    unions.prepare()
    assert _same(first, _snapped(geoms, [0, 1])) and unions._proof is not None
    floating = 0
    for idx in ([0, 1], [0, 2], [0, 1, 2, 3], [4, 5], [6, 7], [3, 8], [9, 10], [0, 11], [1],
                list(range(12))):  # not 12: GEOS cannot union it
        idx = np.array(idx)
        assert _same(unions.union(idx), _snapped(geoms, idx)), idx
        floating += len(idx) > 1 and unions._clear(idx, unions._proof)
    # [0, 1], [0, 2], [0, 1, 2, 3]; not [0, 11]: 11 is off the grid or, put on it, touches
    # itself (a vertex repeated)
    assert floating == 3


@pytest.mark.parametrize("carried", [0.0, GRID])
def test_unions_at_once_are_the_unions_one_by_one(monkeypatch, carried):
    monkeypatch.setattr(float_union, "MIN_NUMPY_CELLS", 0)
    monkeypatch.setattr(float_union, "UNIONS_AT_ONCE", 2)  # several calls of rows
    geoms = _cells()
    if not carried:
        geoms = shapely.set_precision(geoms, 0.0, mode="pointwise")
    unions = CellUnions(geoms, grid_size=GRID)
    unions.prepare()
    groups = [np.array(idx) for idx in ([0, 1], [0, 2], [4, 5], [0, 1, 2, 3], [1], [6, 7],
                                        [2, 3], [0, 3], [9, 10])]
    got = unions.unions(groups)
    assert sum(len(idx) > 1 and unions._clear(idx, unions._proof) for idx in groups) >= 4
    for idx, one in zip(groups, got):
        assert _same(one, unions.union(idx)) and _same(one, _snapped(geoms, idx)), idx


def _compare_every_union(monkeypatch) -> list[bool]:
    """Every union the grid stage asks for, compared with the snapped one; whether each
    was drawn the floating way."""
    monkeypatch.setattr(float_union, "MIN_CELLS", 0)
    drawn: list[bool] = []
    union = CellUnions.union

    def checked(self, idx):
        got = union(self, idx)
        assert _same(got, _snapped(self.geoms, idx))
        drawn.append(bool(len(idx) > 1 and self._proof and self._clear(idx, self._proof)))
        return got

    monkeypatch.setattr(CellUnions, "union", checked)
    unions = CellUnions.unions

    def checked_all(self, groups):  # the grid table's unions, drawn at once
        got = unions(self, groups)
        for idx, one in zip(groups, got):
            assert _same(one, _snapped(self.geoms, idx))
            drawn.append(bool(len(idx) > 1 and self._proof and self._clear(idx, self._proof)))
        return got

    monkeypatch.setattr(CellUnions, "unions", checked_all)
    return drawn


@pytest.mark.parametrize("demo, floating", [("helsinki", 5), ("synthetic:20000", 100)])
def test_demo_grids_take_the_snapped_unions(monkeypatch, demo, floating):
    pytest.importorskip("numba")
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    drawn = _compare_every_union(monkeypatch)
    Runner(inputs=Inputs(area=load_area(demo=demo)), settings=RunSettings()).get("base")
    assert len(drawn) >= 20 and sum(drawn) >= floating  # real streets: fewer T on an axis


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the shared Beijing sample is not here")
def test_beijing_grids_take_the_snapped_unions(monkeypatch):
    pytest.importorskip("numba")
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    drawn = _compare_every_union(monkeypatch)
    Runner(inputs=Inputs(area=load_area(osm=str(BEIJING_OSM))), settings=RunSettings()).get("base")
    assert len(drawn) >= 20 and sum(drawn) >= 1
