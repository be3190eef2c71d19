"""Fuzzing the readers of uploaded files.

Each reader (CSV, XLSX, GeoJSON, zipped Shapefile, OSM XML) is fed random bytes and
mutated valid files (truncated, byte-flipped, re-encoded, with hostile zip member names).
Every input must either load or raise the project's own ``InputError``: any other
exception fails the test. Nothing may be written outside the test's temporary folders,
and the readers' own temporary folders must be gone afterwards. Each test prints how many
inputs it tried. Bounded by ``max_examples`` so the file runs in well under a minute.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import geopandas as gpd
import openpyxl
from openpyxl.utils.exceptions import IllegalCharacterError
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.inputs import read_communities, read_facilities, read_households
from geo.osm import read_osm
from geo.settings import InputLimits
from geo.synthetic import synthetic_district

REPO = Path(__file__).resolve().parents[2]
TRIED: Counter = Counter()
#: ``GRIDCIRCLE_FUZZ_EXAMPLES=5000`` runs a long, randomised search instead of the quick,
#: repeatable one.
_LONG = int(os.environ.get("GRIDCIRCLE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_LONG or 60, deadline=None, database=None, derandomize=not _LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Small limits, so that fuzzed inputs also run into them.
LIMITS = InputLimits(max_file_mb=1, max_uncompressed_mb=2, max_rows=500)
AREA = synthetic_district(600, seed=5)
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "big5", "cp1252",
             "shift_jis", "latin-1")


# ----------------------------------------------------------------------------- seeds


def _csv_bytes(rows, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


def _register_rows() -> list[list[str]]:
    points = AREA.buildings.geometry.representative_point().to_crs(4326).iloc[:12]
    rows = [["XX社区住户登记表"], ["小区", "楼栋", "户数", "户主姓名", "联系电话", "经度", "纬度"]]
    for k, p in enumerate(points):
        rows.append([AREA.compounds["name"].iloc[k % len(AREA.compounds)], f"{k + 1}号楼",
                     str(10 + k), "张三", "13812345678", f"{p.x:.7f}", f"{p.y:.7f}"])
    rows.append([AREA.compounds["name"].iloc[0], "", "200", "", "", "", ""])
    rows.append(["合计", "", "465", "", "", "", ""])
    return rows


def _facility_rows() -> list[list[str]]:
    points = AREA.facilities.to_crs(4326)
    rows = [["名称", "类型", "电话", "lng", "lat"]]
    for name, service, p in zip(points["name"], points["service"], points.geometry):
        rows.append([name, service, "010-1234567", f"{p.x:.7f}", f"{p.y:.7f}"])
    rows.append(["理发店", "美容美发", "", "116.3", "39.9"])
    return rows


CSV_SEEDS = [_csv_bytes(_register_rows(), "gbk"), _csv_bytes(_register_rows(), "utf-8-sig"),
             _csv_bytes(_facility_rows(), "utf-8"), _csv_bytes(_facility_rows(), "gb18030")]


def _xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


XLSX_SEED = _xlsx_bytes(_register_rows())


def _geojson_seed() -> bytes:
    x0, y0, x1, y1 = AREA.boundary.bounds
    boxes = gpd.GeoSeries([shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1)],
                          crs=AREA.crs).to_crs(4326)
    features = [{"type": "Feature", "properties": {"社区名称": f"社区{k}", "社区编码": f"C{k}", "类型": "幼儿园",
                                                   "户数": 100 + k},
                 "geometry": json.loads(shapely.to_geojson(g))} for k, g in enumerate(boxes)]
    features.append({"type": "Feature", "properties": {"名称": "幼儿园", "类型": "幼儿园", "户数": 5},
                     "geometry": {"type": "Point", "coordinates": list(boxes.iloc[0].centroid.coords[0])}})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


GEOJSON_SEED = _geojson_seed()


def _shapefile_zip_seed() -> bytes:
    points = AREA.buildings.geometry.representative_point().to_crs(4326).iloc[:6]
    gdf = gpd.GeoDataFrame({"小区": ["学清苑"] * 6, "户数": list(range(10, 16))}, geometry=points.values,
                           crs=4326)
    with tempfile.TemporaryDirectory() as tmp:
        pyogrio.write_dataframe(gdf, Path(tmp) / "households.shp", encoding="GBK")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).iterdir()):
                archive.write(file, file.name)
        return buf.getvalue()


ZIP_SEED = _shapefile_zip_seed()
OSM_SEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="39.900" lon="116.300"/>
 <node id="2" lat="39.901" lon="116.300"/>
 <node id="3" lat="39.901" lon="116.301"/>
 <node id="4" lat="39.900" lon="116.301"><tag k="amenity" v="kindergarten"/><tag k="name" v="\xe5\xb9\xbc\xe5\x84\xbf\xe5\x9b\xad"/></node>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="highway" v="footway"/></way>
 <way id="12"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="landuse" v="residential"/></way>
 <relation id="5"><member type="way" ref="12" role="outer"/><member type="way" ref="99" role="inner"/>
  <tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>
</osm>
"""


