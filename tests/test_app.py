"""The page, driven end to end by Streamlit's AppTest (a handful of focused runs: each
AppTest run executes the whole script)."""

from __future__ import annotations

import json

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import t
from tests.ui import edit_widget, open_tab, open_sidebar_panel

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT_S = 180


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise KeyError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def test_page_opens_each_demo_in_chinese_and_switches_to_english():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert not at.error
    assert "网格" in at.title[0].value
    households = metric(at, "户数")
    assert int(households.replace(",", "")) > 0
    assert any("OpenStreetMap contributors" in c.value for c in at.caption)
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception
    assert "grids" in at.title[0].value
    assert metric(at, "Households") == households
    assert not any("户" in m.label for m in at.metric)
    at.sidebar.selectbox(key="demo").set_value("synthetic").run()
    assert not at.exception and not at.error
    assert metric(at, "Households") == "20,000"


def test_uploads_each_bad_file_shows_one_clear_message_and_a_good_register_is_used():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception and not at.error

    open_sidebar_panel(at, "uploads")
    bad = "经度,纬度,户数\n116.40,39.91,很多\n".encode("gbk")
    at.sidebar.file_uploader(key="up_households").set_value(("登记表.csv", bad, "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "登记表.csv" in at.error[0].value and "Traceback" not in at.error[0].value
    assert metric(at, "户数") == "2,000"  # the bad register is left out of the run

    from geo.demos import load_demo

    area = load_demo("synthetic:2000")
    points = area.households.to_crs(4326).geometry.iloc[:3]
    good = "经度,纬度,户数\n" + "".join(f"{p.x:.6f},{p.y:.6f},{n}\n"
                                          for p, n in zip(points, (120, 80, 40)))
    at.sidebar.file_uploader(key="up_households").set_value(
        ("登记表.csv", good.encode("utf-8"), "text/csv")).run()
    assert not at.exception and not at.error
    assert metric(at, "户数") == "240"

    at.sidebar.file_uploader(key="up_households").set_value(None)
    at.sidebar.radio(key="source_kind").set_value("osm").run()
    at.sidebar.file_uploader(key="osm_file").set_value(
        ("district.osm", b"this is not OpenStreetMap data", "application/xml")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "district.osm" in at.error[0].value and "gridcircle_uploads" not in at.error[0].value


def coverage(at: AppTest, service_name: str, column: str = "沿路网覆盖") -> float:
    table = at.dataframe[0].value
    return float(table.loc[table["服务"] == service_name, column].iloc[0])


def test_speed_thresholds_and_band_change_the_numbers_and_rerun_only_what_depends_on_them():
    from ui.state import stage_cache

    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:5000"
    at.run()
    assert not at.exception and not at.error
    walk_before = coverage(at, "菜市场/生鲜超市")
    crow_before = coverage(at, "菜市场/生鲜超市", "直线距离覆盖")
    assert 0 < walk_before <= crow_before <= 1  # the crow-flies circle never covers less
    misses = dict(stage_cache().misses)

    at.sidebar.number_input(key="speed_adult").set_value(0.6).run()
    assert not at.exception
    assert coverage(at, "菜市场/生鲜超市") < walk_before
    after = stage_cache().misses
    assert after["base"] == misses["base"] and after["index"] == misses["index"]
    assert after["reach"] == misses["reach"] + 1

    slow = coverage(at, "公交车站")
    at.sidebar.selectbox(key="thr_bus_stop").set_value(20).run()
    assert not at.exception
    assert coverage(at, "公交车站") > slow
    assert stage_cache().misses["base"] == misses["base"]

    grids_before = metric(at, "网格数")
    at.sidebar.slider(key="band").set_value((120, 160)).run()
    assert not at.exception and not at.error
    assert int(metric(at, "网格数")) > int(grids_before)
    assert stage_cache().misses["base"] == misses["base"] + 1


def test_siting_what_if_raises_the_coverage_shown():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:5000"
    at.run()
    before = coverage(at, "幼儿园")
    open_tab(at, "siting")  # only the open tab is drawn
    at.selectbox(key="siting_service").set_value("kindergarten")
    at.number_input(key="siting_p").set_value(2)
    at.button[0].click().run()
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    now = float(shown["现状覆盖率：幼儿园"].rstrip("%")) / 100
    after = float(shown["新增 2 处后"].rstrip("%")) / 100
    assert now == pytest.approx(before, abs=0.001)
    assert after > now
    # the map (drawn before the tabs) shows the proposed sites in the same run
    assert t("map.sites", "zh") in map_groups(at)


def map_groups(at: AppTest) -> str:
    """The layers the page sends into the main map (streamlit-folium's feature groups)."""
    found = []

    def walk(node):
        proto = getattr(node, "proto", None)
        args = getattr(proto, "json_args", "") if proto is not None else ""
        if args and "feature_group" in args:
            found.append(json.loads(args).get("feature_group") or "")
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    assert found, "no map on the page"
    return found[0]


def grid_table(at: AppTest):
    from geo.i18n import t

    column = t("map.grid_id", "zh")
    for frame in at.dataframe:
        value = frame.value
        if hasattr(value, "columns") and column in value.columns and len(value.columns) > 5:
            return value
    raise KeyError("no grid table on the page")


def test_an_edit_undo_and_redo_change_the_headline_numbers_and_the_grid_table():
    from geo.i18n import t

    GRIDS, SHARE = t("page.grids", "zh"), t("page.share_in_band", "zh")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:3000"
    at.run()
    assert not at.exception and not at.error
    grids, share = int(metric(at, GRIDS)), metric(at, SHARE)
    with pytest.raises(KeyError):  # only the open tab is drawn: the table waits for its tab
        grid_table(at)
    open_tab(at, "grids")
    table = grid_table(at)
    assert len(table) == grids
    # split the largest grid: one more grid, and the share in band follows the new grids
    sizes = table.set_index(t("map.grid_id", "zh"))[t("map.households_n", "zh")]
    largest = str(sizes.astype(int).idxmax())
    at.radio(key="gc_op").set_value("split").run()
    edit_widget(at.selectbox, "gc_split").set_value(largest).run()
    at.button(key="gc_apply_split").click().run()
    assert not at.exception and not at.error
    assert int(metric(at, GRIDS)) == grids + 1
    after = grid_table(at)
    assert len(after) == grids + 1
    assert set(after[t("map.grid_id", "zh")]) - set(table[t("map.grid_id", "zh")])
    new_sizes = after.set_index(t("map.grid_id", "zh"))[t("map.households_n", "zh")]
    assert int(new_sizes[largest]) < int(sizes[largest])
    split_share = metric(at, SHARE)
    held = at.session_state["gc_held"].project
    expected = held.summary["grids_in_band"] / held.summary["grids"]
    assert split_share == f"{expected:.0%}"
    at.button(key="gc_undo").click().run()
    assert int(metric(at, GRIDS)) == grids and metric(at, SHARE) == share
    assert len(grid_table(at)) == grids
    at.button(key="gc_redo").click().run()
    assert int(metric(at, GRIDS)) == grids + 1


def test_the_household_model_can_count_dormitories(tmp_path, monkeypatch):
    """The household model's dormitory choice (HouseholdSettings.include_dormitories)
    is on the page, explained, in both languages, and reaches the run's settings."""
    import json

    from geo.i18n import t

    monkeypatch.setenv("HOME", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:2000"
    open_sidebar_panel(at.run(), "households")
    box = at.sidebar.checkbox(key="include_dormitories")
    assert box.label == t("page.include_dormitories", "zh") and box.help
    assert box.value is False
    box.check().run()
    assert not at.exception and not at.error
    base = json.loads(at.session_state["gc_held"].base)
    assert base["households"]["include_dormitories"] is True
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    box = at.sidebar.checkbox(key="include_dormitories")
    assert box.label == "Count dormitories as households" and box.value is True


def test_each_change_renders_only_the_map_parts_it_changes(monkeypatch):
    """The maps are sent in parts, each rendered again only when what it shows changes: a
    walking-speed change renders the service layers and gaps, not the grids; an edit
    renders the grids of both maps and the gaps (their places name grids), not the
    service areas or the editing map's base (roads, drawing tool)."""
    from collections import Counter

    from ui import edit_panel, mapview

    made = Counter()

    def counting(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            out = original(*args, **kwargs)
            made[name] += bool(out)  # the base map asks for grid groups it has none of
            return out
        monkeypatch.setattr(module, name, wrapper)

    counting(mapview, "grid_groups")
    counting(mapview, "service_groups")
    counting(mapview, "gap_groups")
    counting(edit_panel, "edit_base")
    counting(edit_panel, "edit_groups")
    import streamlit as st

    st.cache_resource.clear()  # the page's caches are the process's: other tests filled them
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["demo"] = "synthetic:3000"
    at.run()
    services = at.sidebar.multiselect(key="services")
    services.set_value(list(services.options)).run()  # every service: some leave gaps
    assert not at.exception and not at.error
    assert made == Counter(grid_groups=1, service_groups=2, gap_groups=1, edit_base=1,
                           edit_groups=1), made
    made.clear()
    box = next(n for n in at.sidebar.number_input if "米/秒" in n.label)
    box.set_value(float(box.value) - 0.1).run()
    assert not at.exception and not at.error
    assert made["service_groups"] == 1 and made["gap_groups"] == 1, made
    assert made["grid_groups"] == 0, made
    assert made["edit_base"] == 0 and made["edit_groups"] == 0, made
    made.clear()
    at.radio(key="gc_op").set_value("split").run()
    assert sum(made.values()) == 0, made  # another operation chosen: nothing drawn again
    at.button(key="gc_apply_split").click().run()
    assert not at.exception and not at.error
    assert made["grid_groups"] == 1 and made["edit_groups"] == 1 and made["edit_base"] == 0, made
    # the gaps' places name grids: drawn again; the service areas and legend are not
    assert made["gap_groups"] == 1 and made["service_groups"] == 0, made
