"""Homes and facilities are snapped by one function (``snap_points``), walls or not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from analysis.reach.index import _snap, snap_points, prepare_reach
from geo.network import build_network
from geo.walls import build_walls
from tests.analysis.reach_fixtures import CRS, lattice, lines_frame, points_frame

SNAP_M = 40.0  # short, so that some homes inside a wall have no inner path in reach
SHARE = 0.1  # the 3-node island below is minor in a 49-node lattice


def _district(seed: int = 7):
    """A 600 m street lattice, two detached 3-node islands, three walled compounds (the
    lattice streets crossing them become their inner paths) and points inside and
    outside the walls, on the islands and far from every street."""
    streets = list(lattice(7, 7, 100.0).edge_geometry)
    streets += [shapely.LineString([(620, 630), (660, 630)]),
                shapely.LineString([(660, 630), (660, 660)]),
                # beside the narrow compound: only its inner path is within the cap
                shapely.LineString([(440, 140), (460, 140)]),
                shapely.LineString([(460, 140), (460, 160)])]
    net = build_network(lines_frame(streets))
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["way/1", "way/2", "way/3"], "name": ["阳光小区", "和平里", "窄院"]},
        geometry=[shapely.box(120, 120, 280, 280), shapely.box(320, 320, 480, 480),
                  shapely.box(370, 120, 430, 280)], crs=CRS)
    walls = build_walls(net, compounds)
    rng = np.random.default_rng(seed)
    chosen = [(200, 150), (150, 150), (250, 260), (400, 340), (350, 350),  # inside the walls
              (612, 622), (621, 628),  # on the island, within the cap of the lattice
              (438, 145),  # on the other island, within the cap of an inner path only
              (50, 30), (600, 420), (900, 900)]  # outside; the last far from every street
    xy = np.vstack([np.asarray(chosen, dtype=float), rng.uniform(-60, 760, (120, 2))])
    return net, walls, xy


def _measure(net, walls, xy):
    n = xy.shape[0]
    return prepare_reach(net, points_frame(xy, households=np.ones(n, dtype=int)),
                         points_frame(xy, service=["health"] * n,
                                      facility_id=[f"F{k}" for k in range(n)]),
                         services=("health",), walls=walls, max_snap_m=SNAP_M,
                         minor_island_share=SHARE)


def _assert_snap_equal(a, b):
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_array_equal(a.along_m, b.along_m)
    np.testing.assert_array_equal(a.offset_m, b.offset_m)


def test_homes_and_facilities_snap_alike_and_as_before_with_walls():
    net, walls, xy = _district()
    index = _measure(net, walls, xy)
    # before: the steps prepare_reach spelled out once for homes and again for facilities
    comp = walls.compound_of(xy)
    before, comp = walls.snap(xy, comp, max_snap_m=SNAP_M)
    before, moved = _snap(walls.network, xy, SNAP_M, SHARE, snap=before,
                          allowed=walls.edge_compound < 0, who=comp < 0)
    snap, moved_now, comp_now = snap_points(walls.network, walls, xy, SNAP_M, SHARE)
    _assert_snap_equal(snap, before)
    np.testing.assert_array_equal(moved_now, moved)
    np.testing.assert_array_equal(comp_now, comp)

    fac = index.facilities
    walled = index.walled
    for got_snap, got_comp in ((walled.snap, walled.compound),
                               (_facility_snap(fac), fac["compound"].to_numpy())):
        _assert_snap_equal(got_snap, before)
        np.testing.assert_array_equal(got_comp, comp)
    np.testing.assert_array_equal(walled.facility_compound, comp)
    moved_report = index.report["moved_off_islands"]
    assert moved_report["units"] == moved_report["facilities"] == int(moved.sum())

    # the district holds every case the helper must tell apart
    inside = comp >= 0
    assert inside[:5].all() and not inside[5:11].any() and inside[11:].any()
    assert (before.edge[inside] == -1).any() and (before.edge[inside] >= 0).any()
    assert moved[5:7].all() and before.edge[10] == -1
    assert not moved[7] and before.edge[7] >= 0 and walls.edge_compound[before.edge[7]] < 0

    # the numbers themselves: offset and along measured on the snapped edge, inner paths
    # only for points of their own compound, moved points never onto an inner path
    on = before.edge >= 0
    geoms = walls.network.edge_geometry[before.edge[on]]
    points = shapely.points(xy[on])
    np.testing.assert_allclose(before.offset_m[on], shapely.distance(points, geoms), atol=1e-6)
    np.testing.assert_allclose(before.along_m[on], shapely.line_locate_point(geoms, points),
                               atol=1e-6)
    owner = walls.edge_compound[np.maximum(before.edge, 0)]
    assert (owner[on & inside] == comp[on & inside]).all()
    assert (owner[moved] < 0).all()

    # facility source nodes: one per usable facility after the walled graph, joined to
    # both ends of its edge by offset + along and offset + length - along
    usable = fac["node"].to_numpy() >= 0
    np.testing.assert_array_equal(fac["node"].to_numpy()[usable],
                                  index.n_base_nodes + np.arange(int(usable.sum())))
    graph = index.graph.tocsr()
    length = walls.network.edge_length_m
    for k in np.flatnonzero(usable & on & ~inside):
        e, node = before.edge[k], fac["node"].iat[k]
        row = dict(zip(graph.indices[graph.indptr[node]:graph.indptr[node + 1]].tolist(),
                       graph.data[graph.indptr[node]:graph.indptr[node + 1]].tolist()))
        for end, walk in ((walls.edge_node_u[e], before.offset_m[k] + before.along_m[k]),
                          (walls.edge_node_v[e],
                           before.offset_m[k] + length[e] - before.along_m[k])):
            assert row[int(end)] <= walk + 1e-9


def test_homes_and_facilities_snap_alike_without_walls():
    net, _, xy = _district(seed=11)
    index = _measure(net, None, xy)
    before, moved = _snap(net, xy, SNAP_M, SHARE)
    snap, moved_now, comp = snap_points(net, None, xy, SNAP_M, SHARE)
    _assert_snap_equal(snap, before)
    np.testing.assert_array_equal(moved_now, moved)
    assert comp.dtype == np.int64 and (comp == -1).all()
    _assert_snap_equal(index.household_snap, before)
    _assert_snap_equal(_facility_snap(index.facilities), before)
    assert (index.facilities["compound"].to_numpy() == -1).all() and index.walled is None
    assert moved[5:7].all()


def _facility_snap(fac):
    from geo.network import Snap

    return Snap(fac["edge"].to_numpy(), fac["along_m"].to_numpy(), fac["offset_m"].to_numpy())
