import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.households import estimate_households, lattice_points, left_out, split_evenly
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
    from geo.osm import read_osm, study_area_from_osm

    hh = estimate_households(study_area_from_osm(read_osm(BEIJING_OSM)))
    by_source = hh.groupby("hh_source")["households"].sum()
    assert by_source.get("compound", 0) > 500
    assert 3_000 < hh["households"].sum() < 60_000
    assert hh.groupby("compound_id")["households"].sum().gt(0).sum() == 10


# -- only homes hold households (issue 14 item 2) ------------------------------------------
def area_with(buildings, compounds=(), sites=()):
    """``buildings``: (building value, use from other tags or None, polygon);
    ``sites``: (reason, polygon)."""
    base = area([(kind, 6, np.nan, geom) for kind, _, geom in buildings], compounds)
    b = base.buildings.assign(use=[use for _, use, _ in buildings])
    s = gpd.GeoDataFrame({"site_id": [f"s{k}" for k in range(len(sites))],
                          "reason": [r for r, _ in sites], "name": ""},
                         geometry=[g for _, g in sites], crs=CRS)
    return StudyArea(name="t", crs=base.crs, boundary=base.boundary, roads=base.roads,
                     buildings=b, compounds=base.compounds, facilities=base.facilities,
                     network=base.network, sites=s)


def by_building(hh):
    return hh.groupby("building_id")["households"].sum().to_dict()


def test_dormitories_hold_no_households_unless_the_setting_includes_them():
    a = area_with([("dormitory", None, shapely.box(0, 0, 30, 30)),
                   ("apartments", None, shapely.box(100, 0, 130, 30))])
    assert by_building(estimate_households(a)) == {"b1": 60}
    with_dorms = estimate_households(a, HouseholdSettings(include_dormitories=True))
    assert by_building(with_dorms) == {"b0": 60, "b1": 60}
    assert left_out(a) == {"dormitory": {"buildings": 1, "households_if_homes": 60}}
    assert left_out(a, HouseholdSettings(include_dormitories=True)) == {}


def test_campus_and_every_building_inside_it_hold_none_but_staff_housing_compounds_do():
    campus = shapely.box(0, 0, 500, 500)
    staff = shapely.box(300, 300, 480, 480)  # a residential compound on the campus
    a = area_with([("university", None, shapely.box(10, 10, 60, 60)),
                   ("yes", None, shapely.box(100, 10, 150, 60)),        # teaching building
                   ("residential", None, shapely.box(200, 10, 230, 40)),  # on campus land
                   ("yes", None, shapely.box(310, 310, 380, 380)),       # in the staff compound
                   ("yes", None, shapely.box(400, 310, 470, 380)),
                   ("apartments", None, shapely.box(600, 0, 630, 30))],  # off campus
                  compounds=[staff], sites=[("campus", campus)])
    hh = estimate_households(a)
    assert set(hh["building_id"]) == {"b3", "b4", "b5"}
    left = left_out(a)
    assert left["campus"]["buildings"] == 3 and left["campus"]["households_if_homes"] > 0


def test_other_uses_named_by_tags_or_land_hold_none():
    shop_land = shapely.box(0, 200, 300, 400)
    compound = shapely.box(400, 0, 650, 100)
    a = area_with([
        ("hospital", None, shapely.box(0, 0, 30, 30)),
        ("office", None, shapely.box(50, 0, 80, 30)),
        ("hotel", None, shapely.box(100, 0, 130, 30)),
        ("industrial", None, shapely.box(150, 0, 180, 30)),
        ("yes", "campus", shapely.box(410, 10, 460, 60)),       # amenity=school in a compound
        ("yes", None, shapely.box(500, 10, 560, 60)),           # a home in the compound
        ("residential", "commercial", shapely.box(600, 10, 630, 40)),  # shops below homes
        ("yes", None, shapely.box(10, 210, 60, 260)),           # generic on commercial land
        ("apartments", None, shapely.box(100, 210, 130, 240)),  # 商住: a home on commercial land
        ("yes", None, shapely.box(900, 900, 930, 930)),         # unknown use, no compound
    ], compounds=[compound], sites=[("commercial", shop_land)])
    hh = estimate_households(a)
    assert set(hh["building_id"]) == {"b5", "b6", "b8"}
    left = left_out(a)
    assert {k: v["buildings"] for k, v in left.items()} == {
        "campus": 1, "hospital": 1, "hotel": 1, "office": 1, "commercial": 1, "industry": 1,
        "unknown": 1}


