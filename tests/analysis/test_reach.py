"""Reach: node and household distances, snapping rules, bad input, service areas."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import ops

from analysis import reach as R
from analysis.settings import WalkSettings
from geo.network import build_network, substrings
from tests.analysis.reach_fixtures import (lattice, lines_frame, points_frame, random_network,
                                           split_graph)

SETTINGS = WalkSettings()
XUEQING = Path(__file__).resolve().parents[3] / "shared" / "data" / "beijing_xueqing.osm"


def _index(network, hh_xy, fac_xy, services=None, *, hh_counts=None, fac_ids=None,
           boundary=None, max_snap_m=150.0):
    hh_xy = np.asarray(hh_xy, dtype=float).reshape(-1, 2)
    fac_xy = np.asarray(fac_xy, dtype=float).reshape(-1, 2)
    services = services if services is not None else ["health"] * len(fac_xy)
    hh = points_frame(hh_xy, households=hh_counts if hh_counts is not None
                      else np.ones(len(hh_xy), dtype=int))
    fac = points_frame(fac_xy, service=list(services),
                       facility_id=fac_ids if fac_ids is not None
                       else [f"F{k}" for k in range(len(fac_xy))],
                       name=fac_ids if fac_ids is not None else [""] * len(fac_xy))
    return R.prepare_reach(network, hh, fac, boundary=boundary, max_snap_m=max_snap_m)


def _node_point(net, node):
    """Exact coordinates of a node (``node_xy`` is rounded to the centimetre)."""
    e = np.flatnonzero((net.edge_u == node) | (net.edge_v == node))[0]
    coords = shapely.get_coordinates(net.edge_geometry[e])
    return coords[0] if net.edge_u[e] == node else coords[-1]


# -- node distances against networkx -----------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_node_distances_equal_networkx_at_nodes(seed):
    net = random_network(60, seed=seed, k=2)
    rng = np.random.default_rng(seed)
    src = rng.choice(net.n_nodes, size=4, replace=False)
    index = _index(net, [[0, 0]], [_node_point(net, node) for node in src])
    dist, nearest = R.node_distances(index, "health")
    g = nx.from_scipy_sparse_array(net.graph, edge_attribute="weight")
    expected = nx.multi_source_dijkstra_path_length(g, set(src.tolist()), weight="weight")
    assert set(np.flatnonzero(np.isfinite(dist)).tolist()) == set(expected)
    for node, d in expected.items():
        assert abs(dist[node] - d) <= 1e-6
    # the nearest facility really is at that distance
    fac_node = {k: int(s) for k, s in enumerate(src)}
    for node in list(expected)[:20]:
        d_near = nx.dijkstra_path_length(g, fac_node[int(nearest[node])], node, weight="weight")
        assert abs(d_near - dist[node]) <= 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_node_distances_equal_networkx_mid_edge(seed):
    net = random_network(50, seed=100 + seed, k=3)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, (5, 2))
    index = _index(net, [[0, 0]], xy, max_snap_m=5000)
    dist, _ = R.node_distances(index, "health")
    fac = index.facilities
    att = {("f", k): (fac.edge[k], fac.along_m[k], fac.offset_m[k]) for k in range(len(fac))}
    g = split_graph(net, att)
    expected = nx.multi_source_dijkstra_path_length(g, set(att), weight="weight")
    nodes = [n for n in expected if isinstance(n, (int, np.integer))]
    assert set(np.flatnonzero(np.isfinite(dist)).tolist()) == set(nodes)
    for node in nodes:
        assert abs(dist[node] - expected[node]) <= 1e-6


# -- household distances against brute force ----------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_household_walk_matches_brute_force(seed):
    net = random_network(40, seed=200 + seed, k=3, size_m=1500)
    rng = np.random.default_rng(seed)
    hh_xy = rng.uniform(0, 1500, (30, 2))
    fac_xy = rng.uniform(0, 1500, (4, 2))
    # put one home on the same edge as a facility, between the two
    fac_snap = net.snap(fac_xy[:1], max_snap_m=1e9)
    e = fac_snap.edge[0]
    geom = net.edge_geometry[e]
    hh_xy[0] = shapely.get_coordinates(geom.interpolate(min(geom.length, fac_snap.along_m[0] + 3)))
    settings = WalkSettings(horizon_min=600)
    index = _index(net, hh_xy, fac_xy, max_snap_m=1e3 * 2)
    result = R.household_minutes(index, settings, services=("health",))
    walk = result.walk_m["health"].to_numpy()
    fac = index.facilities
    snap = index.household_snap
    att = {("f", k): (fac.edge[k], fac.along_m[k], fac.offset_m[k]) for k in range(len(fac))}
    att.update({("h", i): (snap.edge[i], snap.along_m[i], snap.offset_m[i])
                for i in range(len(hh_xy)) if snap.edge[i] >= 0})
    g = split_graph(net, att)
    for i in range(len(hh_xy)):
        if snap.edge[i] < 0:
            assert np.isnan(walk[i])
            continue
        best = np.inf
        for k in range(len(fac)):
            try:
                d = nx.dijkstra_path_length(g, ("h", i), ("f", k), weight="weight")
            except nx.NetworkXNoPath:
                continue
            if d < best:
                best = d
        if np.isinf(best):
            assert np.isnan(walk[i])
            assert result.nearest["health"].iloc[i] == -1
        else:
            assert abs(walk[i] - best) <= 1e-6
            k = result.nearest["health"].iloc[i]
            d_k = nx.dijkstra_path_length(g, ("h", i), ("f", k), weight="weight")
            assert abs(d_k - best) <= 1e-6


def test_home_and_facility_on_same_long_edge():
    net = build_network(lines_frame([(0, 0, 2000, 0), (0, 0, 0, 500), (2000, 0, 2000, 500)]))
    index = _index(net, [[1010, 20], [990, -5]], [[1000, 10]])
    result = R.household_minutes(index, SETTINGS, services=("health",))
    # straight to the street, 10 m along it, then 10 m to the facility
    assert result.walk_m["health"].tolist() == pytest.approx([20 + 10 + 10, 5 + 10 + 10])
    assert result.nearest_ids(index, "health").tolist() == ["F0", "F0"]
    assert result.minutes["walk_min_health"].iloc[0] == pytest.approx(40 / 1.2 / 60)


def test_walk_uses_profile_speed_and_settings_change_is_cheap():
    net = lattice(5, 5, 100.0)
    index = _index(net, [[250, 200], [50, 0]], [[0, 0], [400, 400]],
                   services=["elderly_care", "health"])
    result = R.household_minutes(index, SETTINGS, services=("elderly_care", "health"))
    walk = result.walk_m
    assert walk["elderly_care"].iloc[1] == pytest.approx(50.0)
    m = result.minutes
    assert m["walk_min_elderly_care"].iloc[1] == pytest.approx(50 / 1.0 / 60)  # elderly pace
    assert m["walk_min_health"].iloc[1] == pytest.approx(walk["health"].iloc[1] / 1.2 / 60)
    slower = R.household_minutes(index, SETTINGS.with_speed(0.8), services=("health",))
    assert slower.minutes["walk_min_health"].iloc[1] == pytest.approx(walk["health"].iloc[1] / 0.8 / 60)


def test_network_distance_at_least_straight_line():
    net = random_network(80, seed=7, k=3)
    rng = np.random.default_rng(7)
    index = _index(net, rng.uniform(0, 2000, (200, 2)), rng.uniform(0, 2000, (6, 2)))
    result = R.household_minutes(index, WalkSettings(horizon_min=600), services=("health",))
    walk = result.walk_m["health"].to_numpy()
    crow = R.crow_flies_m(index, "health")
    ok = np.isfinite(walk)
    assert ok.sum() > 50
    assert np.all(walk[ok] >= crow[ok] - 1e-6)
    cov = R.crow_flies_coverage(index, WalkSettings(horizon_min=600), services=("health",))
    assert cov["health"] >= result.report["health"]["coverage"]


def test_coverage_never_shrinks_with_minutes_or_facilities():
    net = random_network(80, seed=8, k=3)
    rng = np.random.default_rng(8)
    hh = rng.uniform(0, 2000, (300, 2))
    fac = rng.uniform(0, 2000, (8, 2))
    shares = []
    for minutes in (3, 5, 10, 15, 30):
        settings = WalkSettings().with_threshold("health", minutes)
        res = R.household_minutes(_index(net, hh, fac), settings, services=("health",))
        shares.append(res.report["health"]["coverage"])
    assert shares == sorted(shares)
    covered = []
    for k in range(1, 9):
        res = R.household_minutes(_index(net, hh, fac[:k]), SETTINGS, services=("health",))
        covered.append(res.covered("health"))
        if k > 1:
            assert np.all(covered[-1] >= covered[-2])  # household by household


# -- bad input ----------------------------------------------------------------------------
def test_far_facility_is_reported_not_used():
    net = lattice(4, 4, 100.0)
    index = _index(net, [[150, 100]], [[100, 100], [2000, 2000]], fac_ids=["near", "far"])
    info = index.report["facilities"]["health"]
    assert info["off_network"] == 1 and "far" in info["off_network_ids"]
    assert index.facilities.set_index("facility_id").loc["far", "status"] == "off_network"
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.nearest_ids(index, "health").tolist() == ["near"]
    notes = R.reach_notes(index.report, "en")
    assert any("far" in n and "150 m" in n for n in notes)


def test_service_without_facilities_reports_none_in_area():
    net = lattice(4, 4, 100.0)
    index = _index(net, [[150, 100], [0, 50]], [[100, 100]])
    res = R.household_minutes(index, SETTINGS, services=("health", "culture"))
    assert res.report["culture"]["none_in_area"]
    assert res.report["culture"]["coverage"] == 0.0
    assert res.minutes["walk_min_culture"].isna().all()
    assert index.report["facilities"]["culture"]["none_in_area"]
    notes = R.reach_notes(index.report, "zh")
    assert any("文化" in n and "覆盖率为 0" in n for n in notes)
    areas = R.service_areas(index, SETTINGS, "culture")
    assert list(areas["minutes"]) == [5, 10, 15] and areas.geometry.is_empty.all()


def test_home_off_network_is_not_uncovered():
    net = lattice(4, 4, 100.0)
    index = _index(net, [[150, 100], [900, 900]], [[100, 100]], hh_counts=[10, 7])
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.on_network.tolist() == [True, False]
    assert np.isnan(res.minutes["walk_min_health"].iloc[1])
    assert res.report["health"]["households_on_network"] == 10
    assert res.report["health"]["coverage"] == 1.0
    assert index.report["households"]["off_network_households"] == 7
    assert any("7" in n for n in R.reach_notes(index.report, "en"))


@pytest.mark.parametrize("placeless", [None, shapely.Point()], ids=["missing", "empty"])
def test_a_home_without_a_place_is_off_the_network(placeless):
    # a notebook's frame may hold a home with no geometry (missing or empty): it is counted
    # off the network, as a home too far from any street, and the others are measured
    net = lattice(4, 4, 100.0)
    hh = points_frame(np.array([[150.0, 100.0], [0.0, 0.0], [200.0, 150.0]]),
                      households=[10, 7, 4])
    hh.loc[hh.index[1], "geometry"] = placeless
    fac = points_frame(np.array([[100.0, 100.0]]), service=["health"], facility_id=["F0"],
                       name=[""])
    index = R.prepare_reach(net, hh, fac)
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.on_network.tolist() == [True, False, True]
    walk = res.minutes.iloc[:, 0]
    assert np.isnan(walk.iloc[1]) and np.isfinite(walk.iloc[[0, 2]]).all()
    assert index.report["households"]["off_network_households"] == 7


def test_islands_zero_length_edges_and_duplicates():
    segs = [(0, 0, 100, 0), (100, 0, 200, 0), (5000, 0, 5100, 0), (100, 0, 100, 0),
            (5100, 0, 5200, 0)]
    net = build_network(lines_frame(segs))
    assert net.report["zero_length_edges_dropped"] == 1
    index = _index(net, [[50, 5], [5050, 5]], [[150, 0], [150, 0.5], [5200, 0]],
                   fac_ids=["a", "a2", "island"], boundary=shapely.box(-10, -10, 300, 10))
    info = index.report["facilities"]["health"]
    assert info["duplicates"] == 2 and "a2" in info["duplicate_ids"]
    assert info["on_islands"] == 1 and "island" in info["on_island_ids"]
    assert info["outside_area"] == 1 and "island" in info["outside_area_ids"]
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.walk_m["health"].tolist() == pytest.approx([5 + 100, 5 + 150])
    assert res.nearest_ids(index, "health").tolist()[1] == "island"
    # without the island's facility the island's home is unreachable, and says so
    index2 = _index(net, [[50, 5], [5050, 5]], [[150, 0]])
    res2 = R.household_minutes(index2, SETTINGS, services=("health",))
    assert np.isnan(res2.walk_m["health"].iloc[1]) and res2.on_network.iloc[1]
    assert res2.report["health"]["unreachable_households"] == 1
    notes = R.reach_notes(index2.report, "en", reach_report=res2.report)
    assert any("cannot reach" in n for n in notes)
    assert any("unconnected parts" in n for n in notes)
    assert any("zero-length" in n for n in notes)


def test_unknown_service_and_unprojected_input():
    net = lattice(3, 3, 100.0)
    index = _index(net, [[50, 0]], [[0, 0], [100, 0]], services=["health", "spa"])
    assert index.report["unknown_service_facilities"]["count"] == 1
    hh = points_frame([[50, 0]]).to_crs(4326)
    with pytest.raises(Exception) as err:
        R.prepare_reach(net, hh, points_frame([[0, 0]], service=["health"]))
    assert err.type.__name__ == "CRSError"


def test_facility_at_node_and_home_at_node():
    net = lattice(3, 3, 100.0)
    index = _index(net, [[200, 200], [100, 100]], [[0, 0]])
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.walk_m["health"].tolist() == pytest.approx([400.0, 200.0])


# -- service areas ------------------------------------------------------------------------
def test_substrings_match_shapely_ops():
    rng = np.random.default_rng(3)
    lines = np.array([shapely.LineString(rng.uniform(0, 100, (rng.integers(2, 6), 2)))
                      for _ in range(40)], dtype=object)
    length = shapely.length(lines)
    a = rng.uniform(0, 0.5, 40) * length
    b = a + rng.uniform(0.01, 0.5, 40) * length
    ours = substrings(lines, a, b)
    for line, s, e, got in zip(lines, a, b, ours):
        ref = ops.substring(line, s, e)
        assert got.length == pytest.approx(ref.length, abs=1e-9)
        assert got.hausdorff_distance(ref) < 1e-9


def test_service_area_cuts_partial_edges_and_nests():
    net = build_network(lines_frame([(0, 0, 1000, 0), (1000, 0, 2000, 0)]))
    index = _index(net, [[0, 0]], [[500, 0]])
    settings = WalkSettings().with_speed(1.0)
    areas = R.service_areas(index, settings, "health", minutes=(2, 5), buffer_m=10)
    a2, a5 = areas.geometry
    # 2 min at 1 m/s = 120 m either side of the facility
    assert a2.area == pytest.approx(240 * 20 + np.pi * 100, rel=0.02)
    assert a5.area == pytest.approx(600 * 20 + np.pi * 100, rel=0.02)
    assert a5.buffer(1e-6).contains(a2)


def test_service_areas_keep_holes_and_islands():
    net = lattice(6, 6, 100.0)
    index = _index(net, [[250, 250]], [[250, 0], [250, 500]])
    areas = R.service_areas(index, SETTINGS, "health", buffer_m=10)
    five = areas.geometry.iloc[0]
    assert isinstance(five, shapely.Polygon | shapely.MultiPolygon)
    assert sum(len(p.interiors) for p in getattr(five, "geoms", [five])) > 0  # blocks stay holes
    nested = list(areas.geometry)
    for small, big in zip(nested, nested[1:]):
        assert big.buffer(1e-6).contains(small)
    # two far facilities on separate islands → two polygons
    net2 = build_network(lines_frame([(0, 0, 100, 0), (5000, 0, 5100, 0)]))
    idx2 = _index(net2, [[0, 0]], [[50, 0], [5050, 0]])
    two = R.service_areas(idx2, SETTINGS, "health", minutes=(5,)).geometry.iloc[0]
    assert isinstance(two, shapely.MultiPolygon) and len(two.geoms) == 2


def test_polygon_misclassification_counts_against_per_household_answer():
    net = lattice(8, 8, 100.0)
    rng = np.random.default_rng(2)
    index = _index(net, rng.uniform(0, 700, (300, 2)), [[300, 300], [300, 300]],
                   services=["health", "kindergarten"], hh_counts=np.full(300, 2))
    res = R.household_minutes(index, SETTINGS, services=("health", "kindergarten"))
    areas = R.all_service_areas(index, SETTINGS, services=("health", "kindergarten"))
    mis = R.polygon_misclassification(index, res, areas).set_index("service")
    x, y = index.household_xy.T
    poly = areas[(areas.service == "kindergarten") & (areas.minutes == 5)].geometry.iloc[0]
    inside = shapely.contains_xy(poly, x, y)
    cov = res.covered("kindergarten")
    assert mis.loc["kindergarten", "false_covered"] == 2 * int((inside & ~cov).sum())
    assert mis.loc["kindergarten", "false_uncovered"] == 2 * int((cov & ~inside).sum())
    assert mis.loc["kindergarten", "misclassified"] > 0


# -- real Chinese OSM sample ----------------------------------------------------------------
@pytest.mark.skipif(not XUEQING.exists(), reason="shared Xueqing OSM sample not present")
def test_xueqing_sample_end_to_end():
    from geo.households import estimate_households
    from geo.osm import read_osm, study_area_from_osm

    area = study_area_from_osm(read_osm(XUEQING))
    hh = estimate_households(area)
    index = R.prepare_reach(area.network, hh, area.facilities, boundary=area.boundary)
    res = R.household_minutes(index, SETTINGS)
    crow = R.crow_flies_coverage(index, SETTINGS)
    assert res.on_network.mean() > 0.9
    for service, info in res.report.items():
        assert 0 <= info["coverage"] <= crow[service] + 1e-12
    assert isinstance(R.reach_notes(index.report, "zh", reach_report=res.report), list)


def test_homes_on_minor_islands_join_the_main_network():
    main = [(x, 0, x + 25, 0) for x in range(0, 3000, 25)]
    island = [(1000, 60, 1040, 60)]  # a compound path whose gate is not mapped
    net = build_network(lines_frame(main + island))
    index = _index(net, [[1020, 55], [1020, 300]], [[0, 0]])
    moved = index.report["moved_off_islands"]
    assert moved["units"] == 1  # the second home is beyond the cap from every street
    res = R.household_minutes(index, SETTINGS, services=("health",))
    assert res.walk_m["health"].iloc[0] == pytest.approx(55 + 1020)
    assert any("cut off" in n for n in R.reach_notes(index.report, "en"))
    kept = _index(net, [[1020, 55]], [[0, 0]], max_snap_m=150.0)
    off = R.prepare_reach(net, points_frame([[1020, 55]], households=[1]),
                          points_frame([[0, 0]], service=["health"]), minor_island_share=0)
    assert kept.household_snap.edge[0] != off.household_snap.edge[0]
    assert np.isnan(R.household_minutes(off, SETTINGS, services=("health",)).walk_m["health"][0])
