"""Capacity against demand: the two-step floating catchment method, nearest-first
assignment, and the bounded walks from each facility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.capacity import model as K
from analysis.capacity.pairs import Pairs, facility_pairs
from analysis.capacity.stage import (CapacitySettings, capacity_stage, load_standards,
                                     with_capacity)
from analysis.reach import household_minutes
from analysis.stages import Inputs, Runner
from geo.synthetic import synthetic_district

# Three communities (A, B, C) and two schools (X: 150 places, Y: 200 places).
# X reaches A and B, Y reaches B and C. Children: A 100, B 200, C 300.
HAND = Pairs.from_arrays(facility=[0, 0, 1, 1], home=[0, 1, 1, 2],
                         walk_m=[100.0, 300.0, 200.0, 100.0], n_facilities=2, n_homes=3)
CHILDREN = np.array([100.0, 200.0, 300.0])
PLACES = np.array([150.0, 200.0])


def test_hand_worked_three_communities_two_schools():
    ratio, access = K.two_step(HAND, CHILDREN, PLACES, limit_m=500)
    # R_X = 150 / (100 + 200) = 0.5; R_Y = 200 / (200 + 300) = 0.4
    np.testing.assert_allclose(ratio, [0.5, 0.4])
    # A_A = 0.5, A_B = 0.5 + 0.4 = 0.9, A_C = 0.4
    np.testing.assert_allclose(access, [0.5, 0.9, 0.4])
    reached = CHILDREN * access  # 50, 180, 120 places: 350 = 150 + 200
    table = K.by_area(pd.Series(["A", "B", "C"]), CHILDREN, reached, "primary_school")
    assert table["supply_primary_school"].tolist() == pytest.approx([50, 180, 120])
    # shortfall by hand: A 100 - 50, B 200 - 180, C 300 - 120
    assert table["shortfall_primary_school"].tolist() == pytest.approx([50, 20, 180])
    assert table["shortfall_primary_school"].sum() == pytest.approx(250)


def test_nearest_free_fills_the_nearest_school_first():
    got, given = K.nearest_free(HAND, CHILDREN, PLACES)
    # A→X (100 m): 100 places, X has 50 left; C→Y (100 m): 200, Y full; B→Y: none; B→X: 50
    np.testing.assert_allclose(got, [100, 50, 200])
    np.testing.assert_allclose(given, [150, 200])


def test_decay_weights():
    d = np.array([0.0, 100.0, 101.0, 200.0, 250.0, 300.0, 301.0])
    np.testing.assert_allclose(K.decay_weights(d, 300, "none"), [1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_allclose(K.decay_weights(d, 300, "stepped"),
                               [1, 1, 0.68, 0.68, 0.22, 0.22, 0])
    g = K.decay_weights(d, 300, "gaussian")
    assert g[0] == pytest.approx(1.0) and g[5] == pytest.approx(0.0) and g[6] == 0
    assert np.all(np.diff(g[:6]) < 0)
    with pytest.raises(ValueError):
        K.decay_weights(d, 300, "linear")


@pytest.fixture(scope="module", params=[True, False], ids=["walls", "no_walls"])
def district(request):
    from geo.walls import WallSettings
    from analysis.pipeline import RunSettings

    area = synthetic_district(3000, seed=7)
    settings = RunSettings(walls=WallSettings(gated=request.param))
    runner = Runner(inputs=Inputs(area=area, key=("cap", request.param)), settings=settings)
    return runner.get("base"), runner.get("index"), runner.walk


def test_pairs_nearest_walk_equals_the_coverage_walk(district):
    _, index, walk = district
    reach = household_minutes(index, walk)
    for service in ("primary_school", "kindergarten", "health"):
        limit = walk.threshold_m(service)
        pairs = facility_pairs(index, service, limit)
        assert pairs.walk_m.size and (pairs.walk_m <= limit).all()
        best = np.full(index.n_households, np.inf)
        np.minimum.at(best, pairs.home, pairs.walk_m)
        expected = reach.walk_m[service].to_numpy()
        expected = np.where(expected <= limit, expected, np.inf)
        np.testing.assert_allclose(best, expected, rtol=1e-9, atol=1e-6)
        keys = pairs.facility * index.n_households + pairs.home
        assert np.unique(keys).size == keys.size  # each pair once


@pytest.mark.parametrize("decay", ["none", "stepped", "gaussian"])
def test_supply_reached_adds_up_to_the_supply_of_reached_facilities(district, decay):
    base, index, walk = district
    rng = np.random.default_rng(3)
    persons = base.households["households"].to_numpy(dtype=float) * 2.62 * 0.06
    for service in ("primary_school", "kindergarten", "health"):
        limit = walk.threshold_m(service)
        pairs = facility_pairs(index, service, limit)
        supply = rng.integers(50, 2000, pairs.n_facilities).astype(float)
        ratio, access = K.two_step(pairs, persons, supply, limit_m=limit, decay=decay)
        load = np.bincount(pairs.facility, weights=persons[pairs.home]
                           * K.decay_weights(pairs.walk_m, limit, decay),
                           minlength=pairs.n_facilities)
        reaches = load > 0
        assert reaches.sum() >= 1
        assert (persons * access).sum() == pytest.approx(supply[reaches].sum(), rel=1e-12)
        if reaches.all():  # every facility reaches demand: Σ Pᵢ·Aᵢ = Σ Sⱼ
            assert (persons * access).sum() == pytest.approx(supply.sum(), rel=1e-12)


def test_every_facility_reaching_demand_gives_total_supply(district):
    base, index, walk = district
    service = "primary_school"
    limit = walk.threshold_m(service)
    pairs = facility_pairs(index, service, limit)
    used = np.unique(pairs.facility)
    sub = facility_pairs(index, service, limit, rows=pairs.rows[used])
    persons = base.households["households"].to_numpy(dtype=float) + 1.0
    supply = np.linspace(100, 900, sub.n_facilities)
    _, access = K.two_step(sub, persons, supply, limit_m=limit)
    assert np.bincount(sub.facility, minlength=sub.n_facilities).min() > 0
    assert (persons * access).sum() == pytest.approx(supply.sum(), rel=1e-12)


def _table(tmp_path, override):
    path = tmp_path / "demand.csv"
    frame = pd.read_csv(load_standards.__globals__["DEFAULT_TABLE"], dtype=str,
                        keep_default_na=False)
    for (key, col), value in override.items():
        frame.loc[frame["key"] == key, col] = value
    frame.to_csv(path, index=False)
    return str(path)


def test_stage_columns_and_summary(district, tmp_path):
    base, index, walk = district
    fac = base.facilities.copy()
    fac["capacity"] = np.where(fac["service"] == "primary_school", 300.0, np.nan)
    fac["capacity_source"] = np.where(fac["service"] == "primary_school", "given", None)
    # a test share (not a census figure): 8 % of residents of primary-school age
    table = _table(tmp_path, {("primary_school", "share"): "0.08"})
    cap = capacity_stage(base.households, fac, index, walk, CapacitySettings(table=table))
    assert set(cap.summary) == {"primary_school"}
    s = cap.summary["primary_school"]
    assert s["capacities"]["given"] == int((fac["service"] == "primary_school").sum())
    assert s["supply_reached"] == pytest.approx(s["supply"] - s["supply_unreached"], rel=1e-9)
    demand = base.households["households"].sum() * 2.62 * 0.08
    assert s["demand"] == pytest.approx(demand, rel=1e-9)
    grids = cap.grids
    assert {"demand_primary_school", "supply_primary_school",
            "shortfall_primary_school"} <= set(grids.columns)
    assert (grids["shortfall_primary_school"] >= 0).all()
    row = grids.iloc[0]
    assert row["shortfall_primary_school"] == pytest.approx(
        max(0.0, row["demand_primary_school"] - row["supply_primary_school"]))
    assert s["shortfall"] == pytest.approx(grids["shortfall_primary_school"].sum(), abs=0.1)
    assert s["grids_short"][0]["shortfall"] == pytest.approx(
        grids["shortfall_primary_school"].max(), abs=0.1)
    # the bundled table's share is derived from the census's 0-14 share (6 of 15 years)
    # and says so; supply is shared the same way whatever the demand
    plain = capacity_stage(base.households, fac, index, walk).summary["primary_school"]
    assert plain["demand"] == pytest.approx(
        base.households["households"].sum() * 2.62 * 0.0718, rel=1e-9)
    assert "share" not in (plain.get("missing") or [])
    assert plain["supply_reached"] == pytest.approx(s["supply_reached"], rel=1e-9)
    # a table with the share left empty leaves demand unknown and names what is missing
    empty = _table(tmp_path, {("primary_school", "share"): ""})
    unknown = capacity_stage(base.households, fac, index, walk,
                             CapacitySettings(table=empty)).summary["primary_school"]
    assert unknown["demand"] is None and unknown["shortfall"] is None
    assert "share" in unknown["missing"]


def test_classes_times_class_size_and_defaults(tmp_path):
    fac = pd.DataFrame({"service": ["primary_school", "kindergarten", "health", "health"],
                        "capacity": [np.nan, 120, np.nan, np.nan],
                        "capacity_source": [None, "osm", None, None],
                        "classes": [12, np.nan, np.nan, np.nan]})
    table = _table(tmp_path, {("health", "default_capacity"): "50",
                             ("health", "default_source"): "test default"})
    out = with_capacity(fac, load_standards(table))
    assert out["capacity"].tolist() == [12 * 45, 120, 50, 50]
    assert out["capacity_source"].tolist() == ["given", "osm", "estimated", "estimated"]


def test_regroup_follows_homes_moved_between_grids():
    from analysis.capacity.stage import regroup

    homes = pd.DataFrame({"grid_id": ["G1", "G1", "G2"], "community_id": ["C", "C", "C"],
                          "demand_primary_school": [10.0, 20.0, 30.0],
                          "supply_primary_school": [5.0, 25.0, 10.0]})
    grids = pd.DataFrame({"grid_id": ["G1", "G2"], "shortfall_primary_school": [0.0, 0.0]})
    comms = pd.DataFrame({"community_id": ["C"]})
    out = regroup({"households": homes, "grids": grids, "communities": comms})
    assert out["grids"]["shortfall_primary_school"].tolist() == [0.0, 20.0]
    moved = homes.assign(grid_id=["G1", "G2", "G2"])
    out = regroup({"households": moved, "grids": grids, "communities": comms})
    assert out["grids"]["demand_primary_school"].tolist() == [10.0, 50.0]
    assert out["grids"]["shortfall_primary_school"].tolist() == [5.0, 15.0]
    assert out["communities"]["shortfall_primary_school"].tolist() == [20.0]
    assert regroup({"households": homes.drop(columns=["supply_primary_school"])}) == {}


def test_report_first_page_names_the_largest_shortfall_by_place(tmp_path):
    import shutil
    import subprocess
    from dataclasses import replace as dc_replace

    from analysis import project as pj
    from analysis import report
    from analysis.capacity.text import shortfall_lines
    from analysis.pipeline import RunSettings, run

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    area = synthetic_district(3000, seed=7)
    fac = area.facilities.copy()
    fac["capacity"] = np.where(fac["service"] == "primary_school", 40.0, np.nan)
    fac["capacity_source"] = np.where(fac["service"] == "primary_school", "given", None)
    area = dc_replace(area, facilities=fac)
    table = _table(tmp_path, {("primary_school", "share"): "0.08"})  # a test share
    result = run(area, RunSettings(capacity=CapacitySettings(table=table)))
    s = result.summary["capacity"]["primary_school"]
    assert s["shortfall"] > 0
    grids = result.layers["grids"]
    top = grids.loc[grids["shortfall_primary_school"].idxmax()]
    lines = shortfall_lines(result.summary, grids, lambda k: {"primary_school": "小学"}.get(k, k),
                            lambda c: f"社区{c}", "zh")
    assert lines[0].startswith(f"小学缺口 {s['shortfall']:,.0f} 个")
    assert f"社区{top['community_id']} ({top['grid_id']})" in lines[0]
    pdf = report.make_report(pj.project_from_result(result), tmp_path / "r.pdf", lang="zh")
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert f"缺口 {s['shortfall']:,.0f} 个" in first
    assert str(top["grid_id"]) in first
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert f"{s['supply']:,.0f} / {s['supply_reached']:,.0f} / {s['demand']:,.0f}" in text


def test_a_grid_edit_keeps_shortfalls_per_grid_and_in_the_summary(tmp_path):
    from dataclasses import replace as dc_replace

    from analysis import project as pj
    from analysis.pipeline import RunSettings, run
    from geo.grids import edits

    area = synthetic_district(3000, seed=7)
    fac = area.facilities.copy()
    fac["capacity"] = np.where(fac["service"] == "primary_school", 40.0, np.nan)
    fac["capacity_source"] = np.where(fac["service"] == "primary_school", "given", None)
    table = _table(tmp_path, {("primary_school", "share"): "0.08"})  # a test share
    result = run(dc_replace(area, facilities=fac),
                 RunSettings(capacity=CapacitySettings(table=table)))
    base = pj.project_from_result(result)
    before = base.summary["capacity"]["primary_school"]
    big = base.layers["grids"].sort_values("households").iloc[-1]["grid_id"]
    session, _ = edits.apply_edit(base.session, edits.split_grid, big)
    work = pj.with_session(base, session)
    grids = work.layers["grids"]
    assert len(grids) == len(base.layers["grids"]) + 1
    col = "shortfall_primary_school"
    assert grids[col].notna().all()
    homes = work.layers["households"]
    for gid, g in grids.set_index("grid_id").iterrows():
        mine = homes[homes["grid_id"] == gid]
        assert g["supply_primary_school"] == pytest.approx(mine["supply_primary_school"].sum())
    after = work.summary["capacity"]["primary_school"]
    assert after["supply_reached"] == before["supply_reached"]
    assert after["shortfall"] == pytest.approx(grids[col].sum(), abs=0.1)
    assert after["grids_short"][0]["id"] in set(grids["grid_id"])


def test_osm_capacity_tags_and_age_columns():
    import geopandas as gpd
    import shapely

    from analysis.capacity.stage import Standard, demand_persons
    from geo.osm import osm_capacity

    features = gpd.GeoDataFrame(
        {"capacity": ["600", None, "about 300", None, "0"],
         "beds": [None, "120", None, "50;60", None],
         "capacity:persons": [None, None, "250", None, None]},
        geometry=[shapely.Point(k, 0) for k in range(5)], crs="EPSG:32650")
    got = osm_capacity(features)
    assert got[:3].tolist() == [600, 120, 250] and np.isnan(got[3]) and np.isnan(got[4])

    std = Standard("elderly_care", "60+", "elderly_60plus", 0.187, "census", np.nan, "",
                   np.nan, "", np.nan, "")
    homes = pd.DataFrame({"households": [10, 20], "elderly_60plus": [7.0, np.nan]})
    persons, basis = demand_persons(homes, std, 2.62)
    assert basis == "column"
    assert persons.tolist() == pytest.approx([7.0, 20 * 2.62 * 0.187])
    persons, basis = demand_persons(homes.drop(columns="elderly_60plus"), std, 2.62)
    assert basis == "share" and persons.tolist() == pytest.approx([10 * 2.62 * 0.187,
                                                                  20 * 2.62 * 0.187])


def test_capacity_stage_key_reads_its_settings_and_the_demand_table(tmp_path):
    from analysis.pipeline import RunSettings

    inputs = Inputs(area=synthetic_district(1500, seed=4), key="keys")

    def keys(settings):
        r = Runner(inputs=inputs, settings=settings)
        return {name: r.key(name) for name in ("base", "index", "reach", "capacity")}

    plain = keys(RunSettings())
    stepped = keys(RunSettings(capacity=CapacitySettings(decay="stepped")))
    assert stepped["capacity"] != plain["capacity"]
    assert all(stepped[k] == plain[k] for k in ("base", "index", "reach"))
    table = _table(tmp_path, {("primary_school", "share"): "0.08"})
    edited = keys(RunSettings(capacity=CapacitySettings(table=table)))
    assert edited["capacity"] != plain["capacity"]
    (tmp_path / "demand.csv").write_text(
        (tmp_path / "demand.csv").read_text(encoding="utf-8").replace("0.08", "0.07"),
        encoding="utf-8")
    assert keys(RunSettings(capacity=CapacitySettings(table=table)))["capacity"] != \
        edited["capacity"]  # the same path, edited in place
