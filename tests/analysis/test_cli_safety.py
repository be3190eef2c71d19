"""The command line's promise under hostile input (issue 13 item 6): exit 2 and one
``error:`` line — checked before any work is done — and previous outputs intact."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest

from analysis import project as pj
from analysis.cli import main
from tests.analysis.project_fixtures import project_result
from tests.conftest import osm_xml


@pytest.fixture(scope="module")
def saved(small_district, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_safety") / "p.gpkg"
    pj.save_project(project_result(small_district), path)
    return path


def _one_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


BAD_OUTPUTS = [
    ("missing folder", lambda tmp: tmp / "nowhere" / "p.gpkg", "不存在"),
    ("a folder", lambda tmp: (tmp / "dir.gpkg").mkdir() or tmp / "dir.gpkg", "文件夹"),
    ("read-only folder", lambda tmp: Path("/proc/gridcircle_test.gpkg"), "只读"),
]


@pytest.mark.parametrize("label, target, words", BAD_OUTPUTS, ids=[b[0] for b in BAD_OUTPUTS])
def test_run_out_checked_before_the_run(tmp_path, capsys, label, target, words):
    out = target(tmp_path)
    code = main(["run", "--demo", "synthetic:2000", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert [x for x in err.splitlines() if x.startswith("error:")][0].count(words) >= 1, err
    assert "[" not in err.split("error:")[0], err  # no progress line: nothing was run


@pytest.mark.parametrize("label, target, words", BAD_OUTPUTS, ids=[b[0] for b in BAD_OUTPUTS])
def test_run_summary_checked_before_the_run(tmp_path, capsys, label, target, words):
    summary = target(tmp_path)
    code = main(["run", "--demo", "synthetic:2000", "--out", str(tmp_path / "ok.gpkg"),
                 "--summary", str(summary)])
    assert code == 2
    line = _one_error(capsys)
    assert words in line
    assert not (tmp_path / "ok.gpkg").exists()


def test_report_and_export_targets_checked_first(saved, tmp_path, capsys):
    assert main(["report", str(saved), "--out", str(tmp_path / "no" / "r.pdf")]) == 2
    _one_error(capsys)
    (tmp_path / "d.pdf").mkdir()
    assert main(["report", str(saved), "--out", str(tmp_path / "d.pdf")]) == 2
    assert "文件夹" in _one_error(capsys)
    assert main(["report", str(saved), "--out", "/proc/r.pdf"]) == 2
    _one_error(capsys)
    plain = tmp_path / "file.txt"
    plain.write_text("keep")
    assert main(["export", str(saved), "--format", "csv", "--out", str(plain)]) == 2
    _one_error(capsys)
    assert plain.read_text() == "keep"
    assert main(["export", str(saved), "--format", "csv", "--out", "/proc/gc_export"]) == 2
    _one_error(capsys)


@pytest.mark.parametrize("body", [
    lambda t: t.replace('lat="39.9000000" lon="116.3000000"', 'lat="95" lon="200"', 1),
    lambda t: __import__("re").sub(r'lat="[^"]+" lon="[^"]+"', 'lat="95" lon="200"', t),
], ids=["one node at lat 95 lon 200", "all nodes out of range"])
def test_street_nodes_out_of_range(tmp_path, capsys, body):
    path = tmp_path / "bad.osm"
    path.write_text(body(osm_xml()), encoding="utf-8")
    assert main(["run", "--osm", str(path), "--out", str(tmp_path / "p.gpkg")]) == 2
    line = _one_error(capsys)
    assert "±90" in line and "node" in line
    assert not (tmp_path / "p.gpkg").exists()


def test_duplicate_nodes_exit_2(tmp_path, capsys):
    path = tmp_path / "dup.osm"
    path.write_text(osm_xml().replace("</osm>", '<node id="3" lat="10" lon="10"/></osm>'),
                    encoding="utf-8")
    assert main(["run", "--osm", str(path), "--out", str(tmp_path / "p.gpkg")]) == 2
    assert "node 3" in _one_error(capsys)


def _set_meta(path: Path, key: str, value) -> None:
    with sqlite3.connect(path) as con:
        con.execute(f"UPDATE {pj.META_TABLE} SET value = ? WHERE key = ?",
                    (json.dumps(value), key))


CORRUPT = [("band", "abc"), ("band", [300, 200]), ("band", [1.5, "x"]), ("crs", "EPSG:999999"),
           ("crs", 42), ("crs", "EPSG:4326"), ("journal_position", "x"), ("journal_position", -3),
           ("journal_position", [1]), ("summary", [1, 2]), ("summary", "text"),
           ("summary", {"households": "many"}), ("area", "名" * 5_000_000),
           ("known_grid_ids", {"a": 1}), ("thresholds_min", 5), ("revision", "r")]


@pytest.mark.parametrize("key, value", CORRUPT, ids=[f"{k}={str(v)[:12]}" for k, v in CORRUPT])
def test_corrupt_project_settings_exit_2(saved, tmp_path, capsys, key, value):
    broken = tmp_path / "broken.gpkg"
    shutil.copyfile(saved, broken)
    _set_meta(broken, key, value)
    for argv in (["export", str(broken), "--format", "csv", "--out", str(tmp_path / "x")],
                 ["report", str(broken), "--out", str(tmp_path / "r.pdf")]):
        assert main(argv) == 2
        line = _one_error(capsys)
        assert key.split(".")[0] in line and len(line) < 600
    assert not (tmp_path / "r.pdf").exists()


def test_households_layer_without_count_column(saved, tmp_path, capsys):
    broken = tmp_path / "nocount.gpkg"
    shutil.copyfile(saved, broken)
    frame = pyogrio.read_dataframe(broken, layer="households").drop(columns="households")
    pyogrio.write_dataframe(frame, broken, layer="households", driver="GPKG")
    assert main(["export", str(broken), "--format", "geojson", "--out", str(tmp_path / "g")]) == 2
    assert "households" in _one_error(capsys)
