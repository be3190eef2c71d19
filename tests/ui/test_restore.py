"""Issue 27 item 3: a session's work survives a reload. Edits on a project not yet saved
are copied in the background; a new session of the same area is offered the copy and one
click restores it (as the page's project, not bound to the copy)."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from tests.ui import edit_widget
from tests.ui.test_project_panels import page_script


def _wait_for(path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_unsaved_edits_are_offered_after_a_reload_and_restored(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDCIRCLE_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    first = AppTest.from_function(page_script, default_timeout=180).run()
    assert not first.exception, first.exception
    first.radio(key="gc_op").set_value("split").run()
    edit_widget(first.selectbox, "gc_split").set_value("C0106").run()
    first.button(key="gc_apply_split").click().run()
    assert not first.exception, first.exception
    assert first.session_state["gc_held"].project.path is None  # never saved
    copies = tmp_path / "autosave"
    _wait_for(copies)
    deadline = time.monotonic() + 60
    while not list(copies.glob("*.gpkg")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(copies.glob("*.gpkg"))
    time.sleep(1.0)  # the background copy finishes its rename

    reload = AppTest.from_function(page_script, default_timeout=180).run()  # a new session
    assert not reload.exception, reload.exception
    assert any("要恢复吗" in i.value for i in reload.info)
    reload.button(key="gc_restore_yes").click().run()
    assert not reload.exception, reload.exception
    held = reload.session_state["gc_held"].project
    assert held.session is not None and len(held.session.entries) == 1
    assert held.path is None  # not bound to the copy
    again = AppTest.from_function(page_script, default_timeout=180).run()
    again.button(key="gc_restore_no").click().run()
    assert not any("要恢复吗" in i.value for i in again.info)
