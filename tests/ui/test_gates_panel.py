"""The gates tab: an edit shows its coverage change, applying it re-runs with the new gate
and the edit is part of the run's settings (so it is saved with the project)."""

from __future__ import annotations

from pathlib import Path

import shapely
from streamlit.testing.v1 import AppTest

from geo.walls import WallSettings
from tests.ui import open_tab
from ui.gates_panel import proposal

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_proposal_adds_a_north_gate_on_the_outline_and_opens_or_reopens():
    square = shapely.box(440_100, 4_420_100, 440_300, 4_420_300)
    after = proposal(WallSettings(), "add", compound_id="c", polygon=square, side="n",
                     crs="EPSG:32650")
    assert len(after.added_gates) == 1
    lon, lat = after.added_gates[0]
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 32650, always_xy=True).transform(lon, lat)
    assert abs(y - 4_420_300) < 0.05 and 440_100 < x < 440_300
    opened = proposal(after, "open", compound_id="c")
    assert opened.open_compounds == ("c",)
    assert proposal(opened, "reopen", compound_id="c").open_compounds == ()


def test_gates_tab_compare_apply_and_settings():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error
    open_tab(at, "gates")
    assert at.selectbox(key="gates_compound").options
    at.radio(key="gates_action").set_value("add").run()
    at.radio(key="gates_side").set_value("n").run()
    at.button(key="gates_compare").click().run()
    assert not at.exception and not at.error
    frames = [d.value for d in at.dataframe]
    change = next(f for f in frames if "变化" in getattr(f, "columns", []) or
                  "变化" in getattr(getattr(f, "data", None), "columns", []))
    assert change is not None
    at.button(key="gates_apply").click().run()
    assert not at.exception and not at.error
    edits = WallSettings.from_dict(at.session_state["wall_edits"])
    assert len(edits.added_gates) == 1
    assert any("1" in c.value for c in at.caption if "出入口" in c.value)


def test_compounds_with_assumed_gates_come_first():
    import pandas as pd

    from ui.gates_panel import assumed_first

    comps = pd.DataFrame({"compound_id": ["a", "b", "c", "d"]})
    acc = pd.DataFrame({"compound_id": ["a", "c", "c", "d", "d", "d"],
                        "origin": ["inferred", "assumed", "assumed", "assumed", "assumed",
                                   "mapped"]})
    ordered, assumed = assumed_first(comps, acc)
    assert ordered["compound_id"].tolist() == ["c", "d", "a", "b"]
    assert assumed.to_dict() == {"c": 2, "d": 2}
    ordered, assumed = assumed_first(comps, acc.iloc[:0])
    assert ordered["compound_id"].tolist() == ["a", "b", "c", "d"] and len(assumed) == 0
