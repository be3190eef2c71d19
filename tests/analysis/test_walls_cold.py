"""The cold walled run (issue 23): a first run, with nothing kept, does no bookkeeping for
later runs that it can do without (the digest of the inputs of the plain half is made
only when there is a kept one to compare it with), and what is kept stays right when a
frame is changed in place after the run."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import shapely

from analysis import reach as R
from analysis.reach import plain as plain_module
from analysis.settings import WalkSettings
from geo.synthetic import synthetic_district
from geo.walls import build_walls


@pytest.fixture(scope="module")
def area():
    return synthetic_district(20_000)


def _walled(area, network, homes=None, fac=None):
    walk = WalkSettings()
    walls = build_walls(network, area.compounds, area.gates, max_snap_m=walk.max_snap_m)
    index = R.prepare_reach(network, area.households if homes is None else homes,
                            area.facilities if fac is None else fac,
                            max_snap_m=walk.max_snap_m, services=walk.services, walls=walls)
    return index, R.household_minutes(index, walk, walk.services)


def test_a_first_run_does_not_digest_its_inputs(area, monkeypatch):
    digests = []
    original = plain_module.inputs_key
    monkeypatch.setattr(plain_module, "inputs_key",
                        lambda *a: digests.append(1) or original(*a))
    net = replace(area.network)
    first, _ = _walled(area, net)
    assert digests == []  # nothing kept to compare with
    again, _ = _walled(area, net)
    assert again.plain is first.plain
    assert len(digests) == 2  # the kept inputs and the new ones, once each
    _walled(area, net)
    assert len(digests) == 3  # the kept digest is not made again


def test_frames_changed_in_place_after_a_run_are_measured_anew(area):
    net = replace(area.network)
    fac = area.facilities.copy()
    first, _ = _walled(area, net, fac=fac)
    p = fac.geometry.iloc[0]
    fac.loc[fac.index[0], "geometry"] = shapely.Point(p.x + 300.0, p.y)  # the same frame
    moved, reach = _walled(area, net, fac=fac)
    assert moved.plain is not first.plain
    homes = area.households.copy()
    before, _ = _walled(area, net, homes=homes)
    homes.index.name = "unit"  # the same index object renamed
    renamed, _ = _walled(area, net, homes=homes)
    assert renamed.plain is not before.plain
    _, fresh = _walled(area, replace(area.network), fac=fac)
    pd.testing.assert_frame_equal(reach.minutes, fresh.minutes)
    pd.testing.assert_frame_equal(reach.plain.minutes, fresh.plain.minutes)
