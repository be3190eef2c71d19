"""Issue 27 item 8: CSV and XLSX cells in the chosen language's words (no stored keys,
service keys, edit types, no two languages in one cell), minutes to one decimal; the
GeoPackage keeps full precision."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from analysis import export as ex
from analysis import project as pj
from geo.catalogue import load_catalogue
from geo.grids import edits
from tests.analysis.project_fixtures import project_result

CJK = re.compile(r"[\u3400-\u9fff]")
KEYISH = re.compile(r"^\[\[|\b(grid|community|edit|gaps|page)\.[a-z_]+\b")


@pytest.fixture(scope="module")
def project(small_district):
    base = pj.project_from_result(project_result(small_district))
    session, _ = edits.apply_edit(base.session, edits.merge_grids, "C0101", "C0102")
    session, _ = edits.apply_edit(session, edits.split_grid, "C0105")
    return pj.with_session(base, session)


def _tables(project, tmp_path, lang):
    files = ex.export_project(project, "csv", tmp_path / lang, lang=lang)
    return {p.stem.split("_", 1)[1] if "_" in p.stem else p.stem:
            pd.read_csv(p, encoding="utf-8-sig", header=1) for p in files if p.suffix == ".csv"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_cells_are_words_in_the_chosen_language(project, tmp_path, lang):
    tables = _tables(project, tmp_path, lang)
    keys = {s.key for s in load_catalogue()}
    names = {s.name(lang) for s in load_catalogue()}
    cov = next(v for k, v in tables.items() if k.endswith("coverage"))
    assert set(cov["service"]) <= names and not set(cov["service"]) & keys
    journal = next(v for k, v in tables.items() if k.endswith("journal"))
    assert not set(journal["op"]) & {"move", "merge", "split", "rename", "lock"}
    grids = next(v for k, v in tables.items() if k.endswith("grids"))
    assert "reason_key" not in grids.columns
    for name, frame in tables.items():
        for col in frame.columns:
            # names from data; the 四至 kept in both languages (the same fields in every
            # language's export: programs read the field-name row)
            if col in ("credit", "name", "author", "place", "boundary_en", "boundary_zh"):
                continue
            cells = frame[col].dropna().astype(str)
            assert not cells.str.contains(KEYISH).any(), (name, col, cells[cells.str.contains(KEYISH)][:3])
            if lang == "en":
                assert not cells.str.contains(CJK).any(), (name, col)
            both = cells.str.contains(r"[\u3400-\u9fff][^/]* / [A-Z]")  # "中文 / English"
            assert not both.any(), (name, col, cells[both][:2])
    hh = next(v for k, v in tables.items() if k.endswith("households"))
    minutes = hh[[c for c in hh.columns if c.startswith("walk_min_")]].to_numpy(dtype=float)
    finite = minutes[pd.notna(minutes)]
    assert len(finite) and (abs(finite * 10 - (finite * 10).round()) < 1e-6).all()


def test_the_geopackage_keeps_full_precision(project, tmp_path):
    path = pj.save(replace(project, path=None), tmp_path / "p.gpkg").path
    hh = pj.open_project(path).layers["households"]
    col = next(c for c in hh.columns if c.startswith("walk_min_"))
    values = hh[col].dropna().to_numpy()
    assert (abs(values * 10 - (values * 10).round()) > 1e-6).any()
