"""Outputs that cannot destroy each other or the system (issue 26 item 9): two outputs that
are one file, an output that is an input, and a target that is not a regular file are all
refused before any work."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.outputs import (check_distinct_outputs, check_output_file, staged_folder,
                              write_text_atomic)
from geo.errors import InputError

QUICK = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _spelling(folder: Path, name: str, how: list[str]) -> Path:
    """Another way of writing ``folder / name``: ``./``, doubled slashes, ``sub/..``, a
    link to the folder."""
    parts = [str(folder)]
    for step in how:
        if step == "dot":
            parts.append(".")
        elif step == "up":
            parts.extend(["sub", ".."])
        elif step == "link":
            parts = [str(folder / "alias")]
        elif step == "slash":
            parts.append("")
    return Path("/".join(parts + [name]))


@QUICK
@given(how=st.lists(st.sampled_from(["dot", "up", "link", "slash"]), max_size=4),
       exists=st.booleans())
def test_one_file_spelt_two_ways_is_refused(tmp_path_factory, how, exists):
    folder = tmp_path_factory.mktemp("spell")
    (folder / "sub").mkdir()
    (folder / "alias").symlink_to(folder)
    target = folder / "p.gpkg"
    if exists:
        target.write_bytes(b"project")
    other = _spelling(folder, "p.gpkg", how)
    with pytest.raises(InputError) as err:
        check_distinct_outputs({"--out": target, "--summary": other})
    assert err.value.key == "err.out_same_file"
    check_distinct_outputs({"--out": target, "--summary": _spelling(folder, "s.json", how)})
    if exists:
        assert target.read_bytes() == b"project"


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.json"
    os.mkfifo(path)
    return path


def _socket(folder: Path) -> Path:
    path = folder / "sock.json"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def _link_to_null(folder: Path) -> Path:
    path = folder / "null.json"
    path.symlink_to("/dev/null")
    return path


SPECIAL = [("/dev/null", lambda folder: Path("/dev/null")), ("a pipe", _fifo),
           ("a socket", _socket), ("a link to /dev/null", _link_to_null)]


@pytest.mark.parametrize("label, make", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_files_are_not_outputs(tmp_path, label, make):
    target = make(tmp_path)
    before = os.lstat(target)
    with pytest.raises(InputError) as err:
        check_output_file(target)
    assert err.value.key == "err.out_special"
    with pytest.raises(InputError):
        write_text_atomic("{}", target)
    assert os.lstat(target).st_ino == before.st_ino


def test_staged_folder_never_replaces_a_special_file(tmp_path):
    os.mkfifo(tmp_path / "a.csv")
    with pytest.raises(InputError):
        with staged_folder(tmp_path) as stage:
            (stage / "a.csv").write_text("x")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "a.csv").st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_summary_equal_to_out_keeps_the_project(tmp_path, capsys):
    """The example: ``--summary`` equal to ``--out`` turned the GeoPackage into JSON."""
    out = tmp_path / "p.gpkg"
    out.write_bytes(b"SQLite format 3\x00 old project")
    code = main(["run", "--demo", "synthetic:2000", "--out", str(out),
                 "--summary", str(tmp_path / "." / "p.gpkg")])
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.startswith("error:")][0].count("--summary")
    assert out.read_bytes() == b"SQLite format 3\x00 old project"


def test_summary_to_dev_null_is_refused(tmp_path, capsys):
    null = os.stat("/dev/null")
    code = main(["run", "--demo", "synthetic:2000", "--out", str(tmp_path / "p.gpkg"),
                 "--summary", "/dev/null"])
    assert code == 2
    assert "/dev/null" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.stat("/dev/null").st_ino == null.st_ino
    assert not (tmp_path / "p.gpkg").exists()


def test_output_over_an_input_is_refused(tmp_path, capsys):
    register = tmp_path / "register.csv"
    register.write_text("经度,纬度,户数\n116.3,39.9,10\n", encoding="utf-8")
    code = main(["run", "--demo", "synthetic:2000", "--households", str(register),
                 "--out", str(tmp_path / "p.gpkg"), "--summary", str(register)])
    assert code == 2
    assert "--households" in capsys.readouterr().err
    assert register.read_text(encoding="utf-8").startswith("经度")


def test_a_project_is_never_saved_over_a_special_file(tmp_path):
    from analysis.project import check_output_path

    link = tmp_path / "p.gpkg"
    link.symlink_to("/dev/null")
    with pytest.raises(InputError) as err:
        check_output_path(link)
    assert err.value.key == "err.out_special"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_summary_over_the_continued_project_is_refused(tmp_path, capsys):
    project = tmp_path / "old.gpkg"
    project.write_bytes(b"SQLite format 3\x00 kept")
    code = main(["run", "--demo", "synthetic:2000", "--project", str(project),
                 "--out", str(tmp_path / "new.gpkg"), "--summary", str(project)])
    assert code == 2 and "--project" in capsys.readouterr().err
    assert project.read_bytes() == b"SQLite format 3\x00 kept"


def test_a_gpkg_export_never_replaces_its_own_project(tmp_path, capsys):
    from analysis import project as pj
    from tests.analysis.project_fixtures import project_result
    from geo.synthetic import synthetic_district

    project = tmp_path / "p.gpkg"
    pj.save_project(project_result(synthetic_district(600, seed=5)), project)
    before = project.read_bytes()
    assert main(["export", str(project), "--format", "gpkg", "--out", str(tmp_path)]) == 2
    assert "PROJECT" in capsys.readouterr().err
    assert project.read_bytes() == before
