"""The grid-system controls on the page: the admin code field is kept with the project,
and the atlas button makes a PDF download."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.ui import open_project_tab
from tests.ui.test_project_panels import page_script


def test_admin_code_field_and_atlas_button():
    at = AppTest.from_function(page_script, default_timeout=300).run()
    assert not at.exception, at.exception
    open_project_tab(at, "report")  # the grid system is in the report tab
    at.text_input(key="gc_admin_code").set_value("110108009").run()
    at.button(key="gc_gs_apply").click().run()
    assert not at.exception, at.exception
    project = at.session_state["gc_held"].project
    assert project.meta["grid_system"]["county"] == "110108"
    assert project.layers["grids"]["grid_code"].str.startswith("110108009").all()
    at.button(key="gc_atlas").click().run()
    assert not at.exception, at.exception
    pdf = next(v for k, v in at.session_state["gc_downloads"].items() if k[0][0] == "atlas")
    assert pdf[:5] == b"%PDF-"
    at.text_input(key="gc_admin_code").set_value("12345").run()
    at.button(key="gc_gs_apply").click().run()
    assert at.error and "12345" in at.error[0].value


def test_a_post_swap_and_undo_on_the_page():
    """The roster is put in the session directly (AppTest cannot upload a file)."""
    from dataclasses import replace

    from geo.grids.workers import a_posts

    at = AppTest.from_function(page_script, default_timeout=300).run()
    assert not at.exception, at.exception
    roster = "姓名,电话\n" + "".join(f"职员{k},1380000{k:04d}\n" for k in range(20))
    from analysis.gridsystem import set_grid_system
    from geo.grids.workers import read_roster

    held = at.session_state["gc_held"]
    project = set_grid_system(held.project, roster=read_roster(data=roster.encode(),
                                                               filename="r.csv"))
    at.session_state["gc_held"] = replace(held, project=project)  # as the upload does
    open_project_tab(at, "report")
    assert not at.exception, at.exception
    start = a_posts(at.session_state["gc_held"].project.layers["workers"])
    w1, w2 = sorted(start)[:2]
    at.selectbox(key="gc_worker_pick").set_value(w1).run()
    at.selectbox(key="gc_worker_grid").set_value(start[w2]).run()
    at.button(key="gc_worker_apply").click().run()
    assert not at.exception, at.exception
    posts = a_posts(at.session_state["gc_held"].project.layers["workers"])
    assert posts[w1] == start[w2] and posts[w2] == start[w1]
    at.button(key="gc_worker_undo").click().run()
    assert a_posts(at.session_state["gc_held"].project.layers["workers"]) == start
    shown = [e.value for kind in (at.error, at.success, at.info, at.warning) for e in kind]
    assert not any("1380000" in v for v in shown)
