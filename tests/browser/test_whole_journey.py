"""One district planner's whole session on the real page (headless Chromium, no internet),
in order, with a screenshot in test-artifacts/ after each step:

1. open the small synthetic demo, in Chinese, and note the headline numbers;
2. switch to English and back: the same numbers and services, English widgets;
3. switch to Helsinki and back: the numbers (and the OpenStreetMap credit) follow the area;
4. rename a grid and split one: the grid count, the grid table and the main map change;
   undo and redo once;
5. save the project (to the default path, under the server's HOME);
6. in a fresh session on another area, open the saved file: everything shown is the
   project's (area, numbers, grids, the renamed grid, the edits);
7. make the committee report from the report tab and download it: a PDF that states the
   page's grid count and households, with the credit the data calls for.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from analysis import project as pj
from analysis.pipeline import OSM_CREDIT
from geo.demos import demo_name
from geo.i18n import t
from tests.browser.driver import ARTIFACTS, enter_map, wait_for
from tests.browser.page_actions import (SLOW_S, body, choose, click, click_tab, edits_done,
                                        grid_paths, idle, metrics, number, open_page, pick_demo,
                                        rename_a_grid, shot, shown_services, text_box,
                                        toggle_english, type_into, wait_metric, widget_words)

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NAME = "东区一网格"  # the grid the planner renames


def grid_table_says(driver, total: int) -> bool:
    """The grid table (its tab opened) counts ``total`` grids in its caption."""
    click_tab(driver, t("page.tab_grids", "zh"))
    return t("page.grid_flags", "zh", flagged=0, total=total).split("中")[0] in body(driver)


def pressed(driver, button: str, *, grids: int, done: int) -> None:
    """Press an edit button: the grid count, the edits applied, the main map and the grid
    table all follow."""
    click(driver, button)
    wait_metric(driver, "page.grids", lambda v: number(v) == grids)
    edits_done(driver, done)
    assert wait_for(driver, lambda d: grid_paths(d) == grids, what=f"{grids} grids on the map")
    assert wait_for(driver, lambda d: grid_table_says(d, grids), what=f"{grids} in the table")


def edit_box_label(driver, label: str) -> str:
    """What the select box called ``label`` shows (its label and chosen option)."""
    def find(d):
        for box in d.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox']"):
            if box.find_element(By.TAG_NAME, "label").text.strip() == label:
                return " ".join([box.get_attribute("textContent")] + [
                    i.get_attribute("value") or "" for i in box.find_elements(By.TAG_NAME, "input")])
        return None

    driver.switch_to.default_content()
    return wait_for(driver, find, timeout_s=30, what=f"select box {label}")


def tooltip_at(driver, dx: int, dy: int) -> dict | None:
    """Hover the main map ``dx, dy`` pixels off its centre; the tooltip shown (its text
    and where it lies in the map), or None."""
    from selenium.webdriver.common.action_chains import ActionChains

    frame = enter_map(driver)
    driver.switch_to.default_content()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    ActionChains(driver).move_to_element_with_offset(frame, dx, dy).perform()
    driver.switch_to.frame(frame)
    found = wait_for(driver, lambda d: d.execute_script(
        "const t = document.querySelector('.leaflet-tooltip'); if (!t) { return null; }"
        "const r = t.getBoundingClientRect();"
        "return {text: t.innerText, left: r.left, right: r.right, width: innerWidth};"),
        timeout_s=10, what="a tooltip")
    driver.switch_to.default_content()
    return found


def template(key: str, lang: str = "zh", **groups: str) -> re.Pattern:
    """A translated sentence as a pattern: each ``{name}`` in ``groups`` becomes that
    pattern, every other placeholder anything, spaces any run of white space."""
    text = re.escape(t(key, lang))
    text = re.sub(r"\\\{(\w+)\\\}", lambda m: groups.get(m.group(1), ".+?"), text)
    return re.compile(text.replace(r"\ ", r"\s+"))


def data_names(demo: str) -> list[str]:
    """Every name the area's data brings (compounds, communities, grids, facilities),
    longest first: the only Chinese an English page may show."""
    from analysis.pipeline import load_area, run

    area = load_area(demo=demo)
    frames = [area.compounds, area.communities, area.facilities, *run(area).layers.values()]
    names = {str(v) for f in frames if f is not None and "name" in getattr(f, "columns", ())
             for v in f["name"].dropna()}
    return sorted((n for n in names if n.strip()), key=len, reverse=True)


def untranslated(words: list[str], names: list[str]) -> list[str]:
    """The words with Chinese left once the data's names are taken out."""
    def bare(word: str) -> str:
        for name in names:
            word = word.replace(name, "")
        return word
    return [w for w in words if HAN.search(bare(w))]


