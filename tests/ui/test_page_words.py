"""Every visible string of the page in the reader's language (AppTest): in English no
Chinese characters except names from the data; in Chinese no English words except names,
units and codes. Widgets, captions, tables' headers, tabs, charts' titles are all read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
# codes, units and names a Chinese planner reads as they are
ALLOWED_EN = {
    "OSM", "OpenStreetMap", "contributors", "Gridcircle", "WGS", "GCJ", "BD", "CGCS", "EPSG",
    "GPS", "km", "MB", "CSV", "XLSX", "GeoJSON", "GeoPackage", "gpkg", "PDF", "Polsby",
    "Popper", "pbf", "osm", "bz", "xml", "json", "xlsx", "csv", "shp", "zip", "dpi", "Excel",
    "Overpass", "Helsinki", "Leaflet", "WebGIS", "GIS", "ID", "UTC", "txt", "gz", "xls",
    "Shapefile", "UTF", "QGIS", "GB", "CJ", "Amap", "Tencent", "Baidu", "min", "PNG", "GBK",
    "English",  # the language switch names the other language in its own words
}


def _strings(node, out: list[str]) -> None:
    """Every text-like attribute of an AppTest element tree."""
    proto = getattr(node, "proto", None)
    # a widget's value is an option key or the user's own text: its label and options
    # are what the reader sees
    widget = hasattr(node, "set_value")
    for name in (("label", "help", "placeholder") if widget else
                 ("value", "label", "body", "help", "placeholder", "caption")):
        try:
            value = getattr(node, name)
        except Exception:  # noqa: BLE001 - not every element has every attribute
            continue
        if isinstance(value, str):
            out.append(value)
    for name in ("options",):
        value = getattr(node, name, None)
        if isinstance(value, (list, tuple)):
            out += [str(v) for v in value]
    if type(node).__name__ == "Dataframe":
        try:
            out += [str(c) for c in node.value.columns]
        except Exception:  # noqa: BLE001
            pass
    if proto is not None and type(node).__name__ in ("UnknownElement",):
        spec = getattr(proto, "spec", "") or ""
        if spec:  # a Vega-Lite chart: its titles and axis titles
            try:
                chart = json.loads(spec)
            except ValueError:
                chart = {}
            out += _chart_titles(chart)
    for child in getattr(node, "children", {}).values():
        _strings(child, out)


def _chart_titles(chart) -> list[str]:
    found = []
    if isinstance(chart, dict):
        for key, value in chart.items():
            if key in ("title", "text") and isinstance(value, str):
                found.append(value)
            else:
                found += _chart_titles(value)
    elif isinstance(chart, list):
        for value in chart:
            found += _chart_titles(value)
    return found


def _visible(at: AppTest) -> list[str]:
    out: list[str] = []
    _strings(at._tree, out)
    return [s for s in out if s and s.strip()]


def _every_tab(at: AppTest, lang: str) -> list[str]:
    """The visible strings with each tab beside the map open in turn (only the open tab
    is drawn)."""
    from tests.ui import open_tab
    from ui.page import SIDE_TABS

    out: list[str] = []
    for name in SIDE_TABS:
        open_tab(at, name, lang)
        assert not at.exception and not at.error
        out += _visible(at)
    return out


def _data_names() -> set[str]:
    from analysis.pipeline import run
    from geo.demos import load_demo

    from geo.catalogue import load_catalogue

    result = run(load_demo("synthetic:2000"))
    # where a service's rule comes from: a citation of a national standard, kept as cited
    from analysis.settings import load_profiles

    names = {str(s.source) for s in load_catalogue() if getattr(s, "source", None)}
    names |= {str(p.source) for p in load_profiles() if getattr(p, "source", None)}
    for layer, column in (("communities", "name"), ("facilities", "name"), ("grids", "name"),
                          ("compound_walls", "name")):
        frame = result.layers.get(layer)
        if frame is not None and column in frame.columns:
            names |= {str(v) for v in frame[column].dropna() if str(v).strip()}
    return names


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error
    return at


def test_chinese_page_has_no_english_but_names_units_and_codes(page):
    names = _data_names()
    at = page
    at.sidebar.toggle(key="lang_en").set_value(False).run()
    bad = []
    for text in _every_tab(at, "zh"):
        rest = text
        for name in names:
            rest = rest.replace(name, "")
        words = [w for w in WORD.findall(rest) if w not in ALLOWED_EN and len(w) > 1]
        if words:
            bad.append((words, text[:80]))
    assert not bad, bad[:20]


def test_english_page_has_no_chinese_but_names_from_the_data(page):
    names = _data_names()
    at = page
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception and not at.error
    bad = []
    for text in _every_tab(at, "en"):
        rest = text
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, "")
        if CJK.search(rest):
            bad.append(text[:80])
    assert not bad, bad[:20]
