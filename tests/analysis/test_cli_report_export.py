"""``python -m analysis report`` and ``python -m analysis export`` (CONTRACT.md)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from analysis import project as pj
from analysis.cli import main
from tests.analysis.project_fixtures import project_result

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(small_district, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "项目.gpkg"
    pj.save_project(project_result(small_district), path)
    return path


def test_report_and_pngs_from_a_saved_project(saved, tmp_path, capsys):
    out = tmp_path / "report.pdf"
    code = main(["report", str(saved), "--out", str(out), "--lang", "en",
                 "--services", "market", "--png", str(tmp_path / "maps")])
    assert code == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    pngs = sorted(p.name for p in (tmp_path / "maps").iterdir())
    assert pngs == ["项目_map_coverage_market.png", "项目_map_gaps.png", "项目_map_grids.png"]
    err = capsys.readouterr().err
    assert "Wrote 4 files" in err and "Making the report" in err


@pytest.mark.parametrize("fmt", ["geojson", "shp", "csv", "xlsx", "gpkg"])
def test_export_each_format(saved, tmp_path, fmt):
    assert main(["export", str(saved), "--format", fmt, "--out", str(tmp_path / "x")]) == 0
    files = list((tmp_path / "x").iterdir())
    assert files
    if fmt == "csv":
        grids = pd.read_csv(tmp_path / "x" / "项目_grids.csv", encoding="utf-8-sig", header=1)
        assert len(grids) == len(pyogrio.read_dataframe(saved, layer="grids"))


def test_report_on_an_osm_project_without_grids_carries_the_credit(osm_file, tmp_path):
    project = tmp_path / "osm.gpkg"
    assert main(["run", "--osm", str(osm_file), "--out", str(project)]) == 0
    out = tmp_path / "osm.pdf"
    assert main(["report", str(project), "--out", str(out)]) == 0
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "© OpenStreetMap contributors" in text and "网格划分与15分钟生活圈报告" in text
    assert main(["export", str(project), "--format", "geojson", "--out", str(tmp_path / "g")]) == 0
    households = next((tmp_path / "g").glob("*_households.geojson")).read_text(encoding="utf-8")
    assert '"attribution": "© OpenStreetMap contributors"' in households


def newer(saved: Path, tmp_path: Path) -> Path:
    path = tmp_path / "newer.gpkg"
    shutil.copy(saved, path)
    with sqlite3.connect(path) as con:
        con.execute(f"UPDATE {pj.META_TABLE} SET value = '7' WHERE key = 'format_version'")
    return path


@pytest.mark.parametrize("case", ["missing", "newer", "not_pdf", "service", "bad_dir"])
def test_bad_input_exit_2_one_error_line(saved, tmp_path, case, capsys):
    args = {
        "missing": ["report", str(tmp_path / "nope.gpkg"), "--out", str(tmp_path / "r.pdf")],
        "newer": ["export", str(newer(saved, tmp_path)), "--format", "csv", "--out", str(tmp_path / "e")],
        "not_pdf": ["report", str(saved), "--out", str(tmp_path / "r.docx")],
        "service": ["report", str(saved), "--out", str(tmp_path / "r.pdf"), "--services", "swimming"],
        "bad_dir": ["export", str(saved), "--format", "csv", "--out", str(tmp_path / "a" / "b")],
    }[case]
    assert main(args) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "e").exists()


def test_bad_input_through_the_real_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis", "report", str(tmp_path / "nope.gpkg"),
                           "--out", str(tmp_path / "r.pdf")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nope.gpkg" in errors[0] and "Traceback" not in proc.stderr
