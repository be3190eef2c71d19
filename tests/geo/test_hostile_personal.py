"""Personal values in every disguise (issue 26 items 1-5): numbers split by any space, dash,
slash or invisible character; names after traditional or bracketed markers; e-mails in any
width; personal headers in brackets; GeoJSON properties holding objects; messages that
describe register rows by number and shape only. Generated inputs, then the examples."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.inputs import read_households
from geo.inputs.columns import load_aliases, match_columns
from geo.inputs.disguise import (CLOSE_BRACKETS, OPEN_BRACKETS, _TRADITIONAL, plain_text,
                                 simplified)
from geo.inputs.geojson import read_geojson
from geo.inputs.personal import contains_personal, scrub_text
from geo.synthetic import synthetic_district

FUZZ = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
#: Every separator the issue found between digit groups, and others of the same classes.
SEPARATORS = ["\u00a0", "/", "_", "\u2010", "\u2212", "\u200b", "\uff0f", "\t", "\uff0c", " ",
              "-", ".", "\u2013", "\u2014", "\u3000", "\u202f", "\ufeff", "\u2060", "\u00ad",
              ",", "·", "\uff0d", "\u2011", " / ", "\u200b\u200b", "(", ")", "|", "~"]
#: Labels a planner keeps (ending in a character that is no digit and no separator).
LABELS = ["", "1号楼", "学清路8号院", "3单元", "清华园", "北区 2号楼", "A座"]
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
BRACKETS = list(zip(OPEN_BRACKETS, CLOSE_BRACKETS))
MARKERS = ["户主", "戶主", "联系人", "聯繫人", "聯系人", "联络人", "姓名", "户名", "戶名", "产权人",
           "產權人", "登记人", "登記人"]
COLON_MARKERS = ["业主", "業主", "房主", "租户", "租戶", "负责人", "負責人", "住户", "住戶"]


@st.composite
def split_number(draw) -> tuple[str, str]:
    """A mobile or an 18-digit ID, cut into groups joined by generated separators; and the
    number's digits."""
    if draw(st.booleans()):
        digits = "1" + str(draw(st.integers(3, 9))) + "".join(
            str(draw(st.integers(0, 9))) for _ in range(9))
    else:
        digits = "".join(str(draw(st.integers(0, 9))) for _ in range(17))
        digits += draw(st.sampled_from(list("0123456789X")))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=6)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)])]
    text = groups[0]
    for group in groups[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + group
    if draw(st.booleans()):
        text = text.translate(WIDE)
    return text, digits


def _digits(text: str) -> str:
    return re.sub(r"\D", "", plain_text(text))


@FUZZ
@given(number=split_number(), before=st.sampled_from(LABELS), after=st.sampled_from(LABELS),
       glue=st.sampled_from(["", " ", "，", "、", "：", "\u00a0"]))
def test_split_numbers_never_survive(number, before, after, glue):
    text, digits = number
    label = f"{before}{glue}{text}{glue if after else ''}{after}"
    out, hits = scrub_text(label)
    assert hits >= 1
    kept = _digits(out)
    assert len(kept) <= len(_digits(before + after)), (label, out)
    assert digits[-4:] not in _digits(out.replace(before, "").replace(after, "")), (label, out)
    joined = after[:1].isdigit()  # 13800138000 1号楼: one longer number to a column
    if not joined and not re.search(r"\d[.,，]\d", text):  # 116.3,39.9 is not a phone
        assert contains_personal(label), label


@FUZZ
@given(marker=st.sampled_from(MARKERS + COLON_MARKERS), colon=st.sampled_from(["", ":", "：", " ", "： "]),
       bracket=st.one_of(st.none(), st.sampled_from(BRACKETS)),
       name=st.text(CJK, min_size=2, max_size=3), before=st.sampled_from(LABELS),
       after=st.sampled_from(["", "家", " 2户", "，"]))
def test_names_after_any_marker_or_bracket_never_survive(marker, colon, bracket, name, before,
                                                         after):
    if marker in COLON_MARKERS and not colon.strip() and bracket is None:
        colon = "："  # these words name a person only with a colon or a bracket (业主委员会)
    inner = f"{bracket[0]}{name}{bracket[1]}" if bracket else name
    label = f"{before}{marker}{colon}{inner}{after}"
    out, hits = scrub_text(label)
    assert hits >= 1 and name not in out, (label, out)


@FUZZ
@given(local=st.from_regex(r"[a-z][a-z0-9._]{1,10}", fullmatch=True),
       domain=st.sampled_from(["qq.com", "163.com", "example.cn", "mail.example.org"]),
       at=st.sampled_from(["@", "＠", "﹫", " @ ", "@ "]), wide=st.booleans(),
       before=st.sampled_from(LABELS))
def test_emails_in_any_width_never_survive(local, domain, at, wide, before):
    address = local + at + domain
    if wide:  # full-width letters, digits and dots
        address = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "@" else c
                          for c in address)
    out, hits = scrub_text(f"{before} {address}")
    assert hits >= 1 and local not in plain_text(out) and "@" not in plain_text(out), out


