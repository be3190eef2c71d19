"""The page takes building footprints and compound outlines like the other uploads."""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from streamlit.testing.v1 import AppTest

from geo.demos import load_demo

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
    at.run()
    at.sidebar.file_uploader(key="up_compounds").set_value(("小区.geojson", data,
                                                           "application/geo+json")).run()
    assert not at.exception and not at.error
    names = [str(v) for d in at.dataframe for v in getattr(d.value, "data", d.value).iloc[:, 0]]
    assert "测试苑" in names
