"""OSM ids are parsed as whole numbers before the duplicate check (issue 26 item 8): a
node written ``+292591115``, `` 292591115`` or ``0292591115`` next to the real one is a
duplicate, refused before it can move a street 15 km away."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from geo.errors import InputError
from geo.osm.checks import scan_osm
from tests.conftest import osm_xml

WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def spelt(draw, number: int) -> str:
    """Another way of writing ``number`` that ``int()`` (and so the OSM parsers) reads as it."""
    text = "0" * draw(st.integers(0, 3)) + str(number)
    if draw(st.booleans()):
        text = text.translate(WIDE)
    sign = draw(st.sampled_from(["", "+"]))
    return draw(st.sampled_from(["", " ", "\t", "\n"])) + sign + text + \
        draw(st.sampled_from(["", " ", "  "]))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), node=st.integers(1, 16), far=st.booleans())
def test_a_duplicate_node_in_any_spelling_is_refused(tmp_path_factory, data, node, far):
    ident = data.draw(spelt(node))
    lat, lon = ("40.0350000", "116.4500000") if far else ("39.9000000", "116.3000000")
    path = tmp_path_factory.mktemp("ids") / "dup.osm"
    path.write_text(osm_xml().replace(
        "</osm>", f'<node id="{ident}" version="1" lat="{lat}" lon="{lon}"/></osm>'),
        encoding="utf-8")
    with pytest.raises(InputError) as err:
        scan_osm(path, shown=path.name)
    assert err.value.key == "err.osm_duplicate_ids"


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), node=st.integers(1, 16))
def test_a_reference_in_any_spelling_finds_its_node(tmp_path_factory, data, node):
    ref = data.draw(spelt(node)).strip()
    path = tmp_path_factory.mktemp("refs") / "ok.osm"
    path.write_text(osm_xml().replace(
        "</osm>", f'<way id="9999" version="1"><nd ref="{ref}"/><nd ref="1"/>'
                  '<tag k="highway" v="footway"/></way></osm>'), encoding="utf-8")
    scan_osm(path, shown=path.name)  # no duplicate and no missing node


def test_the_plus_sign_example(tmp_path, capsys):
    path = tmp_path / "dup.osm"
    text = osm_xml().replace('<node id="3" ', '<node id="292591115" ', 1).replace(
        'ref="3"', 'ref="292591115"')
    path.write_text(text.replace(
        "</osm>", '<node id="+292591115" version="1" lat="40.0350000" lon="116.4500000"/></osm>'),
        encoding="utf-8")
    assert main(["run", "--osm", str(path), "--out", str(tmp_path / "p.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "292591115" in [line for line in err.splitlines() if line.startswith("error:")][0]
    assert not (tmp_path / "p.gpkg").exists()
