"""The 容量与缺口 / Capacity tab (AppTest): a facility list with 学位 uploaded on the page gives
the same supply reached per grid as the command line with the same list."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from analysis.cli import main
from geo.demos import load_demo
from geo.i18n import t
from geo.synthetic import SERVICE_NAMES_ZH
from tests.ui import open_tab, open_sidebar_panel

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEMO = "synthetic:3000"


def _facility_list() -> bytes:
    area = load_demo(DEMO)
    fac = area.facilities[area.facilities["service"].isin(["primary_school", "kindergarten"])]
    fac = fac.to_crs(4326)
    buf = io.StringIO()
    rows = [["名称", "类型", "经度", "纬度", "学位"]]
    rows += [[name, SERVICE_NAMES_ZH[s], f"{p.x:.8f}", f"{p.y:.8f}", str(300 + 60 * k)]
             for k, (name, s, p) in enumerate(zip(fac["name"], fac["service"], fac.geometry))]
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _planner_table(tmp_path, monkeypatch) -> Path:
    """The bundled demand table as a planner edits it in place (a test share for primary
    schools, not a census figure)."""
    import pandas as pd

    from analysis.capacity import stage as capacity_stage

    table = pd.read_csv(capacity_stage.DEFAULT_TABLE, dtype=str, keep_default_na=False)
    table.loc[table["key"] == "primary_school", "share"] = "0.08"
    path = tmp_path / "demand.csv"
    table.to_csv(path, index=False)
    monkeypatch.setattr(capacity_stage, "DEFAULT_TABLE", path)
    return path


def test_capacity_tab_shows_what_the_command_line_writes(tmp_path, capsys, monkeypatch):
    data = _facility_list()
    listed = tmp_path / "设施.csv"
    listed.write_bytes(data)
    _planner_table(tmp_path, monkeypatch)
    out, summary = tmp_path / "p.gpkg", tmp_path / "s.json"
    assert main(["run", "--demo", DEMO, "--facilities", str(listed), "--out", str(out),
                 "--summary", str(summary)]) == 0, capsys.readouterr().err
    cli = json.loads(summary.read_text(encoding="utf-8"))["capacity"]
    grids = pyogrio.read_dataframe(out, layer="grids")

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = DEMO
    at.run()
    open_tab(at, "capacity")
    assert not at.exception and not at.error
    assert any(t("capacity.none", "zh") in str(e.value) for e in at.info)  # no capacities yet
    open_sidebar_panel(at, "uploads")
    at.sidebar.file_uploader(key="up_facilities").set_value(("设施.csv", data, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    service = at.selectbox(key="gc_capacity_service")
    assert len(service.options) == len(cli) == 2
    checked = False
    for key in cli:
        at.selectbox(key="gc_capacity_service").set_value(key).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics[t("capacity.supply_reached", "zh")] == f"{cli[key]['supply_reached']:,.0f}"
        table = at.dataframe[0].value
        column = t("capacity.col_supply", "zh")
        page = dict(zip(table[t("map.grid_id", "zh")].astype(str), table[column]))
        expected = dict(zip(grids["grid_id"].astype(str), grids[f"supply_{key}"].round(0)))
        assert page == pytest.approx(expected) and sum(page.values()) > 0
        if cli[key]["shortfall"] is not None:  # primary schools: the test share gives demand
            short = dict(zip(table[t("map.grid_id", "zh")].astype(str),
                             table[t("capacity.col_shortfall", "zh")]))
            assert short == pytest.approx(dict(zip(grids["grid_id"].astype(str),
                                                   grids[f"shortfall_{key}"].round(0))))
            assert metrics[t("capacity.shortfall", "zh")] == f"{cli[key]['shortfall']:,.0f}"
            checked = True
    assert checked


def test_siting_by_capacity_closes_part_of_the_shortfall(tmp_path, monkeypatch):
    _planner_table(tmp_path, monkeypatch)

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = DEMO
    open_sidebar_panel(at.run(), "uploads")
    at.sidebar.file_uploader(key="up_facilities").set_value(
        ("设施.csv", _facility_list(), "text/csv")).run()
    open_tab(at, "siting")
    assert not at.exception and not at.error
    at.selectbox(key="siting_service").set_value("primary_school")
    at.number_input(key="siting_places").set_value(400)
    at.button(key="siting_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    before = metrics[t("capacity.siting_before", "zh", service="小学")]
    after = metrics[t("capacity.siting_after", "zh", p=2, places="400")]
    assert float(after.replace(",", "")) < float(before.replace(",", ""))
    assert len(at.dataframe[0].value) >= 1