def test_the_example_disguises():
    for text in ["1号楼 138\u00a00013\u00a08000", "138/0013/8000", "138_0013_8000",
                 "138\u20100013\u20108000", "138\u22120013\u22128000", "138\u200b0013\u200b8000",
                 "138\uff0f0013\uff0f8000", "138\t0013\t8000", "138\uff0c0013\uff0c8000",
                 "110108\u00a019900101\u00a0123X"]:
        out, hits = scrub_text(text)
        assert hits == 1 and len(_digits(out)) <= 1, (text, out)
    for text, name in [("戶主：黃藥師", "黃藥師"), ("聯繫人：王語嫣", "王語嫣"), ("户主(郭靖)", "郭靖"),
                       ("户主【杨过】", "杨过")]:
        out, hits = scrub_text(text)
        assert hits == 1 and name not in out, out
    out, _ = scrub_text("黄蓉＠qq.com")
    assert "qq" not in out and "黄蓉" not in out
    # labels without personal data stay as they were
    for label in ["业主委员会", "学清路8号院3号楼", "3-1-1201", "2024-01-05", "清华园 1号楼"]:
        assert scrub_text(label) == (label, 0)


def test_every_space_dash_and_invisible_character_is_plain():
    """The character classes of :mod:`geo.inputs.disguise` cover Unicode's categories."""
    for code in range(0x3100):  # scripts in use in registers, and the punctuation blocks
        ch = chr(code)
        cat = unicodedata.category(ch)
        if cat in ("Zs", "Zl", "Zp"):
            assert plain_text(ch) == " ", hex(code)
        elif cat == "Pd":
            assert set(plain_text(ch)) <= {"-"}, hex(code)
        elif cat == "Cf":
            assert plain_text(ch) == "", hex(code)
    assert all(len(simplified(c)) == 1 for c in _TRADITIONAL)


PERSONAL_WORDS = [a for a in load_aliases().personal if not a.isascii()]
TRADITIONAL_OF = {v: k for k, v in _TRADITIONAL.items()}


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(base=st.sampled_from(["楼栋", "小区", "地址", "名称", "楼号", "小区名称"]),
       word=st.sampled_from(PERSONAL_WORDS), bracket=st.sampled_from(BRACKETS),
       traditional=st.booleans(), space=st.sampled_from(["", " ", "\u3000"]))
def test_a_personal_word_in_brackets_makes_a_header_personal(base, word, bracket, traditional,
                                                             space):
    if traditional:
        word = "".join(TRADITIONAL_OF.get(c, c) for c in word)
    header = f"{base}{space}{bracket[0]}{word}{bracket[1]}"
    match = match_columns([header, "经度", "纬度", "户数"],
                          ("x", "y", "households", "building", "compound", "address", "name"))
    assert header in match.personal and header not in match.column_map.values(), header


AREA = synthetic_district(600, seed=5)


