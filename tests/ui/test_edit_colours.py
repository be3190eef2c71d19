"""Issue 27 item 9: the editing map colours a grid by its id (an edit never recolours the
grids it left alone) and highlights the chosen household dots."""

from __future__ import annotations

import re

import pytest

from analysis import project as pj
from geo.grids import edits
from tests.analysis.project_fixtures import project_result
from ui.editmap import edit_map


@pytest.fixture(scope="module")
def project(small_district):
    return pj.project_from_result(project_result(small_district))


def _fills(project) -> dict[str, str]:
    html = edit_map(project, lang="zh").get_root().render()
    out = {}
    for m in re.finditer(r'"grid_id": "([^"]+)".{0,400}?"fillColor": "(#[0-9a-fA-F]{6})"', html):
        out.setdefault(m.group(1), m.group(2))
    return out


def test_untouched_grids_keep_their_colours_after_a_merge(project):
    before = _fills(project)
    assert len(before) >= 3
    ids = sorted(before)
    merged, _ = pj.edit_project(project, edits.merge_grids, ids[0], ids[1], author="")
    after = _fills(merged)
    kept = [g for g in ids[2:] if g in after]
    assert kept and all(after[g] == before[g] for g in kept)


def test_chosen_dots_are_highlighted(project):
    unit = str(project.session.state.cells["unit_id"].dropna().iloc[0])
    html = edit_map(project, lang="zh", selected=[unit]).get_root().render()
    assert "#ffd400" in html
