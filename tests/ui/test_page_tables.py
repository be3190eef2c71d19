"""The page's tables (AppTest-free, on the functions that build them): the gap list says
whether a gap is a service gap or a data gap."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analysis.pipeline import run
from geo.i18n import t
from ui import panels


@pytest.fixture(scope="module")
def result(small_district):
    base = run(small_district)
    x0, y0, _, _ = small_district.boundary.bounds
    gaps = gpd.GeoDataFrame(
        {"service": ["health", "market"], "households": [420, 300], "rank": [1, 1],
         "cause": ["data", "service"]},
        geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300),
                  shapely.box(x0 + 400, y0, x0 + 700, y0 + 300)], crs=small_district.crs)
    return dataclasses.replace(base, layers={**base.layers, "gaps": gaps})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_gap_list_shows_each_gaps_cause(result, lang):
    gaps = panels.gap_list(result, ("health", "market"), lang)
    column = t("page.col_cause", lang)
    assert column in gaps.columns
    by_service = dict(zip(gaps["service"], gaps[column]))
    assert by_service == {"health": t("gaps.cause_data", lang),
                          "market": t("gaps.cause_service", lang)}


FORMULA = '=HYPERLINK("http://evil.example","点击")'


def tables_script() -> None:
    import dataclasses
    from types import SimpleNamespace

    import streamlit as st

    from analysis.pipeline import run
    from geo.synthetic import synthetic_district
    from tests.analysis.project_fixtures import with_compound_grids
    from ui import edit_panel, panels

    formula = '=HYPERLINK("http://evil.example","点击")'

    @st.cache_resource
    def result():
        base = with_compound_grids(run(synthetic_district(5_000, seed=1)))
        grids = base.layers["grids"].copy()
        grids["name"] = formula
        communities = base.layers["communities"].copy()
        communities["name"] = "+" + formula
        return dataclasses.replace(base, layers={**base.layers, "grids": grids,
                                                 "communities": communities})

    page = SimpleNamespace(lang="zh", services=("market", "health"), band=(200, 300))
    panels.grids_panel(result(), page.band, "zh")
    panels.gaps_panel(result(), page.services, "zh")
    edit_panel.panel(result(), page)


def _formula_cells(frame) -> list:
    from analysis.export import FORMULA_START

    cells = [str(c) for c in frame.columns] + [str(i) for i in frame.index]
    cells += [v for col in frame.columns for v in frame[col].tolist() if isinstance(v, str)]
    return [c for c in cells if c.startswith(FORMULA_START)]


def test_tables_on_the_page_hold_no_live_formulas():
    """Every table the page shows offers a CSV download in the browser: text from data or
    users that a spreadsheet would run (a grid or community name, an author, a new grid
    name) is neutralised there as in the exports."""
    from streamlit.testing.v1 import AppTest

    from tests.ui import edit_widget

    at = AppTest.from_function(tables_script, default_timeout=180).run()
    assert not at.exception, at.exception
    at.text_input(key="gc_author").set_value("=cmd|' /C calc'!A0").run()
    at.radio(key="gc_op").set_value("rename").run()
    edit_widget(at.text_input, "gc_new_name").set_value("@SUM(1+1)*cmd").run()
    at.session_state["gc_journal_shown"] = True  # the journal opened (drawn while open)
    at.button(key="gc_apply_rename").click().run()
    assert not at.exception, at.exception
    frames = [d.value for d in at.dataframe]
    assert len(frames) >= 3  # the grid table, the edit's before/after, the journal
    shown = " ".join(str(v) for f in frames for col in f.columns for v in f[col].tolist())
    assert "'=HYPERLINK" in shown and "'=cmd" in shown
    bad = [c for f in frames for c in _formula_cells(f)]
    assert not bad, bad[:5]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_community_names_are_shown_in_the_pages_language(lang):
    """A derived community's name is a stored translation key: the grid table, the gap
    places and the map's community layer read it in the page's language."""
    from geo.demos import load_demo
    from geo.grids.reasons import name_text
    from ui import mapdata
    from ui.places import community_names

    result = run(load_demo("synthetic:2000"))
    comms = result.layers["communities"]
    expected = {str(c): name_text(k, lang) for c, k in zip(comms["community_id"], comms["name_key"])}
    assert community_names(comms, lang) == expected
    if lang == "en":
        assert not any("一带" in v for v in expected.values())
    table = panels.grid_table(result, (200, 300), lang)
    shown = table[t("page.col_community_name", lang)]
    ids = table[t("map.community_id", lang)]
    assert [expected[c] for c in ids] == list(shown)
    assert table.columns.is_unique
    data = mapdata.base_data(result, lang=lang)
    names = {f["properties"]["community_id"]: f["properties"]["name"]
             for f in data.communities["features"]}
    assert names == expected
    gaps = dataclasses.replace(result, layers={**result.layers, "gaps": gpd.GeoDataFrame(
        {"service": ["health"], "households": [10], "rank": [1], "cause": ["service"]},
        geometry=[comms.geometry.iloc[0].representative_point().buffer(5)], crs=comms.crs)})
    place = panels.gap_list(gaps, ("health",), lang)[t("map.place", lang)].iloc[0]
    assert place.startswith(expected[str(comms["community_id"].iloc[0])])
    service = mapdata.service_data(gaps, "health", lang=lang)
    [feature] = service.gaps["features"]
    assert feature["properties"]["place"].startswith(expected[str(comms["community_id"].iloc[0])])


def test_heat_colours_are_the_red_to_green_scale_of_pandas_gradient():
    import numpy as np

    from ui.panels import heat_css

    shares = pd.DataFrame({"a": [0.0, 0.25, 0.5, 0.73, 1.0, np.nan],
                           "b": [0.1, 0.2, 0.3, 0.9, 0.99, 0.5]})
    ours = heat_css(shares)
    ref = shares.style.background_gradient(cmap="RdYlGn", vmin=0, vmax=1, axis=None)
    ref._compute()
    for (i, j), props in ref.ctx.items():
        if np.isnan(shares.iat[i, j]):
            assert ours.iat[i, j] == ""  # unknown: no colour (pandas paints it black)
            continue
        want = dict(props)
        assert f"background-color: {want['background-color']};" in ours.iat[i, j]
        assert f"color: {want['color']};" in ours.iat[i, j]
