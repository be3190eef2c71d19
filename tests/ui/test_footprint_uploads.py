"""The page takes building footprints and compound outlines like the other uploads."""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from streamlit.testing.v1 import AppTest

from geo.demos import load_demo
from tests.ui import open_tab, open_sidebar_panel

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_compound_upload_reaches_the_gates_tab():
    area = load_demo("synthetic:2000")
    b = area.boundary.bounds
    import geopandas as gpd

    box = gpd.GeoSeries([shapely.box(b[0] + 20, b[1] + 20, b[0] + 150, b[1] + 150)],
                        crs=area.crs).to_crs(4326).iloc[0]
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"小区名称": "测试苑"},
         "geometry": shapely.geometry.mapping(box)}]}, ensure_ascii=False).encode("utf-8")
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    open_sidebar_panel(at.run(), "uploads")
    at.sidebar.file_uploader(key="up_compounds").set_value(("小区.geojson", data,
                                                           "application/geo+json")).run()
    assert not at.exception and not at.error
    open_tab(at, "gates")
    names = [str(v) for d in at.dataframe for v in getattr(d.value, "data", d.value).iloc[:, 0]]
    assert "测试苑" in names


def test_a_register_placed_by_name_finds_an_uploaded_compound():
    """The page reads the register against the area with the uploaded outlines in it:
    rows naming an uploaded compound are spread over it (as on the command line)."""
    import geopandas as gpd

    area = load_demo("synthetic:2000")
    b = area.boundary.bounds
    box = gpd.GeoSeries([shapely.box(b[0] + 20, b[1] + 20, b[0] + 150, b[1] + 150)],
                        crs=area.crs).to_crs(4326).iloc[0]
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"小区名称": "测试新苑"},
         "geometry": shapely.geometry.mapping(box)}]}, ensure_ascii=False).encode("utf-8")
    register = "小区名称,户数\n测试新苑,300\n".encode("utf-8")
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    open_sidebar_panel(at.run(), "uploads")
    at.sidebar.file_uploader(key="up_compounds").set_value(("小区.geojson", data,
                                                           "application/geo+json"))
    at.sidebar.file_uploader(key="up_households").set_value(("登记.csv", register, "text/csv"))
    at.run()
    assert not at.exception
    homes = at.session_state["gc_held"].project.layers["households"]
    assert int(homes["households"].sum()) == 300
    assert set(homes["compound_id"].dropna()) == {"upload/1"}


def test_population_and_household_totals_uploads_set_the_households():
    """The page takes a population layer and household totals like --population and
    --household-totals: persons ÷ persons per household, then scaled to the total."""
    import geopandas as gpd

    from geo.settings import HouseholdSettings

    area = load_demo("synthetic:2000")
    b = area.boundary.bounds
    cell = gpd.GeoSeries([shapely.box(*b)], crs=area.crs).to_crs(4326).iloc[0]
    persons = 7860  # 3,000 households: not the demo's own 2,000
    population = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"常住人口": persons},
         "geometry": shapely.geometry.mapping(cell)}]}).encode("utf-8")
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    open_sidebar_panel(at.run(), "uploads")
    at.sidebar.file_uploader(key="up_population").set_value(("人口.geojson", population,
                                                            "application/geo+json")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    homes = at.session_state["gc_held"].project.layers["households"]
    expected = persons / HouseholdSettings().persons_per_household
    assert abs(int(homes["households"].sum()) - expected) <= 0.005 * expected + 1
    open_sidebar_panel(at, "households")
    at.sidebar.number_input(key="persons_per_household").set_value(3.0).run()  # as on the CLI
    homes = at.session_state["gc_held"].project.layers["households"]
    assert abs(int(homes["households"].sum()) - persons / 3.0) <= 0.005 * persons / 3.0 + 1
    model = at.session_state["gc_held"].project.summary["settings"]["households"]
    assert model["persons_per_household"] == 3.0
    totals = "户数\n1500\n".encode("utf-8")
    at.sidebar.file_uploader(key="up_household_totals").set_value(("总户数.csv", totals,
                                                                  "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    homes = at.session_state["gc_held"].project.layers["households"]
    assert abs(int(homes["households"].sum()) - 1500) <= 2
