"""Repair of a grid straddling a long dead-end arterial road, where no single cell can move.

The ~1,000-unit benchmark district (synthetic_district(25,000, seed=0)) had one grid
whose homes lay on both sides of an arterial road that ends inside its face: 4 cells
(99 households) on one side, 7 (187) on the other. Moving one cell never took the
crossing away, and moving a whole side left both grids outside the band, so the repair
kept it. This lattice is the same case in small.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.grids.graph import KIND_CODE, CellGraph, Zone, connected
from geo.grids.pieces import SMALL_GRAPH, components
from geo.grids.repair import repair_crossings
from geo.grids.rules import GridFacts, crossings, forced_crossing, grid_reasons
from geo.grids.settings import GridSettings

COLS, ROWS, SIZE = 8, 6, 20.0
# grid of each cell, top row first: X straddles the arterial road between columns 3 and
# 4, which runs down from the top edge and ends above the bottom row (the bottom row
# joins both sides, one face)
LAYOUT = ["AAAXXXCC",
          "AAAXXXCC",
          "AAAXXXCC",
          "AAAXXCCC",
          "BBBBDDDD",
          "BBBBDDDD"]
NAMES = "AXBCD"


def lattice() -> tuple[CellGraph, np.ndarray]:
    n = COLS * ROWS
    pos = np.arange(n).reshape(ROWS, COLS)
    ei, ej, kind = [], [], []
    for r in range(ROWS):
        for c in range(COLS):
            if c + 1 < COLS:
                ei.append(pos[r, c])
                ej.append(pos[r, c + 1])
                kind.append(KIND_CODE["arterial"] if c == 3 and r >= 1 else KIND_CODE["street"])
            if r + 1 < ROWS:
                ei.append(pos[r, c])
                ej.append(pos[r + 1, c])
                kind.append(KIND_CODE["street"])
    xy = np.array([[(c + 0.5) * SIZE, (r + 0.5) * SIZE] for r in range(ROWS) for c in range(COLS)])
    g = CellGraph.build(w=np.full(n, 25, dtype=np.int64), xy=xy, area=np.full(n, SIZE ** 2),
                        perim=np.full(n, 4 * SIZE), ei=np.array(ei, dtype=np.int64),
                        ej=np.array(ej, dtype=np.int64), elen=np.full(len(ei), SIZE),
                        ekind=np.array(kind, dtype=np.int64))
    labels = np.array([NAMES.index(ch) for row in reversed(LAYOUT) for ch in row],
                      dtype=np.int64)
    return g, labels


def test_lattice_is_the_case():
    g, labels = lattice()
    assert len(np.unique(g.face)) == 1  # the road ends inside the face
    cross = crossings(labels, g.w, g.ei, g.ej, g.ekind == KIND_CODE["arterial"])
    assert cross.tolist() == [0, 1, 0, 0, 0]
    assert sorted(np.bincount(labels, weights=g.w).tolist()) == [200, 200, 225, 275, 300]


def test_repair_moves_a_side_of_the_road_as_a_whole():
    g, labels = lattice()
    zone = Zone(nodes=np.arange(g.n), lo=200, hi=300, k=5)
    zone_of = np.zeros(len(NAMES), dtype=np.int64)
    fixed, moves = repair_crossings(g, labels, zone_of, [zone], GridSettings())
    assert moves >= 1
    cross = crossings(fixed, g.w, g.ei, g.ej, g.ekind == KIND_CODE["arterial"])
    assert cross.sum() == 0
    totals = np.bincount(fixed, weights=g.w, minlength=len(NAMES))
    assert ((totals >= 200) & (totals <= 300)).all()
    for k in range(len(NAMES)):  # each grid still one piece
        assert connected(g.n, g.ei, g.ej, fixed == k)
    again, _ = repair_crossings(g, labels, zone_of, [zone], GridSettings())
    assert np.array_equal(again, fixed)  # the same repair every run


def test_a_crossing_is_forced_when_any_face_it_joins_cannot_meet_the_band():
    band = (200, 300)
    assert forced_crossing((150, 2350), band)
    assert forced_crossing((250, 350), band)  # 350 cannot meet the band, though 250 can
    assert not forced_crossing((600, 1900), band)
    assert not forced_crossing((350,), band)  # one face: the dead end of a road
    facts = GridFacts(households=250, locked=False, pieces=1, crossings=1, split_buildings=0,
                      near_home_share=1.0, community_total=600, piece_totals=(600,),
                      face_totals=(250, 350))
    assert grid_reasons(facts, band)[0] == ("grid.reason.arterial",
                                            {"households": 350, "min": 200, "max": 300})


def test_small_graph_pieces_are_scipys():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 30, 120):
        for m in (0, n // 2, n, min(2 * n, SMALL_GRAPH - n)):
            u, v = rng.integers(0, n, m), rng.integers(0, n, m)
            graph = sparse.csr_array((np.ones(m, dtype=np.int8), (u, v)), shape=(n, n))
            expected = csgraph.connected_components(graph, directed=False)[1]
            assert n + m <= SMALL_GRAPH
            got = components(n, u, v)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_crossings_count_distinct_pieces_of_each_grid():
    def by_rows(labels, w, ei, ej, arterial):  # the count as it was: unique (grid, piece) rows
        k = int(labels.max(initial=-1)) + 1
        keep = (labels[ei] == labels[ej]) & (labels[ei] >= 0) & ~arterial
        piece = components(len(labels), ei[keep], ej[keep])
        homes = (labels >= 0) & (w > 0)
        pairs = np.unique(np.column_stack([labels[homes], piece[homes]]), axis=0)
        return np.maximum(np.bincount(pairs[:, 0], minlength=k) - 1, 0) if len(pairs) \
            else np.zeros(k, dtype=np.int64)

    rng = np.random.default_rng(1)
    for n in (0, 1, 7, 40, 300):
        for _ in range(20):
            m = int(rng.integers(0, 3 * n + 1))
            labels = rng.integers(-1, n // 5 + 2, n)
            w = rng.integers(0, 3, n)
            ei, ej = rng.integers(0, max(n, 1), m), rng.integers(0, max(n, 1), m)
            arterial = rng.random(m) < 0.3
            got = crossings(labels, w, ei, ej, arterial)
            want = by_rows(labels, w, ei, ej, arterial)
            assert got.dtype == want.dtype and np.array_equal(got, want)
    assert crossings(np.array([0, 0, 1]), np.array([1, 1, 1]), np.array([0]), np.array([1]),
                     np.array([True])).tolist() == [1, 0]
