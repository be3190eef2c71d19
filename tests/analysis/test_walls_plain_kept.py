"""The walled run's answer without walls is made once per inputs (issue 23): a gate edit
or a re-run with the same homes and facilities finds the plain index and its minutes kept,
and gets the same minutes as when everything is made anew; any changed input is not
served from the kept one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import reach as R
from analysis.settings import WalkSettings
from geo.synthetic import synthetic_district
from geo.walls import WallSettings, build_walls


@pytest.fixture(scope="module")
def area():
    return synthetic_district(20_000)


def _walled(area, network, settings=WallSettings(), homes=None, fac=None):
    walk = WalkSettings()
    walls = build_walls(network, area.compounds, area.gates, settings=settings,
                        max_snap_m=walk.max_snap_m)
    index = R.prepare_reach(network, area.households if homes is None else homes,
                            area.facilities if fac is None else fac,
                            max_snap_m=walk.max_snap_m, services=walk.services, walls=walls)
    return index, R.household_minutes(index, walk, walk.services)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.walk_m, b.walk_m)
    pd.testing.assert_frame_equal(a.minutes, b.minutes)
    pd.testing.assert_frame_equal(a.nearest, b.nearest)
    pd.testing.assert_frame_equal(a.plain.minutes, b.plain.minutes)
    assert a.report == b.report


def test_gate_edit_keeps_the_plain_half_and_the_same_minutes(area):
    net = replace(area.network)
    first, _ = _walled(area, net)
    opened = WallSettings(open_compounds=(str(area.compounds["compound_id"].iloc[0]),))
    edited, reach = _walled(area, net, opened)
    assert edited.plain is first.plain  # kept on the cut network
    assert edited.walls.network is first.walls.network
    _, again = _walled(area, net, opened)
    assert again.plain is reach.plain  # the plain minutes kept per settings
    _, fresh = _walled(area, replace(area.network), opened)  # nothing kept
    _same(reach, fresh)


def test_changed_inputs_are_measured_anew(area):
    net = replace(area.network)
    first, _ = _walled(area, net)
    fac = area.facilities.copy()
    p = fac.geometry.iloc[0]
    fac.loc[fac.index[0], "geometry"] = shapely.Point(p.x + 300.0, p.y)
    moved, reach = _walled(area, net, fac=fac)
    assert moved.plain is not first.plain
    homes = area.households.copy()
    homes["households"] = homes["households"].to_numpy() + 1
    more, _ = _walled(area, net, homes=homes)
    assert more.plain is not first.plain
    assert more.plain.household_weight.sum() == first.plain.household_weight.sum() + len(homes)
    renamed = area.households.set_axis(np.arange(len(area.households)) + 10)
    other, _ = _walled(area, net, homes=renamed)
    assert other.plain is not first.plain
    assert list(other.plain.household_index) == list(renamed.index)
    again, _ = _walled(area, net)  # the same homes kept once more, then only renamed
    named, _ = _walled(area, net, homes=area.households.rename_axis("unit"))
    assert named.plain is not again.plain and named.plain.household_index.name == "unit"
    _, fresh = _walled(area, replace(area.network), fac=fac)
    _same(reach, fresh)


def test_assumed_gates_kept_on_the_cut_network_give_the_same_walls(monkeypatch):
    from geo.walls import rule

    made = []
    original = rule.assumed_access
    monkeypatch.setattr(rule, "assumed_access", lambda *a: made.append(1) or original(*a))
    area = synthetic_district(50_000)  # some compounds with no way through their outline
    net = replace(area.network)
    first = build_walls(net, area.compounds, area.gates, max_snap_m=150.0)
    assert len(made) == 1 and (first.access["origin"] == "assumed").any()
    opened = WallSettings(open_compounds=(str(area.compounds["compound_id"].iloc[0]),))
    kept_walls = build_walls(net, area.compounds, area.gates, settings=opened, max_snap_m=150.0)
    assert len(made) == 1  # the same compounds need gates: found kept
    fresh = build_walls(replace(area.network), area.compounds, area.gates, settings=opened,
                        max_snap_m=150.0)
    assert len(made) == 2
    pd.testing.assert_frame_equal(kept_walls.access, fresh.access)
    assert kept_walls.report == fresh.report
    far = WallSettings(assumed_street_m=5.0)  # another setting: made again
    build_walls(net, area.compounds, area.gates, settings=far, max_snap_m=150.0)
    assert len(made) == 3
