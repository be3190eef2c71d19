"""The walls' speed work gives the same answers: points in compounds without shapely
points, assumed gates for every side at once, the lightest parallel arc by one sort, the
walled graph kept on the walls and the walls kept by the stage runner (issue 23)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse

from analysis.pipeline import run
from analysis.run_types import RunSettings
from analysis.stages import Inputs, StageCache, run_stages
from geo.grids import GridSettings
from geo.synthetic import synthetic_district
from geo.walls import WallSettings, build_walls
from geo.walls.gates import _access_frame, assumed_access
from geo.walls.graph import _in_boxes, _min_csr, compound_of, walled_graph
from geo.walls.rule import wall_candidates
from tests.conftest import BEIJING_OSM


def test_points_in_boxes_and_compounds_match_shapely():
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(1, 40))
        corner = rng.uniform(0, 1000, (n, 2))
        size = rng.exponential(60, (n, 2)) * (rng.random((n, 1)) < 0.9)
        if trial % 6 == 0:
            size[0] = (3000, 2500)  # one huge box among small ones
        polys = shapely.box(corner[:, 0], corner[:, 1], corner[:, 0] + size[:, 0],
                            corner[:, 1] + size[:, 1])
        if trial % 4 == 0:
            polys[int(rng.integers(n))] = shapely.Polygon()
        xy = rng.uniform(-100, 1200, (int(rng.integers(1, 300)), 2))
        k = min(n, xy.shape[0])
        xy[:k, 0] = corner[:k, 0] + size[:k, 0]  # on the boxes' edges and corners
        xy[:k // 2, 1] = corner[:k // 2, 1]
        xy[0] = (np.nan, 5.0)
        ok = np.isfinite(xy).all(axis=1)
        src, tgt = _in_boxes(shapely.bounds(polys), xy[ok])
        s2, t2 = shapely.STRtree(polys).query(shapely.points(xy[ok]))
        assert set(zip(src.tolist(), tgt.tolist())) == set(zip(s2.tolist(), t2.tolist()))
        expected = np.full(xy.shape[0], -1)
        for i in np.flatnonzero(ok):
            held = [j for j in range(n) if shapely.Point(xy[i]).within(polys[j])]
            expected[i] = held[0] if held else -1
        assert np.array_equal(compound_of(polys, xy), expected)


def test_lightest_parallel_arc_as_a_three_key_sort():
    rng = np.random.default_rng(3)
    n = 50
    rows, cols = rng.integers(0, n, 400), rng.integers(0, n, 400)
    weights = np.round(rng.uniform(0, 20, 400), 0)  # ties and zeros
    weights[:20] = 0.0
    got = _min_csr(rows, cols, weights, n)
    order = np.lexsort((weights, cols, rows))
    r, c, w = rows[order], cols[order], weights[order]
    first = np.ones(r.size, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    want = sparse.csr_array((w[first], (r[first], c[first])), shape=(n, n))
    for a, b in ((got.indptr, want.indptr), (got.indices, want.indices), (got.data, want.data)):
        assert np.array_equal(a, b)
    assert got.nnz == len(set(zip(rows.tolist(), cols.tolist())))  # explicit zeros kept


def _assumed_one_side_at_a_time(net, polys, edge_owner, compounds, street_m, max_snap_m):
    """The assumed gates as they were made before: a loop over compounds and sides."""
    cols = {"compound": [], "x": [], "y": []}
    outside = np.flatnonzero(edge_owner < 0)
    if compounds.size == 0 or outside.size == 0:
        return _access_frame(cols, net, outside, max_snap_m)
    geoms = net.edge_geometry[outside]
    tree = shapely.STRtree(geoms)
    for c in compounds:
        poly = polys[c]
        ring = shapely.boundary(poly)
        cx, cy = shapely.get_coordinates(shapely.centroid(poly))[0]
        minx, miny, maxx, maxy = poly.bounds
        r = 2 * max(maxx - minx, maxy - miny) + 10
        corners = {"n": ((-r, r), (r, r)), "e": ((r, r), (r, -r)),
                   "s": ((r, -r), (-r, -r)), "w": ((-r, -r), (-r, r))}
        found = []
        for a, b in corners.values():
            wedge = shapely.Polygon([(cx, cy), (cx + a[0], cy + a[1]), (cx + b[0], cy + b[1])])
            side = shapely.intersection(ring, wedge)
            if side.is_empty:
                continue
            near = tree.query(side, predicate="dwithin", distance=street_m)
            if near.size == 0:
                continue
            faced = shapely.length(shapely.intersection(
                side, shapely.buffer(geoms[near], street_m)))
            d = shapely.distance(side, geoms[near])
            k = near[np.lexsort((d, -np.round(faced, 1)))[0]]
            d_k = float(shapely.distance(side, geoms[k]))
            stretch = shapely.get_parts(shapely.line_merge(shapely.intersection(
                side, shapely.buffer(geoms[k], d_k + 1.0))))
            stretch = stretch[shapely.get_type_id(stretch) == 1]
            if stretch.size:
                part = stretch[int(np.argmax(shapely.length(stretch)))]
                x, y = shapely.get_coordinates(
                    shapely.line_interpolate_point(part, 0.5, normalized=True))[0]
            else:
                x, y = shapely.get_coordinates(shapely.shortest_line(side, geoms[k]))[0]
            if all(np.hypot(x - fx, y - fy) > 1.0 for fx, fy in found):
                found.append((x, y))
        for x, y in found:
            cols["compound"].append(int(c))
            cols["x"].append(float(x))
            cols["y"].append(float(y))
    return _access_frame(cols, net, outside, max_snap_m)


def _areas():
    yield "synthetic", synthetic_district(100_000, seed=1)
    if BEIJING_OSM.is_file():
        from analysis.pipeline import load_area

        yield "beijing", load_area(osm=str(BEIJING_OSM))


@pytest.mark.parametrize("street_m", [60.0, 25.0])
def test_assumed_gates_for_every_side_at_once_are_the_loop_s(street_m):
    checked = 0
    for _, area in _areas():
        walls = build_walls(area.network, area.compounds, area.gates,
                            settings=WallSettings(assume_gates=False))
        need = np.flatnonzero(walls.compounds["status"].to_numpy() == "no_access")
        cands = wall_candidates(area.compounds, WallSettings(), area.network.crs)
        polys = cands.geometry.to_numpy()
        pos = np.flatnonzero(np.isin(cands["compound_id"].to_numpy(),
                                     walls.compounds["compound_id"].to_numpy()[need]))
        owner = np.full(walls.network.n_edges, -1)
        args = (walls.network, polys, owner, pos, street_m, 150.0)
        got, want = assumed_access(*args), _assumed_one_side_at_a_time(*args)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        checked += len(want)
    assert checked > 20  # gates were assumed, on more than one side of some compounds


def test_walled_graph_is_kept_per_exit_set_and_equals_a_fresh_one():
    area = synthetic_district(20_000, seed=2)
    walls = build_walls(area.network, area.compounds, area.gates)
    some = np.flatnonzero(walls.restrict)[:3]
    first = walls.graph(some)
    assert walls.graph(some) is first  # kept, not made again
    fresh, exit_node = walled_graph(walls.network, walls.edge_walled, walls.access,
                                    walls.edge_node_u, walls.edge_node_v, walls.n_nodes, some)
    assert np.array_equal(first[1], exit_node)
    assert (first[0] != fresh).nnz == 0 and first[0].nnz == fresh.nnz
    every = walls.graph()
    assert every is not first and every[0].shape[0] > first[0].shape[0]


def test_the_cut_network_is_kept_per_outlines_and_walls_on_it_are_a_fresh_build_s():
    area = synthetic_district(20_000, seed=3)
    first = build_walls(area.network, area.compounds, area.gates)
    opened = WallSettings(open_compounds=(str(area.compounds["compound_id"].iloc[0]),))
    again = build_walls(area.network, area.compounds, area.gates, settings=opened)
    assert again.network is first.network  # the outlines did not change
    fresh = build_walls(replace(area.network), area.compounds, area.gates, settings=opened)
    assert fresh.network is not again.network
    pd.testing.assert_frame_equal(again.access, fresh.access, check_exact=True)
    for name in ("edge_compound", "edge_walled", "edge_node_u", "edge_node_v", "restrict"):
        assert np.array_equal(getattr(again, name), getattr(fresh, name)), name
    assert again.report == fresh.report and again.n_gated == first.n_gated - 1
    smaller = area.compounds.iloc[1:]
    assert build_walls(area.network, smaller, area.gates).network is not first.network


def test_the_runner_builds_the_walls_once_while_the_grids_change():
    area = synthetic_district(3000, seed=4)
    cache = StageCache()
    inputs = Inputs(area=area, key="area")
    run_stages(inputs, RunSettings(), cache=cache)
    band = RunSettings(grids=GridSettings(min_households=150, max_households=250))
    again = run_stages(inputs, band, cache=cache)
    assert cache.misses["walls"] == 1 and cache.misses["index"] == 2
    assert again.result.summary["compound_access"]["compounds_gated"] > 0
    fresh = run(area, band)  # the same numbers as walls built for this run alone
    for key in ("coverage", "compound_access", "reach"):
        assert again.result.summary[key] == fresh.summary[key], key
    gates = RunSettings(walls=WallSettings(assume_gates=False))
    run_stages(inputs, gates, cache=cache)
    assert cache.misses["walls"] == 2  # other wall settings: other walls
