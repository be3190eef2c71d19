"""Communities: derived from arterial faces, checked when given, households assigned."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.grids.communities import (assign_communities, community_code, derive_communities,
                             reading_order, validate_communities)
from geo.errors import CRSError, InputError
from geo.i18n import note_text
from geo.synthetic import synthetic_district

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0


def arterial_grid(n: int, size: float = 400.0):
    """Arterial roads on an n × n grid of square faces."""
    lines = []
    for k in range(n + 1):
        lines.append(shapely.LineString([(X0 + k * size, Y0), (X0 + k * size, Y0 + n * size)]))
        lines.append(shapely.LineString([(X0, Y0 + k * size), (X0 + n * size, Y0 + k * size)]))
    roads = gpd.GeoDataFrame({"highway": "primary", "name": "", "road_class": ["arterial"] * len(lines),
                              "walkable": True}, geometry=lines, crs=CRS)
    return roads, shapely.box(X0, Y0, X0 + n * size, Y0 + n * size)


def points_in_faces(counts: np.ndarray, size: float = 400.0) -> gpd.GeoDataFrame:
    """One unit in the middle of each face (row 0 = south) with the given households."""
    rows = []
    for j, i in np.ndindex(counts.shape):
        rows.append((f"u{j}{i}", int(counts[j, i]), X0 + (i + 0.5) * size, Y0 + (j + 0.5) * size))
    frame = pd.DataFrame(rows, columns=["unit_id", "households", "x", "y"])
    return gpd.GeoDataFrame(frame[["unit_id", "households"]],
                            geometry=shapely.points(frame[["x", "y"]].to_numpy()), crs=CRS)


def test_reading_order_and_codes():
    xy = np.array([[0, 0], [100, 0], [0, 100], [100, 100], [50, 105]])
    assert reading_order(xy, row_m=50).tolist() == [2, 4, 3, 0, 1]
    assert community_code(0, 5) == "C01" and community_code(11, 120) == "C012"


def test_derived_from_arterial_faces_and_merged_to_target():
    counts = np.array([[3000, 3000], [1000, 1200]])  # north row small: merged together
    roads, boundary = arterial_grid(2)
    out = derive_communities(points_in_faces(counts), roads, boundary)
    assert out["households"].tolist() == [2200, 3000, 3000]
    assert out["community_id"].tolist() == ["C01", "C02", "C03"]
    assert out["name"].tolist() == ["社区01", "社区02", "社区03"]
    assert out["derived"].all()
    assert abs(out.area.iloc[0] - 2 * 400 * 400) < 1.0
    assert out.geometry.iloc[0].geom_type == "Polygon"


def test_tiny_faces_merge_whatever_the_size_and_empty_faces_are_left_out():
    counts = np.array([[4000, 150], [0, 4200]])  # 150 joins its smaller neighbour
    roads, boundary = arterial_grid(2)
    out = derive_communities(points_in_faces(counts), roads, boundary, reach_m=1000)
    assert sorted(out["households"]) == [4150, 4200]
    assert out["households"].sum() == counts.sum()
    assert abs(out.area.sum() - 3 * 400 * 400) < 1.0  # the empty face is no community


def test_communities_stop_short_of_empty_land():
    counts = np.array([[3000, 0, 0], [0, 0, 0], [0, 0, 0]])
    roads, boundary = arterial_grid(3, size=2000)  # the first face is 2 km wide
    units = points_in_faces(counts, size=400)        # households near the south-west corner
    out = derive_communities(units, roads, boundary, reach_m=300)
    assert len(out) == 1
    assert out.area.iloc[0] < np.pi * 300 ** 2 * 1.01


def test_derived_on_synthetic_district():
    area = synthetic_district(30_000, seed=2)
    out = derive_communities(area.households, area.roads, area.boundary)
    assert out["households"].sum() == area.households["households"].sum()
    assert out["community_id"].is_unique
    assert (out["households"] >= 2000).sum() >= len(out) - 1
    pairs = out.sindex.query(out.geometry, predicate="overlaps")
    assert pairs.size == 0
    ids = assign_communities(area.households, out)
    assert ids.notna().all() and (ids.index == area.households.index).all()
    by = area.households.groupby(ids.to_numpy())["households"].sum()
    assert (by.reindex(out["community_id"]).to_numpy() == out["households"].to_numpy()).all()


def test_assign_snaps_near_and_refuses_far():
    communities = gpd.GeoDataFrame({"community_id": ["A", "B"]},
                                   geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                                             shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
                                   crs=CRS)
    units = gpd.GeoDataFrame({"unit_id": ["a", "b", "near"], "households": [1, 2, 3]},
                             geometry=shapely.points([(X0 + 50, Y0 + 50), (X0 + 150, Y0 + 50),
                                                      (X0 + 230, Y0 + 50)]),
                             crs=CRS, index=[7, 8, 9])
    ids = assign_communities(units, communities)
    assert ids.to_dict() == {7: "A", 8: "B", 9: "B"}
    far = units.assign(geometry=units.geometry.translate(0, 500))
    with pytest.raises(InputError) as err:
        assign_communities(far, communities)
    assert "3 household units" in str(err.value) and "6 households" in str(err.value)
    with pytest.raises(CRSError):
        assign_communities(units.to_crs(4326), communities)


def test_validate_fixes_slivers_and_refuses_overlaps():
    a = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    b = shapely.box(X0 + 99.5, Y0, X0 + 200, Y0 + 100)   # 0.5 m sliver: fixed
    layer = gpd.GeoDataFrame({"community_id": ["A", "B"], "name": ["甲", "乙"]},
                             geometry=[a, b], crs=CRS)
    fixed, notes = validate_communities(layer)
    assert len(notes) == 1 and notes[0]["key"] == "note.communities_sliver_fixed"
    assert "A" in note_text(notes[0], "en") and "A" in note_text(notes[0], "zh")
    assert fixed.geometry.iloc[1].intersection(fixed.geometry.iloc[0]).area < 1e-6
    big = layer.set_geometry([a, shapely.box(X0 + 50, Y0, X0 + 200, Y0 + 100)])
    with pytest.raises(InputError, match="overlap"):
        validate_communities(big)
    dup = layer.assign(community_id=["A", "A"])
    with pytest.raises(InputError, match="more than once"):
        validate_communities(dup)
    lines = layer.set_geometry([a.exterior, b.exterior])
    with pytest.raises(InputError, match="polygons"):
        validate_communities(lines)


def test_validate_makes_ids_and_drops_empty_rows():
    layer = gpd.GeoDataFrame({"name": ["south", "north", "none"]},
                             geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                                       shapely.box(X0, Y0 + 100, X0 + 100, Y0 + 200),
                                       shapely.Polygon()], crs=CRS)
    fixed, notes = validate_communities(layer)
    assert fixed["community_id"].tolist() == ["C02", "C01"]  # north first
    assert len(notes) == 2
    with pytest.raises(InputError):
        validate_communities(layer.iloc[[2]])


def test_derived_communities_are_named_after_their_largest_named_compound():
    from geo.grids.reasons import name_text
    from geo.synthetic import synthetic_district

    area = synthetic_district(20000, seed=3)
    plain = derive_communities(area.households, area.roads, area.boundary)
    named = derive_communities(area.households, area.roads, area.boundary,
                               compounds=area.compounds)
    # names never change the codes
    assert list(plain["community_id"]) == list(named["community_id"])
    assert plain["name"].str.startswith("社区").all()
    hh = area.households.assign(community_id=assign_communities(area.households, named))
    names = area.compounds.set_index("compound_id")["name"]
    for cid, name, key in zip(named["community_id"], named["name"], named["name_key"]):
        mine = hh[hh["community_id"] == cid]
        biggest = mine.groupby(mine["compound_id"].map(names))["households"].sum().idxmax()
        assert name == f"{biggest}一带"
        assert name_text(key, "en") == f"{biggest} area"
    assert named["name"].is_unique


def test_unnamed_compounds_give_numbered_names():
    from geo.synthetic import synthetic_district

    area = synthetic_district(20000, seed=3)
    unnamed = area.compounds.assign(name=None)
    out = derive_communities(area.households, area.roads, area.boundary, compounds=unnamed)
    assert list(out["name"]) == [f"社区{k + 1:02d}" for k in range(len(out))]


def test_mapped_osm_communities_are_used_and_completed_where_not_mapped():
    from geo.grids import make_grids
    from geo.grids.mapped import communities_from_osm, complete_communities
    from geo.synthetic import synthetic_district

    area = synthetic_district(20000, seed=3)
    x0, y0, x1, y1 = area.boundary.bounds
    west = shapely.box(x0, y0, (x0 + x1) / 2, y1)
    features = gpd.GeoDataFrame({
        "boundary": ["administrative", "administrative", None, None],
        "admin_level": ["10", "8", None, None],
        "place": [None, None, "neighbourhood", "neighbourhood"],
        "name": ["锦绣社区", "某街道", "双泉堡", "石板房"],
    }, geometry=[west, area.boundary, west.buffer(-50), shapely.Point(x0, y0)],
        crs=area.crs)
    mapped = communities_from_osm(features)
    # admin_level 10 wins over neighbourhoods; the street office (level 8) is no community
    assert list(mapped["name"]) == ["锦绣社区"] and (mapped["source"] == "osm").all()
    hood = communities_from_osm(features.iloc[2:])
    assert list(hood["name"]) == ["双泉堡"]  # a named point is no boundary
    assert communities_from_osm(features.iloc[3:]) is None

    out = complete_communities(mapped, area.households, area.roads, area.boundary,
                               compounds=area.compounds)
    assert "锦绣社区" in set(out["name"]) and (out["source"] == "derived").any()
    assert out["community_id"].is_unique
    assert out.loc[out["name"] == "锦绣社区"].geometry.iloc[0].equals(west)
    geoms = out.geometry.to_numpy()
    assert shapely.union_all(geoms).area == pytest.approx(sum(g.area for g in geoms), rel=1e-6)
    assert out["households"].sum() == area.households["households"].sum()
    result = make_grids(area.households, out, area.roads)
    assert set(result.grids["community_id"]) <= set(out["community_id"])
