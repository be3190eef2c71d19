"""Which community a home is in is decided once (geo.grids.communities.assign_communities):
a planner's community layer counts the same homes per community as its grids hold, also
for a home lying exactly on the line between two communities."""

from __future__ import annotations

import geopandas as gpd
import shapely

from analysis.pipeline import run
from geo.demos import load_demo
from geo.households import estimate_households
from geo.settings import HouseholdSettings


def test_a_home_on_a_boundary_counts_where_its_grid_is():
    area = load_demo("synthetic:1500")
    homes = estimate_households(area, HouseholdSettings())
    x0, y0, x1, y1 = area.boundary.bounds
    cut = float(homes.geometry.x.iloc[len(homes) // 2])  # a home's own x: it lies on the line
    comms = gpd.GeoDataFrame({"community_id": ["A", "B"], "name": ["甲社区", "乙社区"]},
                             geometry=[shapely.box(x0 - 10, y0 - 10, cut, y1 + 10),
                                       shapely.box(cut, y0 - 10, x1 + 10, y1 + 10)],
                             crs=area.crs)
    assert (homes.geometry.x == cut).any()
    result = run(area, communities=comms)
    counted = result.layers["communities"].set_index("community_id")["households"]
    grids = result.layers["grids"].groupby("community_id")["households"].sum()
    assert int(counted.sum()) == int(result.summary["households"])
    assert counted.to_dict() == grids.reindex(counted.index).fillna(0).astype(int).to_dict()
