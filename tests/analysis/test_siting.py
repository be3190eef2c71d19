"""Siting: coverage model against brute force, greedy against the exact optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import reach as R
from analysis import siting as S
from analysis.settings import WalkSettings
from geo.errors import InputError
from tests.analysis.reach_fixtures import lattice, points_frame, random_network

SETTINGS = WalkSettings()


def _case(seed: int, *, n_hh: int = 300, n_fac: int = 2, drop: float = 0.15):
    net = lattice(16, 16, 80.0, drop=drop, seed=seed)
    rng = np.random.default_rng(seed)
    hh = points_frame(rng.uniform(0, 1200, (n_hh, 2)), households=rng.integers(1, 60, n_hh))
    fac = points_frame(rng.uniform(0, 1200, (n_fac, 2)), service=["primary_school"] * n_fac)
    index = R.prepare_reach(net, hh, fac)
    reach = R.household_minutes(index, SETTINGS, services=("primary_school",))
    return net, hh, fac, index, reach


@pytest.mark.parametrize("seed", [0, 1])
def test_coverage_pairs_match_brute_force(seed):
    net, hh, fac, index, reach = _case(seed)
    budget = SETTINGS.threshold_m("primary_school")
    demand = np.flatnonzero(index.on_network & ~reach.covered("primary_school"))
    rng = np.random.default_rng(seed)
    nodes = rng.choice(net.n_nodes, 12, replace=False)
    points = rng.uniform(0, 1200, (8, 2))
    for cands_in in (nodes, points):
        cands, _ = S.make_candidates(index, cands_in)
        cover = S.coverage_pairs(index, cands, demand, budget)
        for c in range(cands.size):
            site = cands.xy[c]
            one = R.prepare_reach(net, hh, points_frame([site], service=["primary_school"]))
            walk = R.household_minutes(one, SETTINGS, services=("primary_school",)).walk_m
            expected = set(np.flatnonzero(walk["primary_school"].to_numpy()[demand] <= budget))
            got = set(cover.indices[cover.indptr[c]:cover.indptr[c + 1]].tolist())
            assert got == expected


@pytest.mark.parametrize("seed", range(5))
def test_greedy_within_two_percent_of_exact(seed):
    _, _, _, index, reach = _case(seed, n_hh=250, n_fac=1)
    greedy = S.site_facilities(index, reach, "primary_school", 3, method="greedy")
    exact = S.site_facilities(index, reach, "primary_school", 3, method="exact")
    assert exact.method == "exact" and exact.report["exact"]["optimal"]
    assert exact.covered_after >= greedy.covered_after
    gain_g = greedy.covered_after - greedy.covered_before
    gain_e = exact.covered_after - exact.covered_before
    assert gain_g >= 0.98 * gain_e
    assert exact.covered_before == greedy.covered_before


def test_siting_result_matches_a_rerun_with_the_new_facilities():
    net, hh, fac, index, reach = _case(3, n_fac=1)
    result = S.site_facilities(index, reach, "primary_school", 4)
    assert result.coverage_after > result.coverage_before
    assert result.sites["added_households"].is_monotonic_decreasing or result.method == "exact"
    assert result.sites["added_households"].sum() == result.covered_after - result.covered_before
    both = pd.concat([fac, result.as_facilities()], ignore_index=True)
    rerun = R.household_minutes(R.prepare_reach(net, hh, both), SETTINGS,
                                services=("primary_school",))
    assert rerun.report["primary_school"]["covered_households"] == result.covered_after
    newly = rerun.covered("primary_school") & ~reach.covered("primary_school")
    assert (newly == result.newly_covered.to_numpy()).all()


def test_more_sites_never_cover_less():
    _, _, _, index, reach = _case(4, n_fac=0)
    after = [S.site_facilities(index, reach, "primary_school", p, method="greedy").covered_after
             for p in (1, 2, 4, 8)]
    assert after == sorted(after)


def test_default_candidates_are_nodes_next_to_homes():
    net = random_network(60, seed=3)
    rng = np.random.default_rng(3)
    hh = points_frame(rng.uniform(0, 2000, (100, 2)), households=np.full(100, 5))
    index = R.prepare_reach(net, hh, points_frame([[0, 0]], service=["park"]))
    nodes = S.residential_nodes(index)
    snap = index.household_snap
    on = snap.edge >= 0
    ends = set(net.edge_u[snap.edge[on]]) | set(net.edge_v[snap.edge[on]])
    assert set(nodes.tolist()) == ends
    reach = R.household_minutes(index, SETTINGS, services=("park",))
    result = S.site_facilities(index, reach, "park", 2)
    assert result.report["candidates_from"] == "residential_nodes"
    assert set(result.sites["node"]).issubset(ends)


def test_bad_siting_input():
    _, _, _, index, reach = _case(5)
    for p in (0, -1, 2.5, "3", True, 10_000):
        with pytest.raises(InputError):
            S.site_facilities(index, reach, "primary_school", p)
    with pytest.raises(InputError):
        S.site_facilities(index, reach, "primary_school", 1, method="best")
    with pytest.raises(InputError):  # every candidate point is far off the network
        S.site_facilities(index, reach, "primary_school", 1, candidates=np.array([[9e5, 9e5]]))
