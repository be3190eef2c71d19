"""The page, driven end to end by Streamlit's AppTest (a handful of focused runs: each
AppTest run executes the whole script)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT_S = 180


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise KeyError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def test_page_opens_each_demo_in_chinese_and_switches_to_english():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert not at.error
    assert "网格" in at.title[0].value
    households = metric(at, "户数")
    assert int(households.replace(",", "")) > 0
    assert any("OpenStreetMap contributors" in c.value for c in at.caption)
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception
    assert "grids" in at.title[0].value
    assert metric(at, "Households") == households
    assert not any("户" in m.label for m in at.metric)
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    assert not at.exception and not at.error
    assert metric(at, "Households") == "20,000"


def test_a_bad_upload_shows_one_clear_message_and_no_traceback():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.sidebar.radio(key="source_kind").set_value("osm").run()
    assert not at.exception and not at.error
    at.sidebar.file_uploader(key="osm_file").set_value(
        ("district.osm", b"this is not OpenStreetMap data", "application/xml")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "district.osm" in at.error[0].value and "gridcircle_uploads" not in at.error[0].value
    assert "Traceback" not in at.error[0].value
