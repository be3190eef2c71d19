"""Panels drawn only while open (ui/lazy.py): a closed panel sends no elements, and
what the planner chose or typed in it survives while it is closed."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.ui import open_project_tab, open_sidebar_panel
from tests.ui.test_project_panels import page_script

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def keys(elements) -> set[str]:
    return {(e.key or "") for e in elements}


def test_only_the_open_project_tab_is_drawn_and_typed_values_survive(tmp_path):
    from ui.export_panel import path_key

    at = AppTest.from_function(page_script, default_timeout=120).run()
    assert not at.exception, at.exception
    path = path_key(at.session_state["gc_held"].project)
    assert path in keys(at.text_input)  # the save tab, open first
    assert "gc_open_path" not in keys(at.text_input) and "gc_format" not in keys(at.selectbox)
    at.text_input(key=path).set_value(str(tmp_path / "甲.gpkg")).run()

    open_project_tab(at, "export")
    assert path not in keys(at.text_input) and "gc_format" in keys(at.selectbox)
    at.selectbox(key="gc_format").set_value("csv").run()
    open_project_tab(at, "report")
    assert "gc_format" not in keys(at.selectbox) and "gc_report" in keys(at.button)
    at.radio(key="gc_paper").set_value("A3").run()

    open_project_tab(at, "export")
    assert at.selectbox(key="gc_format").value == "csv"
    open_project_tab(at, "report")
    assert at.radio(key="gc_paper").value == "A3"
    open_project_tab(at, "save")
    assert at.text_input(key=path).value == str(tmp_path / "甲.gpkg")
    assert not at.exception, at.exception


def test_closed_sidebar_panels_send_nothing_and_keep_their_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error
    sidebar_inputs = keys(at.sidebar.number_input)
    assert "dwelling_m2" not in sidebar_inputs and "speed_adult" in sidebar_inputs
    assert not at.sidebar.file_uploader  # the uploads, closed and empty
    assert "gc_batch_path" not in keys(at.text_input)

    open_sidebar_panel(at, "households")
    at.sidebar.number_input(key="dwelling_m2").set_value(80.0).run()
    assert at.session_state["gc_held"].run.result.settings.households.dwelling_m2 == 80.0
    at.session_state["gc_households_open"] = False  # closed again
    at.run()
    assert "dwelling_m2" not in keys(at.sidebar.number_input)
    assert at.session_state["gc_held"].run.result.settings.households.dwelling_m2 == 80.0
    at.sidebar.number_input(key="speed_adult").set_value(1.0).run()  # another rerun
    assert at.session_state["gc_held"].run.result.settings.households.dwelling_m2 == 80.0
    open_sidebar_panel(at, "households")
    assert at.sidebar.number_input(key="dwelling_m2").value == 80.0
    assert not at.exception and not at.error
