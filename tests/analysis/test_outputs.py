"""Writing outputs: the file writer and the folder writer fail alike (one error handler)."""

from __future__ import annotations

import os

import pytest

from analysis import outputs
from geo.errors import ProjectFileError


def _write_file(target, error):
    with outputs.atomic_file(target) as tmp:
        tmp.write_text("new")
        raise error


def _write_folder(target, error):
    with outputs.staged_folder(target) as stage:
        (stage / "a.csv").write_text("new")
        raise error


@pytest.mark.parametrize("write", [_write_file, _write_folder])
def test_an_os_error_becomes_write_failed_naming_the_target_and_nothing_changes(tmp_path, write):
    target = tmp_path / "a.csv" if write is _write_file else tmp_path
    (tmp_path / "a.csv").write_text("old")
    with pytest.raises(ProjectFileError) as info:
        write(target, OSError(28, "No space left on device"))
    assert info.value.key == "err.write_failed"
    assert info.value.params["path"] == target
    assert info.value.params["detail"] == "No space left on device"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    assert (tmp_path / "a.csv").read_text() == "old"


@pytest.mark.parametrize("write", [_write_file, _write_folder])
def test_a_project_error_and_other_errors_pass_unchanged(tmp_path, write):
    target = tmp_path / "a.csv" if write is _write_file else tmp_path
    own = ProjectFileError("err.write_failed", path="elsewhere", detail="own")
    with pytest.raises(ProjectFileError) as info:
        write(target, own)
    assert info.value is own
    with pytest.raises(KeyError):
        write(target, KeyError("bug"))
    assert list(tmp_path.iterdir()) == []


def test_an_error_without_strerror_is_named_by_its_type(tmp_path):
    with pytest.raises(ProjectFileError) as info:
        _write_file(tmp_path / "a.csv", FileNotFoundError())
    assert info.value.params["detail"] == "FileNotFoundError"


def test_a_file_writer_that_wrote_nothing_and_a_missing_folder_fail_as_write_failed(tmp_path):
    with pytest.raises(ProjectFileError) as info:
        with outputs.atomic_file(tmp_path / "a.csv"):
            pass
    assert info.value.params["detail"] == "nothing written"
    with pytest.raises(ProjectFileError) as info:
        with outputs.staged_folder(tmp_path / "missing"):
            pass
    assert info.value.key == "err.write_failed" and info.value.params["path"] == tmp_path / "missing"


def test_fsync_path_passes_over_what_it_cannot_open(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    outputs.fsync_path(tmp_path / "a.csv")
    outputs.fsync_path(tmp_path, directory=True)
    outputs.fsync_path(tmp_path / "missing")  # no error
    assert os.listdir(tmp_path) == ["a.csv"]
