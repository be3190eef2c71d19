"""Uploads on the page (issue 13 item 2): bytes stay in memory, a reader that needs a path
gets a private copy deleted right after, nothing personal reaches the page."""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui import open_sidebar_panel

from tests.conftest import osm_xml
from ui.uploads import private_copy

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PERSONAL = ("黄蓉", "林平之", "110101199003071234", "13800138000", "138.0013.8000")


def test_private_copy_is_owner_only_and_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with private_copy(b"<osm/>", "../../etc/区域 A.osm.pbf") as path:
        assert path.parent.parent == tmp_path and path.name.endswith(".osm.pbf")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.read_bytes() == b"<osm/>"
    assert not any(tmp_path.iterdir())
    with pytest.raises(RuntimeError):
        with private_copy(b"x", "r.csv"):
            raise RuntimeError("reader failed")
    assert not any(tmp_path.iterdir())


def test_page_keeps_uploads_in_memory_and_shows_no_personal_data(tmp_path, monkeypatch):
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception

    from geo.demos import load_demo

    points = load_demo("synthetic:2000").households.to_crs(4326).geometry.iloc[:3]
    labels = ["1号楼（户主：黄蓉）", "2号楼 联系人林平之", f"3号楼 {PERSONAL[2]}"]
    rows = "".join(f"{p.x:.6f},{p.y:.6f},{n},{label},学清路{k}号 {PERSONAL[3]},{PERSONAL[4]}\n"
                   for k, (p, n, label) in enumerate(zip(points, (120, 80, 40), labels)))
    register = ("经度,纬度,户数,楼栋,地址,备注\n" + rows).encode("utf-8")
    open_sidebar_panel(at, "uploads")
    at.sidebar.file_uploader(key="up_households").set_value(("登记表.csv", register, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = " ".join(str(e.value) for kind in ("warning", "info", "caption", "markdown", "metric")
                     for e in getattr(at, kind))
    assert "抹去" in shown  # the privacy note: columns left out and values scrubbed
    for value in PERSONAL:
        assert value not in shown
    assert list(spool.iterdir()) == []  # nothing written, not even for a moment left behind

    at.sidebar.file_uploader(key="up_households").set_value(None)  # it lies elsewhere
    at.sidebar.radio(key="source_kind").set_value("osm").run()
    at.sidebar.file_uploader(key="osm_file").set_value(
        ("district.osm", osm_xml().encode("utf-8"), "application/xml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(spool.iterdir()) == []  # the private copy osmnx read is gone
    assert not (Path(tempfile.gettempdir()) / "gridcircle_uploads").exists() or \
        not any((Path(tempfile.gettempdir()) / "gridcircle_uploads").iterdir())
