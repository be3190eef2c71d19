"""The service-circle stage inside the pipeline and the command line (CONTRACT.md)."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
import shapely

from analysis.circles import index_stage, measure
from analysis.cli import main
from analysis.settings import WalkSettings
from geo.synthetic import synthetic_district
from tests.analysis.reach_fixtures import lattice, points_frame


def test_run_fills_reach_layers_and_summary(tmp_path):
    out, summary = tmp_path / "c.gpkg", tmp_path / "c.json"
    assert main(["run", "--demo", "synthetic:5000", "--speed-mps", "1.0", "--out", str(out),
                 "--summary", str(summary)]) == 0
    names = {str(n) for n, _ in pyogrio.list_layers(out)}
    assert {"service_areas", "coverage", "coverage_levels", "gaps"} <= names
    data = json.loads(summary.read_text(encoding="utf-8"))
    services = set(data["thresholds_min"])
    assert set(data["coverage"]) == services == set(data["crow_flies_coverage"])
    assert data["speed_mps"]["health"] == 1.0 and data["speed_mps"]["elderly_care"] == 1.0
    for s in services:
        assert 0 <= data["coverage"][s] <= data["crow_flies_coverage"][s] + 1e-12
    hh = pyogrio.read_dataframe(out, layer="households")
    assert {f"walk_min_{s}" for s in services} <= set(hh.columns)
    # minutes at 1.0 m/s: the area table of the project agrees with the summary
    cov = pyogrio.read_dataframe(out, layer="coverage")  # CONTRACT.md: one row per grid
    assert {"grid_id", "service", "households", "covered", "share"} <= set(cov.columns)
    assert cov["grid_id"].notna().all()
    assert cov.groupby("service")["households"].sum().eq(data["households"]).all()
    levels = pyogrio.read_dataframe(out, layer="coverage_levels")
    area = levels[levels["level"] == "area"].set_index("service")
    for s in services:
        assert area.loc[s, "share"] == pytest.approx(data["coverage"][s])
    areas = pyogrio.read_dataframe(out, layer="service_areas")
    assert set(areas["minutes"]) == {5, 10, 15} and set(areas["service"]) == services
    gaps = pyogrio.read_dataframe(out, layer="gaps")
    assert {"service", "households", "rank"} <= set(gaps.columns)
    assert {"reach", "service_areas", "coverage"} <= set(data["timings_s"])


def test_stage_on_bad_input_reports_instead_of_failing():
    net = lattice(6, 6, 100.0)
    hh = points_frame([[50, 0], [250, 210], [4000, 4000]], households=[10, 20, 30])
    fac = points_frame([[0, 0], [0, 0], [3000, 3000], [480, 500]],
                       service=["health", "health", "health", "kindergarten"],
                       facility_id=["h1", "h1", "far", "k1"],
                       name=["h1", "h1", "far", "k1"])
    walk = WalkSettings()
    index = index_stage(hh, fac, net, walk, boundary=shapely.box(0, 0, 450, 450))
    out = measure(hh, index, walk)
    s = out.summary
    assert s["coverage"]["culture"] == 0.0 and "culture" in s["reach"]["none_in_area"]
    assert s["reach"]["households_off_network"] == 30
    assert np.isnan(out.households["walk_min_health"].iloc[2])
    notes = " ".join(s["reach"]["notes"]["en"])
    assert "far" in notes and "duplicates" in notes and "outside the study area" in notes
    assert len(s["notes_reach"]) == len(s["reach"]["notes"]["zh"])
    area = out.coverage_levels[out.coverage_levels["level"] == "area"].set_index("service")
    assert area.loc["health", "off_network"] == 30 and area.loc["health", "households"] == 60


def test_stage_result_keeps_household_rows_and_index():
    area = synthetic_district(3000, seed=2)
    hh = area.households.iloc[::-1]
    walk = WalkSettings()
    out = measure(hh, index_stage(hh, area.facilities, area.network, walk), walk)
    assert out.households.index.equals(hh.index)
    assert list(out.households.columns[: len(hh.columns)]) == list(hh.columns)
    assert "life_circle_score" in out.households.columns


def test_a_threshold_the_user_changed_survives_the_catalogue():
    from dataclasses import replace as dc_replace

    from analysis.pipeline import RunSettings, run, walk_settings
    from geo.catalogue import load_catalogue

    walk = WalkSettings().with_threshold("bus_stop", 20)
    catalogue = load_catalogue()
    assert walk_settings(RunSettings(walk=walk), catalogue).threshold_min("bus_stop") == 20
    # a catalogue with its own threshold applies where the user kept the default
    other = tuple(dc_replace(s, threshold_min=7) if s.key == "market" else s for s in catalogue)
    merged = walk_settings(RunSettings(walk=walk), other)
    assert merged.threshold_min("market") == 7 and merged.threshold_min("bus_stop") == 20
    result = run(synthetic_district(2000, seed=3), RunSettings(walk=walk))
    assert result.summary["thresholds_min"]["bus_stop"] == 20


def test_summary_gives_coverage_for_age_groups_from_the_same_minutes():
    net = lattice(6, 6, 100.0)
    hh = points_frame([[50, 0], [500, 500]], households=[10, 10])
    hh["elderly_60plus"] = [3, 7]
    fac = points_frame([[0, 0]], service=["elderly_care"], facility_id=["e1"], name=["e1"])
    walk = WalkSettings()
    out = measure(hh, index_stage(hh, fac, net, walk), walk)
    groups = out.summary["coverage_groups"]
    covered = out.households["walk_min_elderly_care"] <= walk.threshold_min("elderly_care")
    expected = float(hh["elderly_60plus"][covered.to_numpy()].sum() / 10)
    assert groups == {"elderly_60plus": {"elderly_care": pytest.approx(expected)}}
    plain = measure(hh.drop(columns="elderly_60plus"),
                    index_stage(hh.drop(columns="elderly_60plus"), fac, net, walk), walk)
    assert "coverage_groups" not in plain.summary
