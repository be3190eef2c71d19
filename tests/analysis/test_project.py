"""The project file: round trip, journal, undo across re-opening, atomic saves under
SIGKILL, older/newer formats, and two sessions editing one file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from analysis import project as pj
from geo.grids import edits
from geo.grids.state import GridState
from geo.errors import ProjectFileError
from tests.analysis.project_fixtures import project_result

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def result(small_district):
    return project_result(small_district)


@pytest.fixture
def project(result):
    return pj.project_from_result(result)


def edited(project: pj.Project, *steps) -> pj.Project:
    session = project.session
    for fn, args in steps:
        session, _ = edits.apply_edit(session, fn, *args, author="规划员")
    return pj.with_session(project, session)


def assert_same_layers(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for name in a:
        fa, fb = a[name], b[name]
        assert len(fa) == len(fb), name
        cols = [c for c in fa.columns if c != "geometry"]
        assert set(cols) <= set(fb.columns), name
        left = pd.DataFrame(fa[cols]).reset_index(drop=True)
        right = pd.DataFrame(fb[cols]).reset_index(drop=True)
        for col in cols:
            x, y = left[col], right[col]
            if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
                assert np.allclose(x.astype(float), y.astype(float), equal_nan=True), (name, col)
            else:
                xs = x.astype(object).where(x.notna(), None).tolist()
                ys = y.astype(object).where(y.notna(), None).tolist()
                assert xs == ys, (name, col)
        if isinstance(fa, gpd.GeoDataFrame):
            ga, gb = fa.geometry.to_numpy(), fb.geometry.to_numpy()
            assert shapely.equals_exact(shapely.normalize(ga), shapely.normalize(gb),
                                        tolerance=1e-4).all() or \
                np.allclose(shapely.area(shapely.symmetric_difference(ga, gb)), 0, atol=1e-3), name


def snapshot(state: GridState):
    return (tuple(state.grid_of_cell), state.grids.drop(columns="geometry").to_dict("records"))


def test_round_trip_is_identical(project, tmp_path):
    work = edited(project, (edits.split_grid, ("C0101",)), (edits.rename_grid, ("C0102", "东区一网格")),
                  (edits.set_locked, (["C0103"], True)))
    work = replace(work, meta={**work.meta, "credit": "© OpenStreetMap contributors"})
    saved = pj.save(work, tmp_path / "p.gpkg", author="张工")
    assert saved.revision == 1 and saved.path == tmp_path / "p.gpkg"
    back = pj.open_project(tmp_path / "p.gpkg")
    assert back.revision == 1 and back.notes == ()
    assert_same_layers(work.layers, back.layers)
    assert back.meta["settings"] == work.meta["settings"]
    assert back.meta["summary"] == work.meta["summary"]
    assert back.meta["saved_by"] == "张工" and back.credit == work.credit
    assert snapshot(back.session.state) == snapshot(work.session.state)
    assert back.session.position == 3
    assert [e.to_record() for e in back.session.entries] == \
        [e.to_record() for e in work.session.entries]
    assert back.session.state.known_ids == work.session.state.known_ids
    # a standard GeoPackage: QGIS lists its layers
    names = {str(n) for n, _ in pyogrio.list_layers(tmp_path / "p.gpkg")}
    assert set(pj.CONTRACT_LAYERS) - {"communities"} <= names | {"communities"}
    assert {"grids", "households", "coverage", pj.META_TABLE, pj.JOURNAL_TABLE, "cells"} <= names
    with sqlite3.connect(tmp_path / "p.gpkg") as con:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        desc = dict(con.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
    assert app_id == 0x47504B47  # 'GPKG'
    assert kinds["grids"] == "features" and kinds[pj.JOURNAL_TABLE] == "attributes"
    assert desc["grids"] == "© OpenStreetMap contributors"
    grids = pyogrio.read_dataframe(tmp_path / "p.gpkg", layer="grids")
    assert grids.crs.to_epsg() == 4326


def test_journal_table_has_time_author_and_applied_flags(project, tmp_path):
    work = edited(project, (edits.merge_grids, ("C0101", "C0102")), (edits.split_grid, ("C0101",)))
    session = edits.undo(work.session)
    pj.save(pj.with_session(work, session), tmp_path / "j.gpkg")
    journal = pj.read_journal(tmp_path / "j.gpkg")
    assert list(journal["op"]) == ["merge", "split"]
    assert list(journal["applied"]) == [1, 0]
    assert set(journal["author"]) == {"规划员"}
    assert all(journal["time_utc"].str.match(r"\d{4}-\d\d-\d\dT"))
    assert "C0102" in journal["grids"].iloc[0]


def test_undo_and_redo_carry_on_after_reopening(project, tmp_path):
    work = edited(project, (edits.split_grid, ("C0104",)), (edits.merge_grids, ("C0105", "C0106")),
                  (edits.move_units, (list(project.session.state.unit_grid()
                                           .loc[lambda s: s == "C0102"].index[:2]), "C0103")))
    before_last = snapshot(edits.undo(work.session).state)
    first_only = snapshot(edits.undo(edits.undo(work.session)).state)
    undone_once = pj.with_session(work, edits.undo(work.session))
    pj.save(undone_once, tmp_path / "u.gpkg")
    back = pj.open_project(tmp_path / "u.gpkg")
    assert back.session.position == 2 and back.session.can_redo
    assert snapshot(back.session.state) == before_last
    assert snapshot(edits.redo(back.session).state) == snapshot(work.session.state)
    assert snapshot(edits.undo(back.session).state) == first_only
    # the households layer follows the state after re-opening
    undone = pj.with_session(back, edits.undo(edits.undo(back.session)))
    original = project.layers["households"].set_index("unit_id")["grid_id"]
    assert undone.layers["households"].set_index("unit_id")["grid_id"].equals(original)
    assert snapshot(undone.session.state) == snapshot(project.session.state)


def test_coverage_follows_moved_units(project):
    state = project.session.state
    units = list(state.unit_grid().loc[lambda s: s == "C0102"].index[:3])
    work = edited(project, (edits.move_units, (units, "C0101")))
    cov = work.layers["coverage"].set_index(["grid_id", "service"])
    hh = work.layers["households"]
    key = ("C0101", "kindergarten")
    assert cov.loc[key, "households"] == hh.loc[hh["grid_id"] == "C0101", "households"].sum()
    assert work.summary["grids"] == len(work.session.state.grids)


def test_cli_save_project_still_overwrites_its_own_file(result, tmp_path):
    out = tmp_path / "cli.gpkg"
    pj.save_project(result, out)
    pj.save_project(result, out)
    assert pj.read_meta(out)["revision"] == 2


def test_refuses_to_overwrite_a_foreign_geopackage(project, tmp_path):
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(other)
    before = other.read_bytes()
    with pytest.raises(ProjectFileError) as info:
        pj.save(project, other)
    assert info.value.key == "err.not_project"
    assert other.read_bytes() == before


KILL_SCRIPT = r"""
import sys, numpy as np, geopandas as gpd
from analysis.project import Project, save
n = int(sys.argv[2])
rng = np.random.default_rng(0)
hh = gpd.GeoDataFrame({"unit_id": [f"U{i}" for i in range(n)], "households": rng.integers(1, 50, n),
                       "note": "中文"}, geometry=gpd.points_from_xy(440000 + rng.random(n) * 5000,
                       4420000 + rng.random(n) * 5000), crs=32650)
