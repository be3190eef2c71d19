"""Hostile names in a real browser: on a page where every name from data is a script
(facilities, communities, grids, streets, buildings, a service, the credit), hovering and
clicking every feature of both maps runs nothing (no flag set, the title unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

driver = pytest.importorskip("tests.browser.driver")
from selenium.webdriver.common.by import By  # noqa: E402

pytestmark = pytest.mark.browser

HOVER_ALL = """
var m = window.map; if (!m) { return -1; }
var n = 0;
m.eachLayer(function(g){
  if (!(g.getTooltip && g.getTooltip() && g.eachLayer)) { return; }
  g.eachLayer(function(l){
    var at = l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : null);
    if (!at) { return; }
    l.fire('mouseover', {latlng: at}, true);   // propagates to the group's tooltip
    if (g.isTooltipOpen()) { n++; }
    l.fire('mouseout', {latlng: at}, true);
    l.fire('click', {latlng: at}, true);
  });
});
return n;
"""


@pytest.fixture(scope="module")
def hostile_server(chromium_available, tmp_path_factory):
    process, url = driver.start_test_page(Path(__file__).parent / "hostile_app.py",
                                          tmp_path_factory.mktemp("hostile_site"))
    yield url
    driver.stop_server(process)


def _pwned(browser) -> list[str]:
    """Where a hostile name ran: the page's title or flag, or a frame's flag."""
    browser.switch_to.default_content()
    hits = []
    if browser.title == "pwned":
        hits.append("title")
    if browser.execute_script("return !!window.gcPwned;"):
        hits.append("page")
    for k, frame in enumerate(browser.find_elements(By.TAG_NAME, "iframe")):
        browser.switch_to.frame(frame)
        if browser.execute_script("return !!window.gcPwned;"):
            hits.append(f"frame {k}")
        browser.switch_to.default_content()
    return hits


def test_hovering_and_clicking_every_feature_runs_no_hostile_name(hostile_server, browser):
    browser.get(hostile_server)
    driver.wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, driver.MAP_FRAME)) == 2,
                    timeout_s=150, what="both maps")
    driver.wait_for(browser, driver.page_idle, timeout_s=120, what="the page to finish")
    hovered = []
    for k in range(2):
        browser.switch_to.default_content()
        frame = browser.find_elements(By.CSS_SELECTOR, driver.MAP_FRAME)[k]
        browser.execute_script("arguments[0].scrollIntoView()", frame)
        browser.switch_to.frame(frame)
        driver.wait_for(browser, lambda d: d.execute_script("return !!window.map;"),
                        timeout_s=60, what="Leaflet")
        browser.execute_script("window.map.setZoom(window.map.getZoom() + 2);")
        ran_before = browser.execute_script("return !!window.gcPwned;")
        hovered.append(browser.execute_script(HOVER_ALL))
        assert not ran_before, f"map {k} ran a name before any hover"
        assert not browser.execute_script("return !!window.gcPwned;"), f"map {k} ran a name on hover"
        # the legend and the labels are on screen; their text shows the names as text
        text = browser.execute_script("return document.body.innerText;")
        browser.switch_to.default_content()
        driver.ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(driver.ARTIFACTS / f"hostile_names_map{k}.png"))
        assert "<img" in text or "<script>" in text or k == 1, text[:1000]
    assert hovered[0] > 50 and hovered[1] > 50, hovered  # every feature of both maps
    driver.wait_for(browser, driver.page_idle, timeout_s=60, what="the page to finish")
    browser.switch_to.default_content()
    driver.ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(driver.ARTIFACTS / "hostile_names.png"))
    assert _pwned(browser) == []
    page_text = browser.find_element(By.TAG_NAME, "body").text
    assert "<img src=x" in page_text  # the caption shows the name as text
