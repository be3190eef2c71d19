"""What a planner reads on the maps and in the editing panel: a legend entry per layer,
frequent services hidden, grid labels that give way, the view on the households, places
in words, units named by building, the neighbouring grid as the move's target, merges of
grids apart flagged, yes/no in the before/after table."""

from __future__ import annotations

import dataclasses
import re

import folium
import pandas as pd
import geopandas as gpd
import pytest
import shapely

from analysis import project as pj
from analysis.pipeline import run
from geo.grids import edits
from tests.analysis.project_fixtures import project_result
from ui import edit_panel, editmap, mapview, places


@pytest.fixture(scope="module")
def result(small_district):
    return run(small_district)


@pytest.fixture(scope="module")
def project(small_district):
    return pj.project_from_result(project_result(small_district))


def _layer_names(fmap: folium.Map) -> list[str]:
    return [c.layer_name for c in fmap._children.values()
            if isinstance(c, folium.map.Layer) and c.control]


def test_every_layer_in_the_control_has_a_legend_entry_and_the_control_is_collapsed(result):
    data = mapview.base_data(result, lang="zh")
    services = tuple(mapview.service_data(result, s) for s in ("health", "bus_stop"))
    names = {s.key: s.name("zh") for s in result.catalogue}
    sites = mapview.sites_json(gpd.GeoDataFrame(
        {"added_households": [10, 5], "order": [1, 2]},
        geometry=list(result.households.geometry.iloc[:2]), crs=result.households.crs))
    fmap = mapview.build_map(data, services, names=names, sites=sites)
    html = fmap.get_root().render()
    assert '"collapsed": true' in html
    legend = mapview.legend_html(
        data, services, lang="zh", band=(200, 300), names=names, minutes=(5, 10, 15),
        facilities=[n for n in _layer_names(fmap) if n.startswith("服务设施") or n == "公交站与便利店"],
        sites=True)
    entries = set(re.findall(r'data-layer="([^"]+)"', legend))
    hidden = {"其他服务设施"}
    for name in _layer_names(fmap):
        assert name in entries or name in hidden, (name, entries)
    assert "拟建设施" in entries


def test_frequent_services_are_hidden_unless_shown(result):
    data = mapview.base_data(result, lang="zh")
    names = {s.key: s.name("zh") for s in result.catalogue}
    frequent = [s for s in mapview.FREQUENT_SERVICES if s in data.facilities]
    if not frequent:
        pytest.skip("no frequent services in this district")
    groups = mapview.service_groups(data, (mapview.service_data(result, "health"),),
                                    names=names, local_assets=False)
    hidden = [g for g in groups if any(type(c).__name__ == "HideGroup"
                                       for c in g._children.values())]
    assert any(g.layer_name == "公交站与便利店" for g in hidden)
    shown = mapview.service_groups(data, (mapview.service_data(result, frequent[0]),),
                                   names=names, local_assets=False)
    freq = [g for g in shown if g.layer_name == "公交站与便利店"]
    assert freq and not any(type(c).__name__ == "HideGroup" for c in freq[0]._children.values())


def test_view_is_the_households_and_grids_not_roads_past_the_edge(result):
    far = shapely.LineString([(0, 0), (1, 1)])  # a road running far past the data
    x0, y0, x1, y1 = result.households.total_bounds
    road = gpd.GeoDataFrame({"road_class": ["local"], "highway": ["residential"],
                             "name": ["远路"], "walkable": [True]},
                            geometry=[shapely.LineString([(x0, y0), (x1 + 5000, y1 + 5000)])],
                            crs=result.households.crs)
    area = dataclasses.replace(result.area, roads=gpd.GeoDataFrame(
        __import__("pandas").concat([result.area.roads, road], ignore_index=True),
        crs=result.households.crs))
    data = mapview.base_data(dataclasses.replace(result, area=area), lang="zh")
    hh = result.households.to_crs(4326).total_bounds
    assert data.view[0] <= hh[0] + 1e-6 and data.view[2] >= hh[2] - 1e-6
    assert data.view[2] - data.view[0] < 0.02  # not the road's 5 km
    del far


def test_grid_labels_carry_their_box_and_give_way_in_the_browser(result, small_district):
    grids = gpd.GeoDataFrame({"grid_id": ["A", "B"], "households": [250, 260]},
                             geometry=[shapely.box(*small_district.boundary.bounds),
                                       shapely.box(*small_district.boundary.buffer(-50).bounds)],
                             crs=small_district.crs)
    res = dataclasses.replace(result, layers={**result.layers, "grids": grids})
    data = mapview.base_data(res, lang="zh")
    props = data.grid_labels["features"][0]["properties"]
    assert len(props["bbox"]) == 4 and props["size"] > 0
    html = mapview.build_map(data).get_root().render()
    assert "latLngToContainerPoint" in html and "visibility" in html  # the fit check


