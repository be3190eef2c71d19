"""Gated compounds in the reach step: gates, inner paths, no walking through, edits."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from analysis import reach as R
from analysis.reach.walls import compound_access, wall_layers, without_walls
from analysis.settings import WalkSettings
from geo.network import build_network
from geo.walls import WallSettings, build_walls, cut_at_outlines
from tests.analysis.reach_fixtures import CRS, lines_frame, points_frame

SETTINGS = WalkSettings()
DETOUR = WallSettings().inner_detour
X0, Y0 = 440_000.0, 4_420_000.0  # a real UTM 50N position, so WGS84 edits make sense
TO_WGS84 = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)


def _shift(segs):
    return [(a + X0, b + Y0, c + X0, d + Y0) for a, b, c, d in segs]


def _xy(points):
    return np.asarray(points, dtype=float).reshape(-1, 2) + [X0, Y0]


def _compound(box=(100, 100, 300, 300), name="阳光小区", cid="way/1"):
    x0, y0, x1, y1 = box
    return gpd.GeoDataFrame({"compound_id": [cid], "name": [name]},
                            geometry=[shapely.box(x0 + X0, y0 + Y0, x1 + X0, y1 + Y0)], crs=CRS)


#: A ring of streets around the 400 m square, split at the middle of each side, and a
#: north street beyond; the compound [100, 300]² sits in the middle.
RING = [(0, 0, 200, 0), (200, 0, 400, 0), (400, 0, 400, 200), (400, 200, 400, 400),
        (400, 400, 200, 400), (200, 400, 0, 400), (0, 400, 0, 200), (0, 200, 0, 0)]
SOUTH_PATH = [(200, 0, 200, 150)]  # from the south street through the wall, dead end inside


def _measure(net, homes, facilities, walls=None, services=("health",)):
    hh = points_frame(_xy(homes), households=np.ones(len(homes), dtype=int))
    fac = points_frame(_xy(facilities), service=["health"] * len(facilities),
                       facility_id=[f"F{k}" for k in range(len(facilities))])
    index = R.prepare_reach(net, hh, fac, services=services, walls=walls)
    return index, R.household_minutes(index, SETTINGS, services)


def _brute_force_via(gate, homes, facility, street_segs, gate_link, inner_path=None):
    """networkx: streets as drawn, the gate joined to the streets by ``gate_link``; each
    home joined to its nearest point on ``inner_path`` (a vertical segment from the gate)
    if that lies within the snap cap, else to the gate (straight walk × detour: the
    straight line only where no inner path leads out); shortest walk home → facility."""
    g = nx.Graph()
    for a, b, c, d in street_segs:
        g.add_edge((a, b), (c, d), weight=float(np.hypot(c - a, d - b)))
    g.add_edge(("gate",), gate_link[0], weight=gate_link[1])
    out = []
    for k, h in enumerate(homes):
        offset = np.inf
        if inner_path is not None:
            x, y0, y1 = inner_path
            foot = (x, float(np.clip(h[1], y0, y1)))
            offset = float(np.hypot(h[0] - foot[0], h[1] - foot[1]))
            if offset <= 150.0:
                g.add_edge(("home", k), ("foot", k), weight=offset)
                g.add_edge(("foot", k), ("gate",), weight=foot[1] - y0)
        if offset > 150.0:
            g.add_edge(("home", k), ("gate",),
                       weight=DETOUR * float(np.hypot(*(np.subtract(h, gate)))))
        out.append(nx.shortest_path_length(g, ("home", k), facility, weight="weight"))
    return np.array(out)


@pytest.mark.parametrize("kind", ["crossing_path", "mapped_gate_without_way"])
def test_south_gate_walk_equals_brute_force_via_the_gate(kind):
    segs = RING + (SOUTH_PATH if kind == "crossing_path" else [])
    net = build_network(lines_frame(_shift(segs)))
    gates = None
    if kind == "mapped_gate_without_way":
        gates = points_frame(_xy([(200, 100)]))
    walls = build_walls(net, _compound(), gates)
    origin = walls.access["origin"].tolist()
    assert origin == (["inferred"] if kind == "crossing_path" else ["mapped"])
    rng = np.random.default_rng(3)
    # within the snap cap of the north street: on the network without walls too
    homes = np.column_stack([rng.uniform(110, 290, 25), rng.uniform(255, 295, 25)])
    facility = (200, 400)  # on the north street, just beyond the wall
    index, reach = _measure(net, homes, [facility], walls)
    inner = (200, 100, 150) if kind == "crossing_path" else None
    expected = _brute_force_via((200, 100), homes, facility, RING, ((200, 0), 100.0), inner)
    got = reach.walk_m["health"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # without walls many of the same homes walk straight over the wall to a street
    _, plain = _measure(net, homes, [facility])
    assert (plain.walk_m["health"].to_numpy() < got - 500).sum() >= 5
    assert index.on_network.all()


def test_compound_without_access_point_is_open_and_reported():
    net = build_network(lines_frame(_shift(RING)))
    walls = build_walls(net, _compound())
    assert walls.n_gated == 0
    assert walls.compounds["status"].tolist() == ["no_access"]
    assert walls.report["no_access_ids"] == ["way/1"]
    homes = [(150, 250), (250, 150), (200, 290)]
    index, reach = _measure(net, homes, [(200, 400)], walls)
    _, plain = _measure(net, homes, [(200, 400)])
    np.testing.assert_allclose(reach.walk_m["health"], plain.walk_m["health"])
    summary = compound_access(index, reach, SETTINGS)
    assert summary["open_no_access"] == ["way/1"]
    assert summary["compounds_gated"] == 0
    assert summary["coverage"]["health"]["with_walls"] == summary["coverage"]["health"]["without_walls"]


def test_outsiders_do_not_walk_through_but_residents_use_both_gates():
    segs = RING + [(0, 200, 400, 200)]  # an inner road crossing the compound west → east
    net = build_network(lines_frame(_shift(segs)))
    walls = build_walls(net, _compound())
    assert sorted(walls.access["origin"]) == ["inferred", "inferred"]
    # an outsider at the west street, the facility on the east street
    index, reach = _measure(net, [(0, 210), (250, 250)], [(400, 200)], walls)
    walk = reach.walk_m["health"].to_numpy()
    assert walk[0] == pytest.approx(190 + 400 + 200)  # around, not through
    assert walk[1] == pytest.approx(50 + 50 + 100)  # along the inner road to the east gate
    _, plain = _measure(net, [(0, 210)], [(400, 200)])
    assert plain.walk_m["health"].iloc[0] == pytest.approx(10 + 400)


def test_public_arterial_through_a_compound_stays_public():
    segs = RING + [(0, 200, 400, 200)]
    frame = lines_frame(_shift(segs))
    frame.loc[len(RING), "road_class"] = "arterial"
    net = build_network(frame)
    walls = build_walls(net, _compound())
    _, reach = _measure(net, [(0, 210)], [(400, 200)], walls)
    assert reach.walk_m["health"].iloc[0] == pytest.approx(10 + 400)


def test_facility_inside_a_compound_is_reached_through_its_gate():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    walls = build_walls(net, _compound())
    facility = (200, 240)  # a kindergarten deep inside, north of the dead-end path
    homes = [(200, -10), (120, 290), (300, 420)]
    _, reach = _measure(net, homes, [facility], walls)
    walk = reach.walk_m["health"].to_numpy()
    # inside: along the dead-end path (50 m) and straight to it (90 m)
    inside = 50 + 90
    assert walk[0] == pytest.approx(10 + 100 + inside)  # street, gate, then inside
    # from the north: around the ring to the south gate (200 + 400 + 200), then in
    assert walk[2] == pytest.approx(20 + 100 + 400 + 200 + 100 + inside)
    # a neighbour 161 m from the path walks straight to it, unless the street model (its
    # nearest way is the north street, 110 m over the wall) is longer: that stands
    _, plain = _measure(net, homes, [facility])
    assert walk[1] == pytest.approx(max(DETOUR * np.hypot(80, 50),
                                        plain.walk_m["health"].iloc[1]))
    assert (walk >= plain.walk_m["health"].to_numpy() - 1e-9).all()


def test_planner_edits_close_add_and_open():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    home, facility = [(200, 290)], [(200, 400)]
    closed = WallSettings(closed_gates=(TO_WGS84.transform(X0 + 200, Y0 + 102),))
    walls = build_walls(net, _compound(), settings=closed)
    assert walls.report["access_points_closed"] == 1
    assert walls.compounds["status"].tolist() == ["no_access"]  # nobody is trapped
    north = WallSettings(added_gates=(TO_WGS84.transform(X0 + 200, Y0 + 305),))
    walls = build_walls(net, _compound(), settings=north)
    assert sorted(walls.access["origin"]) == ["added", "inferred"]
    _, reach = _measure(net, home, facility, walls)
    # to the new north gate (10 m straight), then 100 m to the north street
    assert reach.walk_m["health"].iloc[0] == pytest.approx(DETOUR * 10 + 100)
    opened = build_walls(net, _compound(), settings=WallSettings(open_compounds=("way/1",)))
    assert opened.n_gated == 0 and opened.compounds["status"].tolist() == ["opened"]
    off = build_walls(net, _compound(), settings=WallSettings(gated=False))
    assert off.n_gated == 0


def test_unnamed_large_and_nested_compounds_are_not_walls():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    comps = gpd.GeoDataFrame(
        {"compound_id": ["a", "b", "c", "d"], "name": ["小区", None, "大片区", "外围"]},
        geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),
                  shapely.box(X0 + 120, Y0 + 120, X0 + 140, Y0 + 140),
                  shapely.box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0 + 2000),
                  shapely.box(X0 + 50, Y0 + 50, X0 + 350, Y0 + 350)], crs=CRS)
    walls = build_walls(net, comps)
    assert walls.compounds["status"].tolist() == ["gated", "unnamed", "too_large", "nested"]


def test_cut_at_outlines_keeps_length_and_geometry():
    net = build_network(lines_frame(_shift(RING + [(0, 200, 400, 200), (200, 0, 200, 150)])))
    polys = _compound().geometry.to_numpy()
    cut = cut_at_outlines(net, polys)
    assert cut.edge_length_m.sum() == pytest.approx(net.edge_length_m.sum())
    assert cut.n_edges == net.n_edges + 3  # two cuts on the cross road, one on the path
    outline = shapely.boundary(polys[0])
    on = shapely.distance(shapely.points(cut.node_xy), outline) < 0.02
    assert on.sum() == 3


def test_service_areas_follow_inner_paths_from_the_gate():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    walls = build_walls(net, _compound())
    index, _ = _measure(net, [(200, 290)], [(200, -5)], walls)
    areas = R.service_areas(index, SETTINGS, "health", minutes=(5.0,))
    poly = areas.geometry.iloc[0]
    assert poly.contains(shapely.Point(X0 + 200, Y0 + 140))  # the inner path is reached


# -- property: opening a gate never lowers coverage -----------------------------------------
NET = build_network(lines_frame(_shift(RING + SOUTH_PATH + [(0, 200, 80, 200)])))
HOMES = np.column_stack([np.linspace(105, 295, 30), np.tile([120.0, 200.0, 290.0], 10)])
FACILITIES = [(0, 300), (300, 400), (400, 100)]


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["n", "s", "e", "w"]), st.floats(110, 290)),
                min_size=1, max_size=3))
def test_opening_a_gate_never_lowers_coverage(new_gates):
    def gate(side, t):
        x, y = {"n": (t, 300), "s": (t, 100), "e": (300, t), "w": (100, t)}[side]
        return TO_WGS84.transform(X0 + x, Y0 + y)

    base = build_walls(NET, _compound())
    more = build_walls(NET, _compound(),
                       settings=WallSettings(added_gates=tuple(gate(*g) for g in new_gates)))
    assert more.n_gated == base.n_gated == 1
    _, before = _measure(NET, HOMES, FACILITIES, base)
    _, after = _measure(NET, HOMES, FACILITIES, more)
    b = before.walk_m["health"].to_numpy()
    a = after.walk_m["health"].to_numpy()
    assert (a <= b + 1e-9).all()
    assert after.report["health"]["covered_households"] >= before.report["health"]["covered_households"]


def test_walls_off_is_the_plain_street_model():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    walls = build_walls(net, _compound())
    homes = [(150, 250), (200, 290), (20, 380)]
    index, walled = _measure(net, homes, [(200, 400)], walls)
    twin = R.household_minutes(without_walls(index), SETTINGS, ("health",))
    off = build_walls(net, _compound(), settings=WallSettings(gated=False))
    assert off.n_gated == 0 and off.compounds["status"].tolist() == ["opened"]
    _, walls_off = _measure(net, homes, [(200, 400)], off)  # the page's "walls off"
    np.testing.assert_allclose(twin.walk_m["health"], walls_off.walk_m["health"])
    got = twin.walk_m["health"].to_numpy()
    assert (got <= walled.walk_m["health"].to_numpy() + 1e-9).all()
    # walls off: every home snaps to its nearest way, inner paths included, as a network
    # with no compound at all does (the first home to the dead-end path, 112 m away)
    _, plain = _measure(net, homes, [(200, 400)])
    assert plain.walk_m["health"].iloc[0] == pytest.approx(np.hypot(50, 100) + 150 + 800)
    np.testing.assert_allclose(got, plain.walk_m["health"].to_numpy())


#: An L-shaped inner path from the south gate (200, 100): north to y = 120, west to
#: x = 110, north to y = 290. Its west leg is the nearest way to the homes in the
#: compound's north-east, but the gate is nearer in a straight line than along it.
L_PATH = [(200, 0, 200, 120), (200, 120, 110, 120), (110, 120, 110, 290)]


def test_walls_never_shorten_a_walk_a_gate_reached_straight_is_no_wall_effect():
    """The cause of a bug: the model without walls snapped a home to its nearest path only
    (70 m west, then 280 m along the L), while the walled model also let it walk straight
    to the gate (191 m), so walls looked like they shortened walks by 2.2 min. Now a home
    on an inner path that leads out walks along it, walls or not."""
    net = build_network(lines_frame(_shift(RING + L_PATH)))
    walls = build_walls(net, _compound())
    homes = [(180, 290), (250, 200), (20, 380)]
    index, walled = _measure(net, homes, [(200, -5)], walls)
    got = walled.walk_m["health"].to_numpy()
    assert got[0] == pytest.approx(70 + 170 + 90 + 120 + 5)
    twin = R.household_minutes(without_walls(index), SETTINGS, ("health",))
    plain = twin.walk_m["health"].to_numpy()
    assert plain[0] == pytest.approx(got[0])  # the same gate, walked the same way
    assert (plain <= got + 1e-9).all()
    block = compound_access(index, walled, SETTINGS)
    assert block["minutes_changed"]["health"]["shorter"]["households"] == 0
    cov = block["coverage"]["health"]
    assert cov["with_walls"] <= cov["without_walls"]
    # the model that had it wrong: a network with no compound knows only the nearest path
    _, no_compounds = _measure(net, homes, [(200, -5)])
    assert no_compounds.walk_m["health"].iloc[0] == pytest.approx(70 + 170 + 90 + 120 + 5)


def test_opening_a_compound_only_adds_ways():
    # the L's west leg split where a west way (in at x = 100) and an east way (in at
    # x = 300) join it: three ways in, and a way through once the compound is opened
    through = [(200, 0, 200, 120), (200, 120, 110, 120), (110, 120, 110, 200),
               (110, 200, 110, 250), (110, 250, 110, 290), (0, 200, 110, 200),
               (110, 250, 400, 250)]
    ring = [seg for seg in RING if seg != (400, 200, 400, 400)]
    ring += [(400, 200, 400, 250), (400, 250, 400, 400)]
    net = build_network(lines_frame(_shift(ring + through)))
    homes = np.column_stack([np.linspace(115, 295, 12), np.tile([130.0, 210.0, 290.0], 4)])
    homes = np.vstack([homes, [(390, 240), (395, 260), (350, 240), (20, 380)]])
    facilities = [(0, 210)]
    walls = build_walls(net, _compound())
    assert len(walls.access) == 3
    _, walled = _measure(net, homes, facilities, walls)
    opened = build_walls(net, _compound(), settings=WallSettings(open_compounds=("way/1",)))
    assert opened.n_gated == 0 and len(opened.access) == 3  # its ways in stay
    open_index, open_ = _measure(net, homes, facilities, opened)
    layers = wall_layers(open_index)  # an opened compound is no wall: no gates drawn
    assert layers["compound_walls"]["households"].tolist() == [0]
    assert len(layers["compound_gates"]) == 0
    a, b = open_.walk_m["health"].to_numpy(), walled.walk_m["health"].to_numpy()
    assert np.isfinite(b).all() and (a <= b + 1e-9).all()
    np.testing.assert_allclose(a[:12], b[:12])  # residents already used every way in
    assert b[12] == pytest.approx(10 + 10 + 150 + 400 + 190)  # around the compound
    assert a[12] == pytest.approx(10 + 280 + 50 + 110 + 10)  # through it, once opened


def test_detour_factor_lengthens_the_walk_inside_the_compound():
    net = build_network(lines_frame(_shift(RING)))
    gates = points_frame(_xy([(200, 100)]))
    walls = build_walls(net, _compound(), gates, settings=WallSettings(inner_detour=1.5))
    _, reach = _measure(net, [(200, 280)], [(200, 400)], walls)
    assert reach.walk_m["health"].iloc[0] == pytest.approx(1.5 * 180 + 100 + 200 + 400 + 200)


def test_with_a_detour_a_facility_inside_leaves_along_its_inner_path():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    walls = build_walls(net, _compound(), settings=WallSettings(inner_detour=1.3))
    _, reach = _measure(net, [(200, -10)], [(200, 240)], walls)
    # straight to the gate would be 1.3 × 140 = 182 m; the path: 90 m to it, 50 m along
    assert reach.walk_m["health"].iloc[0] == pytest.approx(10 + 100 + 50 + 90)


def test_an_area_without_compounds_measures_as_without_walls():
    net = build_network(lines_frame(_shift(RING)))
    for compounds in (None, _compound().iloc[:0]):
        walls = build_walls(net, compounds)
        assert walls.n_gated == 0 and len(walls.access) == 0
        index, reach = _measure(net, [(150, 250), (20, 380)], [(200, 400)], walls)
        _, plain = _measure(net, [(150, 250), (20, 380)], [(200, 400)])
        np.testing.assert_allclose(reach.walk_m["health"], plain.walk_m["health"])
        assert compound_access(index, reach, SETTINGS)["households_affected"] == 0


def test_a_compound_with_no_known_access_gets_assumed_gates_on_sides_facing_streets():
    net = build_network(lines_frame(_shift(RING)))
    comp = _compound(box=(50, 50, 350, 350))  # 50 m from the ring on every side
    walls = build_walls(net, comp)
    assert walls.n_gated == 1 and walls.compounds["status"].tolist() == ["gated"]
    acc = walls.access
    assert acc["origin"].tolist() == ["assumed"] * 4
    assert np.allclose(acc["offset_m"], 50.0)  # each joined to the street it faces
    x, y = np.round(acc["x"] - X0, 3), np.round(acc["y"] - Y0, 3)
    on = [(x == 50) & (y > 50) & (y < 350), (x == 350) & (y > 50) & (y < 350),
          (y == 50) & (x > 50) & (x < 350), (y == 350) & (x > 50) & (x < 350)]
    assert [int(side.sum()) for side in on] == [1, 1, 1, 1]  # one on each side, no corner
    assert walls.report["compounds_assumed"] == ["way/1"]
    index, reach = _measure(net, [(300, 200)], [(400, 200)], walls)
    block = compound_access(index, reach, SETTINGS)
    assert block["access_points"]["assumed"] == 4 and block["compounds_with_assumed_gates"] == 1
    east = acc[np.isclose(acc["x"], X0 + 350)].iloc[0]
    expected = DETOUR * np.hypot(50, east["y"] - Y0 - 200) + 50 + abs(east["y"] - Y0 - 200)
    assert reach.walk_m["health"].iloc[0] == pytest.approx(max(expected, 100.0))
    # a street too far from the outline: no gate assumed there, the compound stays open
    far = build_walls(net, comp, settings=WallSettings(assumed_street_m=40))
    assert far.n_gated == 0 and far.compounds["status"].tolist() == ["no_access"]
    off = build_walls(net, comp, settings=WallSettings(assume_gates=False))
    assert off.n_gated == 0


def test_each_ignored_mapped_gate_says_why():
    net = build_network(lines_frame(_shift(RING + SOUTH_PATH)))
    comps = gpd.GeoDataFrame(
        {"compound_id": ["a", "b"], "name": ["小区", None]},
        geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),
                  shapely.box(X0 + 500, Y0 + 100, X0 + 700, Y0 + 300)], crs=CRS)
    # on a's outline (used), on the unnamed b's outline, in the open far from any outline
    gates = points_frame(_xy([(100, 200), (600, 100), (900, 900)]))
    walls = build_walls(net, comps, gates)
    why = walls.report["gates_ignored_why"]
    assert walls.report["gates_mapped_ignored"] == 2
    assert sorted(w["reason"] for w in why) == ["compound_unnamed", "far_from_wall"]
    assert all(110 < w["lon"] < 120 and 35 < w["lat"] < 45 for w in why)


def test_notes_and_report_line_say_how_many_gates_were_assumed_and_why_gates_were_ignored():
    from analysis.reach.walls import wall_notes
    from analysis.summary_text import compound_access_line

    net = build_network(lines_frame(_shift(RING)))
    gates = points_frame(_xy([(900, 900)]))
    walls = build_walls(net, _compound(box=(50, 50, 350, 350)), gates)
    index, reach = _measure(net, [(300, 200)], [(400, 200)], walls)
    block = compound_access(index, reach, SETTINGS)
    from geo.i18n import note_text

    stored = json.loads(json.dumps(wall_notes(block)))  # notes: keys and parameters
    assert all(set(n) == {"key", "params"} for n in stored)
    zh = " ".join(note_text(n, "zh") for n in stored)
    en = " ".join(note_text(n, "en") for n in stored)
    assert "4" in en and "assumed" in en and "推定" in zh and "assumed" not in zh
    assert "far from every compound outline" in en and "离任何小区边界较远" in zh
    assert "离任何小区边界较远" not in en
    line = compound_access_line({"compound_access": block}, str, "en")
    assert "4 of the gates are assumed" in line
    assert "4 个出入口为推定" in compound_access_line({"compound_access": block}, str, "zh")


def test_a_way_in_from_a_minor_island_leads_nowhere():
    # the ring cut into 10 m pieces (a main network of 160 nodes); a short street east of
    # the compound, joined to nothing but the compound's inner path: a minor island
    ring = []
    for x0, y0, x1, y1 in RING:
        for k in range(20):
            a, b = k / 20, (k + 1) / 20
            ring.append((x0 + a * (x1 - x0), y0 + a * (y1 - y0),
                         x0 + b * (x1 - x0), y0 + b * (y1 - y0)))
    island = [(370, 150, 370, 200), (370, 200, 370, 250), (370, 200, 300, 200)]
    net = build_network(lines_frame(_shift(ring + island)))
    comp = _compound(box=(50, 50, 350, 350))
    walls = build_walls(net, comp)
    assert set(walls.access["origin"]) == {"assumed"}  # the island crossing is not used
    index, reach = _measure(net, [(320, 200), (200, 300)], [(400, 200)], walls)
    _, plain = _measure(net, [(320, 200), (200, 300)], [(400, 200)])
    got = reach.walk_m["health"].to_numpy()
    assert np.isfinite(got).all() and (got >= plain.walk_m["health"].to_numpy() - 1e-9).all()
    assert index.walled.straight[0]  # its inner path leads nowhere: straight to a gate


def test_a_home_no_way_reaches_without_walls_is_off_the_network_with_them():
    net = build_network(lines_frame(_shift(RING)))
    gates = points_frame(_xy([(200, 100)]))
    walls = build_walls(net, _compound(), gates)
    index, reach = _measure(net, [(200, 200), (200, 290)], [(200, 400)], walls)
    _, plain = _measure(net, [(200, 200), (200, 290)], [(200, 400)])
    assert plain.on_network.tolist() == [False, True]  # 200 m from every street
    assert reach.on_network.tolist() == [False, True] and index.on_network.tolist() == [False, True]
    assert np.isnan(reach.walk_m["health"].iloc[0])
    assert reach.walk_m["health"].iloc[1] == pytest.approx(DETOUR * 190 + 100 + 800)