def test_a_compound_of_dormitories_is_mapped_not_empty():
    """Dormitories fill the compound: it is not estimated from its area instead."""
    compound = shapely.box(0, 0, 200, 200)
    dorms = [("dormitory", None, shapely.box(x, 10, x + 40, 150)) for x in (10, 80, 150)]
    hh = estimate_households(area_with(dorms, compounds=[compound]))
    assert hh["households"].sum() == 0


def test_sites_and_uses_read_from_osm_tags():
    from geo.households import sites_from_features, tag_reason

    feats = gpd.GeoDataFrame({
        "amenity": ["university", None, None, "hospital", None],
        "landuse": [None, "education", "residential", None, "military"],
        "building": [None, None, None, "yes", None],
        "name": ["清华大学", "某学院", "小区", "医院楼", "营区"], "osm_id": list("abcde")},
        geometry=[shapely.box(0, 0, 10, 10)] * 5, crs=CRS)
    sites = sites_from_features(feats)
    assert sites["reason"].tolist() == ["campus", "campus", "military"]  # buildings are not sites
    tags = pd.DataFrame({"shop": ["supermarket", None, "no"], "tourism": [None, "hotel", None]})
    assert tag_reason(tags).tolist() == ["commercial", "hotel", None]


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_beijing_dormitories_and_campus_buildings_hold_no_households():
    from geo.households import building_reasons
    from geo.osm import read_osm, study_area_from_osm

    a = study_area_from_osm(read_osm(BEIJING_OSM))
    assert (a.sites["reason"] == "campus").sum() >= 3  # the universities and schools
    hh = estimate_households(a)
    b = a.buildings
    dorms = set(b.loc[b["building"] == "dormitory", "building_id"])
    campus_kinds = set(b.loc[b["building"].isin(["university", "college", "school"]), "building_id"])
    assert dorms and campus_kinds
    assert not (set(hh["building_id"].dropna()) & (dorms | campus_kinds))
    # every building standing on campus land outside a residential compound holds none
    campus = a.sites[a.sites["reason"] == "campus"].union_all()
    on_campus = b[b.geometry.representative_point().within(campus)]
    kept = hh[hh["building_id"].isin(on_campus["building_id"])]
    assert kept["compound_id"].notna().all()
    left = left_out(a)
    assert left["dormitory"]["buildings"] >= len(dorms) and left["campus"]["buildings"] >= 40
    assert set(building_reasons(b.iloc[:0], in_compound=np.zeros(0, bool))) == set()


def test_dormitories_known_by_tags_or_name_whatever_their_building_value():
    from geo.households import tag_reason

    tags = pd.DataFrame({"name": ["紫荆学生公寓1号楼", "学清苑3号楼", None, "Student Hall A"],
                         "residential": [None, None, "dormitory", None]})
    uses = tag_reason(tags).tolist()
    assert uses == ["dormitory", None, "dormitory", "dormitory"]
    compound = shapely.box(0, 0, 200, 120)
    a = area_with([("residential", uses[0], shapely.box(10, 10, 60, 60)),
                   ("residential", uses[1], shapely.box(100, 10, 150, 60)),
                   ("yes", uses[2], shapely.box(10, 70, 60, 110))], compounds=[compound])
    assert set(estimate_households(a)["building_id"]) == {"b1"}
    assert left_out(a)["dormitory"]["buildings"] == 2
    counted = estimate_households(a, HouseholdSettings(include_dormitories=True))
    assert set(counted["building_id"]) == {"b0", "b1", "b2"}


def test_a_compound_named_as_student_dormitories_is_not_estimated_from_its_area():
    dorm = shapely.box(0, 0, 200, 200)
    homes = shapely.box(300, 0, 500, 200)
    a = area([], [dorm, homes])
    a.compounds.loc[0, "name"] = "紫荆学生公寓"
    hh = estimate_households(a)
    assert set(hh["compound_id"]) == {"c1"} and hh["households"].sum() == 800
    assert left_out(a)["dormitory"] == {"buildings": 0, "households_if_homes": 800, "compounds": 1}
    both = estimate_households(a, HouseholdSettings(include_dormitories=True))
    assert both["households"].sum() == 1600
