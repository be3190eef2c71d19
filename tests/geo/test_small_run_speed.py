"""The numpy paths the small runs take (below numba's threshold) were cut to fewer calls
(issue 23): each gives the answer of the formulation it replaced, bit for bit."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from geo.grids import improvement
from geo.grids.construction import side_range
from geo.grids.graph import connected, crossing_measure, project
from geo.grids.nearland import cells_near_homes
from geo.grids.rules import compactness, compactness_one, crossings
from geo.grids.summary import covered_m2, covered_with
from geo.grids.units import piece_source, split_large_units
from tests.geo.test_fast_partition import _lattice

ARTERIAL, BLOCK = improvement.ARTERIAL, improvement.BLOCK


def _old_pair_objective(g, nx, ny, lo, hi, mid, e):
    """The pair objective as written before (commit c482392)."""
    union = np.concatenate([nx, ny])
    in_x = np.zeros(g.n, dtype=bool)
    in_x[nx] = True
    ex, ey = in_x[g.ei[e]], in_x[g.ej[e]]
    band = max(hi - lo, 1.0)
    total = 0.0
    ekind, elen = g.ekind[e], g.elen[e]
    art = ekind == ARTERIAL
    has_art = bool(art.any())
    for nodes, inside in ((nx, ex & ey), (ny, ~(ex | ey))):
        area = g.area[nodes].sum()
        perim = g.perim[nodes].sum() - 2 * elen[inside].sum()
        faces = len(set(g.face[nodes].tolist())) - 1
        along = has_art and bool(art[inside].any())
        total += compactness_one(area, perim) \
            - improvement.MID_WEIGHT * abs(g.w[nodes].sum() - mid) / band \
            - improvement.CROSSING_WEIGHT * max(faces, int(along))
    block = elen[(ex != ey) & (ekind == BLOCK)].sum()
    return total - improvement.BLOCK_CUT_WEIGHT * block / math.sqrt(max(g.area[union].sum(), 1.0))


def _old_scores(g, nodes, lo, hi, mid):
    """Every cut's score and the band mask of a re-split, as written before (c482392)."""
    n = len(nodes)
    loc, e = g.local(nodes)
    w = g.w[nodes]
    total = float(w.sum())
    low, high = side_range(total, 2, 1, lo, hi)
    n_dir = len(improvement.IMPROVE_ANGLES)
    order = np.argsort(project(g.xy[nodes], improvement._DIRECTIONS), axis=0, kind="stable")
    cw = np.cumsum(w[order], axis=0)[:-1]
    ok = (cw >= low - 1e-9) & (cw <= high + 1e-9)
    eu, ev = loc[g.ei[e]], loc[g.ej[e]]
    rank = np.empty_like(order)
    rank[order, np.arange(n_dir)] = np.arange(n)[:, None]
    ru, rv = rank[eu], rank[ev]
    r1, r2 = np.minimum(ru, rv), np.maximum(ru, rv)
    elen, ekind = g.elen[e], g.ekind[e]
    block = np.where(ekind == BLOCK, elen, 0.0)
    art = (ekind == ARTERIAL).astype(float)
    has_art = bool(art.any())
    ranks = [r2, r1, r1 + 1, r2 + 1] + ([r2, r1] if has_art else [])
    weights = [elen, elen, block, block] + ([art, art] if has_art else [])
    by_rank = improvement._by_rank(n + 1, np.stack(ranks), np.stack(weights))
    inside1 = np.cumsum(by_rank[0], axis=0)[:n - 1]
    inside2 = np.cumsum(by_rank[1][::-1], axis=0)[::-1][1:n]
    area, perim = g.area[nodes], g.perim[nodes]
    a1 = np.cumsum(area[order], axis=0)[:-1]
    s1 = np.cumsum(perim[order], axis=0)[:-1]
    area_total, perim_total = area.sum(), perim.sum()
    band = max(hi - lo, 1.0)
    cut_block = np.cumsum(by_rank[2] - by_rank[3], axis=0)[1:n]
    score = compactness(a1, s1 - 2 * inside1) \
        + compactness(area_total - a1, perim_total - s1 - 2 * inside2) \
        - improvement.MID_WEIGHT * (np.abs(cw - mid) + np.abs(total - cw - mid)) / band \
        - improvement.BLOCK_CUT_WEIGHT * cut_block / math.sqrt(max(area_total, 1.0))
    if has_art:
        along1 = np.cumsum(by_rank[4], axis=0)[:n - 1] > 0
        along2 = np.cumsum(by_rank[5][::-1], axis=0)[::-1][1:n] > 0
        faces = g.face[nodes][order]
        f1 = np.zeros((n - 1, n_dir))
        f2 = np.zeros((n - 1, n_dir))
        for face in np.unique(faces):
            m = faces == face
            c = np.cumsum(m, axis=0)[:-1]
            f1 += c > 0
            f2 += (m.sum(axis=0) - c) > 0
        score = score - improvement.CROSSING_WEIGHT * (np.maximum(f1 - 1, along1)
                                                       + np.maximum(f2 - 1, along2))
    return score, ok


