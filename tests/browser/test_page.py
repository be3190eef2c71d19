"""The real page in headless Chromium with no internet: the map draws the grids from the
vendored Leaflet, the layer control works, another service shown is swapped into the map
on screen, and the console stays clean."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.driver import (AREA_PATHS, ARTIFACTS, GRID_PATHS, add_shown_service,
                                  area_paths_of, count, enter_map, overlay_labels, page_idle,
                                  severe_console_entries, toggle_overlay, wait_for)
from tests.browser.page_actions import metrics, number, open_page
from ui.mapview import SERVICE_COLOURS

pytestmark = pytest.mark.browser


def test_page_draws_grids_offline_and_the_layer_control_toggles_them(server, browser):
    open_page(browser, server, timeout_s=240)  # the map entered only once it is final
    enter_map(browser)
    grid_paths = wait_for(browser, lambda d: count(d, GRID_PATHS), timeout_s=120,
                          what="grid polygons on the map")

    browser.switch_to.default_content()
    assert "网格" in browser.find_element(By.TAG_NAME, "h1").text
    assert grid_paths == number(metrics(browser)["网格数"])  # one SVG path per grid

    enter_map(browser)
    labels = overlay_labels(browser)
    assert {"网格", "道路", "服务设施"} <= set(labels), labels
    assert any(label.startswith("服务范围") for label in labels), labels
    toggle_overlay(browser, "网格")
    wait_for(browser, lambda d: count(d, GRID_PATHS) == 0, timeout_s=5, what="grids hidden")
    toggle_overlay(browser, "网格")
    wait_for(browser, lambda d: count(d, GRID_PATHS) == grid_paths, timeout_s=5,
             what="grids shown again")

    # facility icons are made in the browser from each feature's service
    icons = browser.execute_script(
        "return Array.from(document.querySelectorAll('.gc-fac .gc-icon'))"
        ".map(e => e.textContent + e.style.background);")
    assert icons and any(icon.startswith("医") for icon in icons), icons[:5]

    credit = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-attribution").text
    assert "OpenStreetMap contributors" in credit  # Helsinki is OpenStreetMap data
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    outside = [r for r in resources if not r.startswith(server) and not r.startswith("data:")]
    assert outside == [], outside

    browser.switch_to.default_content()
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "page_helsinki_zh.png"))
    assert severe_console_entries(browser) == []


def test_another_service_shown_is_swapped_into_the_map_without_reloading_it(server, browser):
    open_page(browser, server, timeout_s=240)
    frame = enter_map(browser)
    wait_for(browser, lambda d: count(d, GRID_PATHS) and count(d, AREA_PATHS), timeout_s=120,
             what="grids and service areas")
    browser.switch_to.default_content()
    browser.get_log("browser")  # only what follows counts

    enter_map(browser)
    grids = count(browser, GRID_PATHS)
    market = area_paths_of(SERVICE_COLOURS["market"])
    assert count(browser, market) == 0
    # anything left from this window would be gone had the map been loaded again
    browser.execute_script("window.__gcKept = true;"
                           "document.querySelector('.leaflet-overlay-pane path')"
                           ".setAttribute('data-gc-kept', '1');")  # a road of the base map
    legend = browser.find_element(By.CSS_SELECTOR, ".gc-legend").text
    assert "菜市场" not in legend

    add_shown_service(browser, "菜市场/生鲜超市")
    wait_for(browser, page_idle, timeout_s=60, what="the page to finish")
    assert browser.find_element(By.CSS_SELECTOR, "iframe[src*='streamlit_folium']") == frame
    browser.switch_to.frame(frame)
    wait_for(browser, lambda d: count(d, market), timeout_s=30,
             what="the market's service areas")
    assert browser.execute_script("return window.__gcKept === true;"), "the map was reloaded"
    assert browser.execute_script(
        "return document.querySelectorAll('[data-gc-kept]').length;") == 1
    assert count(browser, GRID_PATHS) == grids
    labels = overlay_labels(browser)
    assert {"服务范围：菜市场/生鲜超市", "服务范围：社区卫生服务中心/诊所"} <= set(labels), labels
    assert labels.count("网格") == 1, labels  # one layer control, not one per swap
    assert len(browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers")) == 1
    legends = browser.find_elements(By.CSS_SELECTOR, ".gc-legend")
    assert len(legends) == 1 and "菜市场" in legends[0].text
    toggle_overlay(browser, "服务范围：菜市场/生鲜超市")  # the swapped-in layer is controlled
    wait_for(browser, lambda d: count(d, market) == 0, timeout_s=5, what="market areas hidden")

    browser.switch_to.default_content()
    assert severe_console_entries(browser) == []
