"""The map built from a run: offline assets only, every layer present, large areas kept light."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from analysis.pipeline import run
from analysis.project import project_from_result
from ui import assets, editmap, mapframe, mapview
from ui.maphtml import POINT_CANVAS_JS


@pytest.fixture(scope="module")
def result(small_district):
    """A real run on the small synthetic district, with grids, service areas and gaps cut
    from its boundary in code (four quarter grids, one 5/10/15-minute ring set, one gap)."""
    base = run(small_district)
    boundary = small_district.boundary
    x0, y0, x1, y1 = boundary.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    quarters = [shapely.box(x0, y0, xm, ym), shapely.box(xm, y0, x1, ym),
                shapely.box(x0, ym, xm, y1), shapely.box(xm, ym, x1, y1)]
    hh = base.households
    counts = [int(hh.loc[hh.within(q), "households"].sum()) for q in quarters]
    grids = gpd.GeoDataFrame({
        "grid_id": ["C0101", "C0102", "C0103", "C0104"], "community_id": "C01",
        "households": counts, "in_band": [0, 1, 1, 0], "polsby_popper": 0.78,
        "contiguous": 1, "arterial_crossings": 0, "n_units": 3, "split_buildings": 0,
        "reason": ["", "", "", "跨越干道 / Crosses an arterial road"]},
        geometry=quarters, crs=small_district.crs)
    centre = shapely.Point(xm, ym)
    areas = gpd.GeoDataFrame({"service": "health", "minutes": [5.0, 10.0, 15.0]},
                             geometry=[centre.buffer(r) for r in (300, 600, 900)],
                             crs=small_district.crs)
    gaps = gpd.GeoDataFrame({"service": ["health"], "households": [420], "rank": [1]},
                            geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300)],
                            crs=small_district.crs)
    layers = {**base.layers, "grids": grids, "service_areas": areas, "gaps": gaps}
    return dataclasses.replace(base, layers=layers)


def test_every_asset_is_served_by_the_page_and_exists(result):
    data = mapview.base_data(result)
    fmap = mapview.build_map(data, (mapview.service_data(result, "health"),))
    links = assets.asset_links(fmap)
    assert links and all(link.startswith(assets.STATIC_URL) for link in links), links
    assert assets.missing_assets() == []
    html = fmap.get_root().render()
    assert not re.search(r"https?://(cdn|code\.jquery|netdna|cdnjs)", html)


def test_map_has_each_layer_with_translated_names_and_the_osm_credit(result):
    data = mapview.base_data(result, band=(200, 300))
    services = (mapview.service_data(result, "health"),)
    zh = mapview.build_map(data, services, lang="zh", names={"health": "卫生"}).get_root().render()
    en = mapview.build_map(data, services, lang="en", names={"health": "Clinic"}).get_root().render()
    for name in ("网格", "住户", "道路", "服务设施", "服务范围：卫生", "服务缺口：卫生"):
        assert name in zh or json.dumps(name)[1:-1] in zh, name
    for name in ("Grids", "Households", "Roads", "Facilities", "Service area: Clinic", "Gaps: Clinic"):
        assert name in en, name
    assert '"gc-grids"' in zh
    assert len(data.grids["features"]) == 4
    statuses = [f["properties"]["status"] for f in data.grids["features"]]
    assert set(statuses) <= {"低于范围", "在范围内", "高于范围"}
    assert data.grids["features"][3]["properties"]["reason"] == "跨越干道"
    # the synthetic district is not OSM data: no OSM credit unless OSM tiles are shown
    assert "OpenStreetMap</a> contributors" not in zh
    osm = mapview.build_map(data, services, basemap="osm").get_root().render()
    assert "OpenStreetMap</a> contributors" in osm


def test_grid_colour_follows_the_band(result):
    grids = result.layers["grids"]
    low = int(grids["households"].min())
    high = int(grids["households"].max())
    data = mapview.base_data(result, band=(low + 1, high - 1))
    fills = [f["properties"]["style"]["fillColor"] for f in data.grids["features"]]
    order = np.argsort(grids["households"].to_numpy())
    assert fills[order[0]] == mapview.BAND_COLOURS["below"]
    assert fills[order[-1]] == mapview.BAND_COLOURS["above"]


def test_service_areas_nest_largest_first_and_gaps_carry_counts(result):
    svc = mapview.service_data(result, "health")
    minutes = [f["properties"]["minutes"] for f in svc.areas["features"]]
    assert minutes == [15.0, 10.0, 5.0]
    opacity = [f["properties"]["style"]["fillOpacity"] for f in svc.areas["features"]]
    assert opacity == sorted(opacity)
    assert svc.gaps["features"][0]["properties"]["households"] == 420
    assert mapview.service_data(result, "park").areas is None


def test_many_households_become_a_heat_layer_of_aggregated_cells(result):
    limits = mapview.MapLimits(household_points=10)
    data = mapview.base_data(result, limits=limits)
    assert data.households is None and data.household_heat
    total = sum(w for _, _, w in data.household_heat)
    assert total == pytest.approx(result.households["households"].sum())
    fmap = mapview.build_map(data)
    assert any("leaflet_heat" in link for link in assets.asset_links(fmap))


def test_roads_and_buildings_are_merged_into_a_few_features(result):
    data = mapview.base_data(result)
    assert len(data.roads["features"]) <= 3
    assert data.buildings is None or len(data.buildings["features"]) == 1
    coords = re.findall(r"-?\d+\.\d+", json.dumps(data.roads))
    assert max(len(c.split(".")[1]) for c in coords) <= mapview.DECIMALS


def test_unvendored_plugin_is_refused():
    import folium
    from folium.plugins import MarkerCluster

    fmap = folium.Map()
    MarkerCluster().add_to(fmap)
    with pytest.raises(assets.AssetError):
        assets.localise(fmap)


def test_view_of_a_small_gap_zooms_in_further_than_the_whole_area(result):
    data = mapview.base_data(result)
    _, whole = mapview.view_of(data.bounds)
    gap = result.layers["gaps"].to_crs(4326).total_bounds
    centre, zoom = mapview.view_of(tuple(gap))
    assert zoom > whole
    assert gap[1] < centre[0] < gap[3] and gap[0] < centre[1] < gap[2]


def test_household_and_unit_points_share_one_canvas_per_map(result, small_district):
    """The points a grid edit swaps in (households on the page's map, units on the
    editing map) are drawn on one canvas per map, not as one page element each."""
    data = mapview.base_data(result)
    assert data.households is not None
    rendered = mapframe.render(mapview.base_map(data))
    grids = mapframe.render_groups(rendered, mapview.grid_groups(data)).feature_group
    assert grids.count(f'"renderer": {POINT_CANVAS_JS}') == 1  # the households' layer
    project = project_from_result(run(small_district))
    units = mapframe.render_groups(rendered, editmap.edit_groups(project)).feature_group
    assert units.count(f'"renderer": {POINT_CANVAS_JS}') == 1
