"""Issue 27 item 3: the report never fails on a name's characters, and two reports made at
once (a page rerun replaced while its report is still being written) both come out right."""

from __future__ import annotations

import threading
import warnings
from dataclasses import replace

import pandas as pd
import pytest

from analysis import project as pj
from analysis import report
from analysis.report.style import clean, report_style
from tests.analysis.project_fixtures import project_result

HOSTILE = ["社区🏠", "社\uffff区", "社\ud800区", "\ufeff社区", "社\x01区", "社\u202e区", "𠀀社区",
           "社\U0010ffff区", "e\u0301社区", "社\ue000区"]


@pytest.fixture(scope="module")
def base(small_district):
    return pj.project_from_result(project_result(small_district))


def test_clean_drops_surrogates_and_byte_order_marks():
    assert clean("\ufeff社\ud800区\x07") == "社区"


def test_names_with_any_character_make_a_report(base, tmp_path):
    comms = base.layers["communities"].copy()
    comms["name"] = pd.Series([HOSTILE[k % len(HOSTILE)] for k in range(len(comms))],
                              dtype=object, index=comms.index)
    comms["name_key"] = ""
    hostile = replace(base, layers={**base.layers, "communities": comms},
                      meta={**base.meta, "area": "".join(HOSTILE)})
    pdf = report.make_report(hostile, tmp_path / "r.pdf", lang="zh", title="".join(HOSTILE))
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_report_is_written_right_while_another_thread_leaves_the_report_style(base, tmp_path,
                                                                              monkeypatch):
    """matplotlib's settings are the process's: a thread (another session's report) that
    entered ``report_style`` before this report and leaves it while this report is being
    written sets Type 3 fonts under it ("bytes must be in range(0, 256)") unless the style
    is held by one thread at a time."""
    from analysis.report import findings

    other_in, this_started, other_out = threading.Event(), threading.Event(), threading.Event()
    first_page = findings.page_findings

    def page_findings(*args, **kw):  # the report has started: the other thread leaves now
        this_started.set()
        other_out.wait(5)
        return first_page(*args, **kw)

    monkeypatch.setattr(findings, "page_findings", page_findings)

    def other():
        with report_style("社区"):
            other_in.set()
            this_started.wait(2)  # with the lock this report waits for us: give up
        other_out.set()

    from analysis.report.context import Context

    with report_style(Context(base, "zh", "A4", None).charset()):
        pass  # the font subset made beforehand: the report enters its style at once
    thread = threading.Thread(target=other)
    thread.start()
    other_in.wait(5)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            report.make_report(base, tmp_path / "a.pdf", lang="zh")
    finally:
        thread.join()
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    missing = [str(w.message) for w in seen if "missing from font" in str(w.message)]
    assert not missing, missing[:3]


def test_no_wrapped_line_starts_with_a_closing_mark():
    from analysis.report.style import wrap

    text = "设施数量低于合理下限，多半是数据不全。" * 3 + "缺口（数据）。"
    for width in range(4, 30):
        lines = wrap(text, width)
        assert "".join(lines) == text
        assert not any(line[0] in "，。）" for line in lines), (width, lines)
