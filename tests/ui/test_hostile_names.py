"""Hostile names from data or users reach every place they are shown as text: map
tooltips, labels, icons, legend, place names, the edit map (units, grids, credit) and the
grid tables. The map HTML must never hold one of them as markup (only escaped, or as a
string inside a script that cannot close the script)."""

from __future__ import annotations

import dataclasses
import re

import folium
import geopandas as gpd
import pytest
import shapely

from analysis import project as pj
from analysis.pipeline import run
from geo.grids import edits
from tests.analysis.project_fixtures import project_result
from ui import editmap, mapview, panels
from ui.maphtml import esc, js_string

HOSTILE = (
    '<img src=x onerror="document.title=\'pwned\'">',
    "<script>document.title='pwned'</script>",
    "\"'><svg onload=alert(1)>",
    "</script><script>window.gcPwned=1</script>",
    "`${alert(1)}` & \u2028",
)
MARKUP = re.compile(r"<(img|svg)\b[^<>]{0,80}(onerror|onload)|<script>[^<]{0,40}(pwned|gcPwned)",
                    re.I)


def _markup(html: str) -> list[str]:
    """Hostile markup in ``html``: any of the hostile strings' tags, raw."""
    return [m.group(0) for m in MARKUP.finditer(html)]


def _hostile(frame: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    out = frame.copy()
    out[column] = [HOSTILE[k % len(HOSTILE)] for k in range(len(out))]
    return out


@pytest.fixture(scope="module")
def result(small_district):
    base = run(small_district)
    x0, y0, x1, y1 = small_district.boundary.bounds
    xm = (x0 + x1) / 2
    grids = gpd.GeoDataFrame({
        "grid_id": ["C0101", "C0102"], "community_id": HOSTILE[0],
        "name": [HOSTILE[1], HOSTILE[3]], "households": [100, 200], "in_band": [0, 1],
        "polsby_popper": 0.7, "contiguous": 1, "arterial_crossings": 0, "n_units": 3,
        "split_buildings": 0, "reason": [HOSTILE[2] + " / " + HOSTILE[4], ""]},
        geometry=[shapely.box(x0, y0, xm, y1), shapely.box(xm, y0, x1, y1)],
        crs=small_district.crs)
    gaps = gpd.GeoDataFrame({"service": ["health"], "households": [420], "rank": [1]},
                            geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300)],
                            crs=small_district.crs)
    layers = {**base.layers, "grids": grids, "gaps": gaps,
              "communities": _hostile(base.layers["communities"], "name"),
              "facilities": _hostile(base.layers["facilities"], "name")}
    area = dataclasses.replace(base.area, roads=_hostile(base.area.roads, "name"))
    return dataclasses.replace(base, layers=layers, area=area)


def test_escape_helpers_leave_no_markup():
    for text in HOSTILE:
        assert not _markup(esc(text))
        assert "<" not in js_string(text) and "\u2028" not in js_string(text)


def test_main_map_shows_hostile_names_only_as_text(result):
    data = mapview.base_data(result, lang="zh")
    services = (mapview.service_data(result, "health"),)
    names = {"health": HOSTILE[0]}  # a service name from an uploaded catalogue
    sites = mapview.sites_json(
        gpd.GeoDataFrame({"added_households": [10], "order": [1]},
                         geometry=[result.households.geometry.iloc[0]],
                         crs=result.households.crs), places=[HOSTILE[1]])
    for lang in ("zh", "en"):
        fmap = mapview.build_map(data, services, lang=lang, names=names, sites=sites)
        # the layer control writes layer names as HTML: they are escaped
        layers = [c.layer_name for c in fmap._children.values()
                  if isinstance(c, folium.map.Layer) and c.control]
        assert any("&lt;img" in name for name in layers), layers
        assert not any("<" in name for name in layers), layers
        html = fmap.get_root().render()
        assert not _markup(html), _markup(html)[:3]
        # the names are there, as data for the text-only tooltips
        assert "onerror" in html and "gcPwned" in html
        # folium's innerHTML tooltip is not used; ours writes textContent
        assert "div.innerHTML=table" not in html and "textContent" in html
    # the gap's place names its hostile community and street as data, not markup
    gap = services[0].gaps["features"][0]["properties"]["place"]
    assert any(h in gap for h in HOSTILE)


def test_legend_escapes_service_and_layer_names(result):
    data = mapview.base_data(result, lang="zh")
    legend = mapview.legend_html(data, (mapview.service_data(result, "health"),), lang="zh",
                                 band=(200, 300), names={"health": HOSTILE[0]},
                                 minutes=(5, 10, 15), facilities=[HOSTILE[3]], sites=True)
    assert not _markup(legend)
    assert "&lt;img" in legend and "&lt;/script&gt;" in legend


def test_edit_map_escapes_credit_unit_and_grid_names(small_district):
    project = pj.project_from_result(project_result(small_district))
    buildings = project.layers["buildings"].copy()
    buildings["name"] = [HOSTILE[k % len(HOSTILE)] for k in range(len(buildings))]
    grid = project.session.state.grid_ids()[0]
    renamed, _ = pj.edit_project(project, edits.rename_grid, grid,
                                 HOSTILE[0], author=HOSTILE[1])
    hostile = dataclasses.replace(renamed, layers={**renamed.layers, "buildings": buildings},
                                  meta={**renamed.meta, "credit": HOSTILE[3]})
    names = editmap.unit_names(hostile, "zh")
    assert any(h in v for v in names.values() for h in HOSTILE)
    html = editmap.edit_map(hostile, lang="zh").get_root().render()
    assert not _markup(html), _markup(html)[:3]
    assert "&lt;/script&gt;&lt;script&gt;window.gcPwned=1&lt;/script&gt;" in html  # the credit


def test_grid_table_and_gap_list_keep_names_as_plain_text(result):
    table = panels.grid_table(result, (200, 300), "zh")
    assert table is not None
    gaps = panels.gap_list(result, ("health",), "zh")
    assert gaps is not None
