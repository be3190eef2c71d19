"""A service's search kept on the reach index answers a slower pace (a smaller radius)
bit for bit as a new search does, and is never used beyond the radius it was made to
(:mod:`analysis.reach.kept_search`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csgraph

from analysis import reach as R
from analysis.reach import kept_search as K
from analysis.reach.search import SearchGraph
from analysis.settings import WalkSettings
from geo.synthetic import synthetic_district
from geo.walls import build_walls
from tests.analysis.reach_fixtures import lattice


@pytest.fixture(scope="module")
def area():
    return synthetic_district(20_000)


@pytest.fixture
def searches(monkeypatch):
    """How many searches run (each source set searched counts once)."""
    count = [0]
    real = K.nearest_sources_many

    def counted(search, jobs, **kw):
        count[0] += len(jobs)
        return real(search, jobs, **kw)

    monkeypatch.setattr(K, "nearest_sources_many", counted)
    return count


def _index(area, walled: bool):
    walk = WalkSettings()
    network = replace(area.network)  # nothing kept from another test
    walls = (build_walls(network, area.compounds, area.gates, max_snap_m=walk.max_snap_m)
             if walled else None)
    return R.prepare_reach(network, area.households, area.facilities,
                           max_snap_m=walk.max_snap_m, services=walk.services, walls=walls)


def _same(a, b) -> None:
    for name in ("walk_m", "minutes", "nearest"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.report == b.report
    if a.plain is not None or b.plain is not None:
        _same(a.plain, b.plain)


@pytest.mark.parametrize("walled", [False, True])
def test_a_slower_pace_reuses_the_searches_and_gives_the_same_minutes(area, searches, walled):
    walk = WalkSettings()
    index = _index(area, walled)
    R.household_minutes(index, walk, walk.services)
    made = searches[0]
    assert made > 0
    slower = walk.with_speed(walk.speed_mps("primary_school") * 0.8)
    again = R.household_minutes(index, slower, walk.services)
    assert searches[0] == made  # no search run again
    fresh = R.household_minutes(_index(area, walled), slower, walk.services)
    _same(again, fresh)
    # some walks are beyond the slower horizon: the kept search was cut, not copied
    assert np.isfinite(R.household_minutes(index, walk, walk.services).walk_m.to_numpy()).sum() \
        >= np.isfinite(again.walk_m.to_numpy()).sum()


@pytest.mark.parametrize("walled", [False, True])
def test_a_faster_pace_searches_again(area, searches, walled):
    walk = WalkSettings(horizon_min=20)  # a horizon short enough to leave homes beyond it
    index = _index(area, walled)
    slow = walk.with_speed(0.8)
    R.household_minutes(index, slow, walk.services)
    made = searches[0]
    fast = walk.with_speed(1.6)
    again = R.household_minutes(index, fast, walk.services)
    assert searches[0] > made  # the adult services searched again, farther
    fresh = R.household_minutes(_index(area, walled), fast, walk.services)
    _same(again, fresh)
    beyond = R.household_minutes(_index(area, walled), slow, walk.services)
    assert np.isfinite(fresh.walk_m.to_numpy()).sum() > np.isfinite(beyond.walk_m.to_numpy()).sum()


def test_a_kept_search_cut_at_any_radius_is_the_library_search_to_it():
    # a 100 m lattice: many nodes exactly at a radius, where "at most" matters
    net = lattice(12, 12, 100.0)
    search = SearchGraph.of(net.graph)
    sources = np.array([0, 77], dtype=np.int64)
    owner = type("Owner", (), {})()
    list(K.kept_nearest_sources(owner, search, [(sources, 900.0)]))
    assert K.kept_radii(owner) == [900.0]
    for limit in (0.0, 100.0, 299.99, 300.0, 450.0, 900.0):
        (dist, origin), = K.kept_nearest_sources(owner, search, [(sources, limit)])
        want, _, src = csgraph.dijkstra(net.graph, directed=True, indices=sources,
                                        min_only=True, limit=limit, return_predecessors=True)
        np.testing.assert_array_equal(dist, want)
        np.testing.assert_array_equal(origin >= 0, src >= 0)
        assert K.kept_radii(owner) == [900.0]
    # beyond the kept radius: searched again, and the larger one kept instead
    (dist, _), = K.kept_nearest_sources(owner, search, [(sources, 1500.0)])
    want = csgraph.dijkstra(net.graph, directed=True, indices=sources, min_only=True,
                            limit=1500.0)
    np.testing.assert_array_equal(dist, want)
    assert (dist > 900.0).any() and np.isfinite(dist[dist > 900.0]).all()
    assert K.kept_radii(owner) == [1500.0]


def test_what_is_kept_stays_within_its_budget(monkeypatch):
    net = lattice(12, 12, 100.0)
    search = SearchGraph.of(net.graph)
    one = net.n_nodes * 16  # metres and sources of one search
    monkeypatch.setattr(K, "KEPT_BYTES", 2 * one)
    owner = type("Owner", (), {})()
    jobs = [(np.array([k], dtype=np.int64), 500.0) for k in range(5)]
    list(K.kept_nearest_sources(owner, search, jobs))
    assert len(K.kept_radii(owner)) == 2
    monkeypatch.setattr(K, "KEPT_BYTES", one - 1)
    other = type("Owner", (), {})()
    list(K.kept_nearest_sources(other, search, jobs))
    assert K.kept_radii(other) == []


@pytest.mark.parametrize("walled", [False, True])
def test_service_areas_are_drawn_from_the_kept_searches(area, monkeypatch, walled):
    from analysis.reach import query as Q

    walk = WalkSettings()
    index = _index(area, walled)
    R.household_minutes(index, walk, walk.services)
    searched = []
    real = Q.nearest_sources
    monkeypatch.setattr(Q, "nearest_sources", lambda *a, **kw: searched.append(1) or real(*a, **kw))
    kept = [R.service_areas(index, walk, s) for s in ("primary_school", "park")]
    dist, nearest = R.node_distances(index, "park", limit_m=900.0)
    assert searched == []  # every level lies within the horizon searched
    fresh = _index(area, walled)
    for s, got in zip(("primary_school", "park"), kept):
        want = R.service_areas(fresh, walk, s)
        assert got["minutes"].tolist() == want["minutes"].tolist()
        assert all(a.equals_exact(b, 0.0) for a, b in zip(got.geometry, want.geometry))
    want_dist, want_nearest = R.node_distances(fresh, "park", limit_m=900.0)
    np.testing.assert_array_equal(dist, want_dist)
    np.testing.assert_array_equal(nearest >= 0, want_nearest >= 0)
    assert len(searched) == 3  # the fresh index searched


def test_a_renumbered_graph_gives_node_distances_in_the_original_numbering(monkeypatch):
    import geopandas as gpd
    import shapely

    from analysis.reach import query as Q
    from analysis.reach.search import LOCALITY_NODES

    net = lattice(150, 150, 40.0, drop=0.05, seed=3)
    assert net.n_nodes >= LOCALITY_NODES  # searched renumbered
    rng = np.random.default_rng(4)
    homes = gpd.GeoDataFrame({"households": rng.integers(1, 50, 3000)},
                             geometry=shapely.points(rng.uniform(0, 5960, (3000, 2))),
                             crs=net.crs)
    fac = gpd.GeoDataFrame({"service": ["park"] * 12 + ["market"] * 9},
                           geometry=shapely.points(rng.uniform(0, 5960, (21, 2))), crs=net.crs)
    walk = WalkSettings()

    def index():
        return R.prepare_reach(net, homes, fac, services=("park", "market"))

    kept = index()
    R.household_minutes(kept, walk, ("park", "market"))
    assert kept.__dict__["_search"]["graph"].rank is not None
    searched = []
    real = Q.nearest_sources
    monkeypatch.setattr(Q, "nearest_sources", lambda *a, **kw: searched.append(1) or real(*a, **kw))
    dist, nearest = R.node_distances(kept, "market", limit_m=1500.0)
    assert searched == []
    want, want_nearest = R.node_distances(index(), "market", limit_m=1500.0)
    assert searched == [1]
    np.testing.assert_array_equal(dist, want)
    assert np.isinf(want).any() and np.isfinite(want).any()
    # the nearest facility: the same wherever one facility is strictly nearest
    np.testing.assert_array_equal(nearest >= 0, want_nearest >= 0)
    assert (nearest == want_nearest).mean() == 1.0


@pytest.mark.parametrize("walled", [False, True])
def test_the_kept_searches_are_never_written_by_their_readers(area, walled):
    walk = WalkSettings()
    index = _index(area, walled)
    R.household_minutes(index, walk, walk.services)
    held = [(v[1].copy(), v[2].copy()) for v in index.__dict__["_kept_searches"].values()]
    assert held
    R.household_minutes(index, walk.with_speed(0.9), walk.services)
    R.household_minutes(index, walk, walk.services)
    R.all_service_areas(index, walk)
    now = [(v[1], v[2]) for v in index.__dict__["_kept_searches"].values()]
    assert len(now) == len(held)
    for (d0, o0), (d1, o1) in zip(held, now):
        np.testing.assert_array_equal(d0, d1)
        np.testing.assert_array_equal(o0, o1)