# ----------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A seed after up to three random edits: truncation, byte flips, insertions,
    deletions, duplicated slices or re-encoding (no edit at all now and then, so that the
    readers' deeper paths are reached too)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate", "reencode"]))
        n = len(data)
        if n == 0:
            data += draw(st.binary(min_size=1, max_size=50))
            continue
        at = draw(st.integers(0, n - 1))
        if op == "truncate":
            del data[at:]
        elif op == "flip":
            for _ in range(draw(st.integers(1, 3))):
                k = draw(st.integers(0, len(data) - 1)) if data else 0
                if data:
                    data[k] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        elif op == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 300))]
        else:
            text = bytes(data).decode("utf-8", errors="replace")
            data = bytearray(text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace"))
    return bytes(data)


HEADER_WORDS = ["经度", "纬度", "lng", "lat", "x", "y", "户数", "households", "楼栋", "小区", "地址",
                "名称", "类型", "type", "name", "身份证号", "手机", "坐标", "location", "社区", "编号", "",
                "经度(GCJ02)", "lat_bd09"]
CELL = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.integers(-10**12, 10**12).map(str), st.sampled_from(["116.3", "39.9", "1,200户",
                                                                         "116°21′E", "合计", "幼儿园"]))


@st.composite
def random_table(draw) -> bytes:
    width = draw(st.integers(1, 8))
    header = [draw(st.sampled_from(HEADER_WORDS)) for _ in range(width)]
    body = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 1), max_size=15))
    rows = [header] + body
    return _csv_bytes(rows, draw(st.sampled_from(ENCODINGS)))


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000),
                      st.floats(-200, 200, allow_nan=False), st.text(max_size=8),
                      st.sampled_from(["Point", "Polygon", "MultiPolygon", "LineString",
                                       "Feature", "FeatureCollection", "GeometryCollection"]))
JSON_KEYS = st.sampled_from(["type", "features", "geometry", "coordinates", "properties",
                             "geometries", "crs", "name", "户数", "类型", "名称"])
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(JSON_KEYS, inner, max_size=5)), max_leaves=40)


@st.composite
def random_geojson(draw) -> bytes:
    doc = draw(st.dictionaries(JSON_KEYS, JSON_VALUE, max_size=5))
    if draw(st.booleans()):
        doc["type"] = "FeatureCollection"
        doc["features"] = draw(st.lists(st.dictionaries(JSON_KEYS, JSON_VALUE, max_size=4), max_size=5))
    return json.dumps(doc, ensure_ascii=False).encode()


MEMBER_NAMES = st.one_of(
    st.sampled_from(["../evil.shp", "/abs/evil.shp", "..\\evil.dbf", "C:\\evil.shx", "a/../../b.shp",
                     "dir/layer.shp", "layer.shx", "layer.dbf", "layer.prj", "layer.cpg",
                     "__MACOSX/._layer.shp", "x.geojson", "y.gpkg", "z.csv", "w.xlsx", "链接.shp"]),
    st.text(min_size=1, max_size=20))


