"""The detour inside compounds measured where inner paths are mapped."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.walls_calibration import detour_ratios, detour_summary
from geo.network import build_network
from geo.walls import build_walls
from tests.analysis.reach_fixtures import lines_frame
from tests.analysis.test_reach_walls import RING, SOUTH_PATH, _compound, _measure, _shift


def test_ratio_is_the_inner_path_walk_over_the_straight_line_to_the_crossing():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    walls = build_walls(net, _compound())
    # on the path's east: 50 m to it, 40 m down to the crossing at (200, 100); a home
    # 5 m from the crossing is left out (too near to say anything)
    index, _ = _measure(net, [(250, 140), (203, 104), (20, 380)], [(200, 400)], walls)
    ratios = detour_ratios(index)
    assert ratios.tolist() == pytest.approx([90 / np.hypot(50, 40)])
    summary = detour_summary(index)
    assert summary["homes"] == 1 and summary["compounds"] == 1
    assert summary["median"] == pytest.approx(90 / np.hypot(50, 40), abs=1e-3)


def test_no_inner_path_no_ratio():
    net = build_network(lines_frame(_shift(RING)))
    walls = build_walls(net, _compound(box=(50, 50, 350, 350)))  # assumed gates only
    index, _ = _measure(net, [(200, 200)], [(200, 400)], walls)
    assert detour_ratios(index).size == 0
    assert detour_summary(index)["median"] is None


def test_the_default_detour_is_the_median_measured_on_the_beijing_sample():
    from analysis import pipeline as P
    from analysis.stages import Inputs, Runner, StageCache
    from geo.walls import WallSettings
    from tests.conftest import BEIJING_OSM

    if not BEIJING_OSM.exists():
        pytest.skip("the Beijing OSM sample is not on this machine")
    area = P.load_area(osm=str(BEIJING_OSM))
    runner = Runner(inputs=Inputs(area=area), settings=P.RunSettings(), cache=StageCache(),
                    progress=None)
    summary = detour_summary(runner.get("index"))
    assert summary["homes"] >= 30 and summary["compounds"] >= 2
    assert WallSettings().inner_detour == pytest.approx(summary["median"], abs=0.01)
