"""Issue 27 item 4 in a real browser: the gates tab maps the compound outlines and gates,
the chosen compound highlighted; the what-if counts the households of the compound it
changes; open compounds show their households; a language switch keeps the choices."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from geo.i18n import t
from tests.browser.driver import ARTIFACTS, wait_for
from tests.browser.page_actions import SLOW_S, body, click, click_tab, idle, open_page, toggle_english

pytestmark = pytest.mark.browser


def _gates_frame(d):
    """The gates map's iframe (the one whose page draws the chosen-compound legend)."""
    for frame in d.find_elements(By.CSS_SELECTOR, "iframe[src*='streamlit_folium']"):
        d.switch_to.frame(frame)
        found = d.execute_script(
            "return document.querySelectorAll('path[stroke=\"#d7191c\"]').length;")
        d.switch_to.default_content()
        if found:
            return frame
    return None


def test_gates_tab_map_highlight_and_what_if(server, browser):
    open_page(browser, server + "/?demo=synthetic:2000", timeout_s=240)
    idle(browser)
    click_tab(browser, t("page.tab_gates", "zh"))
    idle(browser)
    frame = wait_for(browser, _gates_frame, timeout_s=SLOW_S, what="the gates map")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "gates_map_zh.png"))
    text = body(browser)
    assert "户。" in text  # the chosen compound's households
    tables = len(browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']"))
    click(browser, t("gates.compare", "zh"))
    wait_for(browser, lambda d: len(d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stDataFrame']")) > tables,
        timeout_s=SLOW_S, what="the what-if table")
    toggle_english(browser)
    idle(browser)
    wait_for(browser, lambda d: t("gates.compound_households", "en", name="", households="")
             .strip(": .") in body(d) or "households." in body(d), timeout_s=SLOW_S,
             what="the English gates tab")
    assert _gates_frame(browser) is not None  # the chosen compound still highlighted
    browser.save_screenshot(str(ARTIFACTS / "gates_map_en.png"))