def downloaded(folder: Path, suffix: str) -> Path:
    done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
    busy = [p for p in folder.iterdir() if p.name.endswith(".crdownload")]
    return done[0] if len(done) == 1 and not busy else None


def test_a_planner_s_whole_session(project_server, browser, home, tmp_path):
    zh = lambda key, **p: t(key, "zh", **p)  # noqa: E731
    households, grids_label = zh("app.households"), zh("page.grids")

    # 1. the small synthetic demo, in Chinese
    open_page(browser, project_server + "/?demo=synthetic:3000")
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    first = metrics(browser)
    n = number(first[grids_label])
    services = shown_services(browser)
    assert n > 1 and services, (first, services)
    assert wait_for(browser, lambda d: grid_paths(d) == n, what="one path per grid on the map")
    assert zh("app.title") in body(browser)
    assert OSM_CREDIT not in body(browser)  # synthetic data: no OpenStreetMap credit
    # a grid's tooltip on the map's right half: labelled, and inside the map
    tip = tooltip_at(browser, 150, -100)
    assert zh("map.grid_id") in tip["text"], tip
    assert 0 <= tip["left"] and tip["right"] <= tip["width"], tip
    shot(browser, "whole_1_synthetic_zh.png", top=True)

    # 2. English and back: only the words change
    toggle_english(browser)
    wait_metric(browser, "app.households", lambda v: v == "3,000", lang="en")
    idle(browser)
    english = {label: value for label, value in metrics(browser).items()}
    assert list(english.values()) == list(first.values()), (english, first)
    assert set(english) == {t(k, "en") for k in ("app.households", "page.grids",
                                                  "page.share_in_band", "app.facilities")}
    assert len(shown_services(browser)) == len(services)
    words = widget_words(browser)
    assert t("app.title", "en") in words, words[:10]
    chinese = untranslated(words, data_names("synthetic:3000"))
    assert chinese == [], chinese  # no Chinese but the data's own names
    shot(browser, "whole_2_english.png", top=True)
    toggle_english(browser)
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    assert metrics(browser) == first
    assert shown_services(browser) == services
    assert zh("app.title") in body(browser)
    shot(browser, "whole_2_back_to_chinese.png", top=True)

    # 3. another area and back: the headline numbers follow the area
    pick_demo(browser, "赫尔辛基")
    wait_metric(browser, "app.households", lambda v: v != "3,000")
    idle(browser)
    helsinki = metrics(browser)
    assert helsinki[households] != first[households]
    assert helsinki[grids_label] != first[grids_label], helsinki
    assert wait_for(browser, lambda d: grid_paths(d) == number(helsinki[grids_label]),
                    what="Helsinki's grids on the map")
    assert OSM_CREDIT in body(browser)  # OpenStreetMap data, credited under the map
    assert shown_services(browser) == services
    shot(browser, "whole_3_helsinki.png", top=True)
    pick_demo(browser, "3000")
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    assert metrics(browser) == first
    assert wait_for(browser, lambda d: grid_paths(d) == n, what="the synthetic grids again")
    assert OSM_CREDIT not in body(browser)
    shot(browser, "whole_3_back_to_synthetic.png", top=True)

    # 4. edits: rename a grid, split one; undo the split and redo it
    rename_a_grid(browser, NAME, done=1)
    assert NAME in edit_box_label(browser, zh("edit.rename_grid"))
    choose(browser, zh("edit.op.split"))
    assert NAME in edit_box_label(browser, zh("edit.split_grid"))  # the labels follow
    pressed(browser, zh("edit.apply_split"), grids=n + 1, done=2)
    assert metrics(browser)[households] == "3,000"
    shot(browser, "whole_4_renamed_and_split.png", top=True)
    pressed(browser, zh("edit.undo"), grids=n, done=1)
    shot(browser, "whole_4_undone.png")
    pressed(browser, zh("edit.redo"), grids=n + 1, done=2)
    edited = metrics(browser)
    shot(browser, "whole_4_redone.png", top=True)

    # 5. save, to the path the page proposes: under HOME, named after the area
    path = Path(text_box(browser, zh("project.path")).get_attribute("value"))
    assert path.is_relative_to(home) and "3000" in path.stem and path.suffix == ".gpkg", path
    assert not path.exists()
    click(browser, zh("project.save"))
    said = zh("project.saved", path=str(path), revision=1)
    wait_for(browser, lambda d: said in body(d), timeout_s=SLOW_S, what=said)
    idle(browser)
    saved = pj.open_project(path)
    assert int(saved.summary["grids"]) == n + 1 and int(saved.summary["households"]) == 3000
    assert NAME in set(saved.session.state.grids["name"])
    assert (saved.session.position, len(saved.session.entries)) == (2, 2)
    assert zh("edit.not_saved") not in body(browser)
    shot(browser, "whole_5_saved.png")

    # 6. a fresh session on another area, then open the saved file: all of it is the project's
    browser.delete_all_cookies()
    open_page(browser, project_server + "/?demo=synthetic:2000")
    wait_metric(browser, "app.households", lambda v: v == "2,000")
    idle(browser)
    assert path.name not in text_box(browser, zh("project.path")).get_attribute("value")
    assert zh("edit.position", done=0, total=0).split("，")[0] in body(browser)
    shot(browser, "whole_6_fresh_session_other_area.png", top=True)
    click_tab(browser, zh("project.tab_open"))
    type_into(browser, zh("project.open_path"), str(path))
    click(browser, zh("project.open"))
    wait_metric(browser, "app.households", lambda v: v == "3,000")
    idle(browser)
    assert metrics(browser) == edited
    assert wait_for(browser, lambda d: grid_paths(d) == n + 1, what="the project's grids")
    assert wait_for(browser, lambda d: grid_table_says(d, n + 1), what="the project's table")
    assert text_box(browser, zh("project.path")).get_attribute("value") == str(path)
    edits_done(browser, 2)
    choose(browser, zh("edit.op.rename"))
    assert NAME in edit_box_label(browser, zh("edit.rename_grid"))
    assert "3000" in edit_box_label(browser, zh("app.demo"))  # the sidebar names its area
    shot(browser, "whole_6_project_opened.png", top=True)

    # 7. the committee report, made from the report tab and downloaded
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
    click_tab(browser, zh("project.tab_report"))
    click(browser, zh("project.make_report"))
    get = wait_for(browser, lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "[data-testid='stDownloadButton'] button")
         if b.text.strip() == zh("project.download_report")), None),
        timeout_s=SLOW_S, what="the report's download button")
    idle(browser)
    shot(browser, "whole_7_report_ready.png")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", get)
    get.click()
    pdf = wait_for(browser, lambda d: downloaded(downloads, ".pdf"), timeout_s=60,
                   what="the downloaded report")
    assert pdf.name == f"{path.stem}_report.pdf", pdf.name
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    # one truth: the report states the grid count and households the page shows
    grids_shown, households_shown = edited[grids_label], edited[households]
    sentence = template("report.grids_sub", grids=re.escape(grids_shown))
    assert sentence.search(text), text[:2000]
    key = re.escape(zh("report.key.households_distinct")) + r"\s+" + re.escape(households_shown)
    assert re.search(key, text), text[:2000]
    # the area as the page names it, not the data's internal name
    assert demo_name("synthetic:3000", "zh") in text, text[:300]
    # the credit the data calls for: synthetic data, not OpenStreetMap's
    assert "OpenStreetMap" not in text
    assert zh("report.no_osm") in text
    for old in ARTIFACTS.glob("whole_7_report_page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(pdf),
                    str(ARTIFACTS / "whole_7_report_page")], check=True)
    assert len(list(ARTIFACTS.glob("whole_7_report_page-*.png"))) == 2
    shutil.copy(pdf, ARTIFACTS / "whole_7_report.pdf")
