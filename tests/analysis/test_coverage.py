"""Coverage tables, life-circle completeness and gaps, from per-household minutes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import coverage as C
from analysis import reach as R
from analysis.settings import WalkSettings
from geo.errors import InputError
from geo.synthetic import synthetic_district
from tests.analysis.reach_fixtures import CRS, lattice, points_frame

SETTINGS = WalkSettings()


def _frame(minutes: dict, *, on=None, households=None, grid=None, xy=None) -> gpd.GeoDataFrame:
    n = len(next(iter(minutes.values())))
    data = {f"walk_min_{s}": np.asarray(v, dtype=float) for s, v in minutes.items()}
    data["on_network"] = np.ones(n, bool) if on is None else np.asarray(on, bool)
    data["households"] = np.ones(n, int) if households is None else np.asarray(households)
    if grid is not None:
        data["grid_id"] = grid
    xy = np.column_stack([np.arange(n) * 10.0, np.zeros(n)]) if xy is None else np.asarray(xy)
    return gpd.GeoDataFrame(data, geometry=shapely.points(xy), crs=CRS)


def test_coverage_table_counts_households_not_points():
    hh = _frame({"health": [3, 20, np.nan, 14.9, 15.0]}, on=[1, 1, 1, 1, 0],
                households=[10, 20, 30, 40, 50], grid=["A", "A", "B", "B", "B"])
    area = C.coverage_table(hh, SETTINGS, services=("health",))
    row = area.iloc[0]
    assert (row.households, row.off_network, row.covered) == (150, 50, 50)
    assert row.share == pytest.approx(50 / 100)
    grid = C.coverage_table(hh, SETTINGS, by="grid_id", services=("health",)).set_index("grid_id")
    assert grid.loc["A", "covered"] == 10 and grid.loc["B", "covered"] == 40
    assert grid.loc["B", "share"] == pytest.approx(40 / 70)
    tables = C.coverage_tables(hh, SETTINGS, services=("health",))
    assert set(tables) == {"grid_id", "area"}
    assert tables["grid_id"]["covered"].sum() == tables["area"]["covered"].sum()


def test_coverage_from_reach_matches_reach_report_and_summary():
    area = synthetic_district(3000, seed=1)
    index = R.prepare_reach(area.network, area.households, area.facilities)
    res = R.household_minutes(index, SETTINGS)
    hh = area.households.join(res.frame())
    summary = C.coverage_summary(hh, SETTINGS)
    for service, share in summary.items():
        assert share == pytest.approx(res.report[service]["coverage"])
    # monotone in minutes
    longer = WalkSettings(thresholds_min=tuple((s, m + 5) for s, m in SETTINGS.thresholds_min))
    summary_longer = C.coverage_summary(hh, longer)
    assert all(summary_longer[s] >= summary[s] for s in summary)


def test_missing_columns_raise_input_error():
    with pytest.raises(InputError):
        C.coverage_table(pd.DataFrame({"households": [1]}), SETTINGS)


def test_life_circle_scores_nest_levels():
    # community_service (5), primary_school (10), health (15) only
    settings = WalkSettings(
        thresholds_min={"community_service": 5, "primary_school": 10, "health": 15},
        service_profiles={"community_service": "adult", "primary_school": "adult",
                          "health": "adult"},
        service_levels={"community_service": 5, "primary_school": 10, "health": 15})
    hh = _frame({"community_service": [4, 6, 4, np.nan], "primary_school": [9, 9, 11, 1],
                 "health": [14, 14, 16, 1]}, on=[1, 1, 1, 0], households=[1, 2, 3, 4],
                grid=["A", "A", "B", "B"])
    scores = C.life_circle_scores(hh, settings)
    assert scores["services_required_5min"].iloc[0] == 1
    assert scores["services_required_15min"].iloc[0] == 3
    assert scores["complete_5min"].tolist()[:3] == [1.0, 0.0, 1.0]
    assert scores["complete_10min"].tolist()[:3] == [1.0, 0.5, 0.5]
    assert scores["life_circle_score"].tolist()[:3] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert np.isnan(scores["life_circle_score"].iloc[3])
    table = C.life_circle_table(hh, settings).set_index("grid_id")
    assert table.loc["A", "life_circle_score"] == pytest.approx((1 * 1 + 2 * 2 / 3) / 3)
    assert table.loc["A", "fully_served"] == pytest.approx(1 / 3)
    assert table.loc["B", "life_circle_score"] == pytest.approx(1 / 3)  # off-network excluded
    whole = C.life_circle_table(hh, settings, by=None)
    assert whole["households"].iloc[0] == 10


def test_gaps_cluster_rank_and_report_grids():
    xy = [[0, 0], [50, 0], [100, 0], [1000, 0], [1060, 0], [5000, 0], [3000, 0]]
    hh = _frame({"health": [30, 25, np.nan, 20, 18, 5, 40]}, households=[5, 5, 5, 40, 40, 9, 1],
                grid=["g1", "g1", "g2", "g3", "g3", "g4", "g5"], xy=xy,
                on=[1, 1, 1, 1, 1, 1, 0])
    gaps = C.find_gaps(hh, SETTINGS, services=("health",), link_m=120)
    assert list(gaps["rank"]) == [1, 2]
    assert list(gaps["households"]) == [80, 15]  # off-network and covered homes are no gap
    assert gaps["grids"].tolist() == ["g3", "g1,g2"]
    assert gaps["n_grids"].tolist() == [1, 2]
    assert gaps["walk_min_median"].iloc[0] == pytest.approx(19)
    assert gaps["unreachable_households"].tolist() == [0, 5]
    assert gaps.geometry.iloc[1].contains(shapely.Point(50, 0))
    assert gaps.crs == hh.crs
    none = C.find_gaps(hh.assign(walk_min_health=1.0), SETTINGS, services=("health",))
    assert none.empty and "rank" in none.columns


def test_gaps_from_reach_on_lattice():
    net = lattice(20, 4, 100.0)
    rng = np.random.default_rng(0)
    xy = np.column_stack([rng.uniform(0, 1900, 400), rng.uniform(0, 300, 400)])
    hh = points_frame(xy, households=np.full(400, 3))
    fac = points_frame([[0, 0]], service=["kindergarten"])
    index = R.prepare_reach(net, hh, fac)
    res = R.household_minutes(index, SETTINGS, services=("kindergarten",))
    frame = hh.join(res.frame())
    gaps = C.find_gaps(frame, SETTINGS, services=("kindergarten",))
    uncovered = ~res.covered("kindergarten")
    assert gaps["households"].sum() == 3 * uncovered.sum()
    assert (gaps["walk_min_median"] > 5).all()


def test_coverage_groups_weight_by_persons_of_the_group_not_households():
    hh = _frame({"elderly_care": [3, 30, 4, 2], "kindergarten": [40, 3, 3, 3]},
                on=[1, 1, 1, 0], households=[100, 100, 100, 100])
    hh["elderly_60plus"] = [10, 30, 0, 50]   # the last row is off the network
    hh["children_0_6"] = [4, 0, 0, 0]
    groups = C.coverage_groups(hh, SETTINGS, services=("elderly_care", "kindergarten"))
    assert groups["elderly_60plus"] == {"elderly_care": pytest.approx(10 / 40)}
    assert groups["children_0_6"] == {"kindergarten": pytest.approx(0.0)}
    # households coverage is different: the groups are not household-weighted
    assert C.coverage_summary(hh, SETTINGS, services=("elderly_care",))["elderly_care"] == \
        pytest.approx(2 / 3)
    hh["children_0_6"] = 0  # a group with nobody counted is left out, as is a missing one
    assert set(C.coverage_groups(hh, SETTINGS, services=("elderly_care", "kindergarten"))) == \
        {"elderly_60plus"}
    assert C.coverage_groups(hh.drop(columns=["elderly_60plus", "children_0_6"]), SETTINGS,
                             services=("elderly_care",)) == {}
    # a service not measured gives no group entry
    assert C.coverage_groups(hh, SETTINGS, services=("kindergarten",)) == {}


def test_gap_polygons_are_kept_for_the_same_points_and_equal_the_discs_union():
    import numpy as np
    import shapely

    from analysis import coverage as C

    xy = np.array([[0.0, 0.0], [50.0, 0.0], [500.0, 500.0]])
    labels = np.array([0, 0, 1])
    C._SHAPES.clear()
    first = C._gap_shapes(xy, labels, 120.0)
    again = C._gap_shapes(xy.copy(), labels.copy(), 120.0)
    assert again is first  # made once
    want = shapely.buffer(shapely.multipoints(xy, indices=labels), 60.0, quad_segs=4)
    assert all(a.equals(b) for a, b in zip(first, want))
    other = C._gap_shapes(xy + 1.0, labels, 120.0)
    assert other is not first and not other[0].equals(first[0])
