"""No cell of a CSV/XLSX export splits into a row of its own or starts a formula, whatever
line breaks and spaces come before the sign (issue 26 item 6)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import export as ex
from analysis import project as pj
from geo.grids import edits
from tests.analysis.project_fixtures import project_result

SIGNS = ["=", "+", "-", "@", "＝", "＋", "－", "＠"]
BREAKS = ["\r", "\n", "\r\n", "\v", "\f", "\x85", "\u2028", "\u2029", "\x1c"]
SPACES = [" ", "\t", "\u00a0", "\u3000", "\u200b", "\ufeff"]
PIECE = st.one_of(st.sampled_from(SIGNS + BREAKS + SPACES), st.text(max_size=6),
                  st.sampled_from(["cmd|' /C calc'!A0", "1+1", "实验小学", '"', ","]))


def _formula(cell: str) -> bool:
    return cell.lstrip("".join(SPACES)).startswith(tuple(SIGNS))


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.lists(PIECE, max_size=6).map("".join), min_size=1, max_size=4))
def test_written_rows_are_the_rows_given(cells):
    frame = pd.DataFrame({"name": cells, "households": range(len(cells))})
    text = ex.neutral_frame(frame).to_csv(index=False)
    # any reader: Python's csv module, and one that splits lines on every line break
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(cells) + 1
    assert len(text.splitlines()) == len(cells) + 1
    for row in rows[1:]:
        assert not _formula(row[0]), row
        for line in row[0].splitlines():
            assert not _formula(line), row


def test_a_carriage_return_in_a_name_does_not_start_a_row(small_district, tmp_path):
    """The example: ``实验小学\\r=cmd|' /C calc'!A0`` was written unquoted, so the next row
    began with a live formula."""
    base = pj.project_from_result(project_result(small_district))
    gid = sorted(base.layers["grids"]["grid_id"])[0]
    session, _ = edits.apply_edit(base.session, edits.rename_grid, gid,
                                  "实验小学\r=cmd|' /C calc'!A0", author="x")
    project = replace(pj.with_session(base, session), meta={**base.meta, "area": "区\n=1+1"})
    for path in ex.export_project(project, "csv", tmp_path):
        text = path.read_text(encoding="utf-8-sig")
        for line in text.splitlines():
            assert not _formula(line), (path.name, line)
        for row in csv.reader(io.StringIO(text, newline="")):
            assert not any(_formula(cell) for cell in row), (path.name, row)
    grids = next(p for p in tmp_path.iterdir() if p.name.endswith("_grids.csv"))
    assert "实验小学 =cmd|' /C calc'!A0" in grids.read_text(encoding="utf-8-sig")
