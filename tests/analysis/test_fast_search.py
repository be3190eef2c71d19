"""The renumbered, threaded search (analysis/reach/search.py) gives the library's distances
in the original numbering, and household minutes do not depend on it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph

from analysis.reach import search as F
from analysis import reach as R
from analysis.settings import WalkSettings

from tests.conftest import lattice_network

CRS = "EPSG:32650"


def _lattice(n_side: int, seed: int = 3):
    return lattice_network(n_side, seed, drop=0.05)


def test_renumbered_search_gives_the_library_distances():
    net = _lattice(160)  # 25,600 nodes: renumbered
    search = F.SearchGraph.of(net.graph, net.node_xy)
    assert search.rank is not None
    assert np.array_equal(np.sort(search.order), np.arange(net.n_nodes))
    rng = np.random.default_rng(1)
    for k, limit in ((1, np.inf), (40, 1500.0), (400, np.inf)):
        src = rng.choice(net.n_nodes, k, replace=False)
        ref, _, ref_origin = csgraph.dijkstra(net.graph, indices=src, min_only=True,
                                              limit=limit, return_predecessors=True)
        dist, origin = search.nearest_sources(src, limit_m=limit)
        assert np.array_equal(dist, ref)  # the same floats, not merely close
        reached = np.isfinite(ref)
        assert np.array_equal(origin[reached], ref_origin[reached])
        assert (origin[~reached] == -1).all()
        own_d, own_o = search.nearest_sources(search.own(src), limit_m=limit, own=True)
        assert np.array_equal(own_d[search.rank], ref)


def test_threads_give_the_serial_answers(monkeypatch):
    net = _lattice(60)
    search = F.SearchGraph.of(net.graph)
    rng = np.random.default_rng(2)
    jobs = [(rng.choice(net.n_nodes, k, replace=False), 900.0) for k in (3, 9, 27, 5)]
    monkeypatch.setattr(F, "THREADED_NODES", 0)
    threaded = list(F.nearest_sources_many(search, jobs))
    monkeypatch.setattr(F, "THREADED_NODES", 10**12)
    serial = list(F.nearest_sources_many(search, jobs))
    assert len(threaded) == len(serial) == 4
    for (d1, o1), (d0, o0) in zip(threaded, serial):
        assert np.array_equal(d1, d0) and np.array_equal(o1, o0)


def test_household_minutes_do_not_depend_on_the_numbering(monkeypatch):
    net = _lattice(40)
    rng = np.random.default_rng(4)
    homes = gpd.GeoDataFrame({"households": rng.integers(1, 50, 3000)},
                             geometry=shapely.points(rng.uniform(0, 1170, (3000, 2))), crs=CRS)
    services = ("market", "park", "health")
    fxy = rng.uniform(0, 1170, (24, 2))
    fac = gpd.GeoDataFrame({"facility_id": [f"F{k}" for k in range(24)],
                            "service": [services[k % 3] for k in range(24)]},
                           geometry=shapely.points(fxy), crs=CRS)
    settings = WalkSettings()
    answers = []
    for locality, threaded in ((10**12, 10**12), (0, 0)):
        monkeypatch.setattr(F, "LOCALITY_NODES", locality)
        monkeypatch.setattr(F, "THREADED_NODES", threaded)
        index = R.prepare_reach(net, homes, fac, services=services)
        answers.append(R.household_minutes(index, settings, services))
        assert (index.__dict__["_search"]["graph"].rank is None) == (locality > 0)
    before, after = answers
    pd.testing.assert_frame_equal(before.walk_m, after.walk_m, check_exact=True)
    pd.testing.assert_frame_equal(before.nearest, after.nearest)
    assert before.walk_m.notna().to_numpy().mean() > 0.9


def test_the_compiled_search_gives_the_library_distances_and_sources():
    """The compiled search (the GIL released, so several run at once on large graphs) makes
    the library's relaxations: the same float metres, the same nearest source wherever the
    nearest is unique, the same limit."""
    from geo.compiled import available

    assert available()  # numba is pinned in requirements.txt
    net = _lattice(120)
    g = net.graph
    parts = F.csr_parts(g)
    rng = np.random.default_rng(5)
    for k, limit in ((1, np.inf), (25, 900.0), (300, np.inf)):
        sources = rng.choice(g.shape[0], k, replace=False)
        dist, origin = F.compiled_nearest_sources(parts, sources, limit_m=limit)
        want, _, want_origin = csgraph.dijkstra(g, directed=True, indices=sources,
                                                min_only=True, limit=limit,
                                                return_predecessors=True)
        assert np.array_equal(dist, want)  # bit for bit, inf where beyond the limit
        reached = np.isfinite(want)
        assert np.array_equal(origin[reached], want_origin[reached])
        assert (origin[~reached] == -1).all()


def test_many_searches_run_compiled_on_a_large_graph_and_agree(monkeypatch):
    """With the thresholds lowered, the services' searches take the compiled path in
    threads and give what one library search after another gives."""
    net = _lattice(120)
    search = F.SearchGraph.of(net.graph, net.node_xy)
    rng = np.random.default_rng(9)
    jobs = [(rng.choice(net.n_nodes, k, replace=False), limit)
            for k, limit in ((3, np.inf), (50, 1200.0), (400, np.inf))]
    serial = list(F.nearest_sources_many(search, jobs))
    monkeypatch.setattr(F, "THREADED_NODES", 1)
    monkeypatch.setattr(F, "use_compiled", lambda n: True)
    calls = []
    real = F.compiled_nearest_sources
    monkeypatch.setattr(F, "compiled_nearest_sources",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    threaded = list(F.nearest_sources_many(search, jobs))
    assert len(calls) == len(jobs)
    for (d1, o1), (d2, o2) in zip(serial, threaded):
        assert np.array_equal(d1, d2) and np.array_equal(o1, o2)
