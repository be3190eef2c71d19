"""Drawing a selection on the editing map in headless Chromium with no internet: the
vendored Leaflet.draw loads, a drawn rectangle selects the units inside it, and moving
them makes a new grid."""

from __future__ import annotations

from pathlib import Path

import pytest

driver = pytest.importorskip("tests.browser.driver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def edit_server(chromium_available, tmp_path_factory):
    if not (ROOT / "static" / "vendor" / "leaflet" / "leaflet.js").is_file() or \
            not (ROOT / ".streamlit").is_dir():
        pytest.skip("the page's vendored Leaflet and settings are not here")
    process, url = driver.start_test_page(Path(__file__).parent / "edit_app.py",
                                          tmp_path_factory.mktemp("edit_site"))
    yield url
    driver.stop_server(process)


def _view(d):
    """The editing map's zoom and centre (inside its frame)."""
    return d.execute_script("var m = window.map; if (!m) { return null; }"
                            "var c = m.getCenter(); return [m.getZoom(), c.lat.toFixed(5), c.lng.toFixed(5)];")


def _enter(browser, timeout_s=60):
    browser.switch_to.default_content()
    frame = driver.wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, driver.MAP_FRAME),
                            timeout_s=timeout_s, what="the editing map")
    browser.execute_script("arguments[0].scrollIntoView()", frame)
    browser.switch_to.frame(frame)
    driver.wait_for(browser, lambda d: d.execute_script(
        "return !!document.querySelector('.leaflet-draw-toolbar a.leaflet-draw-draw-rectangle')"),
        timeout_s=timeout_s, what="the drawing toolbar (vendored Leaflet.draw)")
    return frame


def test_draw_a_rectangle_then_move_the_units_and_the_map_keeps_its_zoom(edit_server, browser):
    """Journey (d), on the editing panel: zoomed in, a drawn selection and the move that
    follows leave the map where the planner put it; the units are named by building."""
    browser.get(edit_server)
    _enter(browser, timeout_s=120)
    start = driver.wait_for(browser, _view, what="the map's view")
    browser.find_element(By.CSS_SELECTOR, "a.leaflet-control-zoom-in").click()
    driver.wait_for(browser, lambda d: _view(d) and _view(d)[0] > start[0], what="zoomed in")
    zoomed = driver.wait_for(browser, lambda d: (lambda v: v if v == _view(d) else None)(
        (__import__("time").sleep(0.5), _view(d))[1]), what="the zoom to settle")
    browser.find_element(By.CSS_SELECTOR, "a.leaflet-draw-draw-rectangle").click()
    pane = browser.find_element(By.CSS_SELECTOR, ".leaflet-container")
    w, h = pane.size["width"], pane.size["height"]
    (ActionChains(browser).move_to_element_with_offset(pane, -w // 2 + 60, -h // 2 + 60)
     .click_and_hold().move_by_offset(int(w * 0.35), int(h * 0.45)).release().perform())
    browser.switch_to.default_content()

    def selected(d):
        return d.execute_script(
            "return Array.from(new Set(Array.from(document.querySelectorAll("
            "\"[data-testid='stMultiSelect'] [data-tag] > span[title]\")).map(e => e.title)));")

    units = driver.wait_for(browser, selected, timeout_s=60, what="units selected by drawing")
    assert len(units) >= 2, units
    assert not any(u.startswith("B0") for u in units), units  # named, not ids
    # the rerun renders in pieces (the list of units before the caption under it): wait
    # for the selection's total households
    body = driver.wait_for(
        browser, lambda d: (lambda text: "已选" in text and text)(
            d.find_element(By.TAG_NAME, "body").text),
        timeout_s=30, what="the selection's total households")
    assert "已选" in body and "户" in body
    driver.wait_for(browser, driver.page_idle, what="the page to finish")
    _enter(browser)
    driver.wait_for(browser, lambda d: _view(d) == zoomed, timeout_s=20,
                    what=f"the view kept after selecting ({zoomed} vs {_view(browser)})")
    browser.switch_to.default_content()
    driver.ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(driver.ARTIFACTS / "journey_d_selected.png"))
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "移动")
    button.click()
    # the page rerenders in pieces: wait for the whole outcome (step counted, grid made)
    body = driver.wait_for(
        browser, lambda d: (lambda text: "已执行 1 步" in text and "上一步" in text and text)(
            d.find_element(By.TAG_NAME, "body").text),
        timeout_s=60, what="the move to be applied and reported")
    assert "上一步" in body
    driver.wait_for(browser, driver.page_idle, what="the page to finish")
    _enter(browser)
    driver.wait_for(browser, lambda d: _view(d) == zoomed, timeout_s=20,
                    what=f"the view kept after the edit ({zoomed} vs {_view(browser)})")
    browser.switch_to.default_content()
    browser.save_screenshot(str(driver.ARTIFACTS / "journey_d_after_move.png"))
    assert not driver.severe_console_entries(browser)  # nothing asked for the internet
