"""The real page in headless Chromium with no internet: the map draws the grids from the
vendored Leaflet, the layer control works, and the console stays clean."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.driver import (ARTIFACTS, GRID_PATHS, count, enter_map, overlay_labels,
                                  page_idle, severe_console_entries, toggle_overlay, wait_for)

pytestmark = pytest.mark.browser


def test_page_draws_grids_offline_and_the_layer_control_toggles_them(server, browser):
    browser.get(server)
    enter_map(browser, timeout_s=120)
    grid_paths = wait_for(browser, lambda d: count(d, GRID_PATHS), timeout_s=120,
                          what="grid polygons on the map")

    browser.switch_to.default_content()
    wait_for(browser, page_idle, what="the page to finish")
    assert "网格" in browser.find_element(By.TAG_NAME, "h1").text
    metrics = {m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricLabel']").text.strip():
               m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricValue']").text.strip()
               for m in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMetric']")}
    assert grid_paths == int(metrics["网格数"].replace(",", ""))  # one SVG path per grid

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
