"""Hostile OpenStreetMap files (issue 13 items 4, 6, 7, 8): compression bombs, document
type declarations, duplicate ids, coordinates out of range and endless names."""

from __future__ import annotations

import bz2
import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.osm import read_osm
from geo.settings import InputLimits
from tests.conftest import osm_xml

TRIED = {"duplicates": 0, "coords": 0}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def report_tried(request):
    """After the module: how many generated files the property tests tried."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = (f"[fuzz] osm duplicates: tried {TRIED['duplicates']} files; "
            f"coordinates out of range: tried {TRIED['coords']} files")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")


def _bomb_bytes(mb: int) -> bytes:
    """Valid OSM XML of about ``mb`` MB: one street and a long run of similar nodes."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
            '<node id="1" lat="39.9" lon="116.3"/><node id="2" lat="39.901" lon="116.3"/>\n'
            '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>\n')
    line = b'<!-- ' + b"x" * 1000 + b' -->\n'
    return head.encode() + line * (mb * 1024) + b"</osm>\n"


@pytest.mark.parametrize("suffix, opener", [(".osm.bz2", bz2), (".osm.gz", gzip)])
def test_compression_bomb_is_refused_while_streaming(tmp_path, suffix, opener):
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(opener.compress(_bomb_bytes(40)))
    assert path.stat().st_size < 1_000_000  # 40 MB inside well under 1 MB
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_too_large"
    assert "MB" in info.value.bilingual()
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("gridcircle-osm-*")]
    assert not [p for p in leftovers if p.stat().st_mtime > path.stat().st_mtime]


def test_decompressed_limit_is_a_setting(tmp_path, osm_file):
    packed = tmp_path / "district.osm.bz2"
    packed.write_bytes(bz2.compress(osm_file.read_bytes()))
    assert len(read_osm(packed).streets)
    with pytest.raises(InputError) as info:
        read_osm(packed, limits=InputLimits(max_osm_mb=0.001))
    assert info.value.key == "err.osm_too_large"
    with pytest.raises(InputError) as info:
        read_osm(osm_file, limits=InputLimits(max_osm_mb=0.001))  # plain files count too
    assert info.value.key == "err.osm_too_large"


def test_memory_stays_bounded_for_a_bomb(tmp_path):
    """A 1 MB .gz that would expand to a gigabyte: refused with memory far below 1 GB."""
    import zlib

    path = tmp_path / "big.osm.gz"
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip framing
    chunk = b"<!-- " + b"y" * (1 << 20) + b" -->\n"
    with path.open("wb") as out:
        out.write(compressor.compress(_bomb_bytes(1)))
        for _ in range(1000):  # 1 GB of XML
            out.write(compressor.compress(chunk))
        out.write(compressor.flush())
    assert path.stat().st_size < 2_000_000
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from geo.errors import InputError
        from geo.osm import read_osm
        try:
            read_osm({str(path)!r})
        except InputError as exc:
            print(exc.key)
        # VmHWM: this process's peak (ru_maxrss would report the parent's at fork)
        status = open("/proc/self/status").read()
        print(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    key, rss_kb = out.stdout.split()
    assert key == "err.osm_too_large"
    assert int(rss_kb) < 700_000, rss_kb


def test_long_doctype_gets_its_own_message(tmp_path):
    dtd = "<!DOCTYPE osm [\n" + "".join(f'<!ENTITY e{k} "{"z" * 60}">\n' for k in range(100)) + "]>\n"
    assert len(dtd) > 4096
    path = tmp_path / "dtd.osm"
    path.write_text('<?xml version="1.0"?>\n' + dtd + osm_xml().split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_doctype"
    assert "<!DOCTYPE>" in info.value.bilingual()


def _with_nodes(body: str, extra: str) -> str:
    return body.replace("</osm>", extra + "\n</osm>")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=16), min_size=1, max_size=6, unique=True),
       st.booleans())
def test_duplicate_ids_are_refused_and_named(tmp_path, ids, way):
    """Any node (or way) listed twice, wherever it is, is refused naming it."""
    TRIED["duplicates"] += 1
    text = osm_xml()
    extra = "".join(f'<node id="{i}" version="2" lat="10.0" lon="10.0"/>' for i in ids)
    if way:
        extra += '<way id="1000"><nd ref="1"/><nd ref="2"/><tag k="highway" v="service"/></way>'
    path = tmp_path / f"dup{TRIED['duplicates']}.osm"
    path.write_text(_with_nodes(text, extra), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_duplicate_ids"
    assert info.value.params["count"] == len(ids) + int(way)
    assert f"node {ids[0]}" in info.value.params["examples"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.one_of(st.floats(min_value=90.0001, max_value=1e6), st.floats(max_value=-90.0001, min_value=-1e6),
                 st.sampled_from([float("nan"), float("inf"), -float("inf")])),
       st.one_of(st.floats(min_value=-180, max_value=180), st.floats(min_value=180.0001, max_value=1e9)))
def test_nodes_out_of_range_are_refused(tmp_path, lat, lon):
    TRIED["coords"] += 1
    text = osm_xml()
    extra = (f'<node id="900" lat="{lat!r}" lon="{lon!r}"/>'
             '<way id="901"><nd ref="1"/><nd ref="900"/><tag k="highway" v="residential"/></way>')
    path = tmp_path / f"range{TRIED['coords']}.osm"
    path.write_text(_with_nodes(text, extra), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_bad_coords"
    assert "node 900" in info.value.params["examples"]


def test_lat95_lon200_and_all_nodes_out_of_range(tmp_path):
    text = osm_xml()
    path = tmp_path / "one.osm"
    path.write_text(text.replace('lat="39.9000000" lon="116.3000000"', 'lat="95" lon="200"', 1),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.key == "err.osm_bad_coords" and info.value.params["count"] == 1
    import re

    everywhere = re.sub(r'lat="[^"]+" lon="[^"]+"', 'lat="95" lon="200"', text)
    path.write_text(everywhere, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_osm(path)
    assert info.value.params["count"] == info.value.params["total"]


def test_endless_names_are_cut(tmp_path):
    path = tmp_path / "long.osm"
    path.write_text(osm_xml().replace("阳光幼儿园", "幼" * 100_000), encoding="utf-8")
    layers = read_osm(path)
    names = layers.features["name"].dropna()
    assert names.str.len().max() <= 200 and names.str.startswith("幼幼").any()


def test_pbf_layers_out_of_range_are_refused():
    """PBF is read by pyrosm without the XML pass; its layers are checked afterwards."""
    import geopandas as gpd
    import shapely

    from geo.osm.checks import check_bounds

    good = gpd.GeoDataFrame(geometry=[shapely.LineString([(116.3, 39.9), (116.31, 39.9)])], crs=4326)
    check_bounds([good, None], shown="a.osm.pbf")
    bad = gpd.GeoDataFrame(geometry=[shapely.LineString([(116.3, 39.9), (200, 95)])], crs=4326)
    with pytest.raises(InputError) as info:
        check_bounds([good, bad], shown="a.osm.pbf")
    assert info.value.key == "err.osm_bad_coords" and "(95, 200)" in info.value.params["examples"]


def test_real_pbf_still_reads():
    import pyrosm

    layers = read_osm(pyrosm.get_data("test_pbf"))
    assert len(layers.streets) > 100
