"""Grid codes (CJ/T 349-2010 structure) and 四至 on small fixtures built in code."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.errors import InputError
from geo.grids.codes import CodeScheme, grid_codes
from geo.grids.sides import boundary_sides, named_features

CRS = "EPSG:32650"


def _grids() -> gpd.GeoDataFrame:
    """Three grids of community C01 in a row (west to east), one of C02 to the south."""
    boxes = [shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200),
             shapely.box(400, 0, 600, 200), shapely.box(0, -300, 600, 0)]
    return gpd.GeoDataFrame({"grid_id": ["C01-01", "C01-02", "C01-03", "C02-01"],
                             "community_id": ["C01", "C01", "C01", "C02"]},
                            geometry=boxes, crs=CRS)


def _streets() -> gpd.GeoDataFrame:
    """Named streets on the four sides of grid C01-01 (along its edges), one unnamed."""
    lines = [shapely.LineString([(200, -50), (200, 260)]),   # east of C01-01
             shapely.LineString([(-60, 0), (700, 0)]),        # south of the C01 row
             shapely.LineString([(0, -50), (0, 260)]),        # west
             shapely.LineString([(-60, 200), (700, 200)]),    # north
             shapely.LineString([(400, -10), (400, 210)])]    # unnamed, between 02 and 03
    return gpd.GeoDataFrame({"name": ["学院路", "成府路", "西王庄路", "清华东路", None],
                             "highway": ["primary"] * 4 + ["residential"]},
                            geometry=lines, crs=CRS)


def test_codes_structure_and_admin_code():
    grids = _grids()
    codes, comm = grid_codes(grids, None, CodeScheme.parse("110108009"))
    assert comm == {"C01": "001", "C02": "002"}
    assert codes["grid_code"].tolist() == ["11010800900101", "11010800900102",
                                           "11010800900103", "11010800900200"]
    assert all(len(c) == 14 and c.isdigit() for c in codes["grid_code"])
    local, _ = grid_codes(grids, None, CodeScheme())
    assert local["grid_code"].tolist() == ["00101", "00102", "00103", "00200"]
    full, _ = grid_codes(grids, None, CodeScheme.parse("110108", "010100"))
    assert full["grid_code_full"].iloc[0] == "010100" + "110108" + "000" + "001" + "01"
    for bad in ("11010", "1101080091", "abcdef"):
        with pytest.raises(InputError):
            CodeScheme.parse(bad)


def test_codes_from_statistical_community_codes_and_stable_on_edit():
    grids = _grids()
    grids["community_id"] = ["110108009001"] * 3 + ["110108009017"]
    grids["grid_id"] = [f"{c}-{n}" for c, n in zip(grids["community_id"], ["01", "02", "03", "01"])]
    codes, _ = grid_codes(grids, None, CodeScheme.parse("110108"))
    assert codes["grid_code"].tolist()[0] == "110108" + "009" + "001" + "01"
    assert codes["grid_code"].tolist()[3] == "110108" + "009" + "017" + "00"
    # an edit: grid 02 merged into 01 and 03 split in two (a new id, 04): others unchanged
    edited = grids.drop(index=1).copy()
    extra = edited.iloc[[1]].copy()
    extra["grid_id"] = "110108009001-04"
    edited = gpd.GeoDataFrame(__import__("pandas").concat([edited, extra]), crs=CRS)
    after, _ = grid_codes(edited, None, CodeScheme.parse("110108"))
    before = dict(zip(grids["grid_id"], codes["grid_code"]))
    for gid, code in zip(edited["grid_id"], after["grid_code"]):
        if gid in before:
            assert code == before[gid]
    assert after["grid_code"].iloc[-1].endswith("00104")


def test_boundary_names_streets_on_four_sides():
    grids = _grids()
    out = boundary_sides(grids, named_features(_streets()))
    first = out.iloc[0]
    assert first["boundary_zh"] == "东至学院路，南至成府路，西至西王庄路，北至清华东路。"
    assert "East: 学院路; south: 成府路" in first["boundary_en"]
    second = out.iloc[1]  # the unnamed street to its east: the neighbouring grid is named
    assert second["west_zh"] == "学院路" and second["east_kind"] == "grid"
    assert second["east_zh"] == "C01-03网格"
    third = out.iloc[2]
    assert third["east_kind"] == "edge" and third["boundary_zh"].count("社区边界") == 1
    assert out.iloc[3]["north_zh"] == "成府路"


def test_boundary_follows_walls_and_ignores_crossing_streets():
    grids = _grids().iloc[[0]]
    walls = gpd.GeoDataFrame({"name": ["清华园"]}, geometry=[shapely.box(0, 0, 200, 400)], crs=CRS)
    crossing = gpd.GeoDataFrame({"name": ["横穿路"]},
                                geometry=[shapely.LineString([(100, -100), (100, 300)])], crs=CRS)
    out = boundary_sides(grids, named_features(crossing, walls)).iloc[0]
    assert out["west_zh"] == "清华园围墙" and out["east_zh"] == "清华园围墙"
    assert "横穿路" not in out["boundary_zh"]


def test_uploaded_communities_without_codes_are_numbered_from_the_north_west():
    grids = _grids()
    # two communities named by the planner: the southern one listed first
    grids["community_id"] = ["北社区", "北社区", "北社区", "南社区"]
    grids = grids.iloc[::-1]
    codes, comm = grid_codes(grids, None, CodeScheme.parse("110108009"))
    assert comm == {"北社区": "001", "南社区": "002"}
    assert codes["grid_code"].iloc[0] == "11010800900200"
