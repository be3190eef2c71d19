"""Column names, cell values and personal data in uploaded tables."""

import math

import pandas as pd
import pytest

from geo.inputs.columns import (find_header, match_columns, normalise_name, parse_coordinate,
                         parse_count, parse_location, personal_by_content, scrub_personal,
                         total_rows)


@pytest.mark.parametrize("name,expected", [
    ("经度（GCJ-02）", ("经度", "gcj02")), ("lng_gcj02", ("lng", "gcj02")),
    ("LngGCJ", ("lng", "gcj02")), ("纬度(百度)", ("纬度", "bd09")), ("户数（户）", ("户数", None)),
    ("\ufeff名称", ("名称", None)), ("Ｘ坐标", ("x坐标", None)), ("bd09_lat", ("lat", "bd09")),
])
def test_normalise_name(name, expected):
    assert normalise_name(name) == expected


def test_match_columns_chinese_and_english():
    match = match_columns(["序号", "小区名称", "楼栋号", "户数（户）", "户主姓名", "身份证号", "联系电话",
                           "经度(GCJ02)", "纬度(GCJ02)", "备注"],
                          ("x", "y", "households", "building", "compound", "id"))
    assert match.column_map == {"x": "经度(GCJ02)", "y": "纬度(GCJ02)", "households": "户数（户）",
                                "building": "楼栋号", "compound": "小区名称", "id": "序号"}
    assert match.personal == ("户主姓名", "身份证号", "联系电话")
    assert match.ignored == ("备注",)
    assert match.crs_hint == ("gcj02", "经度(GCJ02)")
    english = match_columns(["Longitude", "Latitude", "Households", "Contact Phone", "owner_name",
                             "village_code"], ("x", "y", "households"))
    assert english.column_map == {"x": "Longitude", "y": "Latitude", "households": "Households"}
    assert english.personal == ("Contact Phone", "owner_name")  # whole words: not "village"
    assert english.ignored == ("village_code",)


def test_header_found_below_a_title_row():
    rows = [["某某社区住户登记表"], [], ["小区", "楼栋", "户数", "经度", "纬度"], ["a", "1", "3", "116", "39"]]
    assert find_header(rows, ("x", "y", "households", "building", "compound")) == 2


@pytest.mark.parametrize("text,value", [
    ("116.35", 116.35), ("１１６．３５", 116.35), ("116°21′0″E", 116.35), ("39度54分36秒", 39.91),
    ("W 3°30'", -3.5), ("116,35", 116.35), ("440,000", 440000.0), ("1,234,567.5", 1234567.5),
])
def test_parse_coordinate(text, value):
    assert parse_coordinate(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["东边", "inf", "1e999", "116.3.5", "--"])
def test_parse_coordinate_refuses_junk(text):
    with pytest.raises(ValueError):
        parse_coordinate(text)


def test_parse_location_count_and_blanks():
    assert parse_location("116.3,39.9") == (116.3, 39.9)
    assert parse_location("POINT (116.3 39.9)") == (116.3, 39.9)
    assert math.isnan(parse_coordinate(""))
    assert parse_count("1,200户") == 1200 and parse_count("120.0") == 120 and parse_count("") is None
    for bad in ("-3", "2.5", "nan", "十"):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_personal_content_found_and_scrubbed():
    frame = pd.DataFrame({"备注": ["13812345678", "电话 139-1234-5678", "", "zs@example.com"],
                          "楼栋": ["1号楼", "2号楼 110101199003071234", "3号楼", "4号楼"]})
    personal, counts = personal_by_content(frame, ["备注", "楼栋"])
    assert personal == ["备注"] and counts == {"楼栋": 1}
    scrubbed = scrub_personal(frame["楼栋"])
    assert scrubbed.tolist() == ["1号楼", "2号楼 ***", "3号楼", "4号楼"]
    assert scrub_personal(pd.Series(["116.3123456789", "2024-01-01"])).tolist() == \
        ["116.3123456789", "2024-01-01"]  # coordinates and dates are left alone


def test_total_rows():
    frame = pd.DataFrame({"小区": ["a", "合计", "b", " Total: "], "户数": ["1", "2", "小计", "3"]})
    assert total_rows(frame).tolist() == [False, True, True, True]


def test_numbers_in_other_notations_in_a_coordinate_column(tmp_path):
    from geo.inputs import read_households

    path = tmp_path / "dms.csv"
    path.write_text("经度,纬度,户数\n116°21′E,39°54′N,5\n116.36,39.91,3\n", encoding="utf-8")
    frame = read_households(path).frame
    assert frame.geometry.x.round(4).tolist() == [116.35, 116.36]
    assert frame.geometry.y.round(4).tolist() == [39.9, 39.91]
