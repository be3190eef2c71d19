"""Reading uploaded layers: registers, facility lists, community boundaries, and the
hostile or broken files users send."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import dataclasses
import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely

from geo.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import CRSError, InputError, SettingsError
from geo.inputs.facility_types import facility_services
from geo.inputs import LayerRead, read_communities, read_facilities, read_households
from geo.catalogue import load_catalogue
from geo.settings import InputLimits
from geo.synthetic import SERVICE_NAMES_ZH, synthetic_district

OSM_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "beijing_xueqing.osm"
PERSONAL_VALUES = ("张三丰", "李小龙", "110101199003071234", "13812345678", "zs@example.com")


@pytest.fixture(scope="module")
def area():
    return synthetic_district(3000, seed=3)


def _write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    wgs = gdf.to_crs(4326)
    return wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy()


def _register_rows(area, n: int = 10, *, fwd=None) -> tuple[list[list[object]], gpd.GeoDataFrame]:
    """A register with a title row, Chinese headers, personal columns and a total row."""
    b = area.buildings.sample(n, random_state=1).reset_index(drop=True)
    points = gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=area.crs)
    lon, lat = _lonlat(points)
    if fwd is not None:
        lon, lat = fwd(lon, lat)
    names = area.compounds.set_index("compound_id")["name"]
    rows = [["学清社区住户登记表（2025年）"],
            ["序号", "小区名称", "楼栋号", "户数（户）", "户主姓名", "身份证号", "联系电话",
             "经度", "纬度", "备注"]]
    for k in range(n):
        rows.append([k + 1, names[b["compound_id"][k]], f"{k + 1}号楼", 30 + k,
                     PERSONAL_VALUES[k % 2], PERSONAL_VALUES[2], PERSONAL_VALUES[3],
                     f"{lon[k]:.8f}", f"{lat[k]:.8f}", f"联系 {PERSONAL_VALUES[4]}"])
    rows.append(["", "合计", "", sum(30 + k for k in range(n)), "", "", "", "", "", ""])
    return rows, points


def _no_personal_data(result: LayerRead) -> None:
    frame_text = [str(v) for v in result.frame.drop(columns="geometry").to_numpy().ravel()]
    everything = " ".join(frame_text + list(result.frame.columns) + result.warnings
                          + [str(v) for v in result.column_map.values()] + result.messages("en"))
    for value in PERSONAL_VALUES:
        assert value not in everything


# ----------------------------------------------------------------------------- registers


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_register_in_any_encoding_lands_on_its_buildings(tmp_path, area, encoding):
    rows, truth = _register_rows(area)
    path = _write_csv(tmp_path / "登记表.csv", rows, encoding)
    result = read_households(path, area=area)
    frame = result.frame
    assert frame.crs == area.crs
    assert len(frame) == 10
    assert frame["households"].dtype == np.int64
    assert frame["households"].tolist() == [30 + k for k in range(10)]  # total row skipped
    assert (frame["register_level"] == "building").all()
    np.testing.assert_array_less(frame.geometry.distance(truth.geometry.reset_index(drop=True)), 0.01)
    assert result.column_map == {"x": "经度", "y": "纬度", "households": "户数（户）",
                                 "building": "楼栋号", "compound": "小区名称", "id": "序号"}
    assert set(result.dropped_personal_columns) == {"户主姓名", "身份证号", "联系电话", "备注"}
    _no_personal_data(result)
    assert any("户主姓名" in w for w in result.warnings)
    assert any("合计" in w or "total" in w for w in result.warnings)


def test_gbk_register_reports_its_encoding(tmp_path, area):
    rows, _ = _register_rows(area)
    result = read_households(_write_csv(tmp_path / "r.csv", rows, "gbk"), area=area)
    assert result.encoding == "gb18030"
    assert any("GBK" in w for w in result.warnings)


def test_register_xlsx_with_numbers_and_title_row(tmp_path, area):
    rows, truth = _register_rows(area, 6)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([float(v) if isinstance(v, str) and v.replace(".", "").isdigit() else v
                      for v in row])
    book.create_sheet("说明").append(["本表仅供内部使用"])
    path = tmp_path / "登记表.xlsx"
    book.save(path)
    result = read_households(path, area=area)
    assert result.frame["households"].tolist() == [30 + k for k in range(6)]
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry.reset_index(drop=True)),
                                 0.01)
    _no_personal_data(result)
    assert any("说明" in w for w in result.warnings)  # the sheet choice is said


def test_privacy_off_keeps_personal_columns(tmp_path, area):
    rows, _ = _register_rows(area, 4)
    rows = rows[:-1]  # no total row, so rows stay aligned
    result = read_households(_write_csv(tmp_path / "r.csv", rows), area=area, privacy=False)
    assert "户主姓名" in result.frame.columns
    assert result.frame["户主姓名"].iloc[0] == PERSONAL_VALUES[0]


def test_personal_content_in_kept_columns_is_blanked(tmp_path, area):
    rows, _ = _register_rows(area, 5)
    rows = [r[:4] + r[7:9] for r in rows[1:-1]]  # no personal columns at all
    rows[1][2] = f"1号楼 物业 {PERSONAL_VALUES[3]}"
    result = read_households(_write_csv(tmp_path / "r.csv", rows), area=area)
    assert PERSONAL_VALUES[3] not in " ".join(result.frame["building"].astype(str))
    assert result.frame["building"].iloc[0].startswith("1号楼")
    assert any("楼栋号" in w for w in result.warnings)


def test_compound_rows_without_coordinates_spread_inside_the_compound(tmp_path, area):
    compounds = area.compounds.iloc[:3]
    rows = [["小区", "户数"]] + [[name, 400 + k] for k, name in enumerate(compounds["name"])]
    rows.append(["不存在的小区", 50])
    result = read_households(_write_csv(tmp_path / "c.csv", rows, "gbk"), area=area)
    frame = result.frame
    assert frame["households"].sum() == 400 + 401 + 402
    for cid, polygon in zip(compounds["compound_id"], compounds.geometry):
        part = frame[frame["compound_id"] == cid]
        assert len(part) > 1
        assert part.geometry.within(polygon).all()
        assert part["households"].max() - part["households"].min() <= 1
    assert (frame["register_level"] == "compound").all()
    # named by row number and shape, never by the cell (issue 26 item 5)
    assert any("5" in w and "字字字字字字" in w for w in result.warnings), result.warnings
    assert not any("不存在的小区" in w for w in result.warnings)


def test_compound_rows_without_study_area_are_refused(tmp_path):
    path = _write_csv(tmp_path / "c.csv", [["小区", "户数"], ["学清苑", 400]])
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.table_no_coords"


def test_register_without_household_column_counts_rows(tmp_path, area):
    rows, truth = _register_rows(area, 3)
    body = [[r[1], r[2], r[7], r[8]] for r in rows[2:-1]]
    rows = [["小区", "楼栋", "lng", "lat"]] + body + body[:1] + body[:1]  # 3 households in bldg 1
    result = read_households(_write_csv(tmp_path / "hh.csv", rows), area=area)
    assert sorted(result.frame["households"].tolist()) == [1, 1, 3]
    assert any("一户" in w for w in result.warnings)


def test_table_without_households_or_places_is_refused(tmp_path):
    path = _write_csv(tmp_path / "x.csv", [["lng", "lat"], [116.3, 39.9]])
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.table_no_households"


def test_bad_household_count_names_the_row(tmp_path):
    path = _write_csv(tmp_path / "x.csv", [["lng", "lat", "户数"], [116.3, 39.9, 10],
                                            [116.3, 39.9, "十二"]])
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.table_bad_households"
    assert info.value.params["row"] == 3


def test_bad_coordinate_names_the_row(tmp_path):
    path = _write_csv(tmp_path / "x.csv", [["lng", "lat", "户数"], [116.3, 39.9, 10],
                                            ["东边", 39.9, 3]])
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.table_bad_coords"
    assert info.value.params["row"] == 3


# ----------------------------------------------------------------------------- coordinates


def _points_csv(tmp_path, lon, lat, *, header=("经度", "纬度"), name="p.csv", count=10):
    rows = [[*header, "户数"]] + [[f"{x:.8f}", f"{y:.8f}", count] for x, y in zip(lon, lat)]
    return _write_csv(tmp_path / name, rows)


def _building_points(area, n=12):
    b = area.buildings.sample(n, random_state=2).reset_index(drop=True)
    return gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=area.crs)


def test_column_name_says_gcj02(tmp_path, area):
    truth = _building_points(area)
    lon, lat = wgs84_to_gcj02(*_lonlat(truth))
    path = _points_csv(tmp_path, lon, lat, header=("经度(GCJ-02)", "纬度(GCJ-02)"))
    result = read_households(path, area=area)
    assert result.crs_name == "gcj02"
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.05)
    assert any("GCJ-02" in w for w in result.warnings)


def test_swapped_columns_are_noticed_and_said(tmp_path, area):
    truth = _building_points(area)
    lon, lat = _lonlat(truth)
    path = _points_csv(tmp_path, lat, lon)  # 经度 holds latitudes
    result = read_households(path, area=area)
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.05)
    assert any("swapped" in w for w in result.warnings)


def test_metres_given_as_degrees_suggests_the_crs(tmp_path, area):
    truth = _building_points(area)
    x, y = truth.geometry.x.to_numpy(), truth.geometry.y.to_numpy()
    path = _points_csv(tmp_path, x, y, header=("x", "y"))
    with pytest.raises(CRSError) as info:
        read_households(path, area=area, crs="wgs84")
    assert info.value.key == "err.metres_as_degrees_fit"
    assert "EPSG:32650" in str(info.value)
    with pytest.raises(CRSError) as info:
        read_households(path, area=area)
    assert info.value.key == "err.metres_no_crs_fit"
    result = read_households(path, area=area, crs="EPSG:32650")
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.01)


def test_metres_in_cgcs2000_gauss_kruger(tmp_path, area):
    truth = _building_points(area)
    gk = truth.to_crs("EPSG:4548")  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
    path = _points_csv(tmp_path, gk.geometry.x, gk.geometry.y, header=("X坐标", "Y坐标"))
    result = read_households(path, area=area, crs="EPSG:4548")
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.05)


def test_degrees_given_as_metres_is_refused(tmp_path, area):
    lon, lat = _lonlat(_building_points(area))
    with pytest.raises(CRSError) as info:
        read_households(_points_csv(tmp_path, lon, lat), area=area, crs="EPSG:32650")
    assert info.value.key == "err.degrees_as_metres"


def test_mixed_degrees_and_metres_is_refused(tmp_path, area):
    truth = _building_points(area, 4)
    lon, lat = _lonlat(truth)
    x = np.r_[lon[:2], truth.geometry.x.to_numpy()[2:]]
    y = np.r_[lat[:2], truth.geometry.y.to_numpy()[2:]]
    with pytest.raises(CRSError) as info:
        read_households(_points_csv(tmp_path, x, y), area=area)
    assert info.value.key == "err.mixed_crs"
    assert info.value.params["row"] == 4


def test_points_far_outside_are_reported_or_refused(tmp_path, area):
    truth = _building_points(area)
    lon, lat = (np.array(v) for v in _lonlat(truth))
    lon[:2] += 1.0  # about 85 km east
    result = read_households(_points_csv(tmp_path, lon, lat), area=area)
    assert any("km" in w and "2 points" in w for w in result.warnings)
    with pytest.raises(InputError) as info:
        read_households(_points_csv(tmp_path, lon + 1.0, lat, name="far.csv"), area=area)
    assert info.value.key == "err.all_far"


def test_unknown_crs_name(tmp_path, area):
    lon, lat = _lonlat(_building_points(area))
    with pytest.raises(CRSError) as info:
        read_households(_points_csv(tmp_path, lon, lat), area=area, crs="mars-grid")
    assert info.value.key == "err.unknown_crs"


# ----------------------------------------------------------------------------- facilities


def _facility_csv(tmp_path, area, fwd=None, name="poi.csv", extra=()):
    wgs = area.facilities.to_crs(4326)
    lon, lat = wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy()
    if fwd is not None:
        lon, lat = fwd(lon, lat)
    rows = [["名称", "类型", "地址", "电话", "经度", "纬度"]]
    for (_, f), x, y in zip(area.facilities.iterrows(), lon, lat):
        rows.append([f["name"], SERVICE_NAMES_ZH[f["service"]], "学清路1号", PERSONAL_VALUES[3],
                     f"{x:.8f}", f"{y:.8f}"])
    rows += [list(r) for r in extra]
    return _write_csv(tmp_path / name, rows)


def test_gcj02_facility_list_lands_within_a_metre(tmp_path, area):
    path = _facility_csv(tmp_path, area, wgs84_to_gcj02)
    result = read_facilities(path, area=area, crs="gcj02")
    frame = result.frame
    assert len(frame) == len(area.facilities)
    assert (frame["source"] == "user").all()
    assert frame["service"].tolist() == area.facilities["service"].tolist()
    distance = shapely.distance(frame.geometry.to_numpy(), area.facilities.geometry.to_numpy())
    assert distance.max() < 1.0
    assert result.suggested_crs is None
    assert frame["facility_id"].is_unique
    assert "电话" in result.dropped_personal_columns


def test_gcj02_read_as_wgs84_is_flagged_not_fixed(tmp_path, area):
    path = _facility_csv(tmp_path, area, wgs84_to_gcj02)
    result = read_facilities(path, area=area)
    assert result.suggested_crs == "gcj02"
    distance = shapely.distance(result.frame.geometry.to_numpy(), area.facilities.geometry.to_numpy())
    assert distance.min() > 100  # not moved silently
    assert any("gcj02" in w and "Nothing was changed" in w for w in result.warnings)


def test_bd09_facility_list(tmp_path, area):
    path = _facility_csv(tmp_path, area, wgs84_to_bd09)
    assert read_facilities(path, area=area).suggested_crs == "bd09"
    result = read_facilities(path, area=area, crs="bd09")
    distance = shapely.distance(result.frame.geometry.to_numpy(), area.facilities.geometry.to_numpy())
    assert distance.max() < 1.0


def test_correct_wgs84_list_gets_no_suggestion(tmp_path, area):
    result = read_facilities(_facility_csv(tmp_path, area), area=area, crs="wgs84")
    assert result.suggested_crs is None


@pytest.mark.skipif(not OSM_SAMPLE.exists(), reason="shared OSM sample not present")
def test_amap_list_against_real_beijing_streets(tmp_path):
    from geo.osm import read_osm, study_area_from_osm

    real = study_area_from_osm(read_osm(OSM_SAMPLE))
    facilities = real.facilities.iloc[::3].reset_index(drop=True)
    lon, lat = wgs84_to_gcj02(*_lonlat(facilities))
    rows = [["名称", "类型", "lng", "lat"]] + [
        [n or "设施", load_catalogue_name(s), f"{x:.8f}", f"{y:.8f}"]
        for n, s, x, y in zip(facilities["name"], facilities["service"], lon, lat)]
    path = _write_csv(tmp_path / "amap.csv", rows)
    assert read_facilities(path, area=real).suggested_crs == "gcj02"
    result = read_facilities(path, area=real, crs="gcj02")
    first = result.frame.drop_duplicates("name").geometry.to_numpy()
    truth = facilities.drop_duplicates("name").geometry.to_numpy()
    assert len(first) == len(truth)
    assert shapely.distance(first, truth).max() < 1.0


def load_catalogue_name(service: str) -> str:
    return next(s.name_zh for s in load_catalogue() if s.key == service)


def test_facility_types_map_to_services():
    catalogue = load_catalogue()
    assert facility_services("幼儿园", catalogue) == ("kindergarten",)
    assert facility_services("社区卫生服务站", catalogue) == ("health",)
    assert facility_services("医疗保健服务;诊所;诊所", catalogue) == ("health",)
    assert facility_services("医疗保健服务;医药保健销售店;药房", catalogue) == ("pharmacy",)
    assert facility_services("九年一贯制学校", catalogue) == ("primary_school", "middle_school")
    assert facility_services("日间照料中心", catalogue) == ("elderly_care",)
    assert facility_services("菜市场", catalogue) == ("market",)
    assert facility_services("kindergarten", catalogue) == ("kindergarten",)
    assert facility_services("Parking", catalogue) == ()
    assert facility_services("理发店", catalogue) is None


def test_unknown_types_are_listed_not_silently_dropped(tmp_path, area):
    first = area.facilities.to_crs(4326).geometry.iloc[0]
    extra = [["剪发", "美容美发店", "", "", f"{first.x:.8f}", f"{first.y:.8f}"],
             ["XX九年一贯制学校", "学校", "", "", f"{first.x:.8f}", f"{first.y:.8f}"]]
    result = read_facilities(_facility_csv(tmp_path, area, extra=extra), area=area, crs="wgs84")
    assert result.unknown_types == {"美容美发店": 1}
    assert any("美容美发店" in w for w in result.warnings)
    school = result.frame[result.frame["name"] == "XX九年一贯制学校"]
    assert sorted(school["service"]) == ["middle_school", "primary_school"]  # typed by its name
    assert school["facility_id"].is_unique


def test_facilities_with_no_known_type_are_refused(tmp_path):
    path = _write_csv(tmp_path / "f.csv", [["名称", "类型", "lng", "lat"], ["a", "银行", 116.3, 39.9]])
    with pytest.raises(InputError) as info:
        read_facilities(path)
    assert info.value.key == "err.facility_none_known"


def test_amap_location_column(tmp_path, area):
    wgs = area.facilities.to_crs(4326).iloc[:5]
    rows = [["name", "type", "location"]] + [
        [f["name"], f["service"], f"{f.geometry.x:.8f},{f.geometry.y:.8f}"] for _, f in wgs.iterrows()]
    result = read_facilities(_write_csv(tmp_path / "amap.csv", rows), area=area, crs="wgs84")
    assert shapely.distance(result.frame.geometry.to_numpy(),
                            area.facilities.geometry.to_numpy()[:5]).max() < 0.01


# ----------------------------------------------------------------------------- layers


def _feature_collection(features, crs=None) -> dict:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def _polygon_feature(ring, props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _community_rings(area):
    x0, y0, x1, y1 = area.boundary.bounds
    xm = (x0 + x1) / 2
    boxes = [shapely.box(x0, y0, xm, y1), shapely.box(xm, y0, x1, y1)]
    wgs = gpd.GeoSeries(boxes, crs=area.crs).to_crs(4326)
    return [list(map(list, shapely.get_coordinates(g.exterior))) for g in wgs], boxes


def test_communities_from_geojson_repair_and_merge(tmp_path, area):
    rings, boxes = _community_rings(area)
    (a0, a1, a2, a3, _), (b0, b1, b2, b3, _) = rings
    bowtie = [a0, a2, a1, a3, a0]  # self-intersecting
    features = [_polygon_feature(bowtie, {"社区名称": "学清社区", "社区编码": "110108001"}),
                _polygon_feature(rings[1], {"社区名称": "清华园社区", "社区编码": "110108002"}),
                _polygon_feature([b0, b1, b2], {"社区名称": "清华园社区", "社区编码": "110108002"}),
                {"type": "Feature", "properties": {"社区名称": "坏的"}, "geometry": {"type": "Polygon"}},
                {"type": "Feature", "properties": {}, "geometry": None}]
    path = tmp_path / "communities.geojson"
    path.write_text(json.dumps(_feature_collection(features), ensure_ascii=False), encoding="utf-8")
    result = read_communities(path, area=area)
    frame = result.frame
    assert sorted(frame["community_id"]) == ["110108001", "110108002"]
    assert frame.geometry.is_valid.all()
    assert result.repaired == 2  # the bow-tie and the unclosed ring
    assert result.column_map["community_id"] == "社区编码"
    second = frame.set_index("community_id").geometry["110108002"]
    assert abs(second.area - boxes[1].area) / boxes[1].area < 0.01
    text = " ".join(result.warnings)
    assert "make_valid" in text and "malformed" in text and "merged" in text


def test_communities_need_polygons(tmp_path):
    path = tmp_path / "pts.geojson"
    path.write_text(json.dumps(_feature_collection([
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}])))
    with pytest.raises(InputError) as info:
        read_communities(path)
    assert info.value.key == "err.communities_not_polygons"


def test_overlapping_communities_are_reported(tmp_path, area):
    rings, _ = _community_rings(area)
    features = [_polygon_feature(rings[0], {"name": "A"}), _polygon_feature(rings[0], {"name": "B"})]
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps(_feature_collection(features)))
    result = read_communities(path, area=area)
    assert sorted(result.frame["community_id"]) == ["SQ01", "SQ02"]
    assert any("overlap" in w for w in result.warnings)


def test_communities_gpkg_in_cgcs2000_gauss_kruger(tmp_path, area):
    _, boxes = _community_rings(area)
    gdf = gpd.GeoDataFrame({"社区": ["甲社区", "乙社区"], "联系人": ["张三丰", "李小龙"]},
                           geometry=boxes, crs=area.crs).to_crs("EPSG:4548")
    path = tmp_path / "c.gpkg"
    pyogrio.write_dataframe(gdf, path, layer="社区边界")
    before = path.read_bytes()
    result = read_communities(path, area=area)
    assert path.read_bytes() == before  # read from a copy, never touched
    assert sorted(os.listdir(tmp_path)) == ["c.gpkg"]
    assert result.crs_name == "EPSG:4548"
    assert result.frame["name"].tolist() == ["甲社区", "乙社区"]
    assert result.dropped_personal_columns == ["联系人"]
    assert abs(result.frame.area.sum() - sum(b.area for b in boxes)) / sum(b.area for b in boxes) < 1e-3
    _no_personal_data(result)


def _zipped_shapefile(tmp_path, gdf, *, name="layer", drop_cpg=False, encoding=None,
                      extra: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / f"shp-{name}"
    folder.mkdir()
    pyogrio.write_dataframe(gdf, folder / f"{name}.shp", encoding=encoding)
    if drop_cpg:
        (folder / f"{name}.cpg").unlink(missing_ok=True)
    target = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"data/{file.name}")
        for member, content in (extra or {}).items():
            archive.writestr(member, content)
    return target


def test_zipped_shapefile_in_gbk_without_cpg(tmp_path, area):
    truth = _building_points(area, 5)
    gdf = gpd.GeoDataFrame({"小区": ["学清苑"] * 5, "户数": [10, 20, 30, 40, 50]},
                           geometry=truth.geometry, crs=area.crs).to_crs(4326)
    path = _zipped_shapefile(tmp_path, gdf, drop_cpg=True, encoding="GBK")
    result = read_households(path, area=area)
    assert result.frame["compound"].tolist() == ["学清苑"] * 5
    assert result.frame["households"].tolist() == [10, 20, 30, 40, 50]
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.01)


# ----------------------------------------------------------------------------- hostile files


def _temp_leftovers() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("gridcircle-")}


@pytest.mark.parametrize("member", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp",
                                    "C:/evil.shp", "..\\evil.shp"])
def test_zip_with_escaping_paths_is_refused_before_extracting(tmp_path, area, member):
    gdf = gpd.GeoDataFrame({"户数": [1]}, geometry=[shapely.Point(116.3, 39.9)], crs=4326)
    path = _zipped_shapefile(tmp_path, gdf, extra={member: b"x"})
    before = _temp_leftovers()
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.zip_unsafe"
    assert not (tmp_path.parent / "evil.shp").exists()
    assert _temp_leftovers() == before


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.shp", b"\0" * (20 * 2**20))
        archive.writestr("layer.shx", b"\0" * 100)
        archive.writestr("layer.dbf", b"\0" * 100)
    assert path.stat().st_size < 100_000
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.zip_too_large"
    with pytest.raises(InputError) as info:
        read_households(path, limits=InputLimits(max_uncompressed_mb=5, max_compression_ratio=1e6))
    assert info.value.key == "err.zip_too_large"


def test_zip_member_lying_about_its_size_is_stopped(tmp_path):
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.geojson", b" " * (3 * 2**20))
    data = bytearray(path.read_bytes())
    real = (3 * 2**20).to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    data = data.replace(real, fake)  # both the local and the central header
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as info:
        read_communities(path)
    assert info.value.key in ("err.zip_bad", "err.zip_too_large")


def test_shapefile_zip_without_shx_or_layer(tmp_path):
    path = tmp_path / "noshx.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("roads.shp", b"\0" * 200)
        archive.writestr("roads.dbf", b"\0" * 200)
    with pytest.raises(InputError) as info:
        read_communities(path)
    assert info.value.key == "err.shp_incomplete"
    path = tmp_path / "readme.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt.md", b"hello")
    with pytest.raises(InputError) as info:
        read_communities(path)
    assert info.value.key == "err.zip_no_layer"


def test_damaged_zip(tmp_path, area):
    gdf = gpd.GeoDataFrame({"户数": [1]}, geometry=[shapely.Point(116.3, 39.9)], crs=4326)
    path = _zipped_shapefile(tmp_path, gdf)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.zip_bad"


def test_huge_upload_is_refused_by_the_limit(tmp_path):
    path = _write_csv(tmp_path / "big.csv", [["lng", "lat", "户数"]] + [[116.3, 39.9, 1]] * 200)
    with pytest.raises(InputError) as info:
        read_households(path, limits=InputLimits(max_file_mb=0.001))
    assert info.value.key == "err.file_too_large"
    with pytest.raises(InputError) as info:
        read_households(path, limits=InputLimits(max_rows=100))
    assert info.value.key == "err.table_too_many_rows"


def test_limits_are_validated():
    with pytest.raises(SettingsError):
        InputLimits(max_file_mb=-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        InputLimits().max_file_mb = 5  # type: ignore[misc]


@pytest.mark.parametrize("content,kind", [
    (bytes(range(256)) * 20, "binary"), (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
    (b"PK\x03\x04" + bytes(100), "xlsx"), (b"\xd0\xcf\x11\xe0" + bytes(100), "xls"),
])
def test_binary_junk_named_csv(tmp_path, content, kind):
    path = tmp_path / "junk.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_households(path)
    assert info.value.key == "err.table_binary"
    assert kind in str(info.value)


def test_legacy_xls_and_unknown_formats(tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    with pytest.raises(InputError) as info:
        read_households(tmp_path / "old.xls")
    assert info.value.key == "err.xls_legacy"
    (tmp_path / "map.kml").write_text("<kml/>")
    with pytest.raises(InputError) as info:
        read_households(tmp_path / "map.kml")
    assert info.value.key == "err.layer_format"
    with pytest.raises(InputError) as info:
        read_households(tmp_path / "missing.csv")
    assert info.value.key == "err.file_missing"
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError) as info:
        read_households(tmp_path / "empty.csv")
    assert info.value.key == "err.file_empty"


@pytest.mark.parametrize("text,key", [
    ('{"type": "FeatureCollection", "features": [', "err.geojson_parse"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
     '{"type": "Point", "coordinates": [NaN, 1]}}]}', "err.geojson_parse"),
    ("[" * 100_000 + "]" * 100_000, "err.geojson_parse"),
    ('{"type": "Topology"}', "err.geojson_structure"),
    ('[1, 2, 3]', "err.geojson_structure"),
    ('{"type": "FeatureCollection", "features": []}', "err.layer_empty"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
     '{"type": "Point", "coordinates": ["a", "b"]}}]}', "err.layer_empty"),
])
def test_malformed_geojson(tmp_path, text, key):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_communities(path)
    assert info.value.key == key


def test_geojson_parse_error_says_where(tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{\n "type": "FeatureCollection",\n "features": [}\n')
    with pytest.raises(InputError) as info:
        read_facilities(path)
    assert info.value.params["line"] == 3


def test_geojson_with_unknown_crs_member(tmp_path):
    doc = _feature_collection([{"type": "Feature", "properties": {"类型": "幼儿园"},
                                "geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}],
                              crs="urn:ogc:def:crs:EPSG::999999")
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    with pytest.raises(CRSError):
        read_facilities(path)


def test_layer_read_is_frozen(tmp_path, area):
    result = read_facilities(_facility_csv(tmp_path, area), area=area, crs="wgs84")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.frame = None  # type: ignore[misc]
    assert result.messages("zh") and result.messages("en")


def test_inputs_are_left_unchanged(tmp_path, area):
    rows, _ = _register_rows(area)
    path = _write_csv(tmp_path / "r.csv", rows, "gbk")
    before = path.read_bytes()
    households = area.households.copy()
    read_households(path, area=area)
    assert path.read_bytes() == before
    assert area.households.equals(households)
    assert sorted(os.listdir(tmp_path)) == ["r.csv"]


def test_every_message_key_of_the_readers_exists():
    import re

    from geo.i18n import table

    root = Path(__file__).resolve().parents[2] / "geo"
    keys = set()
    for name in (*(f"osm/{p.name}" for p in (root / "osm").glob("*.py")),
                 *(f"inputs/{p.name}" for p in (root / "inputs").glob("*.py"))):
        keys |= set(re.findall(r'"((?:err|note)\.[a-z_]+)"', (root / name).read_text(encoding="utf-8")))
    keys |= {"err.metres_as_degrees_fit", "err.metres_no_crs_fit"}  # built as key + "_fit"
    assert len(keys) > 40
    missing = keys - set(table())
    assert not missing


def test_english_register_name_column_is_a_person(tmp_path, area):
    truth = _building_points(area, 4)
    lon, lat = _lonlat(truth)
    rows = [["Name", "Phone", "Address", "Households", "lon", "lat"]] + [
        [PERSONAL_VALUES[k % 2], PERSONAL_VALUES[3], f"Xueqing Rd {k + 1}", 5, f"{x:.8f}", f"{y:.8f}"]
        for k, (x, y) in enumerate(zip(lon, lat))]
    result = read_households(_write_csv(tmp_path / "en.csv", rows), area=area)
    assert set(result.dropped_personal_columns) == {"Name", "Phone"}
    assert (result.frame["register_level"] == "address").all()
    assert "address" not in result.frame.columns  # free text: left out unless kept
    _no_personal_data(result)
    kept = read_households(_write_csv(tmp_path / "en.csv", rows), area=area,
                           keep_text=("address",))
    assert kept.frame["address"].tolist()[0] == "Xueqing Rd 1"
    _no_personal_data(kept)


def test_building_footprints_with_counts_become_points_inside_them(tmp_path, area):
    b = area.buildings.iloc[:5]
    wgs = b.to_crs(4326)
    features = [{"type": "Feature", "properties": {"户数": 10 + k, "楼栋": f"{k + 1}号楼"},
                 "geometry": json.loads(shapely.to_geojson(g))} for k, g in enumerate(wgs.geometry)]
    path = tmp_path / "buildings.geojson"
    path.write_text(json.dumps(_feature_collection(features), ensure_ascii=False), encoding="utf-8")
    result = read_households(path, area=area)
    assert result.frame.geometry.geom_type.eq("Point").all()
    assert result.frame.geometry.within(b.geometry.buffer(0.5).reset_index(drop=True)).all()
    assert any("point inside" in w for w in result.warnings)


def test_geopackage_layers_chosen_and_empty_layers(tmp_path, area):
    truth = _building_points(area, 3)
    path = tmp_path / "many.gpkg"
    roads = area.roads.iloc[:2][["geometry"]]
    pyogrio.write_dataframe(roads, path, layer="roads")
    homes = gpd.GeoDataFrame({"户数": [1, 2, 3]}, geometry=truth.geometry, crs=area.crs)
    pyogrio.write_dataframe(homes, path, layer="households_2025", append=True)
    result = read_households(path, area=area)
    assert result.frame["households"].tolist() == [1, 2, 3]
    assert any("households_2025" in w for w in result.warnings)
    with pytest.raises(InputError) as info:
        read_households(path, layer="nope")
    assert info.value.key == "err.layer_unreadable"
    empty = tmp_path / "empty.gpkg"
    pyogrio.write_dataframe(homes.iloc[:0], empty, layer="households")
    with pytest.raises(InputError) as info:
        read_households(empty)
    assert info.value.key == "err.layer_empty"
    fake = tmp_path / "fake.gpkg"
    fake.write_text("not sqlite at all")
    with pytest.raises(InputError) as info:
        read_households(fake)
    assert info.value.key == "err.layer_unreadable"


def test_geojson_with_projected_crs_member(tmp_path, area):
    truth = _building_points(area, 3)
    gk = truth.to_crs("EPSG:4548")
    features = [{"type": "Feature", "properties": {"户数": 7},
                 "geometry": {"type": "Point", "coordinates": [p.x, p.y]}} for p in gk.geometry]
    path = tmp_path / "gk.geojson"
    path.write_text(json.dumps(_feature_collection(features, crs="urn:ogc:def:crs:EPSG::4548")))
    result = read_households(path, area=area)
    assert result.crs_name == "EPSG:4548"
    np.testing.assert_array_less(result.frame.geometry.distance(truth.geometry), 0.05)


def test_gcj02_outside_mainland_is_not_shifted_and_said(tmp_path):
    path = _write_csv(tmp_path / "hk.csv", [["名称", "类型", "lng", "lat"],
                                             ["a", "幼儿园", "-0.1276", "51.5072"]])
    result = read_facilities(path, crs="gcj02")
    point = result.frame.geometry.iloc[0]
    assert (point.x, point.y) == (-0.1276, 51.5072)
    assert any("mainland" in w for w in result.warnings)


def test_read_upload_from_memory(tmp_path, area):
    from geo.inputs import read_upload

    rows, truth = _register_rows(area, 4)
    data = _write_csv(tmp_path / "r.csv", rows, "gbk").read_bytes()
    before = _temp_leftovers()
    result = read_upload(data, "../../登记表 2025.csv", kind="households", area=area)
    assert result.frame["households"].tolist() == [30, 31, 32, 33]
    assert _temp_leftovers() == before
    with pytest.raises(InputError) as info:
        read_upload(data * 10, "r.csv", kind="households", limits=InputLimits(max_file_mb=0.001))
    assert info.value.key == "err.file_too_large"
    with pytest.raises(InputError) as info:
        read_upload(b"\x00\x01" * 100, "r.csv", kind="facilities")
    assert info.value.key == "err.table_binary"


def test_readers_split_into_modules_under_500_lines_and_reachable_from_geo_inputs():
    from pathlib import Path

    import geo.inputs as layers
    from geo.inputs.communities import read_communities as communities
    from geo.inputs.facilities import read_facilities as facilities
    from geo.inputs.readers import read_upload

    assert layers.read_facilities is facilities and layers.read_communities is communities
    assert layers.read_upload is read_upload
    assert set(layers.READERS) == {"households", "facilities", "communities", "buildings",
                                   "compounds"}
    root = Path(layers.__file__).parent
    for name in ("__init__.py", "register.py", "facilities.py", "communities.py",
                 "register_names.py", "readers.py", "layer_parts.py"):
        assert len((root / name).read_text(encoding="utf-8").splitlines()) < 500, name


def test_geo_inputs_offers_its_readers_as_plain_names():
    """Every reader is a plain attribute of geo.inputs (no module ``__getattr__``), so
    tools and readers of the code see what it offers; nobody takes private names from
    the readers' shared steps."""
    import ast
    from pathlib import Path

    import geo.inputs as layers
    from geo.inputs import layer_parts

    assert not hasattr(layers, "__getattr__")
    offered = set(dir(layers))
    assert set(layers.__all__) <= offered
    assert {"read_households", "read_facilities", "read_communities", "read_buildings",
            "read_compounds", "read_upload", "READERS", "LayerRead"} <= set(layers.__all__)
    assert all(callable(reader) for reader in layers.READERS.values())
    assert layers.READERS["households"] is layers.read_households
    assert layers.LayerRead is layer_parts.LayerRead
    root = Path(layers.__file__).parents[2]
    bad = []
    for path in [*(root / "geo").rglob("*.py"), *(root / "analysis").rglob("*.py"),
                 *(root / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("geo.inputs",
                                                                    "geo.inputs.layer_parts"):
                bad += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert bad == []


def test_register_age_group_counts_are_kept_summed_and_spread(tmp_path, area):
    rows, _ = _register_rows(area, 4)
    rows[1] += ["60岁以上（人）", "0-6岁"]
    for k, row in enumerate(rows[2:6]):
        row += [k + 1, "" if k == 0 else "2人"]
    rows[6] += ["", ""]  # the total row
    result = read_households(_write_csv(tmp_path / "r.csv", rows), area=area)
    frame = result.frame
    assert result.column_map["elderly_60plus"] == "60岁以上（人）"
    assert result.column_map["children_0_6"] == "0-6岁"
    assert frame["elderly_60plus"].tolist() == [1, 2, 3, 4]
    assert frame["children_0_6"].tolist() == [0, 2, 2, 2]
    _no_personal_data(result)
    # by compound name only: the counts are spread over the compound's points, totals kept
    name = area.compounds["name"].iloc[0]
    rows = [["小区名称", "户数", "60岁以上", "学龄前儿童"], [name, 50, 17, 5], [name, 30, 4, 1]]
    spread = read_households(_write_csv(tmp_path / "c.csv", rows), area=area).frame
    assert spread["households"].sum() == 80
    assert spread["elderly_60plus"].sum() == 21 and spread["children_0_6"].sum() == 6
    bad = [["经度", "纬度", "户数", "60+"], [116.3, 40.0, 3, "many"]]
    with pytest.raises(InputError) as err:
        read_households(_write_csv(tmp_path / "b.csv", bad))
    assert err.value.key == "err.table_bad_group" and "many" not in str(err.value)  # shape only
