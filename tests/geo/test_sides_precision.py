"""四至 do not depend on the precision grid a polygon carries: grids made here (unions
of snapped cells, which carry the cells' grid) and the same grids read back from a file
or another process (which carry none) are described alike."""

from __future__ import annotations

import pytest
import shapely

from analysis.base_stage import stage_base
from analysis.pipeline import load_area
from analysis.run_types import RunSettings
from geo.grids.sides import boundary_sides, named_features
from tests.conftest import BEIJING_OSM


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the Beijing sample is not here")
def test_sides_of_made_and_reread_grids_are_the_same():
    area = load_area(osm=str(BEIJING_OSM))
    base = stage_base(area, RunSettings())
    # as the edit stage makes them: unions of the cells, which carry their 1 mm grid
    grids = base.grids.copy()
    grids.geometry = [shapely.union_all(base.cells.geometry[base.cells["grid_id"] == g]
                                        .to_numpy()) for g in grids["grid_id"]]
    assert (shapely.get_precision(grids.geometry.to_numpy()) > 0).all()
    reread = grids.copy()
    reread.geometry = shapely.from_wkb(shapely.to_wkb(grids.geometry.to_numpy()))
    assert (shapely.get_precision(reread.geometry.to_numpy()) == 0).all()
    features = named_features(area.roads)
    made, again = boundary_sides(grids, features), boundary_sides(reread, features)
    assert made.equals(again)
