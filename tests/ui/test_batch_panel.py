"""The page's batch view: a batch folder's comparison in the page's language."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.batch.compare import write_comparison
from analysis.batch.task import run_district
from analysis.batch.view import open_batch
from geo.errors import InputError


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    done = run_district("东区", ("--demo", "synthetic:600"), str(out / "东区"), "x")
    failed = {"name": "=坏区", "status": "failed", "error": "文件坏了 / the file is broken"}
    write_comparison([done, failed], out)
    return out


def test_open_batch_reads_the_comparison_in_either_language(batch_folder, tmp_path):
    view = open_batch(batch_folder)
    assert view.finished == (1, 2)
    zh, en = view.table("districts", "zh"), view.table("districts", "en")
    assert list(zh["区县"]) == ["东区", "'=坏区"]  # text as written: never a formula
    assert en["Households"].iloc[0] == 600 and "Status" in en and "排名：网格在范围内比例" in \
        view.table("ranking", "zh")
    assert view.file("comparison.pdf").startswith(b"%PDF")
    with pytest.raises(InputError):
        open_batch(tmp_path)


def _page(folder: str) -> None:
    import streamlit as st

    from ui import batch_panel

    st.session_state.setdefault("gc_batch_path", folder)
    st.session_state.setdefault("gc_batch_shown", True)  # opened (drawn only while open)
    batch_panel.panel("en")


def test_page_opens_a_batch_folder(batch_folder, tmp_path):
    at = AppTest.from_function(_page, args=(str(batch_folder),), default_timeout=60)
    at.run()
    at.button(key="gc_batch_open").click().run()
    assert not at.exception and not at.error
    districts = at.dataframe[0].value
    assert list(districts["District"]) == ["东区", "'=坏区"]
    assert "1 of 2 districts finished." in [c.value for c in at.caption]
    bad = AppTest.from_function(_page, args=(str(tmp_path),), default_timeout=60)
    bad.run()
    bad.button(key="gc_batch_open").click().run()
    assert bad.error and "comparison.xlsx" in bad.error[0].value
