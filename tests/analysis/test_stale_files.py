"""What killed runs leave behind is removed at the next run into the same folder (issue 26
item 11): staging folders and temporary files whose process is gone, and old ones without
a process id; never a file of a live run, never a file that is not this tool's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import project as pj
from analysis.cli import main
from analysis.stale import MAX_AGE_S, remove_stale
from tests.analysis.project_fixtures import project_result

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


#: (name pattern, owner, old): owner "dead", "live" (this process), "none" (no id).
ENTRY = st.tuples(
    st.sampled_from([".gridcircle-{pid}-abc{n}.stage", ".gridcircle-{pid}-p-{n}.gpkg",
                     ".gridcircle-{pid}-{n}.probe", ".p{n}.gpkg.{pid}.tmp.gpkg",
                     ".p{n}.gpkg.{pid}.tmp.gpkg-wal", ".gridcircle-old{n}.stage",
                     ".hidden{n}", "report{n}.pdf", ".gridcircle{n}"]),
    st.sampled_from(["dead", "live"]), st.booleans())


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(ENTRY, min_size=1, max_size=8))
def test_only_stale_files_of_this_tool_are_removed(tmp_path_factory, dead_pid, entries):
    folder = tmp_path_factory.mktemp("stale")
    expect_gone = set()
    for n, (pattern, owner, old) in enumerate(entries):
        pid = dead_pid if owner == "dead" else os.getpid()
        path = folder / pattern.format(pid=pid, n=n)
        if pattern.endswith(".stage"):
            path.mkdir()
            (path / "a.csv").write_text("x")
        else:
            path.write_text("x")
        if old:
            past = time.time() - MAX_AGE_S - 60
            os.utime(path, (past, past))
        ours = path.name.startswith(".gridcircle-") or ".tmp.gpkg" in path.name
        has_pid = "{pid}" in pattern
        if ours and ((has_pid and owner == "dead") or old):
            expect_gone.add(path.name)
    before = {p.name for p in folder.iterdir()}
    removed = {p.name for p in remove_stale(folder)}
    assert removed == expect_gone
    assert {p.name for p in folder.iterdir()} == before - expect_gone


def test_a_killed_export_leaves_nothing_after_the_next_export(small_district, tmp_path, capsys):
    """The example: killed exports left ``.gridcircle-*.stage`` folders for good."""
    project = tmp_path / "p.gpkg"
    pj.save_project(project_result(small_district), project)
    out = tmp_path / "out"
    out.mkdir()
    code = ("import os, sys\n"
            "from analysis.outputs import staged_folder\n"
            "block = staged_folder(sys.argv[1])\n"
            "stage = block.__enter__()\n"
            "(stage / 'p_grids.csv').write_text('half')\n"
            "os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, check=False)
    left = [p for p in out.iterdir() if p.name.endswith(".stage")]
    assert len(left) == 1  # the killed export's staging folder
    assert main(["export", str(project), "--format", "csv", "--out", str(out)]) == 0
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert (out / "p_grids.csv").read_text(encoding="utf-8-sig") != "half"


def test_a_killed_runs_temporary_project_is_removed_by_the_next_run(tmp_path, dead_pid):
    temp = tmp_path / f".other.gpkg.{dead_pid}.tmp.gpkg"
    temp.write_bytes(b"half a project")
    assert main(["run", "--demo", "synthetic:2000", "--out", str(tmp_path / "p.gpkg")]) == 0
    assert not temp.exists()
