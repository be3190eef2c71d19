"""Personal data in registers (issue 13 item 2): every ID number, phone number and named
person, in every form the issue found, is gone from what the readers keep — a property
test over generated values, and the concrete forms."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.inputs.personal import contains_personal, safe_label, scrub_series, scrub_text, shape_of

TRIED = {"values": 0}
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.fixture(scope="module", autouse=True)
def report_tried(request):
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n[fuzz] personal data: tried {TRIED['values']} generated labels")


def _id18(draw) -> str:
    body = "".join(str(draw(st.integers(0, 9))) for _ in range(17))
    return body + draw(st.sampled_from(list("0123456789X")))


@st.composite
def personal_value(draw) -> str:
    """An ID number (18 or 15 digits), a mobile, a landline or an e-mail, written the
    ways registers write them."""
    kind = draw(st.sampled_from(["id18", "id15", "mobile", "landline", "email"]))
    if kind == "id18":
        value = _id18(draw)
        value = draw(st.sampled_from([value, f"{value[:6]} {value[6:14]} {value[14:]}"]))
    elif kind == "id15":
        value = "".join(str(draw(st.integers(0, 9))) for _ in range(15))
    elif kind == "mobile":
        digits = "1" + str(draw(st.integers(3, 9))) + "".join(
            str(draw(st.integers(0, 9))) for _ in range(9))
        sep = draw(st.sampled_from(["", " ", "-", ".", "·"]))
        value = f"{digits[:3]}{sep}{digits[3:7]}{sep}{digits[7:]}"
        value = draw(st.sampled_from([value, "+86 " + value, "0086-" + value]))
    elif kind == "landline":
        area = draw(st.sampled_from(["010", "021", "0755", "0571"]))
        local = "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.sampled_from([7, 8]))))
        value = draw(st.sampled_from([f"{area}-{local}", f"({area}){local}", f"{area} {local[:4]} {local[4:]}",
                                      f"{area}-{local}转{draw(st.integers(1, 999))}"]))
    else:
        value = f"{draw(st.from_regex(r'[a-z]{2,8}', fullmatch=True))}@example.com"
    if kind != "email" and draw(st.booleans()):
        value = value.translate(WIDE)  # full-width digits
    prefix = draw(st.sampled_from(["", "身份证", "身份证号：", "ID:", "No.", "电话", "手机：", "Tel "]))
    return prefix + value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["1号楼", "学清路38号院", "清华园小区", "3号楼2单元", ""]), personal_value(),
       st.sampled_from(["", "（", " ", "，"]))
def test_generated_personal_values_never_survive(label, value, glue):
    TRIED["values"] += 1
    text = f"{label}{glue}{value}"
    clean, hits = scrub_text(text)
    assert hits >= 1
    digits = "".join(ch for ch in value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
                     if ch.isdigit())
    kept = "".join(ch for ch in clean if ch.isdigit())
    if digits:
        assert digits[-7:] not in kept  # no run of the number survives
    assert "@" not in clean
    assert clean.startswith(label.replace("（", "("))  # the label itself stays


NAMES = [("1号楼（户主：黄蓉）", "黄蓉"), ("联系人林平之", "林平之"), ("姓名 张三丰", "张三丰"),
         ("户主:欧阳 锋", "欧阳"), ("业主：令狐冲", "令狐冲"), ("Owner: John Smith", "John")]


@pytest.mark.parametrize("text, name", NAMES)
def test_names_after_their_markers_are_scrubbed(text, name):
    clean, hits = scrub_text(text)
    assert hits == 1 and name not in clean and "***" in clean


@pytest.mark.parametrize("text", ["学清路38号院3号楼", "业主委员会", "3号楼2单元1201室", "2024-01-01",
                                  "116.3123456789", "邮编100083", "3-2-1201"])
def test_labels_without_personal_data_are_left_alone(text):
    assert scrub_text(text) == (text, 0)


def test_community_codes_are_not_personal_but_phones_are():
    assert not contains_personal("110108001001")
    assert contains_personal("13800138000") and contains_personal("010-62781234")


def test_series_counts_and_caps():
    values = pd.Series(["1号楼（户主：黄蓉）", "2号楼", "楼" * 500, "3号楼 13800138000"])
    clean, hits, cut = scrub_series(values)
    assert hits == 2 and cut == 1 and len(clean.iloc[2]) == 100
    assert "黄蓉" not in " ".join(clean) and "13800138000" not in " ".join(clean)


def test_messages_show_shapes_and_safe_labels():
    shown = shape_of("张三 13800138000")
    assert "13800138000" not in shown and "张" not in shown and shown.startswith("字字 999")
    assert shape_of("116.3a") == "999.9a"
    assert safe_label("户主姓名") == "户主姓名" and "13800138000" not in safe_label("13800138000")
