"""Issue 27 item 6 on the page: the report covers every service by default, the area's
name typed by the planner is kept with the project and printed, and the download is the
file just made (none is offered while it is being made)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui import open_project_tab
from tests.ui.test_project_panels import page_script


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_report_tab_all_services_area_name_and_fresh_download(tmp_path):
    at = AppTest.from_function(page_script, kwargs={"lang": "zh"}, default_timeout=180).run()
    assert not at.exception, at.exception
    open_project_tab(at, "report")
    held = at.session_state["gc_held"].project
    available = [c[len("walk_min_"):] for c in held.layers["households"].columns
                 if c.startswith("walk_min_")]
    chosen = at.multiselect(key="gc_report_services").value
    assert list(chosen) == available and len(available) > 1  # not just the one shown
    box = next(b for b in at.text_input if b.key.startswith("gc_area_name_"))
    box.set_value("学院路街道").run()
    assert at.session_state["gc_held"].project.meta["area_name"] == "学院路街道"
    at.button(key="gc_report").click().run()
    assert not at.exception, at.exception
    made = [v for k, v in at.session_state["gc_downloads"].items() if k[0][0] == "report"]
    assert len(made) == 1 and made[0][:5] == b"%PDF-"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(made[0])
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "学院路街道" in first
    assert not at.session_state["gc_report_jobs"]  # nothing left running
