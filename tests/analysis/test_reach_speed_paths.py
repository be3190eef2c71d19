"""The faster reach paths give the answers of the plain ones: the bucket-queue search the
library's metres, homes read in node order the same minutes, and the service areas merged
level by level on both cores the polygons of the one-union-per-level construction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from analysis import reach as R
from analysis.reach import areas as A
from analysis.reach import query as Q
from analysis.reach import search as F
from analysis.settings import WalkSettings

from tests.conftest import lattice_network

CRS = "EPSG:32650"


def _lattice(n_side: int, seed: int):
    return lattice_network(n_side, seed, drop=0.1)


def _short_arcs(graph: sparse.csr_array, rng) -> sparse.csr_array:
    """``graph`` with some arcs made shorter than a bucket (and some exactly zero)."""
    g = sparse.csr_array(graph, copy=True)
    pick = rng.random(g.data.size)
    g.data[pick < 0.1] = rng.uniform(0.0, 0.9, int((pick < 0.1).sum()))
    g.data[pick > 0.98] = 0.0  # explicit zeros: arcs for csgraph's sparse input
    return g


@pytest.mark.parametrize("seed", [1, 2])
def test_bucket_search_gives_the_library_metres_to_the_bit(seed):
    pytest.importorskip("numba")
    rng = np.random.default_rng(seed)
    g = _short_arcs(_lattice(70, seed).graph, rng)
    parts = F.csr_parts(g)
    n = g.shape[0]
    for k, limit in ((1, 700.0), (12, 450.0), (200, 2000.0), (30, 0.5)):
        sources = rng.choice(n, k, replace=False)
        sources = np.concatenate([sources, sources[:2]])  # a source given twice
        dist, origin = F.compiled_nearest_sources(parts, sources, limit_m=limit)
        want, _, want_origin = csgraph.dijkstra(g, directed=True, indices=sources,
                                                min_only=True, limit=limit,
                                                return_predecessors=True)
        assert np.array_equal(dist, want)  # the same floats, inf beyond the limit
        reached = np.isfinite(want)
        assert reached.sum() >= k
        assert np.array_equal(origin[reached], want_origin[reached])
        assert (origin[~reached] == -1).all()


def test_bucket_search_is_taken_for_finite_limits_only(monkeypatch):
    pytest.importorskip("numba")
    g = _lattice(20, 3).graph
    parts = F.csr_parts(g)
    used = []
    for name in ("_SEARCH", "_BUCKET_SEARCH"):
        real = getattr(F, name)
        monkeypatch.setattr(F, name, type("K", (), {
            "get": staticmethod(lambda real=real, name=name: used.append(name) or real.get())}))
    F.compiled_nearest_sources(parts, np.array([0]), limit_m=500.0)
    F.compiled_nearest_sources(parts, np.array([0]), limit_m=np.inf)
    monkeypatch.setattr(F, "MAX_BUCKETS", 10)
    F.compiled_nearest_sources(parts, np.array([0]), limit_m=500.0)
    assert used == ["_BUCKET_SEARCH", "_SEARCH", "_SEARCH"]


def _homes_and_facilities(rng, extent: float, n_homes: int, n_fac: int, services):
    homes = gpd.GeoDataFrame({"households": rng.integers(1, 50, n_homes)},
                             geometry=shapely.points(rng.uniform(0, extent, (n_homes, 2))),
                             crs=CRS)
    fac = gpd.GeoDataFrame({"facility_id": [f"F{k}" for k in range(n_fac)],
                            "service": [services[k % len(services)] for k in range(n_fac)]},
                           geometry=shapely.points(rng.uniform(0, extent, (n_fac, 2))), crs=CRS)
    return homes, fac


def test_homes_read_in_node_order_and_compiled_give_the_same_minutes(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(F, "LOCALITY_NODES", 0)  # the renumbered graph, small as it is
    net = _lattice(40, 4)
    rng = np.random.default_rng(4)
    services = ("market", "park", "health")
    homes, fac = _homes_and_facilities(rng, 1170, 4000, 24, services)
    fac = pd.concat([fac, fac.iloc[:3]], ignore_index=True)  # two facilities on one edge
    settings = WalkSettings()
    answers = []
    for sorted_from in (10**12, 0):
        monkeypatch.setattr(Q, "SORTED_POINTS", sorted_from)
        # the plain numpy walk first, then the compiled one
        monkeypatch.setattr(Q, "use_compiled", lambda n, on=sorted_from == 0: on)
        index = R.prepare_reach(net, homes, fac, services=services)
        answers.append(R.household_minutes(index, settings, services))
        pts = index.__dict__["_search"][("points", False)]  # three services: renumbered
        assert (np.diff(pts.u) >= 0).all() == (sorted_from == 0)
    before, after = answers
    pd.testing.assert_frame_equal(before.walk_m, after.walk_m, check_exact=True)
    pd.testing.assert_frame_equal(before.minutes, after.minutes, check_exact=True)
    pd.testing.assert_frame_equal(before.nearest, after.nearest)
    assert before.walk_m.notna().to_numpy().mean() > 0.9


def _areas_one_union_per_level(index, settings, service, buffer_m=25.0):
    """The construction before: each level one ``union_all`` of its new pieces' buffers and
    the level before."""
    minutes = settings.minutes
    rows = index.facility_rows(service)
    speed = settings.speed_mps(service)
    dist, _ = R.node_distances(index, service, limit_m=max(minutes) * 60.0 * speed,
                               facility_rows=rows)
    out, previous, seen = [], None, set()
    for m in minutes:
        edge, start, end = A._reached_intervals(index, dist, rows, m * 60.0 * speed)
        keys = list(zip(edge.tolist(), np.round(start, 6).tolist(), np.round(end, 6).tolist()))
        new = np.array([k not in seen for k in keys], dtype=bool)
        seen.update(keys)
        parts = shapely.buffer(A._interval_lines(index.network, edge[new], start[new], end[new]),
                               buffer_m, quad_segs=2)
        if previous is not None and not previous.is_empty:
            parts = np.append(parts, previous)
        poly = shapely.union_all(parts) if parts.size else shapely.Polygon()
        out.append(poly)
        previous = poly
    return out


@pytest.mark.parametrize("parallel_from", [0, 10**12])
def test_service_areas_are_the_one_union_per_level_polygons(parallel_from, monkeypatch):
    monkeypatch.setattr(A, "PARALLEL_PIECES", parallel_from)
    net = _lattice(45, 6)
    rng = np.random.default_rng(6)
    services = ("market", "health")
    homes, fac = _homes_and_facilities(rng, 1300, 50, 6, services)
    index = R.prepare_reach(net, homes, fac, services=services)
    settings = WalkSettings().with_speed(0.5)  # levels end inside the lattice
    for service in services:
        got = R.service_areas(index, settings, service).geometry.to_numpy()
        want = _areas_one_union_per_level(index, settings, service)
        assert len(got) == len(want) == 3
        for a, b in zip(got, want):
            assert a.is_valid and not a.is_empty
            assert shapely.symmetric_difference(a, b).area <= 1e-9 * b.area
            assert abs(a.area - b.area) <= 1e-9 * b.area
        assert got[0].area < got[1].area < got[2].area  # nested, growing


def test_one_search_runs_on_the_graph_as_it_is_with_the_same_minutes(monkeypatch):
    monkeypatch.setattr(F, "LOCALITY_NODES", 0)
    net = _lattice(40, 5)
    rng = np.random.default_rng(5)
    services = ("market", "park")
    homes, fac = _homes_and_facilities(rng, 1170, 3000, 10, services)
    settings = WalkSettings()
    alone = R.prepare_reach(net, homes, fac, services=services)
    one = R.household_minutes(alone, settings, ("park",))
    assert "graph" not in alone.__dict__["_search"]  # not renumbered for one search
    both = R.household_minutes(alone, settings, services)
    assert alone.__dict__["_search"]["graph"].rank is not None
    again = R.household_minutes(alone, settings, ("park",))  # the renumbered one, now made
    for other in (both, again):
        assert np.array_equal(one.walk_m["park"].to_numpy(), other.walk_m["park"].to_numpy(),
                              equal_nan=True)
        assert np.array_equal(one.nearest["park"].to_numpy(), other.nearest["park"].to_numpy())