def test_resplits_give_the_former_scores_cuts_and_objectives_bit_for_bit():
    rng = np.random.default_rng(17)
    scored = found = 0
    captured: list = []
    real = improvement._first_connected

    def spy(nodes, eu, ev, order, score, good, rank=None):
        captured.append(score.copy())
        answer = real(nodes, eu, ev, order, score, good, rank)
        former = real(nodes, eu, ev, order, score, good)  # each side marked from the order
        assert (answer is None) == (former is None)
        if answer is not None:
            assert np.array_equal(answer[0], former[0]) and answer[1] == former[1]
        return answer

    improvement._first_connected = spy
    try:
        for trial in range(80):
            g = _lattice(rng, int(rng.integers(3, 9)))
            nodes = rng.permutation(g.n)[: int(rng.integers(2, g.n + 1))]
            half = int(rng.integers(1, len(nodes)))
            nx, ny = np.sort(nodes[:half]), np.sort(nodes[half:])
            union = np.concatenate([nx, ny])
            total = g.w[union].sum()  # a band that two sides can often meet
            lo, hi = total * rng.uniform(0.1, 0.45), total * rng.uniform(0.55, 0.9)
            mid = (lo + hi) / 2
            e = g.local(union)[1]
            want = _old_pair_objective(g, nx, ny, lo, hi, mid, e)
            assert improvement._pair_objective(g, nx, ny, lo, hi, mid, e) == want
            assert improvement._pair_objective(g, nx, ny, lo, hi, mid) == want
            assert np.array_equal(g.edges_inside(union), e)
            score, ok = _old_scores(g, union, lo, hi, mid)
            proj = project(g.xy, improvement._DIRECTIONS)
            answers = []
            for p in (None, proj):
                captured.clear()
                answers.append(improvement.best_resplit(g, union, lo, hi, mid, (nx, ny), None, p))
                if ok.any():
                    assert captured[0].tobytes() == score.tobytes()
                    scored += 1
            a, b = answers
            assert (a is None) == (b is None)
            if a is not None:
                found += 1
                assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[1] > want
    finally:
        improvement._first_connected = real
    assert scored > 100 and found > 10, (scored, found)


def test_connected_and_crossings_are_the_graphs_answers():
    rng = np.random.default_rng(29)
    seen = set()
    for trial in range(150):
        g = _lattice(rng, int(rng.integers(2, 12)))
        mask = rng.random(g.n) < rng.uniform(0.02, 0.9)
        members = np.flatnonzero(mask)
        want = len(members) == 1 or (len(members) > 1 and connected(g.n, g.ei, g.ej, mask))
        assert g.connected(mask) == want
        seen.add(want)
        if len(members):
            loc, inner = g.local(members)
            assert crossing_measure(g, members) == (int(crossings(
                np.zeros(len(members), dtype=np.int64), g.w[members], loc[g.ei[inner]],
                loc[g.ej[inner]], g.ekind[inner] == ARTERIAL)[0])
                if (g.w[members] > 0).any() else 0)
    assert seen == {True, False}


def test_near_homes_check_and_covered_areas_are_the_former_ones():
    rng = np.random.default_rng(5)
    answers = set()
    for trial in range(60):
        cells = shapely.buffer(shapely.points(rng.uniform(0, 400, (5, 2)) + 5e5),
                               rng.uniform(5, 60), quad_segs=2)
        homes = rng.uniform(0, 400, (int(rng.integers(1, 6)), 2)) + 5e5
        xy, cell = shapely.get_coordinates(cells, return_index=True)
        inside = 200 * math.cos(math.pi / 16) - 1.0
        d2 = ((xy[:, None, :] - homes[None, :, :]) ** 2).sum(axis=2)
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        want = bool((np.maximum.reduceat((d2 > inside * inside).astype(np.int8), starts,
                                         axis=0) == 0).any(axis=1).all())
        assert cells_near_homes(cells, homes, 200.0) == want
        answers.add(want)
    assert answers == {True, False}
    squares = shapely.box(np.arange(6) * 10.0, 0, np.arange(6) * 10.0 + 10, 10)
    grids = gpd.GeoDataFrame({"community_id": ["B", "A", "B", "A", "C", "B"]},
                             geometry=squares, crs=3857)
    whole = covered_m2(grids).to_dict()
    assert covered_with(grids, {"A": whole["A"]}) == whole
    assert covered_with(grids, {}) == whole


def test_piece_sources_are_the_units_positions():
    units = gpd.GeoDataFrame({"unit_id": ["a", "b", 3, "d"], "households": [10, 700, 5, 450]},
                             geometry=gpd.points_from_xy([0, 1, 2, 3], [0, 0, 0, 0]),
                             crs=3857)
    pieces, _ = split_large_units(units, band=(200, 300))
    assert piece_source(pieces, units).tolist() == [0, 1, 1, 1, 2, 3, 3]


def test_improvement_with_remembered_grid_terms_makes_the_same_grids():
    """Each grid's own terms of a pair's objective are kept while its cells stay: the
    improvement's labels and work are those of objectives computed afresh every time."""
    from geo.grids.graph import Zone
    from geo.grids.settings import GridSettings

    rng = np.random.default_rng(41)
    real = improvement.best_resplit
    moved = 0
    for trial in range(12):
        g = _lattice(rng, int(rng.integers(6, 11)))
        side = int(np.sqrt(g.n))
        labels = (np.arange(g.n) % side) // 2 + side * ((np.arange(g.n) // side) // 2)
        labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
        k = int(labels.max()) + 1
        weights = np.bincount(labels, weights=g.w)
        status = "relaxed" if trial % 3 == 0 else "infeasible" if trial % 3 == 1 else "ok"
        zone = Zone(np.arange(g.n), float(weights.min()), float(weights.max()), k, status)
        settings = GridSettings()
        with_terms = improvement.improve(g, labels, np.zeros(k, dtype=np.int64), [zone],
                                         settings)
        improvement.best_resplit = lambda *a: real(*a[:8])  # no terms: each afresh
        try:
            afresh = improvement.improve(g, labels, np.zeros(k, dtype=np.int64), [zone],
                                         settings)
        finally:
            improvement.best_resplit = real
        assert np.array_equal(with_terms[0], afresh[0])
        assert with_terms[1].as_dict() == afresh[1].as_dict()
        moved += with_terms[1].resplits
    assert moved > 5
