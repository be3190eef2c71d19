"""A walking-speed change on the page re-runs reach only: the held project's grid parts
(grid state, cells, grid codes and 四至) are neither rebuilt nor applied again, and the
page shows the new minutes (calls counted, not seconds)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from streamlit.testing.v1 import AppTest

import analysis.edit_stage as edit_stage
import analysis.gridsystem as gridsystem
import analysis.project.state as project_state
from tests.conftest import count_calls

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_a_speed_change_does_not_rebuild_the_grid_parts(monkeypatch):
    calls = Counter()
    count_calls(monkeypatch, calls, gridsystem, "apply")
    # the edit stage's name for gridsystem.apply
    count_calls(monkeypatch, calls, edit_stage, "grid_system")
    count_calls(monkeypatch, calls, project_state, "session_from_layers")
    count_calls(monkeypatch, calls, project_state.grid_state, "state_from_layers")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error
    assert calls["session_from_layers"] == 1 and calls["grid_system"] == 1, calls  # made once
    held = at.session_state["gc_held"]
    grids, session = held.project.layers["grids"], held.project.session
    minutes = held.project.layers["households"]["walk_min_health"].copy()
    calls.clear()

    box = next(n for n in at.sidebar.number_input if "米/秒" in n.label)
    box.set_value(float(box.value) - 0.4).run()
    assert not at.exception and not at.error
    assert sum(calls.values()) == 0, calls
    after = at.session_state["gc_held"].project
    assert after.session is session and after.layers["grids"]["grid_code"].equals(
        grids["grid_code"])
    assert (after.layers["households"]["walk_min_health"] > minutes).any()  # slower: longer
