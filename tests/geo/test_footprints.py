"""Uploaded building footprints (GCJ-02) and compound outlines (BD-09): read within 1 m,
personal columns dropped, households per the formula or 户数, OSM replaced within the
upload's extent; and both through the command line."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from analysis.cli import main
from geo.chinacrs import gcj02_to_bd09, wgs84_to_gcj02
from geo.inputs.footprints import (given_counts, is_residential, read_buildings,
                                   read_compounds, with_buildings, with_compounds)
from geo.osm import read_osm, study_area_from_osm
from geo.households import estimate_households
from geo.settings import HouseholdSettings
from tests.conftest import osm_xml

LON0, LAT0 = 116.30, 39.90
PHONE = "13912345678"


@pytest.fixture(scope="module")
def osm_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "district.osm"
    path.write_text(osm_xml(lon0=LON0, lat0=LAT0), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def area(osm_path):
    return study_area_from_osm(read_osm(osm_path))


def _boxes_wgs84():
    """Three footprints (lon, lat boxes) inside the small OSM district."""
    return [shapely.box(LON0 + 0.0003, LAT0 + 0.0003, LON0 + 0.0008, LAT0 + 0.0006),
            shapely.box(LON0 + 0.0012, LAT0 + 0.0003, LON0 + 0.0016, LAT0 + 0.0006),
            shapely.box(LON0 + 0.0003, LAT0 + 0.0024, LON0 + 0.0007, LAT0 + 0.0027)]


def _shifted(geoms, shift):
    out = []
    for g in geoms:
        xy = shapely.get_coordinates(g)
        x, y = shift(xy[:, 0], xy[:, 1])
        out.append(shapely.Polygon(np.column_stack([x, y])))
    return out


def _write_geojson(path, props, geoms):
    feats = [{"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
             for p, g in zip(props, geoms)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _buildings_file(tmp_path):
    props = [{"名称": "1号楼", "层数": "6层", "用途": "住宅", "联系电话": PHONE},
             {"名称": "2号楼", "层数": 18, "用途": "住宅", "户数": 150, "联系电话": PHONE},
             {"名称": "商场", "层数": 3, "用途": "商业", "联系电话": PHONE}]
    return _write_geojson(tmp_path / "楼栋.geojson", props,
                          _shifted(_boxes_wgs84(), wgs84_to_gcj02))


def test_is_residential():
    assert is_residential("住宅") and is_residential("商住楼") and is_residential("Apartments")
    assert not is_residential("商业") and not is_residential(None) and not is_residential("学校")


def test_buildings_in_gcj02_land_within_a_metre_and_drop_personal_columns(tmp_path, area):
    read = read_buildings(_buildings_file(tmp_path), crs="gcj02", area=area)
    frame = read.frame
    assert "联系电话" in read.dropped_personal_columns
    assert PHONE not in frame.to_json()
    truth = gpd.GeoSeries(_boxes_wgs84(), crs=4326).to_crs(area.crs)
    gap = shapely.hausdorff_distance(frame.geometry.to_numpy(), truth.to_numpy())
    assert (gap < 1.0).all()
    assert frame["levels"].tolist()[:2] == [6.0, 18.0]
    assert frame["building"].tolist() == ["residential", "residential", "商业"]
    assert np.isnan(frame["households"].iloc[0]) and frame["households"].iloc[1] == 150


def test_households_follow_the_formula_or_the_given_count(tmp_path, area):
    upload = read_buildings(_buildings_file(tmp_path), crs="gcj02", area=area).frame
    merged = with_buildings(area, upload)
    # OSM's two buildings stood inside the upload's extent: replaced
    assert not merged.buildings["building_id"].str.startswith("way/").any()
    settings = HouseholdSettings()
    units = given_counts(estimate_households(merged, settings), merged.buildings)
    mine = units[units["building_id"].astype(str).str.startswith("upload/")].set_index("building_id")
    first = upload.iloc[0]
    expected = round(first.geometry.area * 6 / settings.dwelling_m2)
    assert mine.loc["upload/1", "households"] == expected
    assert mine.loc["upload/2", "households"] == 150
    assert "upload/3" not in mine.index  # a shopping centre holds no households
    assert set(mine["hh_source"]) == {"buildings"}


def test_compounds_in_bd09_and_walls(tmp_path, area):
    outline = shapely.box(LON0 + 0.0002, LAT0 + 0.0002, LON0 + 0.0018, LAT0 + 0.0018)
    bd = _shifted([outline], lambda x, y: gcj02_to_bd09(*wgs84_to_gcj02(x, y)))
    path = _write_geojson(tmp_path / "小区.geojson", [{"小区名称": "学清苑", "电话": PHONE}], bd)
    read = read_compounds(path, crs="bd09", area=area)
    frame = read.frame
    assert frame["name"].tolist() == ["学清苑"] and frame["compound_id"].tolist() == ["upload/1"]
    truth = gpd.GeoSeries([outline], crs=4326).to_crs(area.crs).iloc[0]
    assert shapely.hausdorff_distance(frame.geometry.iloc[0], truth) < 1.0
    merged = with_compounds(area, frame)
    assert "upload/1" in set(merged.compounds["compound_id"])


def test_command_line_with_buildings_and_compounds(tmp_path, osm_path):
    buildings = _buildings_file(tmp_path)
    outline = shapely.box(LON0 + 0.0002, LAT0 + 0.0002, LON0 + 0.0018, LAT0 + 0.0008)
    compounds = _write_geojson(tmp_path / "小区.geojson", [{"名称": "南苑"}],
                               _shifted([outline], wgs84_to_gcj02))
    out, summary = tmp_path / "p.gpkg", tmp_path / "s.json"
    code = main(["run", "--osm", str(osm_path), "--buildings", str(buildings),
                 "--buildings-crs", "gcj02", "--compounds", str(compounds),
                 "--compounds-crs", "gcj02", "--out", str(out), "--summary", str(summary)])
    assert code == 0
    s = json.loads(summary.read_text(encoding="utf-8"))
    assert s["households_by_source"].get("buildings", 0) >= 150
    walls = pyogrio.read_dataframe(out, layer="compound_walls")
    assert "南苑" in set(walls["name"])
    homes = pyogrio.read_dataframe(out, layer="households")
    assert PHONE not in homes.to_json()


def test_uploaded_compounds_name_the_derived_communities_and_place_the_register(tmp_path,
                                                                                 osm_path):
    """Uploaded outlines are in the area before the base stage: a derived community is
    named after its largest named uploaded compound, a register row naming an uploaded
    compound is spread over it, and an unnamed upload (named by its id) names nothing."""
    south = shapely.box(LON0 + 0.0002, LAT0 + 0.0002, LON0 + 0.0018, LAT0 + 0.0018)
    north = shapely.box(LON0 + 0.0042, LAT0 + 0.0042, LON0 + 0.0058, LAT0 + 0.0058)
    compounds = _write_geojson(tmp_path / "小区.geojson", [{"名称": "锦绣花园"}, {"备注": "x"}],
                               _shifted([south, north], wgs84_to_gcj02))
    register = tmp_path / "登记.csv"
    register.write_text("小区名称,户数\n锦绣花园,400\n", encoding="utf-8")
    out = tmp_path / "p.gpkg"
    code = main(["run", "--osm", str(osm_path), "--compounds", str(compounds),
                 "--compounds-crs", "gcj02", "--households", str(register), "--out", str(out)])
    assert code == 0
    homes = pyogrio.read_dataframe(out, layer="households")
    assert homes["households"].sum() == 400
    assert set(homes["compound_id"].dropna()) == {"upload/1"}
    comms = pyogrio.read_dataframe(out, layer="communities")
    names = " ".join(comms["name"].astype(str))
    assert "锦绣花园" in names and "upload/" not in names


def test_buildings_age_group_counts_reach_their_households(tmp_path, area):
    props = [{"名称": "1号楼", "层数": 6, "用途": "住宅", "60岁及以上": "12人", "0-6岁": 3},
             {"名称": "2号楼", "层数": 18, "用途": "住宅", "60岁及以上": 40, "0-6岁": ""},
             {"名称": "商场", "层数": 3, "用途": "商业", "60岁及以上": 0, "0-6岁": 0}]
    path = _write_geojson(tmp_path / "楼栋.geojson", props, _boxes_wgs84())
    upload = read_buildings(path, area=area).frame
    assert upload["elderly_60plus"].tolist() == [12, 40, 0]
    assert upload["children_0_6"].tolist() == [3, 0, 0]
    merged = with_buildings(area, upload)
    units = given_counts(estimate_households(merged, HouseholdSettings()), merged.buildings)
    mine = units.set_index("building_id")
    assert mine.loc["upload/1", "elderly_60plus"] == 12 and mine.loc["upload/2", "elderly_60plus"] == 40
    assert mine.loc["upload/1", "children_0_6"] == 3
    assert units["elderly_60plus"].sum() == 52  # units of other buildings count nobody
