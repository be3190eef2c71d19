"""The command line with user files: a GBK household register with personal columns and an
Amap (GCJ-02) facility list go through ``python -m analysis run`` and land within 1 m of
where they belong, with no personal data in the outputs; hostile files are refused."""

import csv
import io
import zipfile

import numpy as np
import pyogrio
import pytest
from pyproj import Geod

from analysis.cli import main
from geo.chinacrs import wgs84_to_gcj02
from geo.demos import load_demo
from geo.synthetic import SERVICE_NAMES_ZH

GEOD = Geod(ellps="WGS84")
DEMO = "synthetic:3000"
PERSONAL = ("王秀英", "110101199003071234", "13912345678", "13812345678")


@pytest.fixture(scope="module")
def demo_area():
    return load_demo(DEMO)


def _csv(path, rows, encoding):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _inputs(tmp_path, area):
    homes = area.households.to_crs(4326)
    names = area.compounds.set_index("compound_id")["name"]
    register = [["XX街道住户登记表"], ["小区", "楼栋", "户数", "户主姓名", "身份证号", "手机", "经度", "纬度"]]
    for k, (cid, count, p) in enumerate(zip(homes["compound_id"], homes["households"], homes.geometry)):
        register.append([names.get(cid, ""), f"{k + 1}号楼", int(count), PERSONAL[0], PERSONAL[1],
                         PERSONAL[2], f"{p.x:.8f}", f"{p.y:.8f}"])
    facilities = area.facilities.to_crs(4326)
    lon, lat = wgs84_to_gcj02(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())
    amap = [["名称", "类型", "地址", "电话", "经度", "纬度"]]
    for name, service, x, y in zip(facilities["name"], facilities["service"], lon, lat):
        amap.append([name, SERVICE_NAMES_ZH[service], "学清路8号", PERSONAL[3], f"{x:.8f}", f"{y:.8f}"])
    return (_csv(tmp_path / "登记表.csv", register, "gbk"),
            _csv(tmp_path / "高德设施.csv", amap, "utf-8-sig"))


def _metres(frame, truth):
    if "part" in frame.columns:  # a tower split between grids is one row per part
        frame = frame[frame["part"].isna() | frame["part"].str.startswith("1/")]
    return GEOD.inv(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(),
                    truth.geometry.x.to_numpy(), truth.geometry.y.to_numpy())[2]


def test_gbk_register_and_amap_list_end_to_end(tmp_path, capsys, demo_area):
    register, amap = _inputs(tmp_path, demo_area)
    out, summary = tmp_path / "p.gpkg", tmp_path / "s.json"
    code = main(["run", "--demo", DEMO, "--households", str(register), "--facilities", str(amap),
                 "--facilities-crs", "gcj02", "--out", str(out), "--summary", str(summary)])
    err = capsys.readouterr().err
    assert code == 0
    homes = pyogrio.read_dataframe(out, layer="households")
    assert set(homes["hh_source"]) == {"register"}
    assert homes["households"].sum() == demo_area.households["households"].sum()
    assert _metres(homes, demo_area.households.to_crs(4326)).max() < 1.0
    facilities = pyogrio.read_dataframe(out, layer="facilities")
    assert set(facilities["source"]) == {"user"}
    truth = demo_area.facilities.to_crs(4326)
    assert (facilities["service"].to_numpy() == truth["service"].to_numpy()).all()
    assert _metres(facilities, truth).max() < 1.0
    blob = out.read_bytes() + summary.read_bytes() + err.encode()
    for value in PERSONAL:
        for encoding in ("utf-8", "utf-16-le", "gbk"):
            assert value.encode(encoding) not in blob
    assert "户主姓名" in err and "身份证号" in err  # the user is told which columns were dropped


def test_amap_list_without_its_crs_is_flagged(tmp_path, capsys, demo_area):
    _, amap = _inputs(tmp_path, demo_area)
    code = main(["run", "--demo", DEMO, "--facilities", str(amap), "--out", str(tmp_path / "p.gpkg")])
    assert code == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert any("gcj02" in line and "Nothing was changed" in line for line in warnings)


def test_hostile_upload_is_refused_and_the_saved_project_kept(tmp_path, capsys, demo_area):
    out = tmp_path / "keep.gpkg"
    assert main(["run", "--demo", DEMO, "--out", str(out)]) == 0
    before = out.read_bytes()
    evil = tmp_path / "households.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../escaped.shp", b"\0" * 100)
    capsys.readouterr()
    assert main(["run", "--demo", DEMO, "--households", str(evil), "--out", str(out)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "unsafe" in errors[0]
    assert out.read_bytes() == before
    assert not (tmp_path.parent / "escaped.shp").exists()
    assert not (tmp_path.parent.parent / "escaped.shp").exists()


def test_metres_passed_as_degrees_gives_the_epsg_to_use(tmp_path, capsys, demo_area):
    homes = demo_area.households
    rows = [["x", "y", "户数"]] + [[f"{p.x:.2f}", f"{p.y:.2f}", int(n)]
                                   for p, n in zip(homes.geometry, homes["households"])]
    path = _csv(tmp_path / "utm.csv", rows, "utf-8")
    assert main(["run", "--demo", DEMO, "--households", str(path), "--households-crs", "wgs84",
                 "--out", str(tmp_path / "p.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "EPSG:32650" in err
    assert main(["run", "--demo", DEMO, "--households", str(path), "--households-crs", "EPSG:32650",
                 "--out", str(tmp_path / "p.gpkg")]) == 0
    saved = pyogrio.read_dataframe(tmp_path / "p.gpkg", layer="households")
    assert np.abs(_metres(saved, homes.to_crs(4326))).max() < 0.01


def test_communities_in_a_named_crs(tmp_path, demo_area, capsys):
    import json

    import shapely

    # two communities, the halves of the area, with projected coordinates and no CRS named
    x0, y0, x1, y1 = demo_area.boundary.bounds
    halves = [shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1)]
    features = [{"type": "Feature", "properties": {"社区编码": code, "社区名称": name},
                 "geometry": shapely.geometry.mapping(geom)}
                for code, name, geom in zip(("W1", "E1"), ("西区社区", "东区社区"), halves)]
    path = tmp_path / "社区.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "c.gpkg"
    args = ["run", "--demo", "synthetic:3000", "--communities", str(path), "--out", str(out)]
    assert main(args) == 2  # metres without a CRS: refused, and the CRS to name is suggested
    last = capsys.readouterr().err.strip().splitlines()[-1]
    crs = demo_area.crs.to_string()
    assert last.startswith("error:") and crs in last
    assert main(args + ["--communities-crs", crs]) == 0
    communities = pyogrio.read_dataframe(out, layer="communities")
    assert len(communities) == 2 and communities["households"].sum() > 0
