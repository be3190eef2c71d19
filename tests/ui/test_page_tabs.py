"""The tabs beside the map (AppTest): only the open tab is drawn, the open tab and the
gap chosen for zooming are kept while the planner opens other tabs or switches language."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import t
from tests.ui import open_tab

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic"  # has gaps in the services shown
    at.run()
    assert not at.exception and not at.error
    return at


def _has(elements, key: str) -> bool:
    return any(e.key == key for e in elements)


def test_only_the_open_tab_is_drawn_and_it_survives_a_language_switch(page):
    at = page
    assert not _has(at.selectbox, "siting_service")  # the coverage tab is open first
    open_tab(at, "siting")
    assert _has(at.selectbox, "siting_service")
    assert not _has(at.selectbox, "gap_zoom")
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception and not at.error
    assert _has(at.selectbox, "siting_service"), "the language switch closed the tab"
    assert at.session_state["gc_side_tabs_en"] == t("page.tab_siting", "en")
    at.sidebar.toggle(key="lang_en").set_value(False).run()
    assert _has(at.selectbox, "siting_service")


def test_a_gap_zoom_is_kept_while_other_tabs_are_open(page):
    at = page
    services = at.sidebar.multiselect(key="services")
    services.set_value(list(services.options)).run()  # every service: some leave gaps
    open_tab(at, "gaps")
    zoom = at.selectbox(key="gap_zoom")
    assert len(zoom.options) > 1, "the demo has no gap to zoom to"
    zoom.set_value(0).run()
    assert not at.exception and at.session_state["gc_map_focused"] is True
    open_tab(at, "siting")  # the gap list is not drawn now; the map stays on the gap
    assert not _has(at.selectbox, "gap_zoom")
    assert at.session_state["gc_map_focused"] is True
    open_tab(at, "gaps")
    assert at.selectbox(key="gap_zoom").value == 0  # the list shows the gap still chosen
    at.selectbox(key="gap_zoom").set_value(-1).run()
    open_tab(at, "notes")
    assert at.session_state["gc_map_focused"] is False