print("ready", flush=True)
save(Project(layers={"households": hh}, meta={"crs": "EPSG:32650", "area": "big", "summary": {}}),
     sys.argv[1])
print("saved", flush=True)
"""


def test_killing_a_save_midway_keeps_the_previous_file(project, tmp_path):
    target = tmp_path / "keep.gpkg"
    saved = pj.save(project, target)
    before = target.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(target), "250000"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        tmp = target.with_name(f".{target.name}.{proc.pid}.tmp.gpkg")
        deadline = time.monotonic() + 60
        while not (tmp.exists() and tmp.stat().st_size > 100_000):
            assert proc.poll() is None, "the save finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before  # untouched
    back = pj.open_project(target)
    assert snapshot(back.session.state) == snapshot(saved.session.state)
    assert tmp.exists()  # the half-written temporary file was left behind ...
    again = pj.save(back)  # ... and the next save clears it away
    assert not tmp.exists() and again.revision == 2


def write_v1(result, path: Path) -> None:
    """A file as version 1 wrote it: layers and a meta table, no journal, no cells."""
    for name in ("communities", "grids", "households", "facilities"):
        pyogrio.write_dataframe(pj.to_storage(result.layers[name]), path, layer=name, driver="GPKG")
    meta = {"format_version": 1, "saved_at": "2025-01-01T00:00:00+00:00", "area": result.area.name,
            "crs": result.area.crs.to_string(), "settings": {}, "summary": result.summary,
            "credit": result.summary["credit"]}
    rows = pd.DataFrame({"key": list(meta), "value": [json.dumps(v, ensure_ascii=False) for v in meta.values()]})
    pyogrio.write_dataframe(rows, path, layer=pj.META_TABLE, driver="GPKG")


def test_older_format_opens_and_upgrades_with_a_backup(result, tmp_path):
    path = tmp_path / "old.gpkg"
    write_v1(result, path)
    original = path.read_bytes()
    back = pj.open_project(path)
    assert back.notes == (("project.note.older_format", {"version": 1, "current": 2}),)
    assert path.read_bytes() == original  # opening never writes
    grids = result.layers["grids"].set_index("grid_id")
    state = back.session.state
    assert state.grids.set_index("grid_id")["households"].equals(grids["households"])
    assert len(state.cells) == len(result.layers["households"])  # cells rebuilt from grids
    work = pj.with_session(back, edits.apply_edit(back.session, edits.split_grid, "C0101")[0])
    saved = pj.save(work)
    assert (tmp_path / "old.v1.gpkg").read_bytes() == original
    assert pj.read_meta(path)["format_version"] == pj.FORMAT_VERSION and saved.revision == 1
    assert pj.open_project(path).session.position == 1


def test_newer_or_broken_files_are_refused_clearly(result, tmp_path):
    path = tmp_path / "new.gpkg"
    write_v1(result, path)
    with sqlite3.connect(path) as con:
        con.execute(f"UPDATE {pj.META_TABLE} SET value = '99' WHERE key = 'format_version'")
    before = path.read_bytes()
    with pytest.raises(ProjectFileError) as info:
        pj.open_project(path)
    assert info.value.key == "err.project_newer" and "99" in info.value.message("en")
    assert "更新版本" in info.value.message("zh")
    with pytest.raises(ProjectFileError):
        pj.save(replace(pj.project_from_result(result), path=path, revision=0), path)
    assert path.read_bytes() == before
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ProjectFileError) as info:
        pj.open_project(junk)
    assert info.value.key == "err.not_project"


def test_two_sessions_editing_one_file_detect_the_conflict(project, tmp_path):
    path = tmp_path / "shared.gpkg"
    pj.save(project, path)
    a, b = pj.open_project(path), pj.open_project(path)
    a = edited(a, (edits.rename_grid, ("C0101", "甲的名字")))
    a = pj.save(a, author="甲")
    assert a.revision == 2
    b = edited(b, (edits.rename_grid, ("C0102", "乙的名字")))
    with pytest.raises(ProjectFileError) as info:
        pj.save(b, author="乙")
    assert info.value.key == "err.project_conflict" and "甲" in info.value.message("zh")
    assert pj.open_project(path).session.state.row("C0101")["name"] == "甲的名字"
    # autosave never loses the losing side's work: it goes to a recovery copy
    b2, note = pj.autosave(b, author="乙")
    assert note[0] == "project.note.conflict_recovered"
    assert b2.path != path and b2.path.exists()
    assert pj.open_project(b2.path).session.state.row("C0102")["name"] == "乙的名字"
    assert pj.open_project(path).session.state.row("C0102")["name"] == ""
    # the winner keeps saving normally; so does the recovered copy
    a = pj.save(edited(a, (edits.set_locked, (["C0101"], True))))
    assert a.revision == 3
    assert pj.autosave(b2)[1] is None
    # forcing overwrites knowingly
    assert pj.save(b, force=True).revision == 4


def test_saves_wait_for_each_other(project, tmp_path, monkeypatch):
    path = tmp_path / "locked.gpkg"
    saved = pj.save(project, path)
    monkeypatch.setattr("analysis.project.file.LOCK_TIMEOUT_S", 0.2)
    with pj.file_lock(path):
        with pytest.raises(ProjectFileError) as info:
            with pj.file_lock(path, timeout_s=0.2):
                pass
    assert info.value.key == "err.project_locked"
    assert pj.save(saved).revision == 2


def test_autosave_without_a_file_does_nothing(project):
    assert pj.autosave(project) == (project, None)


def test_a_too_long_author_is_refused_before_anything_is_written(project, tmp_path):
    from geo.errors import InputError

    path = tmp_path / "p.gpkg"
    with pytest.raises(InputError) as err:
        pj.save(project, path, author="王" * (edits.MAX_AUTHOR + 1))
    assert err.value.key == "err.author_long" and not path.exists()
    assert pj.read_meta(pj.save(project, path, author=" 王工 ").path)["saved_by"] == "王工"
