"""Issue 27 item 5: a building whose name says it is not a home (科技活动中心, 职工食堂 …,
the table data/non_home_names.csv) holds no households even inside a residential compound,
and is listed in ``households_left_out``; the split-building note only where a building's
parts lie in more than one grid."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import shapely
import pytest

from geo.households import NAME_TABLE, estimate_households, left_out, named_other_use
from tests.conftest import BEIJING_OSM
from tests.geo.test_households import area


def test_the_name_table_is_data_with_the_words_the_issue_names():
    table = pd.read_csv(NAME_TABLE)
    words = set(table.loc[table["kind"] == "non_home", "word"])
    assert {"中心", "食堂", "会所", "幼儿园", "学校", "医院", "办公", "商场", "车库"} <= words


@pytest.mark.parametrize("name,other", [
    ("科技活动中心", True), ("石科院职工食堂", True), ("会所", True), ("3号楼", False),
    ("中心住宅楼", False), ("", False), (None, False), ("锦绣公寓", False)])
def test_names_that_say_another_use(name, other):
    assert bool(named_other_use(pd.Series([name], dtype=object))[0]) is other


def test_named_buildings_in_a_compound_hold_no_households_and_are_listed():
    compound = shapely.box(-5, -5, 235, 35)  # densely mapped: counted by footprints
    a = area([("yes", 6, np.nan, shapely.box(0, 0, 30, 30)),
              ("yes", 6, np.nan, shapely.box(100, 0, 130, 30)),
              ("yes", 6, np.nan, shapely.box(200, 0, 230, 30))], [compound])
    b = a.buildings.copy()
    b["name"] = ["科技活动中心", "职工食堂", "5号楼"]
    a = replace(a, buildings=b)
    hh = estimate_households(a)
    held = hh.groupby("building_id")["households"].sum()
    assert held.get("b0", 0) == 0 and held.get("b1", 0) == 0 and held.get("b2", 0) > 0
    out = left_out(a)
    assert out["named"]["buildings"] == 2
    assert set(out["named"]["names"]) == {"科技活动中心", "职工食堂"}


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_beijing_centre_and_canteen_hold_no_households():
    from geo.osm import read_osm, study_area_from_osm

    a = study_area_from_osm(read_osm(BEIJING_OSM))
    hh = estimate_households(a)
    b = a.buildings
    named = set(b.loc[b["name"].isin(["科技活动中心", "石科院职工食堂"]), "building_id"])
    assert len(named) == 2
    assert not hh.loc[hh["building_id"].isin(named), "households"].sum()
    assert {"科技活动中心", "石科院职工食堂"} <= set(left_out(a)["named"]["names"])


def test_split_note_only_where_a_buildings_parts_lie_in_two_grids():
    from geo.grids import make_grids
    from tests.geo.test_grids import lattice

    households = np.full((6, 6), 20)
    households[2, 2] = 700  # split into three parts, each in its own grid
    units, communities, roads = lattice(6, 6, households)
    result = make_grids(units, communities, roads)
    parts = result.households[result.households["part_of"] == "A0014"]
    holding = set(parts["grid_id"])
    grids = result.grids.set_index("grid_id")
    assert (grids.loc[sorted(holding), "split_buildings"] == 1).all()
    others = grids.drop(index=sorted(holding))
    assert (others["split_buildings"] == 0).all()


def test_a_grid_holding_every_part_of_a_building_has_no_split_note():
    from collections import Counter

    from geo.grids.rules import shared_buildings

    everywhere = Counter({"tower": 3, "slab": 2})
    assert shared_buildings(["tower", "tower", "tower", None], everywhere) == 0  # all here
    assert shared_buildings(["tower", "slab", "slab"], everywhere) == 1
    assert shared_buildings([None, None], everywhere) == 0
