import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.households import estimate_households, lattice_points, split_evenly
from geo.network import build_network
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from tests.conftest import BEIJING_OSM

CRS = "EPSG:32650"


def area(buildings, compounds=()):
    roads = gpd.GeoDataFrame({"road_class": ["local"]},
                             geometry=[shapely.LineString([(0, -20), (1000, -20)])], crs=CRS)
    b = gpd.GeoDataFrame(
        [{"building_id": f"b{i}", "building": kind, "levels": lev, "height_m": h, "name": ""}
         for i, (kind, lev, h, _) in enumerate(buildings)],
        geometry=[g for *_, g in buildings], crs=CRS)
    c = gpd.GeoDataFrame([{"compound_id": f"c{i}", "name": f"小区{i}"} for i, _ in enumerate(compounds)],
                         geometry=list(compounds), crs=CRS)
    return StudyArea(name="t", crs=b.crs, boundary=shapely.box(0, -20, 1000, 1000), roads=roads,
                     buildings=b, compounds=c, facilities=gpd.GeoDataFrame(geometry=[], crs=CRS),
                     network=build_network(roads))


def test_footprint_model_uses_levels_then_height_then_default():
    a = area([
        ("apartments", 10, np.nan, shapely.box(0, 0, 30, 30)),   # 900 m² × 10 = 9000 → 100
        ("residential", np.nan, 30.0, shapely.box(100, 0, 130, 30)),  # 30 m / 3 = 10 storeys
        ("house", np.nan, np.nan, shapely.box(200, 0, 230, 30)),      # default 6 storeys → 60
        ("office", 10, np.nan, shapely.box(300, 0, 330, 30)),         # not a home
        ("yes", 5, np.nan, shapely.box(400, 0, 430, 30)),             # generic, outside compounds
        ("residential", 3, np.nan, shapely.box(500, 0, 504, 4)),      # a shed-sized footprint
    ])
    hh = estimate_households(a, HouseholdSettings(dwelling_m2=90))
    assert hh.set_index("unit_id")["households"].to_dict() == {"b0": 100, "b1": 100, "b2": 60}
    assert (hh["hh_source"] == "footprint").all()


def test_compound_without_footprints_is_estimated_from_area_and_spread():
    compound = shapely.box(0, 0, 200, 200)  # 4 ha
    hh = estimate_households(area([], [compound]), HouseholdSettings(compound_far=1.8, dwelling_m2=90))
    assert hh["households"].sum() == 800  # 40,000 m² × 1.8 / 90
    assert (hh["hh_source"] == "compound").all()
    assert len(hh) == 25  # 40 m lattice inside 200 m
    assert hh["households"].max() - hh["households"].min() <= 1
    assert shapely.contains_xy(compound, hh.geometry.x, hh.geometry.y).all()


def test_sparse_footprints_inside_a_compound_do_not_undercount_it():
    compound = shapely.box(0, 0, 200, 200)
    one_block = ("yes", 6, np.nan, shapely.box(10, 10, 30, 30))  # 1% of the compound
    hh = estimate_households(area([one_block], [compound]))
    assert set(hh["hh_source"]) == {"compound"}
    assert hh["households"].sum() == 800
    dense = [("yes", 6, np.nan, shapely.box(x, y, x + 40, y + 20)) for x in (10, 100) for y in (10, 60, 110)]
    hh = estimate_households(area(dense, [compound]))
    assert set(hh["hh_source"]) == {"footprint"}
    assert len(hh) == 6


def test_register_replaces_estimates():
    reg = gpd.GeoDataFrame({"households": [120, 80]}, geometry=[shapely.Point(5, 5), shapely.Point(50, 5)], crs=CRS)
    hh = estimate_households(area([("apartments", 10, np.nan, shapely.box(0, 0, 30, 30))]), register=reg)
    assert hh["households"].tolist() == [120, 80] and set(hh["hh_source"]) == {"register"}


def test_helpers():
    assert split_evenly(10, 3).tolist() == [4, 3, 3]
    assert len(lattice_points(shapely.box(0, 0, 5, 5), 40)) == 1


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_beijing_compounds_give_households_not_zero():
    from geo.osm import read_osm
    from geo.osm_area import study_area_from_osm

    hh = estimate_households(study_area_from_osm(read_osm(BEIJING_OSM)))
    by_source = hh.groupby("hh_source")["households"].sum()
    assert by_source.get("compound", 0) > 500
    assert 3_000 < hh["households"].sum() < 60_000
    assert hh.groupby("compound_id")["households"].sum().gt(0).sum() == 10
