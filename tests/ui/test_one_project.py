"""One project at a time on the whole page (AppTest): the save path follows the area,
saving one area over another area's project asks first, switching area with unsaved
edits asks first, and opening a project replaces the page's area, settings and grids."""

from __future__ import annotations

from tests.ui import edit_widget, open_tab, open_project_tab

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analysis import project as pj
from geo.i18n import t

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT_S = 180



def path_box(at: AppTest):
    """The project panel's path box (its key follows the project's area and file)."""
    from ui.export_panel import path_key

    return at.text_input(key=path_key(at.session_state["gc_held"].project))

def metric(at: AppTest, key: str) -> str:
    label = t(key, "zh")
    return next(m.value for m in at.metric if m.label == label)


def rename_first_grid(at: AppTest, name: str) -> str:
    at.radio(key="gc_op").set_value("rename").run()
    grid = edit_widget(at.selectbox, "gc_rename").value
    edit_widget(at.text_input, "gc_new_name").set_value(name).run()
    at.button(key="gc_apply_rename").click().run()
    assert not at.exception, at.exception
    return grid


def started(demo: str, home: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = demo
    at.run()
    assert not at.exception and not at.error
    return at


def test_the_path_follows_the_area_and_saving_over_another_area_asks_first(tmp_path, monkeypatch):
    at = started("synthetic:2000", tmp_path, monkeypatch)
    assert path_box(at).value == str(tmp_path / "gridcircle" / "synthetic_2000.gpkg")
    grid = rename_first_grid(at, "东区一网格")
    a = tmp_path / "A.gpkg"
    path_box(at).set_value(str(a)).run()
    at.button(key="gc_save").click().run()
    assert not at.exception and not at.error
    meta = pj.read_meta(a)
    assert meta["area_source"]["id"] == "synthetic:2000"
    # the page's project holds what the command line's holds (the same stage graph)
    from analysis.pipeline import load_area, run

    cli = run(load_area(demo="synthetic:2000")).summary
    page = meta["summary"]
    assert page["reach"]["polygon_misclassified_households"] == \
        cli["reach"]["polygon_misclassified_households"]
    assert page["coverage"] == cli["coverage"]
    assert sorted(pj.read_layers(a)["service_areas"]["service"].unique()) == sorted(cli["coverage"])

    at.sidebar.selectbox(key="demo").set_value("synthetic").run()  # saved: no question
    assert not at.exception and not at.error
    assert metric(at, "app.households") == "20,000"
    box = path_box(at).value
    assert "A.gpkg" not in box and box.endswith("synthetic.gpkg")
    path_box(at).set_value(str(a)).run()
    at.button(key="gc_save").click().run()
    assert not at.exception
    from ui.sidebar import demo_label

    assert any(demo_label("synthetic:2000", "zh") in w.value for w in at.warning), \
        [w.value for w in at.warning]
    kept = pj.open_project(a)  # not replaced until confirmed
    assert kept.session.state.row(grid)["name"] == "东区一网格"
    assert int(kept.summary["households"]) == 2000
    at.button(key="gc_overwrite_yes").click().run()
    assert not at.exception and not at.error
    assert int(pj.open_project(a).summary["households"]) == 20000


def test_switching_area_with_unsaved_edits_asks_first_and_can_go_back(tmp_path, monkeypatch):
    at = started("synthetic:2000", tmp_path, monkeypatch)
    open_tab(at, "siting")
    at.selectbox(key="siting_service").set_value("kindergarten")
    at.button[0].click().run()  # a siting request: it belongs to this area
    assert at.session_state["siting_request"] == ("kindergarten", 2)
    rename_first_grid(at, "北区")
    grids = metric(at, "page.grids")
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    assert not at.exception
    from ui.sidebar import demo_label

    assert any(demo_label("synthetic", "zh") in w.value and demo_label("synthetic:2000", "zh")
               in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.metric  # nothing of the new area is computed until the planner decides
    at.button(key="gc_switch_back").click().run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="demo").value == "synthetic:2000"
    assert metric(at, "page.grids") == grids
    assert at.session_state["gc_held"].project.session.position == 1  # the edit is still there
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    at.button(key="gc_switch_go").click().run()
    assert not at.exception and not at.error
    assert metric(at, "app.households") == "20,000"
    assert at.session_state["gc_held"].project.session.position == 0
    assert "siting_request" not in at.session_state


def test_opening_a_project_replaces_the_whole_page(tmp_path, monkeypatch):
    at = started("synthetic:2000", tmp_path, monkeypatch)
    at.sidebar.slider(key="band").set_value((150, 250)).run()
    grid = rename_first_grid(at, "南区")
    from geo.walls import WallSettings  # a gate edit: one compound opened, one gate added
    edits = WallSettings(open_compounds=("C-open",), added_gates=((116.31, 39.91),)).as_dict()
    at.session_state["wall_edits"] = edits
    at.run()
    a = tmp_path / "A.gpkg"
    path_box(at).set_value(str(a)).run()
    at.button(key="gc_save").click().run()
    saved = pj.open_project(a)

    other = started("synthetic:3000", tmp_path, monkeypatch)
    assert metric(other, "app.households") == "3,000"
    open_project_tab(other, "open")
    other.text_input(key="gc_open_path").set_value(str(a)).run()
    other.button(key="gc_open").click().run()
    assert not other.exception and not other.error
    assert other.sidebar.selectbox(key="demo").value == "synthetic:2000"
    assert not other.warning, [w.value for w in other.warning]
    assert tuple(other.sidebar.slider(key="band").value) == (150, 250)
    assert metric(other, "app.households") == "2,000"
    assert int(metric(other, "page.grids")) == int(saved.summary["grids"])
    assert other.session_state["gc_held"].project.path == a
    assert other.session_state["gc_held"].project.session.position == 1
    assert path_box(other).value == str(a)
    # the planner's gate edits come back with the project, and the run uses them
    assert saved.meta["settings"]["walls"]["open_compounds"] == ["C-open"]
    assert other.session_state["wall_edits"] == saved.meta["settings"]["walls"]
    assert other.session_state["gc_held"].project.meta["settings"]["walls"] == edits
    shown = other.session_state["gc_held"].project
    assert shown.session.state.row(grid)["name"] == "南区"
    column = t("map.grid_id", "zh")
    open_tab(other, "grids")
    table = next(df.value for df in other.dataframe
                 if column in getattr(df.value, "columns", ()) and len(df.value.columns) > 5)
    assert sorted(table[column]) == sorted(saved.layers["grids"]["grid_id"])
    households = table[t("map.households_n", "zh")].astype(int).tolist()
    assert households == saved.layers["grids"].set_index("grid_id").loc[
        table[column], "households"].astype(int).tolist()


def test_a_new_area_gives_the_edit_panel_fresh_widgets(tmp_path, monkeypatch):
    """A browser keeps a drawn widget's labels while its key lives: the edit panel's
    grid choices and edit map are keyed per area, so a new area never shows the old
    area's labels (e.g. "C01-01 东区一网格 · 244 户")."""
    at = started("synthetic:2000", tmp_path, monkeypatch)
    at.radio(key="gc_op").set_value("split").run()
    before = edit_widget(at.selectbox, "gc_split").key
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    assert not at.exception and not at.error
    after = edit_widget(at.selectbox, "gc_split")
    assert after.key != before
    grids = at.session_state["gc_held"].project.session.state.grid_ids()
    assert after.value in grids


def test_one_save_status_after_saving(tmp_path, monkeypatch):
    """The edit panel draws before the project panel saves: the run that saves must not
    show "not saved to a file yet" above "saved to …"."""
    at = started("synthetic:2000", tmp_path, monkeypatch)
    not_saved = t("edit.not_saved", "zh")
    assert any(c.value == not_saved for c in at.caption)
    path_box(at).set_value(str(tmp_path / "A.gpkg")).run()
    at.button(key="gc_save").click().run()
    assert not at.exception and not at.error
    assert any(str(tmp_path / "A.gpkg") in s.value for s in at.success)
    assert not any(c.value == not_saved for c in at.caption), [c.value for c in at.caption]
    saved = at.session_state["gc_held"].project
    autosaved = t("edit.autosaved", "zh", path=str(saved.path), revision=saved.revision)
    assert any(c.value.replace("\\", "") == autosaved for c in at.caption)
