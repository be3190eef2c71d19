"""Journey (a): a fresh session toggles the language four times and keeps its demo, the
services it shows and its numbers; each radio keeps a selection; no error appears."""

from __future__ import annotations

import pytest

from tests.browser.driver import ARTIFACTS, add_shown_service, page_idle, wait_for
from tests.browser.page_actions import open_page, toggle_english

pytestmark = pytest.mark.browser


def _state(d) -> dict:
    d.switch_to.default_content()
    return d.execute_script("""
        const side = document.querySelector("section[data-testid='stSidebar']");
        const text = s => Array.from(document.querySelectorAll(s)).map(e => e.innerText.trim());
        return {
          metrics: text("[data-testid='stMetricValue']"),
          errors: text("[data-testid='stAlertContentError']").concat(
                  text("[data-testid='stException']")),
          chips: Array.from(new Set(Array.from(side.querySelectorAll(
                 "[data-testid='stMultiSelect'] [data-tag] > span[title]")).map(e => e.title))),
          selects: Array.from(side.querySelectorAll("[data-testid='stSelectbox']"))
                 .slice(0, 1).map(e => e.textContent + " " + Array.from(e.querySelectorAll("input")).map(i => i.value + " " + (i.placeholder || "")).join(" ")),
          radios: Array.from(side.querySelectorAll("[data-testid='stRadio']"))
                 .map(r => r.querySelectorAll("input:checked").length),
          title: (document.querySelector("h1") || {}).innerText || "",
        };""")


def test_four_language_switches_keep_demo_services_and_numbers(server, browser):
    open_page(browser, server)
    add_shown_service(browser, "幼儿园")
    wait_for(browser, lambda d: page_idle(d) and len(_state(d)["chips"]) == 2, timeout_s=90,
             what="two services shown")
    start = _state(browser)
    assert start["metrics"] and not start["errors"], start
    assert all(start["radios"]), start
    ARTIFACTS.mkdir(exist_ok=True)
    for step, english in enumerate((True, False, True, False), start=1):
        toggle_english(browser)
        wait_for(browser, lambda d: page_idle(d) and
                 (("grids" in _state(d)["title"]) == english), timeout_s=120,
                 what=f"switch {step}")
        wait_for(browser, page_idle, timeout_s=60)
        now = _state(browser)
        browser.save_screenshot(str(ARTIFACTS / f"journey_a_language_{step}.png"))
        assert not now["errors"], now
        assert now["metrics"] == start["metrics"], (step, now)
        assert len(now["chips"]) == 2, (step, now)
        assert all(now["radios"]), (step, now)
        demo = now["selects"][0]
        assert ("Helsinki" in demo) if english else ("赫尔辛基" in demo), (step, demo)
    assert _state(browser)["chips"] == start["chips"]
