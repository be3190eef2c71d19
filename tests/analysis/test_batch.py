"""``python -m analysis batch``: districts as Dask tasks, resumable, with one comparison.

The batch runs on a real ``LocalCluster`` with worker processes, started by the command
line in a subprocess (its own process group, so that the test can kill the whole batch
after the first district finished, as Ctrl-C or a crash would).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

from analysis.batch.table import inputs_hash, parse_district, read_batch
from analysis.batch.task import MARKER, error_line, is_done, run_district
from analysis.cli import batch_settings_argv, build_parser, main
from geo.errors import InputError
from tests.conftest import BEIJING_OSM, osm_xml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ["--grid-min", "150", "--grid-max", "250"]


def _batch(folder: Path, rows: list[str], header: str = "name,demo,osm") -> Path:
    path = folder / "batch.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _cli(*args: str, wait: bool = True, **kw):
    command = [sys.executable, "-m", "analysis", *args]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, **kw)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400, **kw)


def _summary(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("timings_s", None)
    return data


def _layer(path: Path, name: str) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, layer=name)
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if "geometry" in frame:
        plain["wkb"] = shapely.to_wkb(frame.geometry.to_numpy())
    return plain


def _mtimes(folder: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


def test_batch_resumes_after_kill_and_equals_single_runs(tmp_path):
    osm = BEIJING_OSM if BEIJING_OSM.exists() else tmp_path / "district.osm"
    if not BEIJING_OSM.exists():
        osm.write_text(osm_xml(n=6), encoding="utf-8")
    batch = _batch(tmp_path, ["一区,synthetic:600,", f"学清,,{osm}", "三区,synthetic:900,"])
    out = tmp_path / "out"
    # one worker: the districts run in order; kill the batch once the first is finished
    proc = _cli("batch", str(batch), "--out", str(out), "--workers", "1", *SETTINGS, wait=False)
    first = out / "一区" / MARKER
    deadline = time.monotonic() + 240
    try:
        while not first.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the first district never finished"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    assert not (out / "学清" / MARKER).exists(), "the batch was killed too late to test a resume"
    before = _mtimes(out / "一区")
    assert {"project.gpkg", "summary.json", MARKER} <= set(before)

    again = _cli("batch", str(batch), "--out", str(out), "--workers", "1", *SETTINGS)
    assert again.returncode == 0, again.stderr
    assert "一区: 已完成（跳过） / already done (skipped)" in again.stderr
    assert "Dask" in again.stderr and "http://" in again.stderr  # the dashboard's address
    assert _mtimes(out / "一区") == before  # skipped: its files untouched
    for name in ("学清", "三区"):
        assert (out / name / MARKER).exists()

    singles = {"一区": ["--demo", "synthetic:600"], "学清": ["--osm", str(osm)],
               "三区": ["--demo", "synthetic:900"]}
    for name, source in singles.items():
        project, summary = tmp_path / f"{name}.gpkg", tmp_path / f"{name}.json"
        assert main(["run", *source, *SETTINGS, "--out", str(project), "--summary", str(summary)]) == 0
        assert _summary(out / name / "summary.json") == _summary(summary), name
        for layer in ("households", "grids", "coverage", "gaps"):
            pd.testing.assert_frame_equal(_layer(out / name / "project.gpkg", layer),
                                          _layer(project, layer), obj=f"{name} {layer}")

    table = pd.read_excel(out / "comparison.xlsx", sheet_name=0, header=1)
    assert list(table["district"]) == ["一区", "学清", "三区"]
    assert list(table["households"]) == [600, _summary(out / "学清" / "summary.json")["households"], 900]
    assert set(table["status"]) == {"skipped", "done"}
    assert (out / "comparison.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):  # the first page names every district and the headings
        first = subprocess.run(["pdftotext", "-l", "1", str(out / "comparison.pdf"), "-"],
                               capture_output=True, text=True).stdout
        for text in ("区县对比", "一区", "学清", "三区", "户数", "最大缺口", "社区服务站", "最好与最差"):
            assert text in first, text


def test_broken_district_fails_alone_with_its_error(tmp_path):
    (tmp_path / "broken.osm").write_text("this is not OpenStreetMap data", encoding="utf-8")
    batch = _batch(tmp_path, ["好区,synthetic:600,", "=坏区,,broken.osm", "缺文件,,missing.osm"])
    out = tmp_path / "out"
    run = _cli("batch", str(batch), "--out", str(out), "--workers", "1")
    assert run.returncode == 0, run.stderr
    assert (out / "好区" / MARKER).exists()
    assert not (out / "=坏区" / MARKER).exists()
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("=坏区:")]
    assert len(lines) == 1 and "broken.osm" in lines[0] and "OpenStreetMap" in lines[0]
    workbook = pd.read_excel(out / "comparison.xlsx", sheet_name=0, header=1)
    rows = dict(zip(workbook["district"], workbook["status"]))
    assert rows == {"好区": "done", "'=坏区": "failed", "缺文件": "failed"}  # no formula cell
    errors = dict(zip(workbook["district"], workbook["error"].fillna("")))
    assert "broken.osm" in errors["'=坏区"] and "missing.osm" in errors["缺文件"]
    assert workbook.loc[workbook["district"] == "好区", "households"].item() == 600
    headings = pd.read_excel(out / "comparison.xlsx", sheet_name=0, nrows=0).columns
    assert "区县 / District" in headings and "户数 / Households" in headings


def test_table_columns_names_and_paths(tmp_path):
    (tmp_path / "a.osm").write_text("x", encoding="utf-8")
    path = _batch(tmp_path, ["北,,a.osm", "南,synthetic:600,"])
    districts = read_batch(path, ["--grid-min", "150"])
    assert [d.name for d in districts] == ["北", "南"]
    assert districts[0].argv == ("--grid-min", "150", "--osm", str((tmp_path / "a.osm").resolve()))
    gbk = tmp_path / "gbk.csv"  # a table saved by Excel on a Chinese Windows
    gbk.write_bytes("name,demo\n海淀,synthetic:600\n".encode("gbk"))
    assert [d.name for d in read_batch(gbk)] == ["海淀"]
    for rows, header in ((["北,synthetic:600,x"], "name,demo,colour"),
                         (["北,synthetic:600", "北,synthetic:700"], "name,demo"),
                         (["../up,synthetic:600"], "name,demo"),
                         ([], "name,demo")):
        with pytest.raises(InputError):
            read_batch(_batch(tmp_path, rows, header))


def test_inputs_hash_follows_file_contents_and_settings(tmp_path):
    osm = tmp_path / "a.osm"
    osm.write_text(osm_xml(), encoding="utf-8")
    district = read_batch(_batch(tmp_path, ["北,,a.osm"]))[0]
    digest = inputs_hash(parse_district(district, tmp_path / "x"))
    assert digest == inputs_hash(parse_district(district, tmp_path / "elsewhere"))
    osm.write_text(osm_xml(n=5), encoding="utf-8")
    changed = inputs_hash(parse_district(district, tmp_path / "x"))
    assert changed != digest
    wider = read_batch(_batch(tmp_path, ["北,,a.osm"]), ["--grid-max", "400"])[0]
    assert inputs_hash(parse_district(wider, tmp_path / "x")) != changed


def test_district_task_writes_marker_last_and_reports_bad_input(tmp_path):
    folder = tmp_path / "d"
    outcome = run_district("d", ("--demo", "synthetic:600"), str(folder), "abc")
    assert outcome["status"] == "done" and outcome["peak_mb"] > 0
    assert is_done(folder, "abc") and not is_done(folder, "other")
    bad = run_district("d", ("--demo", "no-such-demo"), str(folder), "abc")
    assert bad["status"] == "failed" and bad["error"]["key"]  # a note, shown where read
    for lang in ("zh", "en", "both"):
        assert error_line(bad["error"], lang) and "\n" not in error_line(bad["error"], lang)
    assert not is_done(folder, "abc")  # the marker goes before any new work


def test_batch_flags_pass_through_and_inputs_refused(tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args(["batch", "b.csv", "--out", "o", "--grid-min", "150",
                              "--speed-mps", "1.0"])
    assert batch_settings_argv(args, parser) == ["--grid-min", "150", "--speed-mps", "1.0"]
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["batch", "b.csv", "--out", "o", "--osm", "x.osm"])
    assert exc.value.code == 2
    capsys.readouterr()
    batch = _batch(tmp_path, ["北,synthetic:600,"])
    assert main(["batch", str(batch), "--out", str(tmp_path / "o"), "--grid-min", "0"]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_plan_skips_matching_marker_and_redoes_changed_settings(tmp_path):
    from analysis.batch.runner import _plan

    batch = _batch(tmp_path, ["北,synthetic:600,", "缺,,missing.osm"])
    out = tmp_path / "out"
    district = read_batch(batch)[0]
    digest = inputs_hash(parse_district(district, out / "北"))
    assert run_district("北", district.argv, str(out / "北"), digest)["status"] == "done"
    outcomes, todo = _plan(read_batch(batch), out)
    assert [o["status"] for o in outcomes] == ["skipped", "failed"] and todo == []
    assert "missing.osm" in error_line(outcomes[1]["error"], "en")
    outcomes, todo = _plan(read_batch(batch, ["--grid-max", "400"]), out)
    assert [o["status"] for o in outcomes] == ["waiting", "failed"] and [i for i, _ in todo] == [0]