@st.composite
def random_zip(draw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as archive:
        for name in draw(st.lists(MEMBER_NAMES, min_size=1, max_size=6, unique=True)):
            content = draw(st.one_of(st.binary(max_size=300), st.sampled_from([GEOJSON_SEED, CSV_SEEDS[0]])))
            try:
                archive.writestr(name, content)
            except (ValueError, UnicodeEncodeError):
                continue
    return buf.getvalue()


def _xlsx_with_mutated_sheet(data: bytes, draw) -> bytes:
    """Re-zip the seed workbook with one XML part mutated, to reach openpyxl's parser."""
    src = zipfile.ZipFile(io.BytesIO(XLSX_SEED))
    names = src.namelist()
    victim = draw(st.sampled_from([n for n in names if n.endswith(".xml")]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, draw(mutated([src.read(name)])) if name == victim else src.read(name))
    return out.getvalue()


# ----------------------------------------------------------------------------- harness


def _tree(root: Path) -> set[str]:
    skip = {"__pycache__", ".pytest_cache", ".hypothesis", ".git"}
    out = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        out.update(os.path.join(folder, f) for f in files)
    return out


@pytest.fixture(scope="module", autouse=True)
def nothing_written_outside_tmp():
    before_repo = _tree(REPO)
    before_tmp = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("gridcircle-")}
    cwd = Path.cwd()
    before_cwd = set(os.listdir(cwd)) | {".hypothesis"}  # hypothesis's own cache may appear
    yield
    assert _tree(REPO) == before_repo
    assert {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("gridcircle-")} <= before_tmp
    assert set(os.listdir(cwd)) <= before_cwd


def _feed(reader, data: bytes, suffix: str, label: str, **kwargs) -> None:
    """Write ``data`` to a fresh folder, read it, accept only success or InputError."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            reader(path, **kwargs)
            TRIED[f"{label} loaded"] += 1
        except InputError as exc:
            assert exc.bilingual()  # the message renders in both languages
            TRIED[f"{label} refused"] += 1
        assert os.listdir(tmp) == [path.name]  # nothing written beside the upload
    TRIED[label] += 1


def _report(capsys, label: str) -> None:
    with capsys.disabled():
        print(f"\n[fuzz] {label}: tried {TRIED[label]} inputs "
              f"({TRIED[label + ' loaded']} loaded, {TRIED[label + ' refused']} refused with InputError)")
    assert TRIED[label] > 0


# ----------------------------------------------------------------------------- tests


READERS = [
    (read_households, {"limits": LIMITS}), (read_households, {"limits": LIMITS, "area": AREA}),
    (read_facilities, {"limits": LIMITS}), (read_facilities, {"limits": LIMITS, "area": AREA}),
    (read_communities, {"limits": LIMITS}),
]


def test_fuzz_csv(capsys):
    @FUZZ
    @given(data=st.one_of(mutated(CSV_SEEDS), random_table(), st.binary(max_size=2000)),
           which=st.integers(0, len(READERS) - 1))
    @example(data="经度,纬度\r0°0′".encode(), which=0)  # found by a long run: DMS in a number column
    def run(data, which):
        reader, kwargs = READERS[which]
        _feed(reader, data, ".csv", "csv", **kwargs)

    run()
    _report(capsys, "csv")


def test_fuzz_xlsx(capsys):
    @FUZZ
    @given(data=st.data(), which=st.integers(0, 3))
    def run(data, which):
        kind = data.draw(st.sampled_from(["bytes", "sheet", "table"]))
        if kind == "bytes":
            blob = data.draw(mutated([XLSX_SEED]))
        elif kind == "sheet":
            blob = _xlsx_with_mutated_sheet(XLSX_SEED, data.draw)
        else:
            rows = data.draw(st.lists(st.lists(CELL, max_size=6), max_size=8))
            rows = [[c.replace("\x00", "") for c in r] for r in rows]
            try:
                blob = _xlsx_bytes([["经度", "纬度", "户数", "小区"]] + rows)
            except IllegalCharacterError:  # openpyxl refuses control characters when writing
                blob = XLSX_SEED
        reader, kwargs = READERS[which]
        _feed(reader, blob, ".xlsx", "xlsx", **kwargs)

    run()
    _report(capsys, "xlsx")


def test_fuzz_geojson(capsys):
    @FUZZ
    @given(data=st.one_of(mutated([GEOJSON_SEED]), random_geojson(), st.binary(max_size=500)),
           which=st.integers(0, len(READERS) - 1))
    def run(data, which):
        reader, kwargs = READERS[which]
        _feed(reader, data, ".geojson", "geojson", **kwargs)

    run()
    _report(capsys, "geojson")


def test_fuzz_zip(capsys):
    @FUZZ
    @given(data=st.one_of(mutated([ZIP_SEED]), random_zip()),
           which=st.sampled_from([0, 1, 4]))
    def run(data, which):
        reader, kwargs = READERS[which]
        _feed(reader, data, ".zip", "zip", **kwargs)

    run()
    _report(capsys, "zip")


def test_fuzz_osm_xml(capsys):
    @settings(FUZZ, max_examples=_LONG or 40)
    @given(data=st.one_of(mutated([OSM_SEED]), st.binary(max_size=300).map(lambda b: b"<osm>" + b)))
    def run(data):
        _feed(read_osm, data, ".osm", "osm")

    run()
    _report(capsys, "osm")
