"""Siting with walled compounds uses the walled minutes coverage uses: a site covers a home
exactly when, added as a facility, it brings that home within the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import reach as R
from analysis.settings import WalkSettings
from analysis.siting import coverage_pairs, make_candidates, site_facilities
from geo.walls import WallSettings, build_walls
from tests.analysis.reach_fixtures import points_frame
from tests.analysis.test_walls_brute_force import X0, Y0, _district

SETTINGS = WalkSettings(thresholds_min=(("health", 4.0),), horizon_min=60.0)


def _index(net, homes, facilities, walls):
    hh = points_frame(homes, households=np.ones(len(homes), dtype=int))
    fac = points_frame(facilities, service=["health"] * len(facilities),
                       facility_id=[f"F{k}" for k in range(len(facilities))])
    return R.prepare_reach(net, hh, fac, services=("health",), walls=walls)


@pytest.mark.parametrize("seed", [0, 3])
def test_a_site_covers_the_homes_coverage_says_it_covers(seed):
    _, net, compounds, gates, homes, facilities = _district(seed)
    walls = build_walls(net, compounds, gates, settings=WallSettings(assume_gates=False))
    index = _index(net, homes, facilities[:1], walls)
    reach = R.household_minutes(index, SETTINGS, ("health",))
    demand = np.flatnonzero(index.on_network & ~reach.covered("health"))
    rng = np.random.default_rng(seed)
    points = np.column_stack([rng.uniform(X0, X0 + 800, 12), rng.uniform(Y0, Y0 + 800, 12)])
    cands, _ = make_candidates(index, points)
    cover = coverage_pairs(index, cands, demand, SETTINGS.threshold_m("health")).toarray()
    differs = 0
    for c in range(cands.size):
        after = _index(net, homes, np.vstack([facilities[:1], cands.xy[c]]), walls)
        covered = R.household_minutes(after, SETTINGS, ("health",)).covered("health")[demand]
        np.testing.assert_array_equal(cover[c], covered)
        plain = _index(net, homes, np.vstack([facilities[:1], cands.xy[c]]), None)
        differs += int((R.household_minutes(plain, SETTINGS, ("health",))
                        .covered("health")[demand] != covered).sum())
    assert differs > 0  # the walls change which homes a site covers
    result = site_facilities(index, reach, "health", 2, candidates=points)
    assert result.covered_after > result.covered_before
    # default candidates (nodes next to homes, inner paths included) work with walls too
    nodes = site_facilities(index, reach, "health", 1)
    assert nodes.covered_after >= nodes.covered_before
