"""Walls off is the plain street model; walls on is never shorter; one gate is walked through.

Generated districts: a street lattice (blocks of 200 m, every side split at its middle),
some blocks holding a walled compound with inner paths (a way in from the south street,
branching east and west), some a walled compound with no inner path and one mapped gate
on its south side, some an unnamed compound (no wall) with a path through it. Homes are
scattered at random, facilities along the streets. The check is an independent networkx walk: every point
joined to its nearest edge (edge-projected snapping, inner paths included), shortest paths
from the facilities.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from analysis import reach as R
from analysis.settings import WalkSettings
from geo.network import build_network
from geo.walls import WallSettings, build_walls
from tests.analysis.reach_fixtures import CRS, lines_frame, points_frame

SETTINGS = WalkSettings(horizon_min=60.0)
X0, Y0 = 440_000.0, 4_420_000.0
BLOCK = 200.0
INSET = 10.0


def _district(seed: int, n: int = 4):
    rng = np.random.default_rng(seed)
    segs, comps, gates, kinds = [], [], [], []
    half = BLOCK / 2
    for i in range(n + 1):
        for j in range(n + 1):
            x, y = X0 + i * BLOCK, Y0 + j * BLOCK
            if i < n:
                segs += [(x, y, x + half, y), (x + half, y, x + BLOCK, y)]
            if j < n:
                segs += [(x, y, x, y + half), (x, y + half, x, y + BLOCK)]
    for i in range(n):
        for j in range(n):
            x, y = X0 + i * BLOCK, Y0 + j * BLOCK
            kind = rng.choice(["paths", "gate", "unwalled", "none"])
            kinds.append(kind)
            if kind == "none":
                continue
            box = shapely.box(x + INSET, y + INSET, x + BLOCK - INSET, y + BLOCK - INSET)
            name = None if kind == "unwalled" else f"小区{i}{j}"
            comps.append({"compound_id": f"c{i}{j}", "name": name, "geometry": box})
            xm, ym = x + half, y + half
            if kind == "paths":  # in from the south street, then east and west (dead ends)
                segs += [(xm, y, xm, ym), (xm, ym, xm - 60, ym), (xm, ym, xm + 60, ym)]
            elif kind == "unwalled":  # a path straight through
                segs += [(xm, y, xm, y + BLOCK)]
            else:
                gates.append((xm, y + INSET))
    net = build_network(lines_frame(segs))
    compounds = gpd.GeoDataFrame(comps, geometry="geometry", crs=CRS)
    gate_frame = points_frame(np.asarray(gates, dtype=float).reshape(-1, 2))
    span = n * BLOCK
    homes = np.column_stack([rng.uniform(X0 + 5, X0 + span - 5, 300),
                             rng.uniform(Y0 + 5, Y0 + span - 5, 300)])
    street = np.asarray(segs[:4 * n * (n + 1)])  # facilities by the streets, outside walls
    pick = street[rng.choice(len(street), 4, replace=False)]
    t = rng.uniform(0, 1, (4, 1))
    facilities = pick[:, :2] + t * (pick[:, 2:] - pick[:, :2]) + rng.uniform(-4, 4, (4, 2))
    return segs, net, compounds, gate_frame, homes, facilities


def _brute_force(segs, homes, facilities, extra=()):
    """Shortest walk from each home to the nearest facility: networkx, every point joined
    to its nearest segment; ``extra``: more arcs ``(node, node, metres)``."""
    lines = [shapely.LineString([s[:2], s[2:]]) for s in segs]
    g = nx.Graph()
    for s, line in zip(segs, lines):
        g.add_edge(s[:2], s[2:], weight=line.length)
    for a, b, w in extra:
        g.add_edge(a, b, weight=w)

    def join(node, xy):
        p = shapely.Point(xy)
        d = [line.distance(p) for line in lines]
        k = int(np.argmin(d))
        t = lines[k].project(p)
        g.add_edge(node, segs[k][:2], weight=d[k] + t)
        g.add_edge(node, segs[k][2:], weight=d[k] + lines[k].length - t)
        return k, t, d[k]

    f_at = [join(("fac", k), xy) for k, xy in enumerate(facilities)]
    h_at = [join(("home", k), xy) for k, xy in enumerate(homes)]
    for k in range(len(facilities)):
        g.add_edge(("fac", k), "source", weight=0.0)
    dist = nx.single_source_dijkstra_path_length(g, "source", weight="weight")
    out = []
    for k, (e, t, off) in enumerate(h_at):
        best = dist.get(("home", k), np.inf)
        for fe, ft, foff in f_at:  # along the same segment, passing no node
            if fe == e:
                best = min(best, off + abs(t - ft) + foff)
        out.append(best)
    return np.array(out), dist


def _measure(net, homes, facilities, walls):
    hh = points_frame(homes, households=np.ones(len(homes), dtype=int))
    fac = points_frame(facilities, service=["health"] * len(facilities),
                       facility_id=[f"F{k}" for k in range(len(facilities))])
    index = R.prepare_reach(net, hh, fac, services=("health",), walls=walls)
    return index, R.household_minutes(index, SETTINGS, ("health",)).walk_m["health"].to_numpy()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_walls_off_is_a_networkx_walk_and_walls_on_never_shorter(seed):
    segs, net, compounds, gates, homes, facilities = _district(seed)
    settings = WallSettings(assume_gates=False)
    off = build_walls(net, compounds, gates, settings=WallSettings(gated=False))
    _, walls_off = _measure(net, homes, facilities, off)
    expected, _ = _brute_force(segs, homes, facilities)
    np.testing.assert_allclose(walls_off, expected, atol=1e-6)
    walls = build_walls(net, compounds, gates, settings=settings)
    assert walls.n_gated >= 1
    index, walls_on = _measure(net, homes, facilities, walls)
    assert np.isfinite(walls_on).all()
    assert (walls_on >= walls_off - 1e-6).all()
    assert (walls_on > walls_off + 1.0).sum() >= 5  # the walls matter somewhere

    # a compound with one gate and no inner path: its homes walk straight to the gate
    # (times the detour), 10 m to the street, then on; unless the street model is longer
    gate_xy = shapely.get_coordinates(gates.geometry.to_numpy())
    if gate_xy.shape[0] == 0:
        return
    _, dist = _brute_force(segs, homes[:0], facilities)
    boxes = compounds.set_index("compound_id").geometry
    for gx, gy in gate_xy:
        street = dist[(gx, gy - INSET)] + INSET
        box = boxes[(boxes.distance(shapely.Point(gx, gy)) < 1e-6).to_numpy()].iloc[0]
        inside = np.flatnonzero(shapely.contains_xy(box, homes[:, 0], homes[:, 1]))
        for h in inside:
            through = walls.inner_detour * np.hypot(*(homes[h] - (gx, gy))) + street
            assert walls_on[h] == pytest.approx(max(through, walls_off[h]), abs=1e-6)
        far = inside[np.hypot(*(homes[inside] - (gx, gy)).T) > 120]
        if far.size:  # far from the gate, the walk through it is what counts
            assert (walls_on[far] >= walls_off[far] - 1e-6).all()
