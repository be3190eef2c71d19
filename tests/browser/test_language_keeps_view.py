"""A language switch keeps what the planner was looking at: the main page stays where it
was scrolled to (within a line or two: the texts change length), and the legend stays
open or folded as the planner left it, though the map is drawn again in the other
language."""

from __future__ import annotations

import time

import pytest

from tests.browser.driver import enter_map, wait_for
from tests.browser.page_actions import idle, open_page, shot, toggle_english

pytestmark = pytest.mark.browser

MAIN = "document.querySelector('[data-testid=stMain]')"
LEGEND = "document.querySelector('.gc-legend details')"


def _legend_open(driver) -> bool:
    enter_map(driver)
    try:
        return bool(driver.execute_script(f"return {LEGEND}.open;"))
    finally:
        driver.switch_to.default_content()


def test_a_language_switch_keeps_the_scroll_and_the_legend(server, browser):
    open_page(browser, server + "/?demo=synthetic:2000")
    start = _legend_open(browser)
    enter_map(browser)
    browser.execute_script(f"{LEGEND}.querySelector('summary').click();")  # as a planner does
    browser.switch_to.default_content()
    wait_for(browser, lambda d: _legend_open(d) != start, what="the legend toggled")
    browser.execute_script(f"{MAIN}.scrollTop = 700;")
    time.sleep(0.5)
    before = browser.execute_script(f"return {MAIN}.scrollTop;")
    assert before > 300
    for lang in ("en", "zh"):
        toggle_english(browser)
        time.sleep(1)
        idle(browser)
        time.sleep(1)
        after = browser.execute_script(f"return {MAIN}.scrollTop;")
        assert abs(after - before) < 200, (lang, before, after)
        assert _legend_open(browser) != start, lang  # the planner's choice, not the default
        shot(browser, f"language_keeps_view_{lang}.png")
