"""The page's tables (AppTest-free, on the functions that build them): the gap list says
whether a gap is a service gap or a data gap."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
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
