"""Grids: the hard rules, infeasible communities, tower splitting, stable ids, bad input."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.grids.blocks import cell_adjacency
from geo.grids.communities import derive_communities
from geo.grids.reasons import decode_reasons, reason_text
from geo.errors import CRSError, InputError, SettingsError
from geo.grids import (GridSettings, band_feasible, grid_count_range, make_grids,
                       nearest_grid_count, split_large_units)
from geo.synthetic import synthetic_district

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0
OSM_SAMPLE = Path("/work/shared/data/beijing_xueqing.osm")


def lattice(nx: int, ny: int, households, *, spacing: float = 20.0, arterial_col: int | None = None,
            local_every: int | None = None, x0: float = X0, y0: float = Y0,
            community_id: str = "A"):
    """Units on an nx × ny lattice in one square community, with its streets.

    ``households`` is a number or an (ny, nx) array (row 0 = south). An arterial road
    runs north–south before column ``arterial_col``; local streets every ``local_every``
    columns and rows.
    """
    hh = np.broadcast_to(np.asarray(households), (ny, nx))
    jj, ii = np.mgrid[0:ny, 0:nx]
    xy = np.column_stack([x0 + (ii.ravel() + 0.5) * spacing, y0 + (jj.ravel() + 0.5) * spacing])
    units = gpd.GeoDataFrame({"unit_id": [f"{community_id}{k:04d}" for k in range(nx * ny)],
                              "households": hh.ravel().astype(np.int64)},
                             geometry=shapely.points(xy), crs=CRS)
    x1, y1 = x0 + nx * spacing, y0 + ny * spacing
    lines, classes = [], []
    box = shapely.box(x0, y0, x1, y1)
    lines.append(box.exterior)
    classes.append("local")
    if arterial_col is not None:
        x = x0 + arterial_col * spacing
        lines.append(shapely.LineString([(x, y0 - 50), (x, y1 + 50)]))
        classes.append("arterial")
    if local_every:
        for c in range(local_every, nx, local_every):
            if c != arterial_col:
                x = x0 + c * spacing
                lines.append(shapely.LineString([(x, y0), (x, y1)]))
                classes.append("local")
        for r in range(local_every, ny, local_every):
            y = y0 + r * spacing
            lines.append(shapely.LineString([(x0, y), (x1, y)]))
            classes.append("local")
    roads = gpd.GeoDataFrame({"highway": ["secondary" if c == "arterial" else "residential"
                                          for c in classes], "name": "", "road_class": classes,
                              "walkable": True}, geometry=lines, crs=CRS)
    communities = gpd.GeoDataFrame({"community_id": [community_id], "name": [community_id]},
                                   geometry=[box], crs=CRS)
    return units, communities, roads


@pytest.fixture(scope="module")
def district():
    area = synthetic_district(15_000, seed=3)
    communities = derive_communities(area.households, area.roads, area.boundary)
    result = make_grids(area.households, communities, area.roads)
    return area, communities, result


# --------------------------------------------------------------------------- settings

def test_settings_defaults_and_validation():
    s = GridSettings()
    assert (s.min_households, s.max_households, s.mid_households) == (200, 300, 250)
    with pytest.raises(SettingsError) as err:
        GridSettings(min_households=350, max_households=300)
    assert "350" in str(err.value) and err.value.key == "err.grid_band_order"
    for bad in (0, -5):
        with pytest.raises(SettingsError):
            GridSettings(min_households=bad)
    with pytest.raises(SettingsError):
        GridSettings(improve_tries_per_grid=-1)
    assert GridSettings(min_households=300, max_households=300).max_households == 300


def test_feasibility_rule():
    assert list(grid_count_range(1000, (200, 300))) == [4, 5]
    assert band_feasible(250, (200, 300)) and band_feasible(400, (200, 300))
    assert not band_feasible(150, (200, 300)) and not band_feasible(350, (200, 300))
    assert not band_feasible(0, (200, 300))
    assert nearest_grid_count(150, (200, 300)) == 1
    assert nearest_grid_count(350, (200, 300)) == 2   # 2 × 175 misses by 25, 1 × 350 by 50
    assert nearest_grid_count(320, (200, 300)) == 1   # 1 × 320 misses by 20, 2 × 160 by 40
    assert band_feasible(1000, (300, 500)) and not band_feasible(550, (300, 500))


# --------------------------------------------------------------------------- hard rules

def test_every_household_in_exactly_one_grid(district):
    area, communities, result = district
    hh = result.households
    assert hh["grid_id"].notna().all()
    assert int(hh["households"].sum()) == int(area.households["households"].sum())
    assert result.assignment.index.is_unique
    by_grid = hh.groupby("grid_id")["households"].sum()
    grids = result.grids.set_index("grid_id")
    assert (by_grid.reindex(grids.index) == grids["households"]).all()
    # a household's point lies in its grid's polygon
    joined = gpd.sjoin(hh[hh["part_of"].isna()], result.grids[["grid_id", "geometry"]],
                       predicate="within", how="left", lsuffix="hh", rsuffix="grid")
    assert (joined["grid_id_hh"] == joined["grid_id_grid"]).mean() > 0.99


def test_band_contiguity_and_report(district):
    _, _, result = district
    grids = result.grids
    assert result.report["feasible_in_band"]
    assert grids["in_band"].all() and grids["households"].between(200, 300).all()
    assert (grids.geometry.geom_type == "Polygon").all()
    assert grids["contiguous"].all() and result.report["non_contiguous"] == 0
    for column in ("grid_id", "community_id", "households", "in_band", "polsby_popper",
                   "contiguous", "arterial_crossings", "n_units", "split_buildings", "reason"):
        assert column in grids.columns
    assert grids["polsby_popper"].between(0.2, 1).all()
    assert result.report["grids"] == len(grids) == result.report["grids_in_band"]


def test_grids_stay_in_one_community_and_tile_it(district):
    _, communities, result = district
    grids = result.grids
    hh = result.households
    assert (hh.groupby("grid_id")["community_id"].nunique() == 1).all()
    outside = result.communities.set_index("community_id")["outside_grids_m2"]
    for cid, polygon in zip(communities["community_id"], communities.geometry):
        mine = grids[grids["community_id"] == cid]
        union = shapely.union_all(mine.geometry.to_numpy())
        # grids and the land far from every grid's homes tile the community (no gaps)
        assert abs(union.area + outside[cid] - polygon.area) < 1e-4 * polygon.area
        assert abs(mine.area.sum() - union.area) < 1e-4 * polygon.area  # no overlaps
        assert mine.geometry.buffer(-0.5).within(polygon).all()
    # the cells still tile each community exactly (edits move cells, never reshape them)
    for cid, polygon in zip(communities["community_id"], communities.geometry):
        cells = result.cells[result.cells["community_id"] == cid]
        assert abs(shapely.union_all(cells.geometry.to_numpy()).area - polygon.area) \
            < 1e-4 * polygon.area


def test_arterial_crossed_only_where_unavoidable(district):
    area, _, result = district
    grids = result.grids
    crossing = grids[grids["arterial_crossings"] > 0]
    # the only crossings join an area too small for a grid of its own, and say so
    assert crossing["reason_key"].str.contains(r"grid\.reason\.arterial(?:;|$)").all()
    assert result.report["arterial_crossings"] == crossing["arterial_crossings"].sum()
    # in every other grid, the homes are reachable from each other without crossing one
    arterials = area.roads.loc[area.roads["road_class"] == "arterial"].geometry.to_numpy()
    cells = result.cells.reset_index(drop=True)
    adj = cell_adjacency(cells, arterials=arterials)
    gid = cells["grid_id"].to_numpy()
    for grid_id in grids.loc[grids["arterial_crossings"] == 0, "grid_id"]:
        mine = np.flatnonzero(gid == grid_id)
        keep = np.isin(adj["i"], mine) & np.isin(adj["j"], mine) & (adj["kind"] != "arterial")
        pos = {c: k for k, c in enumerate(mine)}
        graph = nx.Graph([(pos[a], pos[b]) for a, b in zip(adj["i"][keep], adj["j"][keep])])
        graph.add_nodes_from(range(len(mine)))
        homes = [pos[c] for c in mine if cells["households"].iloc[c] > 0]
        assert nx.has_path(graph, homes[0], homes[-1]) and \
            len({frozenset(nx.node_connected_component(graph, h)) for h in homes}) == 1


def test_unavoidable_crossing_is_taken_and_reported():
    # west of the arterial: 2 columns × 5 rows × 15 = 150 households (too few for a grid)
    units, communities, roads = lattice(12, 5, 15, arterial_col=2)
    result = make_grids(units, communities, roads)
    grids = result.grids
    assert grids["in_band"].all()
    crossing = grids[grids["arterial_crossings"] > 0]
    assert len(crossing) == 1
    assert "grid.reason.arterial" in crossing["reason_key"].iloc[0]
    assert "150" in crossing["reason"].iloc[0]
    # when both sides can be gridded alone, no grid crosses
    units, communities, roads = lattice(12, 5, 15, arterial_col=6)
    result = make_grids(units, communities, roads)
    assert result.report["arterial_crossings"] == 0 and result.grids["in_band"].all()


def test_grids_follow_streets_when_they_can():
    # 4 × 4 blocks of 5 × 5 units × 10 households = 250 per block: one grid per block
    units, communities, roads = lattice(20, 20, 10, local_every=5)
    result = make_grids(units, communities, roads)
    assert len(result.grids) == 16 and result.grids["in_band"].all()
    blocks = shapely.polygonize(shapely.get_parts(shapely.union_all(roads.geometry.to_numpy())))
    matched = [max(shapely.area(shapely.intersection(g, b)) / g.area
                   for b in shapely.get_parts(blocks)) for g in result.grids.geometry]
    assert min(matched) > 0.99


# --------------------------------------------------------------------------- infeasible

@pytest.mark.parametrize("total, grids, key", [(150, 1, "grid.reason.too_few"),
                                               (350, 2, "grid.reason.gap")])
def test_infeasible_community_nearest_answer(total, grids, key):
    households = np.full((5, 10), total // 50)
    households[0, 0] += total - households.sum()
    units, communities, roads = lattice(10, 5, households)
    result = make_grids(units, communities, roads)
    assert len(result.grids) == grids
    assert not result.grids["in_band"].any()
    assert (result.grids["reason_key"].str.contains(key)).all()
    assert str(total) in result.grids["reason"].iloc[0]
    # stored as keys with parameters, translated only where shown
    assert decode_reasons(result.grids["reason"].iloc[0])[0][0] == key
    assert str(total) in reason_text(result.grids["reason"].iloc[0], "zh")
    assert str(total) in reason_text(result.grids["reason"].iloc[0], "en")
    assert result.report["infeasible_communities"][0]["households"] == total
    assert not result.report["feasible_in_band"] is False  # nothing feasible to miss
    assert result.communities["feasible"].tolist() == [0]
    if total == 350:
        assert sorted(result.grids["households"]) == [175, 175]


# --------------------------------------------------------------------------- towers

def test_tower_is_split_into_parts():
    households = np.full((6, 6), 20)
    households[2, 2] = 700  # 700 households: three parts of 233–234
    units, communities, roads = lattice(6, 6, households)
    result = make_grids(units, communities, roads)
    parts = result.households[result.households["part_of"] == "A0014"]
    assert sorted(parts["households"]) == [233, 233, 234]
    assert set(parts["part"]) == {"1/3", "2/3", "3/3"}
    assert parts["grid_id"].nunique() == 3
    assert result.report["split_units"][0]["unit_id"] == "A0014"
    assert result.grids["in_band"].all()
    assert result.grids["split_buildings"].sum() >= 3
    assert int(result.households["households"].sum()) == int(households.sum())


def test_split_large_units_counts():
    units, _, _ = lattice(3, 1, np.array([[100, 310, 1000]]))
    pieces, splits = split_large_units(units, band=(200, 300))
    assert pieces["households"].tolist() == [100, 155, 155, 250, 250, 250, 250]
    assert [s.parts for s in splits] == [2, 4]
    fine, _ = split_large_units(units, band=(200, 300), part_max=50)
    assert fine["households"].max() <= 50 and fine["households"].sum() == 1410


def test_towers_too_big_to_pair_are_split_to_meet_the_band():
    # towers of 180 households cannot be grouped in 200–300 as whole buildings
    units, communities, roads = lattice(4, 4, 180)
    result = make_grids(units, communities, roads)
    assert result.grids["in_band"].all() and result.report["feasible_in_band"]
    assert any(s["why"] == "to_fit" for s in result.report["split_units"])


# --------------------------------------------------------------------------- ids

def test_ids_stable_and_in_reading_order(district):
    area, communities, result = district
    again = make_grids(area.households, communities, area.roads)
    pd.testing.assert_series_equal(result.assignment, again.assignment)
    assert result.grids["grid_id"].tolist() == again.grids["grid_id"].tolist()
    first = result.grids[result.grids["community_id"] == "C01"]
    assert first["grid_id"].str.fullmatch(r"C01-\d\d").all()
    c = first.geometry.centroid
    top = first.loc[c.y.idxmax(), "grid_id"]
    assert first["grid_id"].min() == "C01-01"
    # the first grid lies in the northernmost row
    assert c[first["grid_id"] == "C01-01"].y.iloc[0] > c.y.max() - np.sqrt(first.area.median())
    assert top.startswith("C01-")


def test_locked_grid_kept_and_others_keep_their_ids():
    units, communities, roads = lattice(20, 10, 10)
    first = make_grids(units, communities, roads)
    keep = first.grids["grid_id"].iloc[0]
    # households change in the far corner; re-run with the first grid locked
    changed = units.copy()
    changed.loc[changed.index[-1], "households"] = 30
    second = make_grids(changed, communities, roads, previous=first.assignment, locked=[keep])
    mine = first.assignment[first.assignment == keep].index
    assert (second.assignment.reindex(mine) == keep).all()
    assert (second.assignment == keep).sum() == len(mine)
    assert second.grids.set_index("grid_id").loc[keep, "locked"] == 1
    assert second.grids["grid_id"].is_unique
    same = (first.assignment.reindex(second.assignment.index) == second.assignment).mean()
    assert same > 0.5


# --------------------------------------------------------------------------- bad input

def test_bad_units():
    units, communities, roads = lattice(4, 4, 20)
    dup = units.copy()
    dup.loc[1, "unit_id"] = dup.loc[0, "unit_id"]
    with pytest.raises(InputError, match="more than once"):
        make_grids(dup, communities, roads)
    neg = units.copy()
    neg.loc[3, "households"] = -2
    with pytest.raises(InputError, match="A0003"):
        make_grids(neg, communities, roads)
    with pytest.raises(InputError, match="households"):
        make_grids(units.drop(columns="households"), communities, roads)
    with pytest.raises(CRSError):
        make_grids(units.to_crs(4326), communities, roads)


def test_units_without_households_are_kept_and_reported():
    households = np.full((4, 4), 20)
    households[0, :2] = 0
    units, communities, roads = lattice(4, 4, households)
    result = make_grids(units, communities, roads)
    assert result.report["zero_household_units"] == 2
    from geo.i18n import note_text

    assert any("hold no households" in note_text(n, "en") for n in result.report["notes"])
    assert result.households["grid_id"].notna().all()
    assert result.grids["households"].sum() == households.sum()


def test_bad_communities():
    units, communities, roads = lattice(10, 10, 10)
    other = communities.assign(community_id="B").set_geometry(communities.translate(50, 0))
    with pytest.raises(InputError, match="overlap"):
        make_grids(units, pd.concat([communities, other], ignore_index=True), roads)
    small = communities.set_geometry(communities.geometry.scale(0.5, 0.5, origin=(X0, Y0)))
    with pytest.raises(InputError, match="from every community"):
        make_grids(units, small, roads)
    twice = pd.concat([communities, communities.translate(500, 0).to_frame("geometry")
                       .assign(community_id="A")], ignore_index=True)
    with pytest.raises(InputError, match="more than once"):
        make_grids(units, gpd.GeoDataFrame(twice, geometry="geometry", crs=CRS), roads)


def test_other_band():
    units, communities, roads = lattice(20, 10, 10)
    result = make_grids(units, communities, roads,
                        settings=GridSettings(min_households=300, max_households=500))
    assert result.grids["households"].between(300, 500).all()
    assert len(result.grids) == 5  # 2,000 households: 4–6 grids, 5 nearest 400


# --------------------------------------------------------------------------- real data

@pytest.mark.skipif(not OSM_SAMPLE.exists(), reason="shared OSM sample not present")
def test_real_osm_sample_all_feasible_in_band():
    from geo.households import estimate_households
    from geo.osm import read_osm, study_area_from_osm

    area = study_area_from_osm(read_osm(OSM_SAMPLE))
    households = estimate_households(area)
    communities = derive_communities(households, area.roads, area.boundary)
    result = make_grids(households, communities, area.roads)
    feasible = result.communities.loc[result.communities["feasible"] == 1, "community_id"]
    assert len(feasible) > 0
    mine = result.grids[result.grids["community_id"].isin(feasible)]
    assert mine["in_band"].all()
    assert result.report["non_contiguous"] == 0
    assert result.households["grid_id"].notna().all()


def test_land_far_from_every_home_stays_outside_the_grids():
    # 30 × 10 lattice (600 m × 200 m): homes only in the 8 western columns, the rest is
    # an empty block (a rail yard) reaching 440 m beyond the last home
    hh = np.zeros((10, 30), dtype=int)
    hh[:, :8] = 6  # 480 households: two grids
    units, communities, roads = lattice(30, 10, hh)
    result = make_grids(units, communities, roads)
    grids = result.grids
    assert len(grids) == 2 and grids["in_band"].all()
    homes = units.loc[units["households"] > 0].geometry.union_all()
    for poly in grids.geometry:
        # no grid polygon reaches more than 200 m beyond its homes
        assert poly.difference(homes.buffer(200.5)).area < 1.0
    assert (grids["near_home_share"] == 1.0).all()
    assert not grids["reason_key"].str.contains("far_from_homes").any()
    outside = float(result.communities["outside_grids_m2"].iloc[0])
    community = communities.geometry.iloc[0].area
    assert outside > 0.2 * community  # the far end stays in the community, in no grid
    assert grids.area.sum() + outside == pytest.approx(community, rel=1e-6)
    assert result.report["near_home_share"] == {"min": 1.0, "median": 1.0}


def test_a_grid_joined_only_through_far_land_is_flagged_with_its_share():
    from geo.grids.rules import NEAR_HOME_MIN, grid_polygon

    # two homes 1,400 m apart in one 1,500 m strip: cutting at 200 m (or 600 m) would
    # break the grid, so it keeps the land between and says how little is near its homes
    cells = np.array([shapely.box(0, 0, 750, 100), shapely.box(750, 0, 1500, 100)], dtype=object)
    homes = np.array([[50.0, 50.0], [1450.0, 50.0]])
    poly, share = grid_polygon(cells, homes)
    assert poly.area == pytest.approx(150_000) and share < NEAR_HOME_MIN
    assert share == pytest.approx(2 * 200 * 100 / 150_000 + 2 * 50 * 100 / 150_000, rel=0.05)


def test_grids_cut_from_one_large_building_are_not_far_from_their_homes():
    # one tower of 1750 households alone in a 900 m block: seven grids of its parts, each
    # a slice of the block; a grid made from part of a building is at its homes
    units, communities, roads = lattice(1, 1, 1750, spacing=900.0)
    result = make_grids(units, communities, roads)
    grids = result.grids
    assert len(grids) == 7 and (grids["split_buildings"] == 1).all()
    assert (grids["near_home_share"] == 1.0).all()
    assert not grids["reason_key"].str.contains("far_from_homes").any()
