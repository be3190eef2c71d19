"""Grid snapping gives the same nearest edge distance as shapely's STRtree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.network import build_network
from geo.snapping import build_segment_grid, snap_to_segments


def _reference(geoms, xy, max_snap_m):
    points = shapely.points(xy)
    (src, tgt), dist = shapely.STRtree(geoms).query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=False)
    edge = np.full(len(xy), -1)
    off = np.full(len(xy), np.nan)
    edge[src], off[src] = tgt, dist
    return edge, off


def _network(seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 3000, (120, 2))
    lines = []
    for i in range(120):
        j = int(np.argsort(np.linalg.norm(pts - pts[i], axis=1))[1 + rng.integers(0, 3)])
        bend = (pts[i] + pts[j]) / 2 + rng.normal(0, 60, 2)
        lines.append(shapely.LineString([pts[i], bend, pts[j]]) if rng.random() < 0.5
                     else shapely.LineString([pts[i], pts[j]]))
    lines.append(shapely.LineString([(0, 0), (2900, 2950)]))  # one long diagonal
    return build_network(gpd.GeoDataFrame(geometry=lines, crs="EPSG:32650"))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cap", [25.0, 150.0, 5000.0])
def test_grid_snap_equals_strtree(seed, cap):
    net = _network(seed)
    rng = np.random.default_rng(seed + 10)
    xy = np.vstack([rng.uniform(-500, 3500, (3000, 2)), shapely.get_coordinates(
        net.edge_geometry[:50])])  # points exactly on edges and vertices too
    snap = net.snap(xy, max_snap_m=cap)
    edge, off = _reference(net.edge_geometry, xy, cap)
    assert np.array_equal(snap.edge >= 0, edge >= 0)
    ok = edge >= 0
    assert np.allclose(snap.offset_m[ok], off[ok], atol=1e-7)
    # the reported position is on the reported edge, at the reported distance
    foot = shapely.line_interpolate_point(net.edge_geometry[snap.edge[ok]], snap.along_m[ok])
    assert np.allclose(shapely.distance(foot, shapely.points(xy[ok])), snap.offset_m[ok], atol=1e-6)
    same = snap.edge[ok] == edge[ok]
    ref_along = shapely.line_locate_point(net.edge_geometry[edge[ok][same]],
                                          shapely.points(xy[ok][same]))
    assert np.allclose(snap.along_m[ok][same], ref_along, atol=1e-6)


def test_grid_handles_tiny_and_empty_inputs():
    geoms = np.array([shapely.LineString([(0, 0), (10, 0)])])
    grid = build_segment_grid(geoms)
    edge, along, off = snap_to_segments(grid, geoms, np.array([[5.0, 3.0], [np.nan, 1.0]]), 50)
    assert edge.tolist() == [0, -1] and along[0] == pytest.approx(5) and off[0] == pytest.approx(3)
    edge, _, _ = snap_to_segments(grid, geoms, np.zeros((0, 2)), 50)
    assert edge.size == 0
