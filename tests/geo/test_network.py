import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.errors import CRSError, NetworkError
from geo.network import build_network

CRS = "EPSG:32650"


def lines(coords, classes=None):
    geoms = [shapely.LineString(c) for c in coords]
    data = {"road_class": classes or ["local"] * len(geoms)}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def test_nodes_are_shared_line_ends_and_both_directions_kept():
    net = build_network(lines([[(0, 0), (100, 0)], [(100, 0), (100, 50)], [(100, 50.004), (0, 50)]]))
    assert net.n_nodes == 4  # (100,50) and (100,50.004) are one node (1 cm precision)
    g = net.graph
    assert (g != g.T).nnz == 0
    d = dijkstra(g, indices=0)
    assert d.max() == pytest.approx(100 + 50 + 100, abs=0.01)


def test_parallel_edges_reduced_to_shortest_zero_length_dropped():
    net = build_network(lines([
        [(0, 0), (100, 0)],
        [(0, 0), (50, 40), (100, 0)],  # longer parallel route between the same nodes
        [(100, 0), (100, 0)],  # zero length
    ]))
    assert net.report["zero_length_edges_dropped"] == 1
    assert net.report["parallel_edges_reduced"] == 1
    assert net.n_edges == 2  # both geometries kept for snapping
    assert dijkstra(net.graph, indices=0)[1] == pytest.approx(100)


def test_islands_are_counted_largest_component_first():
    net = build_network(lines([[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(500, 500), (510, 500)]]))
    assert net.report["components"] == 2
    assert net.report["nodes_off_main_component"] == 2
    assert (net.components == 0).sum() == 3


def test_snap_to_nearest_edge_with_cap():
    net = build_network(lines([[(0, 0), (100, 0)], [(100, 0), (100, 100)]]))
    snap = net.snap(np.array([[30, 10], [110, 60], [500, 500]]), max_snap_m=150)
    assert snap.edge[0] == 0 and snap.along_m[0] == pytest.approx(30) and snap.offset_m[0] == pytest.approx(10)
    assert snap.along_m[1] == pytest.approx(60) and snap.offset_m[1] == pytest.approx(10)
    assert snap.edge[2] == -1 and np.isnan(snap.offset_m[2])
    assert snap.on_network.tolist() == [True, True, False]


def test_edge_geometry_runs_from_u_to_v():
    net = build_network(lines([[(0, 0), (30, 0), (30, 40)]]))
    start = shapely.get_point(net.edge_geometry[0], 0)
    assert np.allclose([start.x, start.y], net.node_xy[net.edge_u[0]])
    assert net.edge_length_m[0] == pytest.approx(70)


def test_refuses_degrees_and_empty():
    gdf = lines([[(0, 0), (1, 0)]]).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError):
        build_network(gdf)
    with pytest.raises(NetworkError):
        build_network(lines([[(0, 0), (0, 0)]]))
