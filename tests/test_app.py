"""The page, driven end to end by Streamlit's AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_page_opens_on_a_demo_in_chinese_then_english():
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    assert "网格" in at.title[0].value
    households = at.metric[0].value
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception
    assert at.metric[0].label == "Households" and at.metric[0].value == households
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    assert not at.exception
    assert at.metric[0].value == "20,000"
