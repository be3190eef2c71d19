"""Journey (e): the main map's layer control starts collapsed, every layer drawn has a
legend entry under the name the layer control gives it, turning a layer off greys its
entry out, the frequent services (bus stops, convenience stores) start hidden, and the
scale bar is in metres only."""

from __future__ import annotations

import pytest

from tests.browser.driver import ARTIFACTS, enter_map, page_idle, toggle_overlay, wait_for
from tests.browser.page_actions import click_tab, open_page

pytestmark = pytest.mark.browser


def _legend_layers(d) -> dict:
    return d.execute_script(
        "var out = {}; document.querySelectorAll('.gc-legend [data-layer]').forEach(function(r){"
        " out[r.getAttribute('data-layer')] = getComputedStyle(r).display !== 'none'; });"
        "return out;")


def test_layer_control_collapsed_and_every_layer_in_the_legend(server, browser):
    open_page(browser, server)
    enter_map(browser)
    wait_for(browser, lambda d: d.execute_script("return !!document.querySelector('.gc-legend');"),
             what="the legend")
    control = browser.execute_script(
        "var c = document.querySelector('.leaflet-control-layers');"
        "return [c.classList.contains('leaflet-control-layers-expanded'),"
        " c.getBoundingClientRect().width, c.getBoundingClientRect().height];")
    assert control[0] is False and control[1] < 60 and control[2] < 60, control
    ARTIFACTS.mkdir(exist_ok=True)
    browser.switch_to.default_content()
    browser.save_screenshot(str(ARTIFACTS / "journey_e_map.png"))
    enter_map(browser)

    # every overlay the control lists that is on has a visible legend entry (hidden ones
    # have theirs hidden)
    overlays = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => [l.querySelector('span span, span').textContent.trim(),"
        " l.querySelector('input').checked]);")
    assert overlays, overlays
    legend = _legend_layers(browser)
    for name, on in overlays:
        if on:
            assert legend.get(name) is True, (name, legend)
    legend_text = browser.execute_script("return document.querySelector('.gc-legend').innerText;")
    assert "图例" in legend_text
    # the legend covers no grid number: where it would, it starts folded, one click opens it
    covers = ("var r = document.querySelector('.gc-legend').getBoundingClientRect();"
              "return Array.from(document.querySelectorAll('.gc-label')).filter(function(e){"
              " if (e.style.visibility === 'hidden') { return false; }"
              " var o = e.getBoundingClientRect(); return o.width > 0 && o.left < r.right"
              " && r.left < o.right && o.top < r.bottom && r.top < o.bottom; }).length;")
    import time

    time.sleep(0.5)  # the legend decides 0.3 s after the map is drawn
    folded = browser.execute_script("return !document.querySelector('.gc-legend details').open;")
    assert folded or browser.execute_script(covers) == 0
    if folded:
        browser.execute_script("document.querySelector('.gc-legend summary').click();")
        wait_for(browser, lambda d: d.execute_script(
            "return document.querySelector('.gc-legend details').open;"), timeout_s=5,
            what="the legend opened by a click")
        assert browser.execute_script(covers) > 0  # it was folded for a reason
    # the frequent services start hidden (their layer unchecked, no bus-stop icons drawn)
    frequent = [(n, on) for n, on in overlays if n == "公交站与便利店"]
    assert frequent and not frequent[0][1], overlays
    icons = browser.execute_script(
        "return Array.from(document.querySelectorAll('.gc-fac .gc-icon')).map(e => e.textContent);")
    assert "公" not in icons and "便" not in icons, sorted(set(icons))
    # turning a layer off hides its legend entry; on again shows it
    toggle_overlay(browser, "网格")
    wait_for(browser, lambda d: _legend_layers(d).get("网格") is False, timeout_s=5,
             what="the grids' legend entry hidden")
    toggle_overlay(browser, "网格")
    wait_for(browser, lambda d: _legend_layers(d).get("网格") is True, timeout_s=5,
             what="the grids' legend entry shown")
    scale = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-scale-line'))"
        ".map(e => e.textContent);")
    assert len(scale) == 1 and scale[0].endswith(("m", "km")), scale
    assert not any("ft" in s or "mi" in s for s in scale)


def _choose(browser, label_text: str, option_index: int) -> None:
    """Pick option ``option_index`` of the main page's selectbox labelled ``label_text``."""
    from selenium.webdriver.common.by import By

    browser.switch_to.default_content()
    box = wait_for(browser, lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox']")
         if b.text.startswith(label_text)), None), timeout_s=60,
        what=f"the selectbox {label_text!r}")
    box.find_element(By.CSS_SELECTOR, "input, [role='combobox']").click()
    options = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[role='option']"),
                       timeout_s=10, what="the options")
    options[option_index].click()


def _zoom(browser) -> float:
    enter_map(browser)
    value = browser.execute_script("return window.map.getZoom();")
    browser.switch_to.default_content()
    return value


def test_a_gap_zoom_and_back_to_the_whole_area(server, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, server)
    whole = _zoom(browser)
    click_tab(browser, "服务缺口")  # only the open tab is drawn: the gap list comes with it
    _choose(browser, "在地图上定位缺口", 1)
    wait_for(browser, lambda d: page_idle(d) and _zoom(d) > whole, timeout_s=60,
             what="the map zoomed to the gap")
    zoomed = _zoom(browser)
    click_tab(browser, "选址推演")  # another tab: the map stays on the gap
    wait_for(browser, lambda d: page_idle(d) and not d.find_elements(
        By.XPATH, "//*[starts-with(normalize-space(.), '在地图上定位缺口')]"), timeout_s=60,
        what="the siting tab open")
    assert _zoom(browser) == zoomed
    click_tab(browser, "服务缺口")
    _choose(browser, "在地图上定位缺口", 0)
    wait_for(browser, lambda d: page_idle(d) and abs(_zoom(d) - whole) < 1.01, timeout_s=60,
             what=f"the map back on the whole area (zoom {whole})")
