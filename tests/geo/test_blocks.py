"""Street blocks, tessellation cells and their adjacency."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.grids.blocks import cell_adjacency, locate_in_blocks, street_blocks, tessellate
from geo.grids.communities import derive_communities
from geo.errors import CRSError
from geo.synthetic import synthetic_district

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0


def roads_frame(lines, classes):
    return gpd.GeoDataFrame({"highway": "residential", "name": "", "road_class": classes,
                             "walkable": True}, geometry=lines, crs=CRS)


def square(size: float = 200.0, x0: float = X0, y0: float = Y0, cid: str = "A"):
    return gpd.GeoDataFrame({"community_id": [cid]}, geometry=[shapely.box(x0, y0, x0 + size,
                                                                           y0 + size)], crs=CRS)


@pytest.fixture(scope="module")
def district():
    area = synthetic_district(8_000, seed=5)
    communities = derive_communities(area.households, area.roads, area.boundary)
    blocks = street_blocks(area.roads, communities)
    cells = tessellate(area.households, blocks)
    return area, communities, blocks, cells


def test_blocks_tile_each_community(district):
    area, communities, blocks, _ = district
    for cid, polygon in zip(communities["community_id"], communities.geometry):
        mine = blocks[blocks["community_id"] == cid]
        assert abs(mine.area.sum() - polygon.area) < 1e-3 * polygon.area
        assert mine.geometry.buffer(-0.01).within(polygon).all()
    assert blocks["block_id"].is_unique
    # local streets cut superblocks into blocks; arterials bound faces
    assert blocks["face_id"].nunique() < len(blocks)


def test_blocks_follow_local_and_arterial_roads_only():
    lines = [shapely.LineString([(X0 + 100, Y0 - 10), (X0 + 100, Y0 + 210)]),   # arterial
             shapely.LineString([(X0 - 10, Y0 + 100), (X0 + 210, Y0 + 100)]),   # local
             shapely.LineString([(X0 + 50, Y0 - 10), (X0 + 50, Y0 + 210)])]     # path
    roads = roads_frame(lines, ["arterial", "local", "path"])
    blocks = street_blocks(roads, square())
    assert len(blocks) == 4
    assert blocks["face_id"].nunique() == 2
    assert sorted(np.round(blocks.area)) == [10_000] * 4
    with_paths = street_blocks(roads, square(), road_classes=("arterial", "local", "path"))
    assert len(with_paths) == 6


def test_blocks_refuse_unprojected():
    roads = roads_frame([shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], ["local"])
    with pytest.raises(CRSError):
        street_blocks(roads.to_crs(4326), square())


def test_cells_tile_blocks_and_hold_their_units(district):
    area, _, blocks, cells = district
    units = area.households
    n = len(units)
    assert (cells["unit"].to_numpy()[:n] == np.arange(n)).all()
    assert (cells["unit"].to_numpy()[n:] == -1).all()
    assert (cells.geometry.geom_type == "Polygon").all()
    assert abs(cells.area.sum() - blocks.area.sum()) < 1e-3 * blocks.area.sum()  # no overlaps
    union = shapely.union_all(cells.geometry.to_numpy(), grid_size=0.001)
    assert abs(union.area - blocks.area.sum()) < 1e-3 * blocks.area.sum()      # no gaps
    inside = shapely.contains(cells.geometry.to_numpy()[:n], units.geometry.to_numpy())
    assert inside.mean() > 0.99
    assert cells["households"].sum() == units["households"].sum()
    assert set(cells["block_id"]) == set(blocks["block_id"])


def test_voronoi_cells_and_adjacency_on_a_square():
    # four units in one 200 m block: four 100 m quadrants, each sharing 100 m with two
    xy = [(50, 50), (150, 50), (50, 150), (150, 150)]
    units = gpd.GeoDataFrame({"unit_id": list("abcd"), "households": [10, 20, 30, 40]},
                             geometry=shapely.points(np.array(xy) + [X0, Y0]), crs=CRS)
    roads = roads_frame([square().geometry.iloc[0].exterior], ["local"])
    blocks = street_blocks(roads, square())
    cells = tessellate(units, blocks)
    assert np.allclose(cells.area, 10_000)
    adj = cell_adjacency(cells)
    assert len(adj) == 4 and (adj["i"] < adj["j"]).all()
    assert np.allclose(adj["shared_m"], 100) and (adj["kind"] == "block").all()


def test_colocated_units_share_their_cell_in_strips():
    pts = shapely.points([(X0 + 100, Y0 + 100)] * 3)
    units = gpd.GeoDataFrame({"unit_id": ["t:1", "t:2", "t:3"], "households": [100, 100, 100]},
                             geometry=pts, crs=CRS)
    roads = roads_frame([square().geometry.iloc[0].exterior], ["local"])
    cells = tessellate(units, street_blocks(roads, square()))
    assert np.allclose(cells.area, 40_000 / 3, atol=0.5)  # 1 mm precision grid
    adj = cell_adjacency(cells)
    assert sorted(zip(adj["i"], adj["j"])) == [(0, 1), (1, 2)]


def test_empty_block_becomes_filler_and_street_edges_are_marked():
    lines = [shapely.LineString([(X0 + 100, Y0 - 10), (X0 + 100, Y0 + 210)])]
    roads = roads_frame(lines, ["local"])
    units = gpd.GeoDataFrame({"unit_id": ["u"], "households": [50]},
                             geometry=[shapely.Point(X0 + 40, Y0 + 100)], crs=CRS)
    cells = tessellate(units, street_blocks(roads, square()))
    assert cells["unit"].tolist() == [0, -1] and cells["households"].tolist() == [50, 0]
    adj = cell_adjacency(cells)
    assert adj["kind"].tolist() == ["street"] and np.isclose(adj["shared_m"].iloc[0], 200)
    art = roads_frame(lines, ["arterial"])
    cells = tessellate(units, street_blocks(art, square()))
    assert cell_adjacency(cells)["kind"].tolist() == ["arterial"]


def test_dead_end_arterial_marks_edges_inside_one_face():
    # an arterial stub from the west edge to the middle: one face, but cells across it
    stub = shapely.LineString([(X0, Y0 + 100), (X0 + 100, Y0 + 100)])
    local = shapely.LineString([(X0 + 100, Y0), (X0 + 100, Y0 + 200)])
    roads = roads_frame([stub, local], ["arterial", "local"])
    blocks = street_blocks(roads, square())
    assert len(blocks) == 3 and blocks["face_id"].nunique() == 1
    pts = shapely.points([(X0 + 50, Y0 + 50), (X0 + 50, Y0 + 150), (X0 + 150, Y0 + 100)])
    units = gpd.GeoDataFrame({"unit_id": list("abc"), "households": [1, 1, 1]},
                             geometry=pts, crs=CRS)
    cells = tessellate(units, blocks)
    adj = cell_adjacency(cells, arterials=roads.geometry.to_numpy()[:1])
    kinds = {(i, j): k for i, j, k in zip(adj["i"], adj["j"], adj["kind"])}
    assert kinds[(0, 1)] == "arterial" and kinds[(0, 2)] == "street"


def test_units_outside_blocks_take_the_nearest():
    roads = roads_frame([square().geometry.iloc[0].exterior], ["local"])
    blocks = street_blocks(roads, square())
    pts = gpd.GeoSeries(shapely.points([(X0 + 210, Y0 + 100), (X0 + 10, Y0 + 10)]), crs=CRS)
    assert locate_in_blocks(pts, blocks).tolist() == [0, 0]
    units = gpd.GeoDataFrame({"unit_id": ["out", "in"], "households": [5, 5]}, geometry=pts,
                             crs=CRS)
    cells = tessellate(units, blocks)
    assert not cells.geometry.is_empty.any()
    assert abs(cells.area.sum() - 40_000) < 1


def test_cells_of_a_lattice_whose_voronoi_diagram_comes_out_degenerate():
    # a 2 x 4 lattice of compound points with rounding noise in the last digits (from a
    # 1,000,000-household district): GEOS returns a Voronoi cell with a stray line and
    # twisted rings there, which clipping to the block refused before
    sites = [(440715.5556580083, 4421626.837023301),
             (440715.55565800826, 4421671.837023302),
             (440760.55565800826, 4421626.837023302),
             (440760.55565800826, 4421671.837023302),
             (440805.55565800826, 4421626.837023302),
             (440805.5556580083, 4421671.837023301),
             (440850.5556580083, 4421626.837023301),
             (440850.55565800826, 4421671.837023302)]
    block = shapely.Polygon([(440664.492, 4421584.337), (440664.492, 4421734.486),
                             (440894.619, 4421734.486), (440894.619, 4421584.337)])
    units = gpd.GeoDataFrame({"unit_id": [f"u{k}" for k in range(len(sites))],
                              "households": 25}, geometry=shapely.points(sites), crs=CRS)
    blocks = gpd.GeoDataFrame({"block_id": [0], "community_id": ["A"], "face_id": [0]},
                              geometry=[block], crs=CRS)
    cells = tessellate(units, blocks)
    assert cells.geometry.is_valid.all()
    assert set(cells.geom_type) <= {"Polygon", "MultiPolygon"}
    assert cells.area.sum() == pytest.approx(block.area, rel=1e-6)
    assert shapely.contains(cells.geometry.to_numpy()[: len(sites)], units.geometry.to_numpy()).all()


def test_boundaries_along_a_footpath_are_path_neighbours():
    # four quadrants of one block; a footpath runs north–south through the middle
    xy = [(50, 50), (150, 50), (50, 150), (150, 150)]
    units = gpd.GeoDataFrame({"unit_id": list("abcd"), "households": [10, 20, 30, 40]},
                             geometry=shapely.points(np.array(xy) + [X0, Y0]), crs=CRS)
    roads = roads_frame([square().geometry.iloc[0].exterior], ["local"])
    cells = tessellate(units, street_blocks(roads, square()))
    path = shapely.LineString([(X0 + 103, Y0), (X0 + 103, Y0 + 200)])  # 3 m off the edge
    adj = cell_adjacency(cells, paths=np.array([path]))
    pairs = {("abcd"[i], "abcd"[j]): k for i, j, k in zip(adj["i"], adj["j"], adj["kind"])}
    assert pairs[("a", "b")] == "path" and pairs[("c", "d")] == "path"
    assert pairs[("a", "c")] == "block" and pairs[("b", "d")] == "block"
    far = shapely.LineString([(X0 + 130, Y0), (X0 + 130, Y0 + 200)])  # 30 m off: not along it
    assert (cell_adjacency(cells, paths=np.array([far]))["kind"] == "block").all()