def test_place_text_names_community_grid_and_street():
    parts = {"community": "学院路社区", "grid": "C01-03", "street": "学院路"}
    assert places.place_text(parts, "zh") == "学院路社区 · 网格 C01-03 · 近学院路"
    assert places.place_text(parts, "en") == "学院路社区 · grid C01-03 · near 学院路"
    assert places.place_text({}, "en") == "(place unknown)"


def test_places_of_gaps_find_the_nearest_named_street(result):
    x0, y0, _, _ = result.households.total_bounds
    gap = gpd.GeoDataFrame({"service": ["health"]},
                           geometry=[shapely.box(x0, y0, x0 + 50, y0 + 50)],
                           crs=result.households.crs)
    parts = places.place_parts(gap.geometry, communities=result.layers["communities"],
                               grids=None, roads=result.area.roads)
    assert parts[0]["community"]  # inside a community
    named = result.area.roads["name"].fillna("").astype(str).str.strip() != ""
    if named.any():
        assert parts[0]["street"] in set(result.area.roads.loc[named, "name"])


def test_units_are_named_by_building_and_part_and_are_unique(project):
    names = editmap.unit_names(project, "zh")
    assert names and len(set(names.values())) == len(names)
    assert not any(re.fullmatch(r"B\d+:\d+", v) for v in names.values())
    buildings = project.layers["buildings"].copy()
    buildings["name"] = [f"{k}号楼" for k in range(len(buildings))]
    named = dataclasses.replace(project, layers={**project.layers, "buildings": buildings})
    editmap._NAMES.clear()
    names = editmap.unit_names(named, "zh")
    assert any("号楼" in v for v in names.values())
    assert any("部分" in v for v in names.values())  # split buildings show their part


def test_move_target_defaults_to_the_grid_the_selection_touches(project):
    state = project.session.state
    grids = state.grids.set_index("grid_id")
    cells = state.cells
    owner = state.grid_of_cell.astype(str)
    checked = 0
    for unit in cells["unit_id"].dropna().iloc[::7][:12]:
        cell = cells.loc[cells["unit_id"] == unit].geometry.union_all()
        mine = set(owner[(cells["unit_id"] == unit).to_numpy()])
        other = cells.loc[~pd.Series(owner).isin(mine).to_numpy()]
        dist = other.geometry.distance(cell)
        if dist.min() > editmap.NEAR_M:
            assert editmap.neighbour_grid(project, [unit]) is None
            continue
        got = editmap.neighbour_grid(project, [unit])
        assert got not in mine
        # the target is a grid at the nearest distance from the selection
        best = dist.min()
        got_dist = other.loc[owner[other.index] == got].geometry.distance(cell).min() \
            if got is not None else None
        assert got_dist is not None and got_dist <= max(best, editmap.TOUCH_M) + 1e-6, (unit, got)
        checked += 1
        assert editmap.selection_households(project, [unit]) == int(
            cells.loc[cells["unit_id"] == unit, "households"].sum())
    assert checked
    del grids


def test_merge_of_grids_apart_is_known(project):
    state = project.session.state
    ids = state.grid_ids()
    apart = [(a, b) for a in ids for b in ids if a < b and not editmap.grids_touch(project, a, b)]
    touching = [(a, b) for a in ids for b in ids if a < b and editmap.grids_touch(project, a, b)]
    assert touching or apart
    for a, b in touching[:3]:
        ga, gb = state.grids.set_index("grid_id").geometry[[a, b]]
        assert ga.distance(gb) <= editmap.TOUCH_M
    if apart:
        a, b = apart[0]
        ga, gb = state.grids.set_index("grid_id").geometry[[a, b]]
        assert ga.distance(gb) > editmap.TOUCH_M


def test_before_after_table_says_yes_and_no(project):
    grid = project.session.state.grid_ids()[0]
    _, edit = pj.edit_project(project, edits.set_locked, [grid], True, author="")
    table = edit_panel.edit_table(edit, "zh")
    values = set(table.drop(columns=table.columns[0]).astype(str).to_numpy().ravel())
    assert values & {"是", "否"}
    assert not values & {"None", "nan", "True", "False"}
    for column in table.columns:
        if column.startswith(("在范围内", "连片", "锁定")):
            assert set(table[column]) <= {"是", "否", "–"}, (column, set(table[column]))


def test_edit_map_keeps_the_view_in_the_browser_and_scale_is_metric(project):
    html = editmap.edit_map(project, lang="zh").get_root().render()
    assert "sessionStorage" in html and "gcEditView:" in html
    assert "imperial: false" in html and "L.control.scale()" not in html
    assert "gc-label" in html  # grid numbers on the edit map
