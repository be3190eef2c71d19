"""geo/snap_numpy.py: the grid's registrations and the block search give what the plain
definitions give (pieces' boxes listed piece by piece and sorted stably by cell; every
candidate of a point's block in the block's order, the first of the nearest taken), on
lines with exact ties, the Beijing sample when present, in steps of any size."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import snap_numpy, snapping
from geo.network import build_network
from geo.snapping import build_segment_grid, snap_to_segments
from tests.conftest import BEIJING_OSM
from tests.geo.test_compiled_snapping import _lines


def _reference_registrations(grid, geoms):
    """Each segment cut into ceil(length / cell) pieces (short segments first, then the
    pieces of long ones), each piece's box cells listed piece by piece, a stable sort."""
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    same = which[1:] == which[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    vec = b - a
    pieces = np.maximum(1, np.ceil(np.hypot(vec[:, 0], vec[:, 1]) / grid.cell_m)).astype(int)
    p0, p1, owner = [], [], []
    for s in list(np.flatnonzero(pieces == 1)) + list(np.flatnonzero(pieces > 1)):
        for k in range(pieces[s]):
            f0, f1 = (0.0, 1.0) if pieces[s] == 1 else (k / pieces[s], (k + 1) / pieces[s])
            p0.append(a[s] if pieces[s] == 1 else a[s] + f0 * vec[s])
            p1.append(b[s] if pieces[s] == 1 else a[s] + f1 * vec[s])
            owner.append(s)
    p0, p1 = np.array(p0), np.array(p1)
    lo = np.floor((np.minimum(p0, p1) - grid.origin) / grid.cell_m).astype(int)
    hi = np.floor((np.maximum(p0, p1) - grid.origin) / grid.cell_m).astype(int)
    keys, segs = [], []
    for p in range(len(owner)):
        for ix in range(lo[p, 0], hi[p, 0] + 1):
            for iy in range(lo[p, 1], hi[p, 1] + 1):
                keys.append(ix * grid.n_rows + iy)
                segs.append(owner[p])
    keys, segs = np.array(keys), np.array(segs)
    order = np.argsort(keys, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=grid.n_cols * grid.n_rows))])
    return start, segs[order]


def _reference_block(grid, xy, m):
    """The nearest candidate of each point's m × m block, the first of equals in the
    block's order (column by column, then a cell's registrations)."""
    seg_out = np.full(len(xy), -1)
    d_out = np.full(len(xy), np.inf)
    q = (xy - grid.origin) / grid.cell_m
    first = np.floor(q - m / 2 + 0.5).astype(int)
    for i, (px, py) in enumerate(xy):
        best = (np.inf, -1)
        for dx in range(m):
            for dy in range(m):
                ix, iy = first[i, 0] + dx, first[i, 1] + dy
                if not (0 <= ix < grid.n_cols and 0 <= iy < grid.n_rows):
                    continue
                c = ix * grid.n_rows + iy
                for s in grid.reg_seg[grid.cell_start[c]:grid.cell_start[c + 1]]:
                    ax, ay, vx, vy = grid.start_x[s], grid.start_y[s], grid.vec_x[s], grid.vec_y[s]
                    l2 = grid.len2[s]
                    t = ((px - ax) * vx + (py - ay) * vy) / (l2 if l2 > 0 else 1.0)
                    t = min(max(t, 0.0), 1.0)
                    fx, fy = ax + t * vx - px, ay + t * vy - py
                    if fx * fx + fy * fy < best[0]:
                        best = (fx * fx + fy * fy, s)
        seg_out[i], d_out[i] = best[1], np.sqrt(best[0])
    return seg_out, d_out


@pytest.mark.parametrize("seed", range(2))
def test_registrations_and_block_search_follow_the_definitions(seed):
    geoms = _lines(seed)
    grid = build_segment_grid(geoms)
    start, reg = _reference_registrations(grid, geoms)
    assert np.array_equal(grid.cell_start, start)
    assert np.array_equal(grid.reg_seg, reg)
    rng = np.random.default_rng(seed)
    # random points, and points on the lattice's shared vertices (exact ties)
    xy = np.vstack([rng.uniform(-100, 3100, (300, 2)), np.arange(12)[:, None] * 40.0 + [0, 0],
                    rng.integers(0, 12, (40, 2)) * 40.0])
    for m in snapping.BLOCKS:
        seg, _, d = snap_numpy.nearest_in_block(grid, xy, m)
        ref_seg, ref_d = _reference_block(grid, xy, m)
        assert np.array_equal(seg, ref_seg)
        assert np.array_equal(d, ref_d)


def test_counting_sort_and_numpy_sort_group_alike(monkeypatch):
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 50, 2000)
    values = rng.permutation(2000)
    start, grouped = snap_numpy.group_by_key(keys, values, 60)
    monkeypatch.setattr(snap_numpy, "_coo_tocsr", None)
    start0, grouped0 = snap_numpy.group_by_key(keys, values, 60)
    assert np.array_equal(start, start0) and np.array_equal(grouped, grouped0)
    assert np.array_equal(grouped, values[np.argsort(keys, kind="stable")])


def test_steps_give_the_same_snaps(monkeypatch):
    geoms = _lines(1)
    grid = build_segment_grid(geoms)
    xy = np.random.default_rng(4).uniform(-200, 3200, (6000, 2))
    one = snap_to_segments(grid, geoms, xy, 150.0)
    monkeypatch.setattr(snapping, "BLOCK_PAIRS", 4000)
    monkeypatch.setattr(snap_numpy, "CHUNK_PAIRS", 500)
    steps = snap_to_segments(build_segment_grid(geoms), geoms, xy, 150.0)
    for a, b in zip(one, steps):
        assert np.array_equal(a, b, equal_nan=True)
    assert (one[0] >= 0).sum() > 2000


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="the shared Beijing sample is not here")
def test_beijing_registrations_follow_the_definition():
    from geo.osm import read_osm, study_area_from_osm

    area = study_area_from_osm(read_osm(str(BEIJING_OSM)), name="Beijing")
    net = build_network(area.roads[area.roads["walkable"]] if "walkable" in area.roads
                        else area.roads)
    grid = build_segment_grid(net.edge_geometry)
    start, reg = _reference_registrations(grid, net.edge_geometry)
    assert np.array_equal(grid.cell_start, start)
    assert np.array_equal(grid.reg_seg, reg)
    xy = shapely.get_coordinates(net.edge_geometry)[::7]  # vertices: ties between edges
    seg, _, d = snap_numpy.nearest_in_block(grid, xy, 2)
    ref_seg, ref_d = _reference_block(grid, xy, 2)
    assert np.array_equal(seg, ref_seg) and np.array_equal(d, ref_d)


def test_grid_of_nothing():
    grid = build_segment_grid(np.array([], dtype=object))
    assert grid.cell_start.tolist() == [0, 0] and grid.reg_seg.size == 0
    edge, _, _ = snap_to_segments(grid, np.array([], dtype=object), np.zeros((2, 2)), 50.0)
    assert edge.tolist() == [-1, -1]
