"""Reopening a project never silently changes a number: every setting it was made with
(thresholds, speeds, whose pace, band, household model, walls, services shown, basemap,
and the settings without a widget) comes back, and what the page could not restore is
said. An OSM-based project asks for its own file by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.ui import open_project_tab

from analysis import project as pj
from analysis.pipeline import RunSettings
from analysis.project import run_settings_of, settings_differences
from analysis.settings import WalkSettings
from geo.i18n import t
from ui.session import setting_name, widgets_for

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT_S = 240

#: non-default values of every kind of sidebar setting
THRESHOLDS = {"community_service": 10, "health": 20, "kindergarten": 10, "primary_school": 15,
              "middle_school": 20, "elderly_care": 10, "market": 15, "convenience": 10,
              "pharmacy": 5, "sports": 30, "park": 5, "bus_stop": 5, "culture": 30}
WIDGETS = {"band": (150, 250), "dwelling_m2": 80.0, "default_levels": 8, "compound_far": 2.2,
           "include_dormitories": True, "persons_per_household": 2.9, "speed_adult": 1.05, "speed_elderly": 0.85,
           "speed_frail": 0.7, "walk_profile": "elderly", "basemap": "osm",
           "services": ["health", "primary_school", "market"],
           **{f"thr_{k}": v for k, v in THRESHOLDS.items()}}


def started(home: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error
    return at


def opened(path: Path, home: Path, monkeypatch) -> AppTest:
    other = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    other.query_params["demo"] = "synthetic:1500"
    other.run()
    open_project_tab(other, "open")
    other.text_input(key="gc_open_path").set_value(str(path)).run()
    other.button(key="gc_open").click().run()
    assert not other.exception and not other.error, other.error
    return other


def page_settings(at: AppTest) -> RunSettings:
    return at.session_state["gc_held"].run.result.settings


def test_every_setting_comes_back_when_a_project_is_reopened(tmp_path, monkeypatch):
    at = started(tmp_path, monkeypatch)
    for key, value in WIDGETS.items():
        at.session_state[key] = value
    from geo.walls import WallSettings  # walls off (the gates tab's switch)
    at.session_state["wall_edits"] = WallSettings(gated=False).as_dict()
    at.run()
    assert not at.exception and not at.error
    made = page_settings(at)
    assert dict(made.walk.thresholds_min) == {k: float(v) for k, v in THRESHOLDS.items()}
    assert set(dict(made.walk.service_profiles).values()) == {"elderly"}
    assert made.walls.gated is False and made.households.include_dormitories
    path = tmp_path / "settings.gpkg"
    from ui.export_panel import path_key

    at.text_input(key=path_key(at.session_state["gc_held"].project)).set_value(str(path)).run()
    at.button(key="gc_save").click().run()
    saved = pj.open_project(path)
    assert saved.meta["view"]["services"] == WIDGETS["services"]

    other = opened(path, tmp_path, monkeypatch)
    for key, value in WIDGETS.items():
        got = other.session_state[key]
        assert (list(got) if isinstance(value, (list, tuple)) else got) == \
            (list(value) if isinstance(value, (list, tuple)) else value), key
    assert other.session_state["gates_on"] is False
    assert page_settings(other).walls.gated is False
    assert settings_differences(saved.meta["settings"], page_settings(other)) == []
    assert not other.warning, [w.value for w in other.warning]
    # the numbers on the page are the file's: coverage per service as saved
    shown = other.session_state["gc_held"].project.summary
    for service, share in saved.summary["coverage"].items():
        assert abs(shown["coverage"][service] - share) < 1e-9, service
    assert shown["thresholds_min"] == saved.summary["thresholds_min"]


def test_settings_without_a_widget_come_back_and_any_threshold_is_kept(tmp_path, monkeypatch):
    """A project made elsewhere (the command line, a notebook) with a 12.5-minute clinic
    threshold, a 200 m snapping limit and 3 minute levels opens with all of them."""
    walk = WalkSettings()
    walk = dataclasses.replace(walk, max_snap_m=200.0, minutes=(5.0, 10.0, 15.0, 20.0),
                               thresholds_min=tuple((k, 12.5 if k == "health" else v)
                                                    for k, v in walk.thresholds_min))
    settings = RunSettings(walk=walk)
    from analysis.pipeline import load_area, run
    from analysis.project import area_record

    result = run(load_area(demo="synthetic:1500"), settings)
    path = tmp_path / "cli.gpkg"
    pj.save_project(result, path, extra_meta={
        "area_source": area_record("demo", "synthetic:1500", "synthetic:1500")})
    saved = pj.open_project(path)
    assert run_settings_of(saved.meta).walk.max_snap_m == 200.0
    assert widgets_for(saved.meta)["thr_health"] == 12.5

    monkeypatch.setenv("HOME", str(tmp_path))
    other = opened(path, tmp_path, monkeypatch)
    now = page_settings(other)
    assert now.walk.max_snap_m == 200.0 and now.walk.minutes == (5.0, 10.0, 15.0, 20.0)
    assert dict(now.walk.thresholds_min)["health"] == 12.5
    assert other.sidebar.selectbox(key="thr_health").value == 12.5
    assert settings_differences(saved.meta["settings"], now) == []
    assert not other.warning, [w.value for w in other.warning]


def test_differences_are_found_and_named_in_the_sidebar_words():
    walk = WalkSettings()
    five = dataclasses.replace(walk, thresholds_min=tuple((k, 5.0) for k, _ in walk.thresholds_min))
    saved = {"walk": dataclasses.asdict(walk), "grids": {"min_households": 200}}
    found = settings_differences(saved, RunSettings(walk=five))
    changed = {path for path, _, _ in found}
    expected = {f"walk.thresholds_min.{k}" for k, v in walk.thresholds_min if v != 5.0}
    assert changed == expected and len(expected) == 9
    assert setting_name("walk.thresholds_min.health", "zh") == t(
        "reopen.threshold", "zh", service="社区卫生服务中心") or "卫生" in setting_name(
        "walk.thresholds_min.health", "zh")
    assert "walk" not in setting_name("walk.speeds_mps.adult", "en")
    assert setting_name("grids.min_households", "en") == t("reopen.band_min", "en")


def test_an_osm_project_asks_for_its_own_file_by_name(tmp_path, monkeypatch):
    from tests.conftest import osm_xml

    osm = tmp_path / "街道样例.osm"
    osm.write_text(osm_xml(), encoding="utf-8")
    path = tmp_path / "osm.gpkg"
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "analysis", "run", "--osm", str(osm),
                           "--out", str(path), "--grid-min", "10", "--grid-max", "40"],
                          capture_output=True, text=True, cwd=Path(APP).parent)
    assert done.returncode == 0, done.stderr
    saved = pj.open_project(path)
    ident = saved.meta["area_source"]["id"]
    monkeypatch.setenv("HOME", str(tmp_path))
    other = opened(path, tmp_path, monkeypatch)
    said = " ".join(i.value for i in other.info)
    assert "街道样例.osm" in said and ident[:12] in said, said
    assert t("page.choose_source", "zh") not in said


def test_capacity_and_persons_per_household_come_back_also_from_older_files():
    """Persons per household is the household model's now; a file that kept it with the
    capacity settings (the earlier place) opens with it, and the capacity method and decay
    come back too (the demand table is recorded by name only, not reopened)."""
    older = {"settings": {"households": {"dwelling_m2": 80.0},
                          "capacity": {"method": "nearest_free", "decay": "gaussian",
                                       "table": "mine.csv", "persons_per_household": 3.2}}}
    settings = run_settings_of(older)
    assert settings.households.persons_per_household == 3.2
    assert settings.households.dwelling_m2 == 80.0
    assert (settings.capacity.method, settings.capacity.decay) == ("nearest_free", "gaussian")
    assert settings.capacity.table is None
    now = {"settings": {"households": {"persons_per_household": 2.8}}}
    assert run_settings_of(now).households.persons_per_household == 2.8
    assert run_settings_of({}).households.persons_per_household == 2.62
