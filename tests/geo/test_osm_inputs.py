"""Broken OpenStreetMap files get a clean, specific InputError."""

from pathlib import Path

import pytest

from geo.errors import InputError
from geo.osm import read_osm

NODES = """ <node id="1" lat="39.9" lon="116.3"/>
 <node id="2" lat="39.901" lon="116.3"/>
 <node id="3" lat="39.901" lon="116.301"/>
"""


def _osm(tmp_path: Path, body: str, name: str = "area.osm") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}</osm>\n',
                    encoding="utf-8")
    return path


def test_ways_with_missing_nodes_say_how_to_export_again(tmp_path):
    path = _osm(tmp_path, NODES + """ <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="99"/>
  <tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="12"><nd ref="98"/><nd ref="3"/><nd ref="97"/><tag k="building" v="yes"/></way>
""")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_dangling"
    assert info.value.params["ways"] == 2
    assert info.value.params["nodes"] == 3
    assert info.value.params["example"] == "10"
    assert "complete_ways" in str(info.value)


def test_relations_with_missing_members_and_no_features_are_fine(tmp_path):
    path = _osm(tmp_path, NODES + """ <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <relation id="5"><member type="way" ref="777" role="outer"/>
  <tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/></relation>
""")
    layers = read_osm(path)
    assert len(layers.streets) == 1  # the two ways meet end to end: one street segment
    assert len(layers.features) == 0  # streets only is not an error


def test_truncated_osm_file(tmp_path):
    whole = _osm(tmp_path, NODES + ' <way id="10"><nd ref="1"/><nd ref="2"/>'
                 '<tag k="highway" v="residential"/></way>\n')
    cut = tmp_path / "cut.osm"
    cut.write_bytes(whole.read_bytes()[:-40])
    with pytest.raises(InputError) as info:
        read_osm(cut)
    assert info.value.key == "err.not_osm"


def test_binary_junk_named_osm(tmp_path):
    path = tmp_path / "junk.osm"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.not_osm"
