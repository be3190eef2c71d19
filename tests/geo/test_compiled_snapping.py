"""The compiled snapping loops (geo/fast_snap.py) give exactly what the numpy code gives,
and a district-sized run never loads numba."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import compiled
from geo.network import build_network
from geo.snapping import build_segment_grid, snap_to_segments

GRID_FIELDS = ("cell_m", "origin", "n_cols", "n_rows", "cell_start", "reg_seg", "start_x",
               "start_y", "vec_x", "vec_y", "len2", "seg_edge", "seg_along")


def _lines(seed: int) -> np.ndarray:
    """Bent and straight lines, a long diagonal, and a jittered lattice sharing vertices."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 3000, (150, 2))
    lines = []
    for i in range(150):
        j = int(np.argsort(np.linalg.norm(pts - pts[i], axis=1))[1 + rng.integers(0, 3)])
        bend = (pts[i] + pts[j]) / 2 + rng.normal(0, 60, 2)
        lines.append(shapely.LineString([pts[i], bend, pts[j]]) if rng.random() < 0.5
                     else shapely.LineString([pts[i], pts[j]]))
    lines.append(shapely.LineString([(0, 0), (2900, 2950)]))
    xs = np.arange(12) * 40.0
    for x in xs:  # lattice lines starting at the same vertices: exact ties
        lines.append(shapely.LineString([(x, 0), (x, 440)]))
        lines.append(shapely.LineString([(0, x), (440, x)]))
    net = build_network(gpd.GeoDataFrame(geometry=lines, crs="EPSG:32650"))
    return net.edge_geometry


def _run(geoms, xy, cap, *, use: bool, monkeypatch):
    monkeypatch.setattr(compiled, "MIN_ITEMS", 0 if use else 10**12)
    grid = build_segment_grid(geoms)
    return grid, snap_to_segments(grid, geoms, xy, cap)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cap", [25.0, 150.0, 5000.0])
def test_compiled_snapping_equals_numpy(seed, cap, monkeypatch):
    pytest.importorskip("numba")
    geoms = _lines(seed)
    rng = np.random.default_rng(seed + 5)
    xy = np.vstack([rng.uniform(-400, 3400, (4000, 2)), rng.uniform(0, 440, (1000, 2)),
                    shapely.get_coordinates(geoms[:60]), [[np.nan, 1.0]]])
    g1, out1 = _run(geoms, xy, cap, use=True, monkeypatch=monkeypatch)
    g0, out0 = _run(geoms, xy, cap, use=False, monkeypatch=monkeypatch)
    for name in GRID_FIELDS:
        assert np.array_equal(getattr(g1, name), getattr(g0, name)), name
    for a, b in zip(out1, out0):
        assert np.array_equal(a, b, equal_nan=True)
    assert (out1[0] >= 0).sum() > 1000  # the points did snap


def test_without_numba_the_numpy_code_runs(monkeypatch):
    monkeypatch.setattr(compiled, "_numba", [None])
    monkeypatch.setattr(compiled, "MIN_ITEMS", 0)
    assert not compiled.use_compiled(10**9)
    geoms = _lines(0)
    grid = build_segment_grid(geoms)
    edge, _, _ = snap_to_segments(grid, geoms, np.array([[100.0, 100.0]]), 150.0)
    assert edge[0] >= 0


def test_a_small_run_does_not_load_numba():
    code = ("import sys, numpy as np; sys.path.insert(0, '.');"
            "from tests.geo.test_compiled_snapping import _lines;"
            "from geo.snapping import build_segment_grid, snap_to_segments;"
            "g = _lines(1); grid = build_segment_grid(g);"
            "snap_to_segments(grid, g, np.random.default_rng(0).uniform(0, 3000, (5000, 2)), 150.0);"
            "print('numba' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_no_writable_cache_compiles_in_memory(monkeypatch):
    """Where numba finds no place to write its cache (a read-only install with no home
    directory), the kernel is compiled without caching instead of failing."""
    calls = []

    class FakeNumba:
        @staticmethod
        def njit(cache: bool, nogil: bool):
            calls.append(cache)
            if cache:
                raise RuntimeError("cannot cache function: no locator available")
            return lambda func: func

    monkeypatch.setattr(compiled, "_numba", [FakeNumba])
    k = compiled.kernel(lambda x: x + 1)
    assert k.get()(1) == 2
    assert calls == [True, False]
    assert k.get()(2) == 3 and calls == [True, False]  # compiled once
