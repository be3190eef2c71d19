"""Cells' shared boundaries taken from the floating overlay where it is provably the same
are the snapped overlay's geometries, bit for bit (geo.grids.shared_edges)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.grids import blocks
from geo.grids.shared_edges import shared_boundaries
from tests.conftest import BEIJING_OSM


def _compare_every_call(monkeypatch) -> list[int]:
    calls = []

    def checked(rings, i, j, *, grid_size, workers=1):
        got = shared_boundaries(rings, i, j, grid_size=grid_size, workers=workers)
        want = shapely.intersection(rings[i], rings[j], grid_size=grid_size)
        assert (shapely.to_wkb(got) == shapely.to_wkb(want)).all()
        assert (shapely.get_precision(got) == shapely.get_precision(want)).all()
        calls.append(len(i))
        return got

    monkeypatch.setattr(blocks, "shared_boundaries", checked)
    return calls


@pytest.mark.parametrize("carried", [0.0, 0.001])
def test_t_junction_and_near_vertex_take_the_snapped_overlay(carried):
    # a: one long edge x = 10; b and c meet a along it with a vertex (10, 5) that a lacks
    a = shapely.box(0, 0, 10, 10)
    b = shapely.Polygon([(10, 0), (20, 0), (20, 5), (10, 5.0004)])
    c = shapely.Polygon([(10, 5.0004), (20, 5), (20, 10), (10, 10)])
    d = shapely.box(0, 10, 10, 20)  # shares the edge y = 10 exactly with a
    rings = shapely.boundary(shapely.set_precision(np.array([a, b, c, d]), carried,
                                                   mode="pointwise"))
    i, j = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2])
    got = shared_boundaries(rings, i, j, grid_size=0.001)
    want = shapely.intersection(rings[i], rings[j], grid_size=0.001)
    assert (shapely.to_wkb(got) == shapely.to_wkb(want)).all()
    assert (shapely.get_precision(got) == shapely.get_precision(want)).all()
    assert shapely.length(got[2]) == 10.0  # a and d: one whole edge
    assert shapely.length(got[0]) == 5.0 and shapely.length(got[1]) == 5.0  # snapped to (10, 5)


@pytest.mark.parametrize("demo", ["helsinki", "synthetic:20000"])
def test_demo_cells_share_the_snapped_boundaries(monkeypatch, demo):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    calls = _compare_every_call(monkeypatch)
    Runner(inputs=Inputs(area=load_area(demo=demo)), settings=RunSettings()).get("base")
    assert calls and sum(calls) > 100


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the shared Beijing sample is not here")
def test_beijing_cells_share_the_snapped_boundaries(monkeypatch):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    calls = _compare_every_call(monkeypatch)
    Runner(inputs=Inputs(area=load_area(osm=str(BEIJING_OSM))), settings=RunSettings()).get("base")
    assert calls and sum(calls) > 100
