"""Exports re-read with pyogrio and pandas: Chinese text intact, OSM credit everywhere."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import pandas as pd
import pyogrio
import pytest

from analysis import export as ex
from analysis import project as pj
from analysis.pipeline import OSM_CREDIT
from geo.grids import edits
from geo.errors import InputError
from tests.analysis.project_fixtures import project_result

NAME = "东区一网格（含“引号”, 逗号）"


@pytest.fixture(scope="module")
def project(small_district):
    base = pj.project_from_result(project_result(small_district))
    session, _ = edits.apply_edit(base.session, edits.rename_grid, "C0101", NAME, author="王工")
    session, _ = edits.apply_edit(session, edits.split_grid, "C0105", author="王工")
    work = pj.with_session(base, session)
    return replace(work, meta={**work.meta, "credit": OSM_CREDIT, "area": "测试区"})


def test_geojson_is_wgs84_utf8_with_attribution(project, tmp_path):
    files = ex.export_project(project, "geojson", tmp_path / "out")
    names = {p.name for p in files}
    assert {"测试区_grids.geojson", "测试区_households.geojson", "测试区_coverage.geojson"} <= names
    grids_path = next(p for p in files if p.name.endswith("_grids.geojson"))
    grids = pyogrio.read_dataframe(grids_path)
    assert grids.crs.to_epsg() == 4326
    assert NAME in set(grids["name"])
    assert grids.total_bounds[0] > 100 and grids.total_bounds[3] < 60  # lon/lat, not metres
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["attribution"] == OSM_CREDIT
    fac = pyogrio.read_dataframe(next(p for p in files if p.name.endswith("_facilities.geojson")))
    assert fac["name"].str.contains("[\u4e00-\u9fff]").any()


def test_zipped_shapefile_keeps_chinese_through_cpg(project, tmp_path):
    (path,) = ex.export_project(project, "shp", tmp_path)
    with zipfile.ZipFile(path) as zf:
        members = set(zf.namelist())
        assert {"grids.shp", "grids.dbf", "grids.shx", "grids.prj", "grids.cpg"} <= members
        assert zf.read("grids.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        assert OSM_CREDIT in zf.read("CREDIT.txt").decode("utf-8")
        key = pd.read_csv(io.BytesIO(zf.read("fields.csv")), encoding="utf-8-sig")
    assert (key["shapefile_field"].str.len() <= 10).all()
    grids = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp")
    assert grids.crs.to_epsg() == 4326
    assert NAME in set(grids["name"])
    reasons = grids["reason"].dropna()
    assert reasons.str.contains("高于上限").any()  # Chinese part of a bilingual reason
    assert all(len(r.encode("utf-8")) <= 254 for r in reasons)
    rename = dict(zip(key.loc[key["layer"] == "grids", "shapefile_field"],
                      key.loc[key["layer"] == "grids", "field"]))
    assert rename["art_cross"] == "arterial_crossings"
    cov = pyogrio.read_dataframe(f"/vsizip/{path}/coverage.dbf", read_geometry=False)
    assert len(cov) == len(project.layers["coverage"])


def test_csv_has_bom_chinese_and_credit(project, tmp_path):
    files = ex.export_project(project, "csv", tmp_path)
    grids_csv = next(p for p in files if p.name.endswith("_grids.csv"))
    raw = grids_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    grids = pd.read_csv(grids_csv, encoding="utf-8-sig", header=1)
    assert NAME in set(grids["name"])
    assert set(grids["credit"]) == {OSM_CREDIT}
    assert {"lon", "lat"} <= set(grids.columns) and grids["lon"].between(100, 140).all()
    cov = pd.read_csv(next(p for p in files if p.name.endswith("_coverage.csv")), encoding="utf-8-sig", header=1)
    assert {"grid_id", "service", "households", "covered", "share"} <= set(cov.columns)
    journal = pd.read_csv(next(p for p in files if p.name.endswith("_journal.csv")), encoding="utf-8-sig", header=1)
    assert list(journal["op"]) == ["命名", "拆分网格"] and set(journal["author"]) == {"王工"}  # words


def test_xlsx_sheets_chinese_and_credit(project, tmp_path):
    (path,) = ex.export_project(project, "xlsx", tmp_path, lang="zh")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets)[0] == "说明"
    about = sheets["说明"]
    assert OSM_CREDIT in set(about.iloc[:, 1]) and "测试区" in set(about.iloc[:, 1])
    assert list(sheets)[1:4] == ["网格", "网格覆盖", "社区与全区覆盖"]
    assert sheets["网格"].columns[0] == "网格编号" and sheets["网格"].iloc[0, 0] == "grid_id"
    tables = pd.read_excel(path, sheet_name=None, header=1)  # the field names programs read
    assert NAME in set(tables["网格"]["name"])
    assert len(tables["住户点"]) == len(project.layers["households"])
    fields = sheets["字段说明"]
    assert ("网格", "polsby_popper") in set(zip(fields.iloc[:, 0], fields.iloc[:, 1]))
    import openpyxl

    book = openpyxl.load_workbook(path)
    assert book["网格"].oddFooter.center.text == OSM_CREDIT


def test_gpkg_export_reopens_identical(project, tmp_path):
    (path,) = ex.export_project(project, "gpkg", tmp_path)
    back = pj.open_project(path)
    assert back.session.state.grid_ids() == project.session.state.grid_ids()
    assert back.session.position == 2
    assert back.session.state.row("C0101")["name"] == NAME


def test_no_credit_when_no_osm_data(project, tmp_path):
    plain = replace(project, meta={**project.meta, "credit": ""})
    (csv,) = [p for p in ex.export_project(plain, "csv", tmp_path) if p.name.endswith("_grids.csv")]
    assert "credit" not in pd.read_csv(csv, encoding="utf-8-sig", header=1).columns


def test_export_bytes_for_download_buttons(project):
    name, data, mime = ex.export_bytes(project, "csv")
    assert name == "测试区_csv.zip" and mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "CREDIT.txt" in zf.namelist()
        assert any(n.endswith("_grids.csv") for n in zf.namelist())
    name, data, mime = ex.export_bytes(project, "xlsx")
    assert name.endswith(".xlsx") and data[:2] == b"PK"
    name, data, _ = ex.export_bytes(project, "gpkg")
    assert name.endswith(".gpkg") and data[:16] == b"SQLite format 3\x00"


def test_bad_format_or_folder(project, tmp_path):
    with pytest.raises(InputError, match="kml"):
        ex.export_project(project, "kml", tmp_path)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(InputError):
        ex.export_project(project, "csv", afile)
    with pytest.raises(InputError):
        ex.export_project(project, "csv", tmp_path / "missing" / "deeper")
