"""Reopening a project in a fresh browser session shows the numbers the file holds: a
Helsinki project measured with other walking thresholds than the catalogue's (the kind
of project that used to come back with every threshold at 5 minutes) opens with its own
thresholds, and the coverage table reads the file's coverage, service by service."""

from __future__ import annotations

import dataclasses

import pytest

from analysis import project as pj
from geo.i18n import t
from tests.browser.driver import wait_for
from tests.browser.page_actions import (SLOW_S, click, click_tab, idle, metrics, open_page, shot,
                                        type_into, wait_metric)

pytestmark = pytest.mark.browser

CELLS = ("return Array.from(document.querySelectorAll('[data-testid=stDataFrame] td'))"
         ".map(e => e.textContent)")


def coverage_rows(driver, names: dict[str, str]) -> dict[str, tuple[float, float]]:
    """The coverage tab's rows as read from its table: service → (share, threshold)."""
    cells = driver.execute_script(CELLS)
    by_name = {v: k for k, v in names.items()}
    rows = {}
    for i, cell in enumerate(cells):
        if cell in by_name and i + 3 < len(cells):
            try:
                rows[by_name[cell]] = (float(cells[i + 1]), float(cells[i + 3]))
            except ValueError:
                continue
    return rows


def test_a_reopened_project_reads_its_own_thresholds_and_coverage(project_server, browser, home,
                                                                  tmp_path):
    from analysis.pipeline import RunSettings, load_area, run
    from analysis.settings import WalkSettings
    from geo.catalogue import load_catalogue

    walk = WalkSettings()
    other = {"health": 10.0, "primary_school": 15.0, "pharmacy": 5.0, "market": 20.0}
    walk = dataclasses.replace(walk, thresholds_min=tuple(
        (k, other.get(k, v)) for k, v in walk.thresholds_min))
    result = run(load_area(demo="helsinki"), RunSettings(walk=walk))
    path = home / "helsinki-thresholds.gpkg"
    pj.save_project(result, path, extra_meta={
        "area_source": pj.area_record("demo", "helsinki", "helsinki")})
    saved = pj.open_project(path)
    households = f"{int(saved.summary['households']):,}"

    open_page(browser, project_server + "/?demo=synthetic:2000")  # a fresh session, another area
    click_tab(browser, t("project.tab_open", "zh"))
    type_into(browser, t("project.open_path", "zh"), str(path))
    click(browser, t("project.open", "zh"))
    wait_metric(browser, "app.households", lambda v: v == households)
    idle(browser)
    assert metrics(browser)[t("page.grids", "zh")] == f"{int(saved.summary['grids']):,}"
    click_tab(browser, t("page.tab_coverage", "zh"))
    idle(browser)
    names = {s.key: s.name("zh") for s in load_catalogue()}
    rows = wait_for(browser, lambda d: (lambda r: r if len(r) >= 6 else None)(
        coverage_rows(d, names)), timeout_s=SLOW_S, what="the coverage table")
    shot(browser, "reopen_coverage_as_saved.png", top=True)
    for service, (share, minutes) in rows.items():
        assert minutes == saved.summary["thresholds_min"][service], service
        assert abs(share - saved.summary["coverage"][service]) < 1e-6, service
    assert {"health", "primary_school", "pharmacy", "market"} & set(rows)
    assert t("reopen.changed", "zh", count=1, items="").split("1")[0] not in \
        browser.find_element("tag name", "body").text
