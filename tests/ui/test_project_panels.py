"""The edit and project panels: the editing map's HTML (offline, with Leaflet.draw), map
events turned into units, and the panels driven end to end with Streamlit's AppTest."""

from __future__ import annotations

from tests.ui import edit_widget, open_project_tab

import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from analysis import project as pj
from geo.grids import edits
from tests.analysis.project_fixtures import project_result
from ui import edit_panel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(small_district):
    return pj.project_from_result(project_result(small_district))



def path_box(at: AppTest):
    """The project panel's path box (its key follows the project's area and file)."""
    from ui.export_panel import path_key

    return at.text_input(key=path_key(at.session_state["gc_held"].project))

def test_edit_map_is_offline_and_has_the_drawing_tool(project):
    html = edit_panel.edit_map(project, lang="zh", selected=["B000000"]).get_root().render()
    links = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert links and all(not link.startswith(("http:", "https:", "//")) for link in links), links
    assert "../../app/static/vendor/leaflet-draw/leaflet.draw.js" in links
    assert "../../app/static/vendor/leaflet-draw/leaflet.draw.css" in links
    for link in links:
        local = ROOT / "static" / link.split("app/static/")[1]
        if "leaflet-draw" in link or (ROOT / "static" / "vendor" / "leaflet").exists():
            assert local.is_file(), link  # Leaflet itself is vendored by the page
    assert "L.Control.Draw" in html
    assert "C0101" in html  # grid tooltips


def test_edit_map_key_follows_what_the_map_shows(project, small_district):
    key = edit_panel.map_key(project, lang="zh")
    again = pj.project_from_result(project_result(small_district))  # the same grids again
    assert edit_panel.map_key(again, lang="zh") == key
    assert edit_panel.map_key(project, lang="en") != key
    assert edit_panel.map_key(project, lang="zh", selected=["B000000"]) != key
    grid = project.session.state.grid_ids()[0]
    renamed, _ = pj.edit_project(project, edits.rename_grid, grid, "东区", author="")
    assert edit_panel.map_key(renamed, lang="zh") != key


def test_map_events_become_units(project):
    state = project.session.state
    cell = state.cells.iloc[0]
    drawn = gpd.GeoSeries([cell.geometry.buffer(1)], crs=state.crs).to_crs(4326).iloc[0]
    event = {"last_active_drawing": {"type": "Feature", "geometry": shapely.geometry.mapping(drawn)}}
    assert edit_panel.units_from_event(project, event) == [cell["unit_id"]]
    point = gpd.GeoSeries([cell.geometry.representative_point()], crs=state.crs).to_crs(4326).iloc[0]
    click = {"last_active_drawing": None, "last_object_clicked": {"lat": point.y, "lng": point.x}}
    assert edit_panel.units_from_event(project, click) == [cell["unit_id"]]
    assert edit_panel.units_from_event(project, None) == []


def page_script(lang: str = "zh") -> None:
    from types import SimpleNamespace

    import streamlit as st

    from analysis.pipeline import run
    from geo.synthetic import synthetic_district
    from tests.analysis.project_fixtures import with_compound_grids
    from ui import edit_panel, export_panel

    @st.cache_resource
    def result():
        return with_compound_grids(run(synthetic_district(5_000, seed=1)))

    page = SimpleNamespace(lang=lang, services=("market",), band=(200, 300))
    edit_panel.panel(result(), page)
    export_panel.panel(result(), page)


def active(at: AppTest) -> pj.Project:
    return at.session_state["gc_held"].project


def test_panels_edit_undo_save_autosave_and_conflict(tmp_path):
    at = AppTest.from_function(page_script, default_timeout=120).run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "网格调整"
    at.text_input(key="gc_author").set_value("王工").run()
    at.radio(key="gc_op").set_value("split").run()
    edit_widget(at.selectbox, "gc_split").set_value("C0105").run()
    at.button(key="gc_apply_split").click().run()
    assert not at.exception, at.exception
    project = active(at)
    assert project.session.position == 1 and "C0107" in project.session.state.grid_ids()
    assert project.session.entries[0].author == "王工"
    assert any("C0107" in str(df.value) for df in at.dataframe)  # the before/after table
    assert any("C0105" in w.value or "C0107" in w.value for w in at.warning)  # out of band
    at.button(key="gc_undo").click().run()
    assert active(at).session.position == 0 and active(at).session.can_redo
    at.button(key="gc_redo").click().run()
    assert active(at).session.position == 1

    # save to a file: later edits are saved automatically
    path = tmp_path / "项目.gpkg"
    path_box(at).set_value(str(path)).run()
    at.button(key="gc_save").click().run()
    assert not at.exception, at.exception
    assert pj.read_meta(path)["revision"] == 1
    at.radio(key="gc_op").set_value("rename").run()
    edit_widget(at.selectbox, "gc_rename").set_value("C0101").run()
    edit_widget(at.text_input, "gc_new_name").set_value("东区一网格").run()
    at.button(key="gc_apply_rename").click().run()
    assert pj.read_meta(path)["revision"] == 2
    assert pj.open_project(path).session.state.row("C0101")["name"] == "东区一网格"

    # someone else saves the same file: the next edit goes to a recovery copy, with a warning
    other = pj.open_project(path)
    other, _ = pj.edit_project(other, edits.set_locked, ["C0102"], True, author="李工")
    pj.save(other)
    at.radio(key="gc_op").set_value("split").run()
    edit_widget(at.selectbox, "gc_split").set_value("C0106").run()
    at.button(key="gc_apply_split").click().run()
    assert not at.exception, at.exception
    copies = list(tmp_path.glob("项目.recovered-*.gpkg"))
    assert len(copies) == 1
    assert any("项目.recovered-" in w.value for w in at.warning)
    assert pj.open_project(path).session.state.row("C0102")["locked"]  # theirs intact
    assert pj.open_project(copies[0]).session.position == 3  # ours intact


def test_panels_in_english_export_and_report_buttons(tmp_path):
    at = AppTest.from_function(page_script, kwargs={"lang": "en"}, default_timeout=120).run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Edit grids" and at.subheader[1].value == "Project"
    open_project_tab(at, "export")
    at.selectbox(key="gc_format").set_value("csv").run()
    at.button(key="gc_prepare").click().run()
    assert not at.exception, at.exception
    assert at.session_state["gc_want_export"] == "csv"
    downloads = at.session_state["gc_downloads"]
    name, data, mime = next(v for k, v in downloads.items() if k[0] == "export_csv")
    assert name.endswith("_csv.zip") and data[:2] == b"PK"
    open_project_tab(at, "report")
    at.button(key="gc_report").click().run()
    assert not at.exception, at.exception
    pdf = next(v for k, v in at.session_state["gc_downloads"].items() if k[0][0] == "report")
    assert pdf[:5] == b"%PDF-"
