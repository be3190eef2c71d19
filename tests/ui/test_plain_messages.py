"""Names from files and data in Streamlit's markdown elements (alerts, captions, metric
labels) are shown as text: an uploaded file called like an image, a link, maths or HTML
makes no request and runs nothing."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.ui import open_sidebar_panel

from ui.widgets import plain

APP = str(Path(__file__).resolve().parents[2] / "app.py")
NAME = "![x](http://evil.example/x.png)$x^2$<img src=x onerror=alert(1)>[a](javascript:alert(1)).csv"


def _raw(token: str, text: str) -> bool:
    """``token`` in ``text`` with its first character not escaped."""
    return re.search(r"(?<!\\)" + re.escape(token), text) is not None


def test_plain_escapes_markdown_maths_links_and_html():
    out = plain(NAME)
    for raw in ("![", "](", "$x", "<img", "[a]"):
        assert not _raw(raw, out), (raw, out)
    assert out.replace("\\", "") == NAME  # nothing but escapes added
    assert plain("登记表.csv") == "登记表.csv"


def test_an_uploaded_file_with_a_hostile_name_is_reported_as_text():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["demo"] = "synthetic:2000"
    open_sidebar_panel(at.run(), "uploads")
    bad = "经度,纬度,户数\n116.40,39.91,很多\n".encode("utf-8")
    at.sidebar.file_uploader(key="up_households").set_value((NAME, bad, "text/csv")).run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert shown, "the bad register is reported"
    assert not any(_raw(r, v) for r in ("![", "<img", "$x", "](") for v in shown), shown
    assert any(plain(NAME) in v or "onerror" in v for v in shown), shown
