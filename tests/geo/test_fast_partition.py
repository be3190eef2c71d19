"""The compiled loops of the partition (construction and improvement) give numpy's
numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from geo.grids import construction, fast_construction, fast_partition, improvement, partition
from geo.grids.graph import CellGraph
from tests.geo.test_speed_equivalence import CITY_DIGESTS, _areas, _assignment

FAST = fast_partition.kernels()
needs_numba = pytest.mark.skipif(FAST is None, reason="numba is not installed")


@needs_numba
def test_pairwise_sum_is_numpys_sum():
    rng = np.random.default_rng(3)
    lengths = np.array(list(range(0, 300)) + [1000, 4097, 70_001])
    starts = np.r_[0, np.cumsum(lengths)]
    buf = rng.random(starts[-1]) * 10 ** rng.uniform(-3, 6, starts[-1])
    out = np.empty(len(lengths))
    fast_partition._PAIRWISE_SUMS(buf, starts, out)
    for k in range(len(lengths)):
        assert out[k] == buf[starts[k]:starts[k + 1]].sum(), lengths[k]


@needs_numba
def test_stable_argsort_and_codes_are_numpys():
    rng = np.random.default_rng(7)
    for n in list(range(0, 40)) + [257, 1000]:
        keys = np.round(rng.normal(size=n), 1)  # many ties
        keys[rng.random(n) < 0.1] = -0.0
        got = fast_partition._STABLE_ARGSORT(keys)
        assert np.array_equal(got, np.argsort(keys, kind="stable")), n
        values = rng.integers(-5, 5, n)
        code, m = fast_partition._CODES(values)
        uniq = np.unique(values)
        assert m == uniq.size and np.array_equal(code, np.searchsorted(uniq, values))


def _lattice(rng: np.random.Generator, side: int) -> CellGraph:
    """A jittered lattice with random households, areas, edge kinds and two faces."""
    n = side * side
    ii, jj = np.divmod(np.arange(n), side)
    xy = np.column_stack([jj, ii]).astype(float) * 50 + rng.normal(0, 9, (n, 2))
    right = np.flatnonzero(jj < side - 1)
    up = np.flatnonzero(ii < side - 1)
    ei = np.r_[right, up]
    ej = np.r_[right + 1, up + side]
    ekind = rng.choice([0, 0, 1, 3], len(ei))
    ekind[(jj[ei] == side // 2 - 1) & (ej == ei + 1)] = 2  # an arterial down the middle
    return CellGraph.build(w=rng.integers(0, 60, n), xy=xy, area=rng.uniform(1e3, 4e3, n),
                           perim=rng.uniform(150, 300, n), ei=ei, ej=ej,
                           elen=rng.uniform(10, 80, len(ei)), ekind=ekind)


@needs_numba
def test_resplit_scores_and_pair_objective_equal_numpy():
    rng = np.random.default_rng(11)
    compared = found = 0
    for trial in range(60):
        g = _lattice(rng, int(rng.integers(3, 9)))
        nodes = np.sort(rng.permutation(g.n)[: int(rng.integers(2, g.n + 1))])
        half = int(rng.integers(1, len(nodes)))
        pair = (nodes[:half], nodes[half:])
        lo, hi = sorted(rng.uniform(0, g.w[nodes].sum(), 2))
        mid = (lo + hi) / 2
        _, e = g.local(nodes)
        want = improvement._pair_objective(g, *pair, lo, hi, mid, e)
        got = FAST["pair_objective"](
            g.w, g.area, g.perim, g.face, g.ei, g.ej, g.elen, g.ekind, pair[0], pair[1], e,
            lo, hi, mid, improvement._FOUR_PI, improvement.MID_WEIGHT,
            improvement.CROSSING_WEIGHT, improvement.BLOCK_CUT_WEIGHT, improvement.ARTERIAL,
            improvement.BLOCK)
        assert got == want
        for current in (pair, -np.inf):
            slow = improvement.best_resplit(g, nodes, lo, hi, mid, current)
            quick = improvement.best_resplit(g, nodes, lo, hi, mid, current, FAST)
            compared += 1
            if slow is None:
                assert quick is None
                continue
            found += 1
            assert quick is not None
            assert np.array_equal(slow[0], quick[0]) and slow[1] == quick[1]
    assert compared == 120 and found > 10


@needs_numba
def test_connected_is_the_graphs_answer():
    rng = np.random.default_rng(23)
    answers = set()
    for trial in range(200):
        g = _lattice(rng, int(rng.integers(2, 7)))
        mask = rng.random(g.n) < rng.uniform(0.1, 0.9)
        got = FAST["connected"](mask, *g.undirected)
        assert got == g.connected(mask)
        answers.add(got)
    assert answers == {True, False}


@needs_numba
def test_straight_cuts_equal_numpy():
    fast = fast_construction.kernels()
    rng = np.random.default_rng(17)
    compared = 0
    for trial in range(60):
        g = _lattice(rng, int(rng.integers(3, 9)))
        nodes = np.sort(rng.permutation(g.n)[: int(rng.integers(2, g.n + 1))])
        k = int(rng.integers(2, 6))
        total = float(g.w[nodes].sum())
        lo = total / k * rng.uniform(0.5, 1.0)
        hi = total / k * rng.uniform(1.0, 1.6)
        slow = list(construction._straight_cuts(g, nodes, k, lo, hi, (lo + hi) / 2))
        quick = list(construction._straight_cuts(g, nodes, k, lo, hi, (lo + hi) / 2, fast))
        assert len(slow) == len(quick)
        for (s1, a1), (s2, a2) in zip(slow, quick):
            assert a1 == a2 and np.array_equal(s1, s2)
        compared += len(slow)
    assert compared > 200


@needs_numba
def test_compiled_city_run_has_the_recorded_digests(monkeypatch):
    from benchmarks.units import entrance_units
    from geo.grids import GridSettings, make_grids
    from geo.grids.communities import derive_communities
    from geo.synthetic import synthetic_district

    calls = []
    real = improvement._best_resplit_compiled
    table = fast_construction.kernels()["cut_table"]
    monkeypatch.setattr(improvement, "MIN_COMPILED_CELLS", 0)
    monkeypatch.setattr(improvement, "_best_resplit_compiled",
                        lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(partition, "construction_kernels",
                        lambda: {"cut_table": lambda *a: calls.append(2) or table(*a),
                                 "connected": FAST["connected"]})
    households = 30_000
    assign, areas, n_units, n_grids, pp = CITY_DIGESTS[households]
    area = synthetic_district(households, seed=1)
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    result = make_grids(units, communities, area.roads, settings=GridSettings())
    assert calls.count(1) > 100 and calls.count(2) > 50
    assert (len(result.assignment), len(result.grids)) == (n_units, n_grids)
    assert _assignment(result.assignment.index, result.assignment.to_numpy()) == assign
    assert _areas(result.grids) == areas
    assert round(result.report["mean_polsby_popper"], 6) == pp


@needs_numba
def test_warm_up_calls_each_compiled_loop_once(monkeypatch):
    g = _lattice(np.random.default_rng(29), 4)
    calls = []
    for module, name in ((improvement, "_best_resplit_compiled"),
                         (partition, "_straight_cuts")):
        real_fn = getattr(module, name)
        monkeypatch.setattr(module, name,
                            lambda *a, _f=real_fn, _n=name: calls.append(_n) or _f(*a))
    partition.warm_up(g)
    assert calls == ["_best_resplit_compiled", "_straight_cuts"]
    partition.warm_up(_lattice(np.random.default_rng(1), 1))  # one cell: nothing to load
    assert len(calls) == 2


@needs_numba
def test_the_loops_load_in_the_background_while_cells_are_built(monkeypatch):
    calls = []
    real = partition.warm_up
    monkeypatch.setattr(partition, "warm_up", lambda g: calls.append(g.n) or real(g))
    partition.warm_up_soon(10)  # too small a run: nothing started
    assert partition.ready(10) is False and calls == []
    monkeypatch.setattr(improvement, "MIN_COMPILED_CELLS", 5)
    partition.warm_up_soon(10)
    assert partition.ready(10) is True  # waits for the thread
    assert calls == [3] and partition._warming == []
