"""Population uploads: a GeoTIFF (any CRS) or a layer spread onto homes (dasymetric),
total kept; calibration to totals per community or for the area."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings as hsettings, strategies as st

from analysis.cli import main
from analysis.planner_data import with_planner_data
from geo.households import estimate_households
from geo.inputs.population import read_population
from geo.osm import read_osm
from geo.osm_area import study_area_from_osm
from geo.population import (calibrate, households_from_population,
                            whole_parts)
from geo.settings import HouseholdSettings
from tests.conftest import osm_xml

LON0, LAT0 = 116.30, 39.90


@pytest.fixture(scope="module")
def osm_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "district.osm"
    path.write_text(osm_xml(lon0=LON0, lat0=LAT0), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def area(osm_path):
    return study_area_from_osm(read_osm(osm_path))


def _raster(path, area, *, cell_m=50.0, crs="EPSG:3857", seed=0):
    """A persons-per-cell GeoTIFF in ``crs`` covering the area (and a margin)."""
    import rasterio
    from rasterio.transform import from_origin

    west, south, east, north = gpd.GeoSeries([area.boundary], crs=area.crs).to_crs(crs).total_bounds
    width = int(np.ceil((east - west) / cell_m)) + 4
    height = int(np.ceil((north - south) / cell_m)) + 4
    rng = np.random.default_rng(seed)
    data = rng.uniform(0, 80, (height, width)).astype("float32")
    data[0, 0] = -9999  # nodata
    transform = from_origin(west - 2 * cell_m, north + 2 * cell_m, cell_m, cell_m)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=-9999) as dst:
        dst.write(data, 1)
    return path


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:4326", "EPSG:32650"])
def test_raster_spread_keeps_the_total_within_half_a_percent(tmp_path, area, crs):
    cell = 0.0005 if crs == "EPSG:4326" else 50.0
    cells = read_population(_raster(tmp_path / "pop.tif", area, cell_m=cell, crs=crs), area=area)
    assert cells.kind == "raster" and len(cells.cells) > 0
    units = estimate_households(area, HouseholdSettings())
    out, report = households_from_population(units, cells.cells)
    persons = cells.cells["persons"].sum()
    assert abs(out["households"].sum() * 2.62 - persons) / persons < 0.005
    assert set(out["hh_source"]) == {"population"}
    # every cell's persons land inside that cell (its homes, or its centre)
    centres = shapely.centroid(cells.cells.geometry.to_numpy())
    assert shapely.intersects(area.boundary, centres).all()
    assert report["units_spread_onto"] >= 1 and report["cells_without_homes"] >= 1


def test_polygon_layer_with_population_column(tmp_path, area):
    b = gpd.GeoSeries([area.boundary], crs=area.crs).to_crs(4326).total_bounds
    mid = (b[0] + b[2]) / 2
    polys = [shapely.box(b[0], b[1], mid, b[3]), shapely.box(mid, b[1], b[2], b[3])]
    frame = gpd.GeoDataFrame({"常住人口": [2620, 524], "联系电话": ["13912345678"] * 2},
                             geometry=polys, crs=4326)
    path = tmp_path / "人口.geojson"
    frame.to_file(path, driver="GeoJSON")
    cells = read_population(path, area=area)
    assert cells.kind == "polygons" and list(cells.cells.columns) == ["persons", "geometry"]
    units = estimate_households(area, HouseholdSettings())
    out, _ = households_from_population(units, cells.cells,
                                        settings=HouseholdSettings(persons_per_household=2.62))
    assert out["households"].sum() == round((2620 + 524) / 2.62)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 500), min_size=1, max_size=40))
def test_whole_parts_sum_and_stay_within_one(values):
    total = int(round(sum(values)))
    parts = whole_parts(np.array(values), total)
    assert parts.sum() == total
    assert (np.abs(parts - np.array(values)) < 1 + 1e-9).all() and (parts >= 0).all()


def test_calibration_hits_totals_per_community_and_for_the_area():
    units = gpd.GeoDataFrame({"households": [10, 30, 5, 5], "community_id": ["A", "A", "B", "B"]},
                             geometry=shapely.points([(0, 0), (1, 0), (2, 0), (3, 0)]),
                             crs="EPSG:32650")
    comms = gpd.GeoDataFrame({"community_id": ["A", "B"], "name": ["东社区", "西社区"]},
                             geometry=[shapely.box(-1, -1, 1.5, 1), shapely.box(1.5, -1, 4, 1)],
                             crs="EPSG:32650")
    totals = pd.DataFrame({"community": ["东社区", "B", "不存在"], "households": [100, 13, 5]})
    out, report = calibrate(units, totals, communities=comms)
    assert out.groupby("community_id")["households"].sum().to_dict() == {"A": 100, "B": 13}
    assert report["factors"] == {"A": 2.5, "B": 1.3} and report["unmatched"] == ["不存在"]
    one, rep = calibrate(units, pd.DataFrame({"households": [100]}))
    assert one["households"].sum() == 100 and rep["area_factor"] == 2.0


def test_planner_data_population_then_totals(tmp_path, area):
    cells = read_population(_raster(tmp_path / "pop.tif", area), area=area)
    out, report = with_planner_data(area, HouseholdSettings(), cells=cells,
                                    totals=pd.DataFrame({"households": [1234]}))
    assert out.households["households"].sum() == 1234
    assert report["calibration"]["area_factor"] > 0


def test_command_line_with_a_population_raster(tmp_path, osm_path, area):
    raster = _raster(tmp_path / "pop.tif", area, crs="EPSG:4326", cell_m=0.0005)
    cells = read_population(raster, area=area)
    summary = tmp_path / "s.json"
    code = main(["run", "--osm", str(osm_path), "--population", str(raster),
                 "--persons-per-household", "3.0", "--out", str(tmp_path / "p.gpkg"),
                 "--summary", str(summary)])
    assert code == 0
    s = json.loads(summary.read_text(encoding="utf-8"))
    persons = cells.cells["persons"].sum()
    assert s["households_by_source"] == {"population": s["households"]}
    assert abs(s["households"] * 3.0 - persons) / persons < 0.005
