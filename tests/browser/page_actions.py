"""What a planner does on the real page, as small steps for the browser journeys: read the
headline numbers, click a button or tab, type into a box, pick a demo, take a screenshot.

Every step switches to the page itself first (out of any map frame), and the steps that
make Streamlit rerun wait for the page to finish (:func:`idle`)."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from geo.i18n import t
from tests.browser.driver import ARTIFACTS, GRID_PATHS, count, enter_map, page_idle, wait_for

SLOW_S = 180  # a loaded machine: the longest wait for one run of the page


def idle(driver, timeout_s: float = SLOW_S) -> None:
    wait_for(driver, page_idle, timeout_s=timeout_s, what="the page to finish")


def open_page(driver, url: str, *, timeout_s: float = 150) -> None:
    """Load the page at ``url`` and wait for its map and for the page to finish."""
    driver.get(url)
    enter_map(driver, timeout_s=timeout_s)
    driver.switch_to.default_content()
    idle(driver, timeout_s=timeout_s)


def metrics(driver) -> dict[str, str]:
    """The headline numbers: ``{label: value}`` as shown."""
    driver.switch_to.default_content()
    return {m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricLabel']").text.strip():
            m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricValue']").text.strip()
            for m in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stMetric']")}


def number(text: str) -> int:
    """A shown whole number ("3,000") as an int."""
    return int(text.replace(",", "").strip())


def wait_metric(driver, key: str, want, *, lang: str = "zh", timeout_s: float = SLOW_S) -> str:
    """Wait until the metric labelled ``t(key, lang)`` shows a value ``want`` accepts."""
    label = t(key, lang)
    return wait_for(driver, lambda d: (lambda v: v if v is not None and want(v) else None)(
        metrics(d).get(label)), timeout_s=timeout_s, what=f"metric {label}")


def text_box(driver, label: str, *, timeout_s: float = 30):
    """The input of the text box labelled ``label`` (also in a tab not open)."""
    def find(d):
        for box in d.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput']"):
            if box.find_element(By.TAG_NAME, "label").get_attribute("textContent").strip() == label:
                return box.find_element(By.TAG_NAME, "input")
        return None

    driver.switch_to.default_content()
    return wait_for(driver, find, timeout_s=timeout_s, what=f"text box {label}")


def type_into(driver, label: str, value: str) -> None:
    driver.switch_to.default_content()
    box = text_box(driver, label)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(value)
    box.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: text_box(d, label).get_attribute("value") == value,
             what=f"{label} to read {value}")
    idle(driver)


def button(driver, text: str, *, enabled: bool = True):
    """The (non-tab) button labelled ``text`` (once it is there, and enabled if asked)."""
    driver.switch_to.default_content()
    return wait_for(driver, lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "[data-testid='stButton'] button")
         if b.text.strip() == text and (b.is_enabled() or not enabled)), None),
        what=f"button {text}")


def click(driver, text: str) -> None:
    """Click the (non-tab) button labelled ``text``."""
    found = button(driver, text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", found)
    found.click()


def click_tab(driver, text: str) -> None:
    driver.switch_to.default_content()
    tab = wait_for(driver, lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "[role='tab']")
         if b.get_attribute("textContent").strip() == text), None), what=f"tab {text}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
    tab.click()


def choose(driver, option: str) -> None:
    """Click a radio option by its text."""
    driver.switch_to.default_content()
    label = next(lab for lab in driver.find_elements(
        By.CSS_SELECTOR, "[data-testid='stRadio'] label") if lab.text.strip() == option)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    idle(driver)


def pick_demo(driver, name: str, *, lang: str = "zh") -> None:
    """Type ``name`` into the sidebar's demo box and take it."""
    driver.switch_to.default_content()
    box = next(b for b in driver.find_elements(
        By.CSS_SELECTOR, "section[data-testid='stSidebar'] [data-testid='stSelectbox']")
        if t("app.demo", lang) in b.text)
    box.find_element(By.TAG_NAME, "input").click()
    box.find_element(By.TAG_NAME, "input").send_keys(name)
    box.find_element(By.TAG_NAME, "input").send_keys(Keys.ENTER)


def body(driver) -> str:
    driver.switch_to.default_content()
    return driver.find_element(By.TAG_NAME, "body").text


def grid_paths(driver) -> int:
    """How many grids the main map draws (one SVG path each)."""
    enter_map(driver)
    n = count(driver, GRID_PATHS)
    driver.switch_to.default_content()
    return n


def shot(driver, name: str, *, top: bool = False) -> None:
    """A screenshot in test-artifacts/ (``top``: scrolled to the headline numbers)."""
    driver.switch_to.default_content()
    if top:  # the headline numbers and the main map
        driver.execute_script("document.querySelector('h1').scrollIntoView()")
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def edits_done(driver, done: int) -> None:
    """Wait until the edit panel says ``done`` edits are applied."""
    said = t("edit.position", "zh", done=done, total=0).split("，")[0]
    wait_for(driver, lambda d: said in body(d), timeout_s=SLOW_S, what=said)
    idle(driver)


def rename_a_grid(driver, name: str, *, done: int = 1) -> None:
    """Rename the grid the rename box shows first; it is the ``done``-th edit applied."""
    choose(driver, t("edit.op.rename", "zh"))
    type_into(driver, t("edit.new_name", "zh"), name)
    click(driver, t("edit.apply_rename", "zh"))
    edits_done(driver, done)


def toggle_english(driver) -> None:
    """Click the sidebar's English toggle (on → English, off → 中文)."""
    driver.switch_to.default_content()
    driver.find_element(By.CSS_SELECTOR,
                        "section[data-testid='stSidebar'] [data-testid='stCheckbox'] label").click()


def shown_services(driver) -> list[str]:
    """The services chosen in the sidebar (the multiselect's chips, as shown)."""
    driver.switch_to.default_content()
    return driver.execute_script(
        "const side = document.querySelector(\"section[data-testid='stSidebar']\");"
        "return Array.from(new Set(Array.from(side.querySelectorAll("
        "\"[data-testid='stMultiSelect'] [data-tag] > span[title]\")).map(e => e.title)));")


WIDGET_WORDS = """
const out = [];
const pick = "[data-testid='stWidgetLabel'], [data-testid='stMetricLabel'], [role='tab'],"
  + " [data-testid='stButton'] button, [data-testid='stDownloadButton'] button, h1, h2, h3,"
  + " [data-testid='stExpander'] summary, [data-testid='stRadio'] label,"
  + " [data-testid='stCaptionContainer'], [data-testid='stFileUploaderDropzoneInstructions']";
document.querySelectorAll(pick).forEach(e => { if (e.innerText.trim()) out.push(e.innerText.trim()); });
document.querySelectorAll("input[placeholder], textarea[placeholder]").forEach(
  e => { if (e.placeholder.trim()) out.push(e.placeholder.trim()); });
document.querySelectorAll("[data-testid='stSelectbox'] input, [data-testid='stMultiSelect'] [data-tag]").forEach(
  e => { const v = (e.value || e.innerText || "").trim(); if (v) out.push(v); });
return out;
"""


def widget_words(driver) -> list[str]:
    """Every label, button, tab, heading, caption and placeholder of the page's widgets
    (the words a reader sees around the numbers), as shown."""
    driver.switch_to.default_content()
    return driver.execute_script(WIDGET_WORDS)