def test_bracketed_personal_headers_are_dropped_with_a_note(tmp_path):
    """The example: 楼栋（户主） and 小区(联系人) became the building and compound labels."""
    path = tmp_path / "register.csv"
    x, y = AREA.boundary.centroid.x, AREA.boundary.centroid.y
    import pyproj

    lon, lat = pyproj.Transformer.from_crs(AREA.crs, 4326, always_xy=True).transform(x, y)
    path.write_text(f"楼栋（户主）,小区(联系人),经度,纬度,户数\n黄蓉,王语嫣,{lon},{lat},20\n",
                    encoding="utf-8")
    read = read_households(path, area=AREA, keep_text=("name", "address"))
    kept = " ".join(str(v) for v in read.frame.drop(columns="geometry").to_numpy().ravel())
    assert "黄蓉" not in kept and "王语嫣" not in kept
    assert set(read.dropped_personal_columns) >= {"楼栋（户主）", "小区(联系人)"}
    assert any("楼栋" in w and "户主" in w for w in read.warnings), read.warnings


JSON_LEAF = st.one_of(st.text(CJK, min_size=2, max_size=4), st.integers(10 ** 6, 10 ** 11))
NESTED = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["name", "phone", "姓名", "a"]), inner, min_size=1,
                    max_size=3)), max_leaves=6).filter(lambda v: isinstance(v, (dict, list)))


def _leaves(value) -> list:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(value=NESTED, key=st.sampled_from(["楼栋", "name", "小区", "备注"]))
def test_geojson_objects_are_never_stringified(tmp_path_factory, value, key):
    path = tmp_path_factory.mktemp("gj") / "h.geojson"
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3, 39.9]},
        "properties": {key: value, "户数": 5}}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    read = read_geojson(path, max_features=10)
    cells = " ".join(str(v) for v in read.attrs.to_numpy().ravel())
    for leaf in _leaves(value):
        assert str(leaf) not in cells
    assert any(k == "note.input_nested_dropped" for k, _ in read.notes)


def test_the_geojson_example(tmp_path):
    path = tmp_path / "h.geojson"
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3, 39.9]},
        "properties": {"楼栋": {"name": "黄蓉", "phone": "13800138000"}, "户数": 5}}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    read = read_geojson(path, max_features=10)
    assert "黄蓉" not in read.attrs.to_string() and "138" not in read.attrs.to_string()


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.builds(lambda a, b, n: f"{a}({b})家 {n}", st.text(CJK, min_size=2, max_size=3),
                                st.text(CJK, min_size=2, max_size=3),
                                st.integers(10 ** 8, 10 ** 10)), min_size=1, max_size=3))
def test_messages_never_quote_register_cells(tmp_path_factory, cells):
    path = tmp_path_factory.mktemp("reg") / "register.csv"
    path.write_text("小区,户数\n" + "".join(f"{c},10\n" for c in cells), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_households(path, area=AREA)
    shown = err.value.bilingual()
    for cell in cells:
        words = re.findall(r"[\u4e00-\u9fa5]{2,}|\d{3,}", cell)
        assert not any(w in shown for w in words), shown


def test_the_unplaced_row_example(tmp_path):
    """The example: the error showed ``户主(郭靖)家、王语嫣 139 2468 1357``."""
    path = tmp_path / "register.csv"
    path.write_text("小区,户数\n户主(郭靖)家、王语嫣 139 2468 1357,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_households(path, area=AREA)
    shown = err.value.bilingual()
    for word in ("郭靖", "王语嫣", "139", "2468", "1357"):
        assert word not in shown
    assert "2" in shown  # the row's number (row 2 of the file)


def test_unmatched_names_note_by_row_and_shape(tmp_path):
    name = next(n for n in AREA.compounds["name"] if isinstance(n, str) and n)
    path = tmp_path / "register.csv"
    path.write_text(f"小区,户数\n{name},10\n联系人王语嫣家,3\n", encoding="utf-8")
    read = read_households(path, area=AREA)
    text = " ".join(read.warnings)
    assert "王语嫣" not in text and "联系人" not in text
