"""A project uploaded to the page stays private (issue 26 item 12): it is read from a
0600 file with a unique name in a fresh 0700 folder, created without following links, and
removed after reading; no shared folder is written and no planted link is followed."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import project as pj
from analysis.project import upload as project_upload
from analysis.project import open_uploaded_project
from geo.errors import GridcircleError
from tests.analysis.project_fixtures import project_result

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project_bytes(small_district, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("upload") / "p.gpkg"
    pj.save_project(project_result(small_district), path)
    return path.read_bytes()


def _ours() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("gridcircle-upload-")}


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.integers(0, 4096), junk=st.binary(max_size=64), keep=st.booleans())
def test_any_upload_leaves_no_file_behind(project_bytes, cut, junk, keep):
    data = project_bytes if keep else project_bytes[:cut] + junk
    before = _ours()
    try:
        opened = open_uploaded_project(data)
    except GridcircleError:
        pass
    else:
        assert opened.path is None and len(opened.layers["households"])
    assert _ours() == before


def test_the_file_read_is_private(project_bytes, monkeypatch):
    seen = {}
    real = project_upload.open_project

    def spy(path):
        seen["file"] = stat.S_IMODE(os.lstat(path).st_mode)
        seen["folder"] = stat.S_IMODE(os.lstat(path.parent).st_mode)
        seen["link"] = os.path.islink(path)
        seen["path"] = path
        return real(path)

    monkeypatch.setattr(project_upload, "open_project", spy)
    open_uploaded_project(project_bytes)
    assert seen["file"] == 0o600 and seen["folder"] == 0o700 and not seen["link"]
    assert not seen["path"].exists() and not seen["path"].parent.exists()


def test_a_planted_link_in_the_old_shared_folder_is_not_followed(project_bytes, tmp_path):
    """The example: ``<tmp>/gridcircle_projects/<upload name>`` was a link to a file
    elsewhere, which the upload overwrote."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    shared = Path(tempfile.gettempdir()) / "gridcircle_projects"
    shared.mkdir(exist_ok=True)
    link = shared / "p.gpkg"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(victim)
    try:
        opened = open_uploaded_project(project_bytes)
        assert opened.path is None
        assert victim.read_text() == "keep me"
    finally:
        link.unlink()


def test_the_page_no_longer_writes_a_shared_folder():
    source = (REPO / "ui" / "export_panel.py").read_text(encoding="utf-8")
    assert "gridcircle_projects" not in source and "open_uploaded_project" in source
