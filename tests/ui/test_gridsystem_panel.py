"""The grid-system controls on the page: the admin code field is kept with the project,
and the atlas button makes a PDF download."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.ui.test_project_panels import page_script


def test_admin_code_field_and_atlas_button():
    at = AppTest.from_function(page_script, default_timeout=300).run()
    assert not at.exception, at.exception
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
