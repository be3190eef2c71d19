"""Property: a wall only takes ways away, so with walls nobody's walk is ever shorter.

Over generated districts (sizes, seeds, high-rise shares, a detour factor inside
compounds, a seeded half of the compounds opened) and the real Beijing sample: per
household and service, the walled walk is never shorter than the summary's model without
walls (:func:`analysis.reach.walls.without_walls`), nor than the planner's "walls off"
(``WallSettings(gated=False)``), which must be the same model, nor with some compounds
opened. (Opening some compounds need not shorten every walk: a facility in an opened
compound snaps to its nearest way, which may lie over the wall.) The summary's coverage
with walls is never above coverage without.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis import pipeline as P
from analysis.reach import household_minutes
from analysis.reach.walls import compound_access, without_walls
from analysis.stages import Inputs, Runner, StageCache
from geo.synthetic import synthetic_district
from geo.walls import WallSettings
from tests.conftest import BEIJING_OSM

TOL_MIN = 1e-6


def _run(area, walls: WallSettings, cache: StageCache):
    settings = replace(P.RunSettings(), walls=walls)
    runner = Runner(inputs=Inputs(area=area), settings=settings, cache=cache, progress=None)
    index = runner.get("index")
    reach = runner.get("reach")
    return index, reach.reach, reach.walk


def _minutes(reach, service):
    return reach.minutes[f"walk_min_{service}"].to_numpy()


def _never_shorter(longer, shorter, services, what):
    for s in services:
        a, b = _minutes(longer, s), _minutes(shorter, s)
        # beyond the horizon (NaN) with walls is allowed, never the other way round
        bad = (np.isfinite(a) & ~np.isfinite(b)) | (np.isfinite(a) & (a < b - TOL_MIN))
        assert not bad.any(), (what, s, int(bad.sum()), np.flatnonzero(bad)[:5])


def _check(area, walls: WallSettings = WallSettings(), *, seed: int = 0) -> dict:
    cache = StageCache()  # the base stage (homes, grids) is made once per area
    index, walled, walk = _run(area, walls, cache)
    services = index.services
    assert index.walls is not None and index.walls.n_gated > 0
    twin = household_minutes(without_walls(index), walk, services)
    np.testing.assert_array_equal(twin.on_network.to_numpy(), walled.on_network.to_numpy())
    _never_shorter(walled, twin, services, "without_walls")
    off_index, off, _ = _run(area, replace(walls, gated=False), cache)
    assert off_index.walls.n_gated == 0
    for s in services:  # the page's "walls off" is the summary's "without walls"
        np.testing.assert_allclose(_minutes(off, s), _minutes(twin, s), atol=TOL_MIN)
    block = compound_access(index, walled, walk, services, plain=twin)
    for s in services:
        cov = block["coverage"][s]
        assert cov["with_walls"] <= cov["without_walls"] + 1e-12, s
        assert block["minutes_changed"][s]["shorter"]["households"] == 0, s
    ids = index.walls.compound_ids
    rng = np.random.default_rng(seed)
    half = tuple(sorted(rng.choice(ids, size=max(1, ids.size // 2), replace=False)))
    _, partly, _ = _run(area, replace(walls, open_compounds=walls.open_compounds + half),
                          cache)
    _never_shorter(partly, twin, services, "all opened")
    return block


@pytest.mark.parametrize("households, seed, high_rise, detour", [
    (1000, 0, 0.5, 1.0),
    (3000, 0, 0.5, 1.0),   # the demo the bug was found on
    (3000, 5, 0.0, 1.3),   # mid-rise slabs, a detour inside (facilities leave by paths)
    (6000, 2, 1.0, 1.0),
    (12000, 9, 0.5, 1.2),
])
def test_walls_never_shorten_a_walk_in_generated_districts(households, seed, high_rise, detour):
    area = synthetic_district(households, seed=seed, high_rise_share=high_rise)
    _check(area, WallSettings(inner_detour=detour), seed=seed)


def test_walls_never_shorten_a_walk_in_the_beijing_sample():
    if not BEIJING_OSM.exists():
        pytest.skip("the Beijing OSM sample is not on this machine")
    area = P.load_area(osm=str(BEIJING_OSM))
    block = _check(area, seed=1)
    assert block["compounds_gated"] >= 3 and block["households_affected"] > 1000
    # real walls matter somewhere: some walk is longer with them
    assert any(block["minutes_changed"][s]["longer"]["households"] > 0
               for s in block["minutes_changed"])
