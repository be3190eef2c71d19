"""Any OpenStreetMap layer may be empty (issue 26 item 13): streets only, buildings only, no
facilities, no compounds. Each file gives a study area or one clear project error, never a
traceback. Files are generated here, layer by layer."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from geo.errors import GridcircleError
from geo.osm import read_osm, study_area_from_osm

QUICK = settings(max_examples=14, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def layered_osm(*, streets: bool, buildings: bool, compounds: bool, facilities: bool,
                gates: bool, n: int = 3, lon0: float = 116.30, lat0: float = 39.90,
                building_tag: str = "apartments") -> str:
    """An OSM XML district holding only the layers asked for."""
    nodes: list[str] = []
    ways: list[str] = []
    ids = {"node": 1, "way": 1000}

    def node(lon: float, lat: float, tags: dict | None = None) -> int:
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        nodes.append(f'<node id="{ids["node"]}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">'
                     f"{tag_xml}</node>")
        ids["node"] += 1
        return ids["node"] - 1

    def way(refs: list[int], tags: dict) -> None:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{ids["way"]}" version="1">{nd}{tag_xml}</way>')
        ids["way"] += 1

    def box(lon: float, lat: float, d: float) -> list[int]:
        refs = [node(lon, lat), node(lon + d, lat), node(lon + d, lat + d), node(lon, lat + d)]
        return refs + [refs[0]]

    step = 0.002
    if streets:
        grid = [[node(lon0 + i * step, lat0 + j * step) for i in range(n)] for j in range(n)]
        for j in range(n):
            way(grid[j], {"highway": "residential"})
        for i in range(n):
            way([grid[j][i] for j in range(n)], {"highway": "residential"})
    if buildings:
        way(box(lon0 + 0.0004, lat0 + 0.0004, 0.0003), {"building": building_tag,
                                                        "building:levels": "6"})
    if compounds:
        way(box(lon0 + 0.0002, lat0 + 0.0002, 0.0016), {"landuse": "residential"})
    if facilities:
        node(lon0 + 0.0011, lat0 + 0.0009, {"amenity": "kindergarten", "name": "幼儿园"})
    if gates:
        node(lon0 + 0.0002, lat0 + 0.0010, {"barrier": "gate"})
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + "\n".join(nodes + ways) + "\n</osm>\n")


@QUICK
@given(streets=st.booleans(), buildings=st.booleans(), compounds=st.booleans(),
       facilities=st.booleans(), gates=st.booleans(), n=st.integers(2, 4),
       building_tag=st.sampled_from(["yes", "apartments", "no", "residential"]))
def test_any_layer_may_be_missing(tmp_path_factory, streets, buildings, compounds, facilities,
                                  gates, n, building_tag):
    path = tmp_path_factory.mktemp("layers") / "area.osm"
    path.write_text(layered_osm(streets=streets, buildings=buildings, compounds=compounds,
                                facilities=facilities, gates=gates, n=n,
                                building_tag=building_tag), encoding="utf-8")
    try:
        area = study_area_from_osm(read_osm(path))
    except GridcircleError as exc:
        assert not streets or n < 3, exc  # only a file without a street network may be refused
        assert exc.bilingual().strip()
        return
    assert len(area.roads) > 0
    assert len(area.buildings) == int(buildings and building_tag != "no")
    assert len(area.facilities) == int(facilities)


def test_streets_and_a_register_but_no_building(tmp_path, capsys):
    """The example: a road network a bureau exports, with a household register beside it."""
    osm = tmp_path / "roads.osm"
    osm.write_text(layered_osm(streets=True, buildings=False, compounds=False, facilities=False,
                               gates=False, n=4), encoding="utf-8")
    register = tmp_path / "register.csv"
    register.write_text("经度,纬度,户数\n116.3005,39.9005,30\n116.3035,39.9025,40\n",
                        encoding="utf-8")
    out = tmp_path / "p.gpkg"
    code = main(["run", "--osm", str(osm), "--households", str(register), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err and out.is_file()


def test_streets_only_without_households_is_one_clear_error(tmp_path, capsys):
    osm = tmp_path / "roads.osm"
    osm.write_text(layered_osm(streets=True, buildings=False, compounds=False, facilities=True,
                               gates=False), encoding="utf-8")
    code = main(["run", "--osm", str(osm), "--out", str(tmp_path / "p.gpkg")])
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.startswith("error:")], err
    assert "Traceback" not in err
    assert not Path(tmp_path / "p.gpkg").exists()
