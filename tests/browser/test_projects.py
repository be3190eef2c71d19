"""Journeys with projects in the real page (headless Chromium, no internet), each saving
screenshots to test-artifacts/:

(b) synthetic demo → edit → save as A → switch to Helsinki: the path box no longer names
    A, and saving over A asks first; A still holds the synthetic grids and the edit;
(c) opening a saved project while another area is loaded: everything shown is the
    project's (area, numbers, grids on the map, path);
(d) an edit changes the headline numbers, the grid table and the main map.
"""

from __future__ import annotations

import pytest

from analysis import project as pj
from geo.i18n import t
from tests.browser.page_actions import (SLOW_S, body, choose, click, click_tab, grid_paths, idle,
                                        metrics, pick_demo, rename_a_grid, shot, text_box,
                                        type_into, wait_metric)
from tests.browser.driver import enter_map, wait_for

pytestmark = pytest.mark.browser


def test_b_save_as_a_switch_to_helsinki_and_saving_over_a_asks_first(project_server, browser,
                                                                       home):
    browser.get(project_server + "/?demo=synthetic:3000")
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    rename_a_grid(browser, "东区一网格")
    a = home / "A.gpkg"
    type_into(browser, t("project.path", "zh"), str(a))
    click(browser, t("project.save", "zh"))
    wait_for(browser, lambda d: "已保存到" in body(d), timeout_s=SLOW_S, what="saved")
    shot(browser, "project_b1_saved_synthetic_as_A.png")
    saved = pj.open_project(a)
    assert pj.area_source_of(saved.meta)["id"] == "synthetic:3000"

    pick_demo(browser, "赫尔辛基")
    wait_metric(browser, "app.households", lambda v: v != "3,000")
    idle(browser)
    box = text_box(browser, t("project.path", "zh")).get_attribute("value")
    assert "A.gpkg" not in box and box.endswith("helsinki.gpkg"), box
    shot(browser, "project_b2_helsinki_path_follows_area.png")

    type_into(browser, t("project.path", "zh"), str(a))
    click(browser, t("project.save", "zh"))
    wait_for(browser, lambda d: "另一个区域" in body(d), timeout_s=60, what="the question")
    assert t("project.overwrite_confirm", "zh") in body(browser)
    shot(browser, "project_b3_saving_over_A_asks_first.png")
    kept = pj.open_project(a)
    assert kept.revision == saved.revision
    assert int(kept.summary["households"]) == 3000
    assert "东区一网格" in set(kept.session.state.grids["name"])
    assert len(kept.session.entries) == 1


def test_c_d_open_a_project_over_another_area_then_an_edit_shows_everywhere(
        project_server, browser, home, tmp_path):
    from analysis.pipeline import load_area, run
    from geo.grids import edits

    result = run(load_area(demo="synthetic:3000"))
    made = pj.save_project(result, tmp_path / "p.gpkg", extra_meta={
        "area_source": pj.area_record("demo", "synthetic:3000", "synthetic:3000")})
    project = pj.open_project(made)
    first = project.session.state.grid_ids()[0]
    project, _ = pj.edit_project(project, edits.rename_grid, first, "西区")
    path = home / "C.gpkg"
    pj.save(project, path)
    n = int(project.summary["grids"])

    browser.get(project_server)  # a fresh session on the first demo (Helsinki)
    helsinki = wait_metric(browser, "app.households", lambda v: v != "3,000")
    idle(browser)
    shot(browser, "project_c0_helsinki_before_opening.png")
    click_tab(browser, t("project.tab_open", "zh"))
    type_into(browser, t("project.open_path", "zh"), str(path))
    click(browser, t("project.open", "zh"))
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    assert helsinki != "3,000"
    shown = metrics(browser)
    assert int(shown[t("page.grids", "zh")]) == n
    assert wait_for(browser, lambda d: grid_paths(d) == n, timeout_s=60, what="the grids")
    click_tab(browser, t("page.tab_grids", "zh"))  # the grid table
    wait_for(browser, lambda d: t("page.grid_flags", "zh", flagged=0, total=n).split("中")[0]
             in body(d), what="the grid table of the project")
    assert text_box(browser, t("project.path", "zh")).get_attribute("value") == str(path)
    shot(browser, "project_c_opened_over_helsinki.png", top=True)

    # (d) an edit: the headline numbers, the grid table and the main map follow it, and
    # the main map on screen takes the new grids in place, keeping the planner's zoom
    enter_map(browser)
    zoom = browser.execute_script("window.__gcKept = true; map_div.setZoom(map_div.getZoom() + 1,"
                                  " {animate: false}); return map_div.getZoom();")
    browser.switch_to.default_content()
    choose(browser, t("edit.op.split", "zh"))
    click(browser, t("edit.apply_split", "zh"))
    wait_metric(browser, "page.grids", lambda v: int(v) == n + 1)
    idle(browser)
    assert wait_for(browser, lambda d: grid_paths(d) == n + 1, timeout_s=60,
                    what="the split grid on the main map")
    wait_for(browser, lambda d: t("page.grid_flags", "zh", flagged=0, total=n + 1).split("中")[0]
             in body(d), what="the grid table after the edit")
    enter_map(browser)
    assert browser.execute_script("return window.__gcKept === true;"), "the map was reloaded"
    assert browser.execute_script("return map_div.getZoom();") == zoom
    browser.switch_to.default_content()
    shot(browser, "project_d_edit_shows_on_the_page.png", top=True)
    assert pj.open_project(path).session.position == 2  # autosaved to the opened file
